// Auditor page: hearings (from the audit entries) with filters, a hearing's timeline, "verify"
// in the browser (bundle.js), bundle download, offline bundle files, and the recordings: a
// <video> player per participant's WebM (fetched with the Bearer token as a Blob, played from an
// object URL), and for every file its download and an in-page SHA-256 check.
import './strings.js';
import { t, has, fmtTime, setData, getZone } from '/shared/i18n.js';
import { createApi } from '/shared/api.js';
import { bootPage, staffLoginForm, signedIn } from '/shared/session.js';
import { $, h, showView, busy, download } from '/shared/ui.js';
import { verifyBundle } from '/shared/bundle.js';
import { sha256, hex } from '/shared/verify.js';
import { checkLog } from './logstate.js';

const api = createApi('staff');
const state = { me: null, entries: [], hearings: [], current: null, bundle: null, lastResult: null, trust: null };
window.__rh = { api, state };

// ---------- login ----------
staffLoginForm(api, (me) => {
  state.me = me;
  route();
});

function showLogin() {
  $('#logout').hidden = true;
  setData($('#who'), '');
  showView('login');
}

// ---------- list ----------
async function loadEntries() {
  const all = [];
  for (let from = 0; ; ) {
    const page = (await api.get(`audit/entries?from=${from}&limit=1000`)) || [];
    all.push(...page);
    if (page.length < 1000) break;
    from = page[page.length - 1].seq + 1;
  }
  state.entries = all;
  const by = new Map();
  for (const e of all) {
    if (!e.hearing_id) continue;
    if (!by.has(e.hearing_id)) by.set(e.hearing_id, []);
    by.get(e.hearing_id).push(e);
  }
  state.hearings = [...by.entries()]
    .map(([id, es]) => {
      es.sort((a, b) => a.hearing_seq - b.hearing_seq);
      return { id, entries: es, first: es[0].at, last: es[es.length - 1] };
    })
    .sort((a, b) => String(b.first).localeCompare(String(a.first)));
}

function filtered() {
  const q = $('#f-id').value.trim().toLowerCase();
  const from = $('#f-from').value;
  const to = $('#f-to').value;
  const outcome = $('#f-outcome').value;
  return state.hearings.filter((hr) => {
    const day = new Intl.DateTimeFormat('en-CA', { timeZone: getZone() }).format(new Date(hr.first));
    const done = hr.entries.some((e) => e.step === 'receipt');
    return (!q || hr.id.toLowerCase().includes(q)) && (!from || day >= from) && (!to || day <= to) && (!outcome || (outcome === 'completed') === done);
  });
}

function renderList() {
  const list = filtered();
  $('#list-count').textContent = t('a.list.count', { n: list.length });
  if (!list.length) return $('#list').replaceChildren(h('p', { class: 'muted' }, t('a.list.none')));
  $('#list').replaceChildren(
    h(
      'table',
      {},
      h('thead', {}, h('tr', {}, ...['a.list.hearing', 'a.list.first', 'a.list.last', 'a.list.entries'].map((k) => h('th', { scope: 'col' }, t(k))), h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, t('a.list.action'))))),
      h(
        'tbody',
        {},
        ...list.map((hr) =>
          h(
            'tr',
            { 'data-hearing-id': hr.id },
            h('td', { class: 'mono small' }, hr.id),
            h('td', {}, fmtTime(hr.first)),
            h('td', {}, has('step.' + hr.last.step) ? t('step.' + hr.last.step) : hr.last.step),
            h('td', {}, String(hr.entries.length)),
            h('td', {}, h('a', { class: 'btn btn-ghost', href: `#hearing=${encodeURIComponent(hr.id)}` }, t('a.list.view'))),
          ),
        ),
      ),
    ),
  );
}

async function showList() {
  $('#logout').hidden = false;
  setData($('#who'), state.me?.name || '');
  showView('list');
  state.trust = await checkLog(api, $('#log-status'));
  await busy(null, $('#list-err'), loadEntries);
  renderList();
}
for (const id of ['#f-id', '#f-from', '#f-to', '#f-outcome']) $(id).addEventListener('input', renderList);
$('#list-refresh').addEventListener('click', showList);
// The log card is written in the language of the moment: check and write it again after the zh/en switch.
document.addEventListener('langchange', async () => {
  if (state.trust) state.trust = await checkLog(api, $('#log-status'));
});

// ---------- verification ----------
/** The pinned keys (logstate.js), checked once per visit. */
async function pinned() {
  if (!state.trust) state.trust = await checkLog(api, $('#log-status'));
  return state.trust || { keys: [], witnesses: [], quorum: 0 };
}

/** Results on screen, by box, to render again after the zh/en switch. */
const shown = new Map();

