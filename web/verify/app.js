// The public verify page (/verify/, no login; issue 13 §4, docs/audit-format.md §13): a citizen
// drops the proof file of their hearing and the browser checks it — the checkpoint's Ed25519
// signature by the pinned police key, the witnesses' cosignatures and their quorum, every
// entry's leaf, payload digest, chain link and inclusion proof, the recordings' digests — and
// says in plain words what passed and what failed, and whether the record is complete. The only
// requests are for the published keys, pinned at first use (shared/trust.js); the file is never
// sent anywhere.
import './strings.js';
import { t, applyI18n, mountLangSwitch } from '/shared/i18n.js';
import { $, h } from '/shared/ui.js';
import { verifyBundle } from '/shared/bundle.js';
import { pinnedTrust, savePins, fingerprint } from '/shared/trust.js';

const state = { trust: null, pin: null, last: null };
window.__rh = { state };

async function getJson(path) {
  const r = await fetch(path, { headers: { Accept: 'application/json' } });
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return r.json();
}

async function keyRow(label, vkey) {
  return h('li', { 'data-vkey': vkey }, h('strong', {}, label + ' '), h('span', { class: 'mono small' }, String(vkey).split('+')[0]), h('div', { class: 'small mono' }, `${t('vf.trust.fp')} ${await fingerprint(vkey)}`));
}

async function renderTrust() {
  const box = $('#trust-status');
  const p = state.pin;
  if (!p) return box.replaceChildren(h('p', { class: 'alert', role: 'alert', id: 'trust-state', 'data-state': 'none' }, t('vf.trust.none')));
  const kind = p.changed.length ? 'changed' : p.first ? 'first' : p.rotated?.length ? 'rotated' : 'same';
  box.replaceChildren(
    h('p', { id: 'trust-state', 'data-state': kind, class: kind === 'changed' ? 'alert' : kind === 'first' ? 'banner banner-warn' : 'banner banner-ok', role: kind === 'changed' ? 'alert' : 'status' }, t('vf.trust.' + kind)),
    kind === 'changed' ? h('ul', { id: 'trust-diff', class: 'small mono' }, ...p.changed.map((d) => h('li', {}, d))) : null,
    kind === 'changed'
      ? h('button', { type: 'button', class: 'btn btn-ghost', id: 'trust-accept', onclick: async () => {
          savePins(p.now);
          await loadTrust();
        } }, t('vf.trust.accept'))
      : null,
  );
  const tr = state.trust;
  const rows = [...(await Promise.all(tr.keys.map((k) => keyRow(t('vf.trust.log'), k.vkey)))), ...(await Promise.all(tr.witnesses.map((w) => keyRow(t('vf.trust.witness'), w))))];
  $('#trust-keys').replaceChildren(h('ul', { class: 'checks' }, ...rows), tr.witnesses.length ? h('p', { class: 'small' }, t('vf.trust.quorum', { k: tr.quorum })) : null);
}

async function loadTrust() {
  try {
    state.pin = await pinnedTrust(getJson);
    state.trust = state.pin.trust;
  } catch {
    state.pin = null;
    state.trust = null;
  }
  await renderTrust();
  if (state.last) await check(...state.last);
}

function renderResult(result, fileName) {
  const failed = result.checks.filter((c) => !c.ok);
  const label = (c) => t('vf.chk.' + c.name, c.args);
  const list = [...new Set(failed.map(label))].join('；');
  const erased = result.erased || [];
  $('#result').replaceChildren(
    h('p', { class: 'verdict', id: 'verdict', 'data-ok': String(result.ok), role: 'status', tabindex: '-1' }, result.ok ? '✓ ' + t('vf.ok') : '✗ ' + t('vf.fail', { list })),
    h('p', { class: 'small muted' }, t('vf.file.name', { f: fileName })),
    result.completeness
      ? h('p', { id: 'completeness', 'data-complete': String(!!result.complete), class: result.complete ? 'banner banner-ok' : 'banner banner-warn' },
          result.complete ? t('vf.complete', completeArgs(result)) : t('vf.incomplete', { why: result.completeness.replace(/^[^:]*:\s*/, '') }))
      : null,
    erased.length ? h('p', { id: 'erased', class: 'small' }, t('vf.erased', { list: erased.join(', ') })) : null,
    h('ul', { class: 'checks' }, ...result.checks.map((c) => h('li', { 'data-ok': String(c.ok), 'data-check': c.name }, h('strong', {}, (c.ok ? '✓ ' : '✗ ') + label(c)), h('div', { class: 'small mono' }, c.detail)))),
  );
  $('#verdict').focus();
}

function completeArgs(result) {
  const m = /outcome (.+?), (\d+) entries/.exec(result.completeness || '');
  return { outcome: m ? m[1] : '', n: m ? Number(m[2]) + 1 : '' };
}

async function check(text, fileName) {
  state.last = [text, fileName];
  $('#result').replaceChildren(h('p', { role: 'status' }, t('vf.running')));
  let bundle;
  try {
    bundle = JSON.parse(text);
  } catch (e) {
    return $('#result').replaceChildren(h('p', { class: 'alert', role: 'alert', id: 'verdict', 'data-ok': 'false' }, t('vf.bad', { e: e.message })));
  }
  let result;
  try {
    const tr = state.trust || { keys: [], witnesses: [], quorum: 0 };
    result = await verifyBundle(bundle, tr.keys, { witnesses: tr.witnesses, quorum: tr.quorum });
  } catch (e) {
    result = { ok: false, checks: [{ name: 'format', ok: false, detail: e.message, args: {} }] };
  }
  state.result = result;
  renderResult(result, fileName);
}

$('#proof-file').addEventListener('change', async (ev) => {
  const f = ev.target.files?.[0];
  if (f) await check(await f.text(), f.name);
});
const drop = $('#drop');
drop.addEventListener('dragover', (ev) => ev.preventDefault());
drop.addEventListener('drop', async (ev) => {
  ev.preventDefault();
  const f = ev.dataTransfer?.files?.[0];
  if (f) await check(await f.text(), f.name);
});

mountLangSwitch($('#lang'));
applyI18n();
document.addEventListener('langchange', async () => {
  await renderTrust();
  if (state.result && state.last) renderResult(state.result, state.last[1]);
});
loadTrust();
