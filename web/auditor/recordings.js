// A hearing's recordings on the auditor page: a <video> player per participant's WebM (fetched
// with the Bearer token, streamed with a progress bar and percentage, played from an object
// URL), and for every file its download and an in-page SHA-256 check. Labels are written by
// functions kept in `relabel`, so the zh/en switch rewrites the words and keeps the loaded players.
import { t, fmtTime } from '/shared/i18n.js';
import { h, busy, download } from '/shared/ui.js';
import { sha256, hex } from '/shared/verify.js';

/** Object URLs of loaded recordings, released when another hearing's list is built. */
let objectUrls = [];
/** Functions that write the words of the recordings box again in the current language. */
let relabel = [];

export function relabelRecordings() {
  for (const f of relabel) f();
}

/** `el` whose text is `words()`, now and after every language switch. */
function live(el, words) {
  const put = () => (el.textContent = words());
  put();
  relabel.push(put);
  return el;
}

const recWho = (r) => t(r.participant === 'citizen' ? 'a.rec.citizen' : 'a.rec.officer');

/** Reads a Response body into a Blob, reporting (loaded, total) as it goes. */
async function readWithProgress(res, total, onProgress) {
  const len = Number(res.headers.get('Content-Length')) || total || 0;
  if (!res.body?.getReader) return res.blob();
  const reader = res.body.getReader();
  const parts = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    loaded += value.length;
    onProgress(loaded, len);
  }
  return new Blob(parts, { type: res.headers.get('Content-Type') || 'application/octet-stream' });
}

/** One participant's WebM: a <video controls> filled on demand, with loading progress. */
function playerCard(r, fetchRes) {
  const label = () => `${recWho(r)} · ${fmtTime(r.started_at)}`;
  const video = h('video', { controls: true, playsinline: true, preload: 'metadata', hidden: true, class: 'rec-video', style: 'width:100%;background:#000' });
  relabel.push(() => video.setAttribute('aria-label', `${t('a.rec.playback')}: ${label()}`));
  video.setAttribute('aria-label', `${t('a.rec.playback')}: ${label()}`);
  const err = h('div', { class: 'alert', role: 'alert', hidden: true });
  const mb = (r.bytes / 1e6).toFixed(1);
  const bar = h('progress', { class: 'rec-progress', max: '100', value: '0', hidden: true });
  let pct = null;
  const status = live(h('span', { class: 'small rec-progress-text', role: 'status' }), () => (pct === null ? '' : pct >= 100 ? t('a.rec.loaded') : t('a.rec.loading', { p: `${pct}%` })));
  const load = live(h('button', { type: 'button', class: 'btn rec-load', onclick: (ev) =>
    busy(ev.currentTarget, err, async () => {
      bar.hidden = false;
      pct = 0;
      relabelRecordings();
      const blob = await readWithProgress(await fetchRes(), r.bytes, (loaded, total) => {
        const p = total ? Math.min(100, Math.floor((loaded / total) * 100)) : 0;
        if (p !== pct) {
          pct = p;
          bar.value = p;
          bar.setAttribute('aria-valuenow', String(p));
          status.textContent = t('a.rec.loading', { p: `${p}%` });
        }
      });
      pct = 100;
      bar.value = 100;
      status.textContent = t('a.rec.loaded');
      const url = URL.createObjectURL(blob);
      objectUrls.push(url);
      video.src = url;
      video.hidden = false;
      load.hidden = true;
      bar.hidden = true;
      video.focus();
    }) }), () => `${t('a.rec.load')} (${mb} MB)`);
  bar.setAttribute('aria-label', label());
  const title = live(h('h3', {}), label);
  return h('div', { class: 'rec-video-card', 'data-player-for': r.id, 'data-participant': r.participant || '', 'data-kind': r.kind }, title, load, bar, status, err, video);
}

/** One file: what it is, its digest, download, hash check, and play for Ogg. */
function fileCard(r, fetchRes) {
  const blob = async () => (await fetchRes()).blob();
  const slot = h('div', { class: 'rec-player' });
  const status = h('span', { class: 'small rec-status', 'aria-live': 'polite' });
  let hashOk = null;
  relabel.push(() => {
    if (hashOk !== null) status.textContent = hashOk ? '✓ ' + t('a.rec.hashOk') : '✗ ' + t('a.rec.hashBad');
  });
  const playable = r.format === 'ogg';
  return h(
    'div',
    { class: 'rec-file', 'data-recording-id': r.id },
    live(h('strong', {}), () => `${r.participant ? recWho(r) : t('a.rec.manifest')} · ${r.kind} · ${r.format}`),
    live(h('div', { class: 'small muted' }), () => `${r.bytes} B · ${fmtTime(r.started_at)} – ${fmtTime(r.ended_at, { date: false })}`),
    h('div', { class: 'small mono' }, `SHA-256 ${r.sha256}`),
    h(
      'div',
      { class: 'actions' },
      playable
        ? live(h('button', { type: 'button', class: 'btn', onclick: async () => {
            const url = URL.createObjectURL(await blob());
            objectUrls.push(url);
            slot.replaceChildren(h(r.kind === 'audio' ? 'audio' : 'video', { src: url, controls: true, style: 'width:100%' }));
          } }), () => t('a.rec.play'))
        : null,
      live(h('button', { type: 'button', class: 'btn btn-ghost', onclick: async () => download(`${r.id}.${r.format}`, await blob()) }), () => t('a.rec.download')),
      live(h('button', { type: 'button', class: 'btn btn-ghost rec-hash', onclick: async () => {
        const got = hex.encode(await sha256(new Uint8Array(await (await blob()).arrayBuffer())));
        hashOk = got === r.sha256;
        status.textContent = hashOk ? '✓ ' + t('a.rec.hashOk') : '✗ ' + t('a.rec.hashBad');
      } }), () => t('a.rec.hash')),
      status,
    ),
    playable ? null : live(h('p', { class: 'small muted' }), () => t(r.format === 'webm' ? 'a.rec.seePlayer' : 'a.rec.noPlay')),
    slot,
  );
}

/** Lists hearing `id`'s recordings into `box`: the players first, then every file. */
export async function loadRecordings(api, id, box) {
  for (const u of objectUrls) URL.revokeObjectURL(u);
  objectUrls = [];
  relabel = [];
  box.replaceChildren(live(h('p', { class: 'muted' }), () => t('common.loading')));
  let recs;
  try {
    recs = (await api.get(`hearings/${encodeURIComponent(id)}/recordings`)) || [];
  } catch {
    recs = [];
  }
  relabel = [];
  if (!recs.length) return box.replaceChildren(live(h('p', { class: 'muted' }), () => t('a.hr.noRec')));
  const resOf = (r) => () => api.get(`recordings/${encodeURIComponent(r.id)}`, { raw: true, accept: '*/*' });
  const webms = recs.filter((r) => r.format === 'webm');
  box.replaceChildren(
    ...(webms.length ? [h('div', { class: 'rec-players' }, live(h('h3', {}), () => t('a.rec.playback')), ...webms.map((r) => playerCard(r, resOf(r))))] : []),
    live(h('h3', {}), () => t('a.hr.files')),
    ...recs.map((r) => fileCard(r, resOf(r))),
  );
}