/** `source`: a function giving the words for where the bundle came from (in the current language). */
function renderResult(box, result, source) {
  state.lastResult = result;
  shown.set(box, [result, source]);
  const ok = result.ok;
  box.replaceChildren(
    h('h2', {}, t('a.v.h')),
    h('p', { class: 'verdict', id: 'verdict', 'data-ok': String(ok), role: 'status' }, ok ? '✓ ' + t('a.v.ok') : '✗ ' + t('a.v.bad')),
    h('p', { class: 'small muted' }, t('a.v.source', { s: typeof source === 'function' ? source() : source })),
    result.completeness
      ? h('p', { id: 'completeness', 'data-complete': String(!!result.complete), class: result.complete ? 'banner banner-ok' : 'banner banner-warn' }, t(result.complete ? 'a.v.complete' : 'a.v.incomplete', { c: result.completeness }))
      : null,
    result.erased?.length ? h('p', { id: 'erased', class: 'small' }, t('a.v.erased', { list: result.erased.join(', ') })) : null,
    h(
      'ul',
      { class: 'checks' },
      ...result.checks.map((c) =>
        h('li', { 'data-ok': String(c.ok), 'data-check': c.name }, h('strong', {}, (c.ok ? '✓ ' : '✗ ') + t('chk.' + c.name, c.args)), h('div', { class: 'small mono' }, c.detail)),
      ),
    ),
  );
}

async function runVerify(box, bundle, source) {
  box.replaceChildren(h('p', { role: 'status' }, t('a.v.running')));
  let result;
  try {
    const tr = await pinned();
    result = await verifyBundle(bundle, tr.keys, { witnesses: tr.witnesses, quorum: tr.quorum });
  } catch (e) {
    result = { ok: false, checks: [{ name: 'format', ok: false, detail: e.message, args: {} }] };
  }
  renderResult(box, result, source);
  box.querySelector('#verdict')?.focus?.();
}

$('#bundle-file').addEventListener('change', async (ev) => {
  const f = ev.target.files?.[0];
  if (!f) return;
  let bundle;
  try {
    bundle = JSON.parse(await f.text());
  } catch (e) {
    return $('#file-result').replaceChildren(h('p', { class: 'alert', role: 'alert', lang: document.documentElement.lang }, t('a.file.bad', { e: e.message })));
  }
  await runVerify($('#file-result'), bundle, () => t('a.v.file', { f: f.name }));
});

// ---------- one hearing ----------
async function showHearing(id) {
  $('#logout').hidden = false;
  showView('hearing');
  $('#hr-id').textContent = id;
  $('#verify-result').replaceChildren();
  state.current = id;
  state.bundle = null;
  if (!state.entries.length) await busy(null, $('#hr-err'), loadEntries);
  const hr = state.hearings.find((x) => x.id === id);
  const rows = (hr?.entries || []).map((e) =>
    h('tr', {}, h('td', { class: 'mono' }, e.seq), h('td', { class: 'mono' }, e.hearing_seq), h('td', { class: 'nowrap' }, has('step.' + e.step) ? t('step.' + e.step) : e.step), h('td', {}, fmtTime(e.at)), h('td', { class: 'small' }, e.actor && typeof e.actor === 'object' ? `${e.actor.role} ${e.actor.id || ''}` : String(e.actor ?? ''))),
  );
  $('#timeline').replaceChildren(
    h('table', {}, h('thead', {}, h('tr', {}, ...['a.hr.seq', 'a.hr.hseq', 'a.hr.step', 'a.hr.at', 'a.hr.actor'].map((k) => h('th', { scope: 'col' }, t(k))))), h('tbody', {}, ...rows)),
  );
  loadRecordings(id);
}

async function fetchBundle() {
  if (!state.bundle) state.bundle = await api.get(`audit/hearings/${encodeURIComponent(state.current)}/bundle`);
  return state.bundle;
}

$('#verify').addEventListener('click', (ev) =>
  busy(ev.currentTarget, $('#hr-err'), async () => {
    state.bundle = null; // always verify what the server serves now
    await runVerify($('#verify-result'), await fetchBundle(), () => t('a.v.server'));
  }),
);
$('#download').addEventListener('click', (ev) =>
  busy(ev.currentTarget, $('#hr-err'), async () => {
    download(`bundle-${state.current}.json`, JSON.stringify(await fetchBundle(), null, 2), 'application/json');
  }),
);
$('#hr-back').addEventListener('click', () => (location.hash = ''));

// Object URLs of loaded recordings, released when the list is rebuilt.
let objectUrls = [];

const recWho = (r) => t(r.participant === 'citizen' ? 'a.rec.citizen' : 'a.rec.officer');

