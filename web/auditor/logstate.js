// The auditor page's trust in the log (issue 13 §1, docs/audit-format.md §13): the log's keys
// and the witnesses' keys are pinned at first use (shared/trust.js) and shown by fingerprint; a
// change turns the card red until the auditor accepts the new set. On every visit the served
// checkpoint must verify with the pinned log key and extend the checkpoint remembered from the
// last visit (RFC 9162 consistency proof from the server, checked here): a smaller tree is a
// rollback, another history a fork — the card turns red with the reason. The witnesses'
// cosignatures of the newest checkpoint are reported (a checkpoint seconds old may have none yet).
import { t } from '/shared/i18n.js';
import { h } from '/shared/ui.js';
import { pinnedTrust, savePins, checkGrowth, fingerprint } from '/shared/trust.js';
import { witnessChecks } from '/shared/witness.js';

/** Checks the log and renders the card into `box`; returns the pinned trust (or null). */
export async function checkLog(api, box) {
  box.replaceChildren(h('p', { role: 'status' }, t('a.v.running')));
  let pin;
  let growth;
  let witnesses = [];
  try {
    pin = await pinnedTrust((p) => api.get(p));
    const note = await api.get('/api/v1/audit/checkpoint');
    const consistency = async (from, to) => (await api.get(`audit/consistency?from=${from}&to=${to}`)).hashes;
    growth = await checkGrowth(String(note), pin.trust.keys, consistency);
    if (pin.trust.witnesses.length) witnesses = await witnessChecks(String(note), pin.trust.witnesses, pin.trust.quorum);
  } catch (e) {
    box.replaceChildren(h('p', { class: 'alert', role: 'alert', id: 'log-state', 'data-ok': 'false', 'data-kind': 'error' }, t('a.log.error', { e: e.message })));
    return pin?.trust || null;
  }
  const keyState = pin.changed.length ? 'changed' : pin.first ? 'first' : pin.rotated?.length ? 'rotated' : 'same';
  const fps = await Promise.all([
    ...pin.trust.keys.map(async (k) => h('li', { 'data-vkey': k.vkey }, `${t('a.log.logKey')} ${k.vkey.split('+')[0]} · ${t('a.log.fp')} `, h('span', { class: 'mono' }, await fingerprint(k.vkey)))),
    ...pin.trust.witnesses.map(async (w) => h('li', { 'data-vkey': w }, `${t('a.log.witnessKey')} ${w.split('+')[0]} · ${t('a.log.fp')} `, h('span', { class: 'mono' }, await fingerprint(w)))),
  ]);
  const quorumOk = !witnesses.length || witnesses[witnesses.length - 1].ok;
  // replaceChildren writes a null as the text "null": only the parts that apply.
  const parts = [
    h('p', { id: 'keys-state', 'data-state': keyState, class: keyState === 'changed' ? 'alert' : 'banner banner-ok', role: keyState === 'changed' ? 'alert' : 'status' }, t('a.log.keys.' + keyState)),
    keyState === 'changed' ? h('ul', { id: 'keys-diff', class: 'small mono' }, ...pin.changed.map((d) => h('li', {}, d))) : null,
    keyState === 'changed'
      ? h('button', { type: 'button', class: 'btn btn-ghost', id: 'keys-accept', onclick: async () => {
          savePins(pin.now);
          await checkLog(api, box);
        } }, t('a.log.accept'))
      : null,
    h('p', { id: 'log-state', 'data-ok': String(growth.ok), 'data-kind': growth.kind, class: growth.ok ? 'banner banner-ok' : 'alert', role: growth.ok ? 'status' : 'alert' },
      (growth.ok ? '✓ ' : '✗ ') + t('a.log.growth.' + growth.kind, { size: growth.size ?? '', old: growth.old ?? '' })),
    h('p', { class: 'small mono' }, growth.detail),
    witnesses.length
      ? h('ul', { class: 'checks', id: 'log-witnesses', 'data-ok': String(quorumOk) }, ...witnesses.map((c) => h('li', { 'data-ok': String(c.ok), 'data-check': c.name }, h('strong', {}, (c.ok ? '✓ ' : '… ') + t('chk.' + c.name, c.args)), h('div', { class: 'small mono' }, c.detail))))
      : null,
    h('ul', { class: 'small', id: 'log-keys' }, ...fps),
  ];
  box.replaceChildren(...parts.filter(Boolean));
  return pin.trust;
}