/** One participant's WebM: a <video controls> filled on demand (the file needs the token). */
function playerCard(r, fetchBlob) {
  const label = `${recWho(r)} · ${fmtTime(r.started_at)}`;
  const video = h('video', { controls: true, playsinline: true, preload: 'metadata', hidden: true, class: 'rec-video', style: 'width:100%;background:#000', 'aria-label': `${t('a.rec.playback')}: ${label}` });
  const err = h('div', { class: 'alert', role: 'alert', hidden: true });
  const mb = (r.bytes / 1e6).toFixed(1);
  const load = h('button', { type: 'button', class: 'btn rec-load', onclick: (ev) =>
    busy(ev.currentTarget, err, async () => {
      const url = URL.createObjectURL(await fetchBlob());
      objectUrls.push(url);
      video.src = url;
      video.hidden = false;
      load.hidden = true;
      video.focus();
    }) }, `${t('a.rec.load')} (${mb} MB)`);
  return h('div', { class: 'rec-video-card', 'data-player-for': r.id, 'data-participant': r.participant || '', 'data-kind': r.kind },
    h('h3', {}, label), load, err, video);
}

async function loadRecordings(id) {
  const box = $('#recordings');
  for (const u of objectUrls) URL.revokeObjectURL(u);
  objectUrls = [];
  box.replaceChildren(h('p', { class: 'muted' }, t('common.loading')));
  let recs;
  try {
    recs = (await api.get(`hearings/${encodeURIComponent(id)}/recordings`)) || [];
  } catch (e) {
    recs = [];
  }
  if (!recs.length) return box.replaceChildren(h('p', { class: 'muted' }, t('a.hr.noRec')));
  const blobOf = (r) => async () => (await api.get(`recordings/${encodeURIComponent(r.id)}`, { raw: true, accept: '*/*' })).blob();
  const webms = recs.filter((r) => r.format === 'webm');
  box.replaceChildren(
    webms.length
      ? h('div', { class: 'rec-players' }, h('h3', {}, t('a.rec.playback')), ...webms.map((r) => playerCard(r, blobOf(r))))
      : null,
    ...recs.map((r) => {
      const slot = h('div', { class: 'rec-player' });
      const status = h('span', { class: 'small rec-status', 'aria-live': 'polite' });
      const fetchBlob = blobOf(r);
      const playable = r.format === 'ogg';
      return h(
        'div',
        { class: 'card', 'data-recording-id': r.id },
        h('strong', {}, `${r.participant ? recWho(r) : t('a.rec.manifest')} · ${r.kind} · ${r.format}`),
        h('div', { class: 'small muted' }, `${r.bytes} B · ${fmtTime(r.started_at)} – ${fmtTime(r.ended_at, { date: false })}`),
        h('div', { class: 'small mono' }, `SHA-256 ${r.sha256}`),
        h(
          'div',
          { class: 'actions' },
          playable
            ? h('button', { type: 'button', class: 'btn', onclick: async () => {
                const url = URL.createObjectURL(await fetchBlob());
                slot.replaceChildren(h(r.kind === 'audio' ? 'audio' : 'video', { src: url, controls: true, style: 'width:100%' }));
              } }, t('a.rec.play'))
            : null,
          h('button', { type: 'button', class: 'btn btn-ghost', onclick: async () => download(`${r.id}.${r.format}`, await fetchBlob()) }, t('a.rec.download')),
          h('button', { type: 'button', class: 'btn btn-ghost rec-hash', onclick: async () => {
            const got = hex.encode(await sha256(new Uint8Array(await (await fetchBlob()).arrayBuffer())));
            status.textContent = got === r.sha256 ? '✓ ' + t('a.rec.hashOk') : '✗ ' + t('a.rec.hashBad');
          } }, t('a.rec.hash')),
          status,
        ),
        playable ? null : h('p', { class: 'small muted' }, t(r.format === 'webm' ? 'a.rec.seePlayer' : 'a.rec.noPlay')),
        slot,
      );
    }),
  );
}

// ---------- routing ----------
window.addEventListener('hashchange', route);
async function route() {
  if (!(await signedIn(api, state))) return showLogin();
  setData($('#who'), state.me?.name || '');
  const m = /hearing=([^&]+)/.exec(location.hash);
  if (m) await showHearing(decodeURIComponent(m[1]));
  else await showList();
}

bootPage({
  api,
  showLogin,
  onLangChange: () => {
    for (const [box, [result, source]] of shown) if (box.isConnected && box.querySelector('#verdict')) renderResult(box, result, source);
    if (document.body.dataset.currentView === 'list') renderList();
    else if (document.body.dataset.currentView === 'hearing' && state.current) showHearing(state.current);
  },
});
route();
