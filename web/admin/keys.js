// The log's signing keys and witnesses (`/admin/#keys`): every verifier key with the tree sizes
// it signs and, for a rotated key, whether the previous key endorsed it; "rotate now" (with a
// confirmation) makes a new key that every process signs with from its next checkpoint
// (POST /api/v1/admin/audit/keys/rotate; src/audit/rotation.rs). Below, each configured
// witness: the newest size it cosigned, how far it trails, an alert when it is late
// (GET /api/v1/admin/audit/witnesses).
import { t } from '/shared/i18n.js';
import { $, h, busy, showError } from '/shared/ui.js';

export function createKeys(api) {
  let keys = [];
  let last = null; // the last rotation's answer
  let wit = null; // the witnesses' state

  function render() {
    const rows = keys.map((k, i) => {
      const current = k.to_size == null;
      const range = current ? t('ad.keys.from', { from: k.from_size }) : t('ad.keys.range', { from: k.from_size, to: k.to_size });
      return h(
        'tr',
        { 'data-current': current ? '1' : null },
        h('td', {}, String(i + 1)),
        h('td', { class: 'mono small keys-vkey' }, k.vkey),
        h('td', {}, range),
        h('td', {}, current ? t('ad.keys.current') : t('ad.keys.retired')),
        h('td', {}, k.endorsement ? t('ad.keys.endorsed') : t('ad.keys.initial')),
      );
    });
    $('#keys-list').replaceChildren(
      h(
        'table',
        {},
        h('caption', { class: 'sr-only' }, t('ad.keys.h')),
        h('thead', {}, h('tr', {}, ...['#', 'ad.keys.vkey', 'ad.keys.sizes', 'ad.keys.state', 'ad.keys.origin'].map((k) => h('th', { scope: 'col' }, k === '#' ? '#' : t(k))))),
        h('tbody', {}, ...rows),
      ),
    );
    renderWitnesses();
    $('#keys-done').hidden = !last;
    if (last) $('#keys-done').textContent = t('ad.keys.rotated', { vkey: last.new_vkey, from: last.from_size });
  }

  function renderWitnesses() {
    const box = $('#wit-list');
    if (!wit) return box.replaceChildren();
    if (!wit.witnesses.length) return box.replaceChildren(h('p', { class: 'note', id: 'wit-none' }, t('ad.wit.none')));
    const rows = wit.witnesses.map((w) =>
      h(
        'tr',
        { 'data-witness': w.name, 'data-alert': w.alert ? '1' : '0' },
        h('td', {}, w.name, h('div', { class: 'mono small keys-vkey' }, w.url)),
        h('td', {}, w.cosigned_size == null ? t('ad.wit.never') : String(w.cosigned_size)),
        h('td', {}, String(w.behind)),
        h('td', { class: w.alert ? 'field-err' : '' }, t(w.alert ? 'ad.wit.late' : w.behind === 0 ? 'ad.wit.level' : 'ad.wit.behind')),
      ),
    );
    box.replaceChildren(
      h('p', { id: 'wit-summary', class: wit.cosigned_newest >= wit.quorum ? 'banner banner-ok' : 'banner banner-warn', role: 'status' },
        t('ad.wit.summary', { size: wit.log_size, n: wit.cosigned_newest, q: wit.quorum, s: wit.alert_after_s })),
      h(
        'table',
        {},
        h('caption', { class: 'sr-only' }, t('ad.wit.h')),
        h('thead', {}, h('tr', {}, ...['ad.wit.name', 'ad.wit.cosigned', 'ad.wit.behindN', 'ad.keys.state'].map((k) => h('th', { scope: 'col' }, t(k))))),
        h('tbody', {}, ...rows),
      ),
    );
  }

  async function show() {
    await busy(null, $('#keys-err'), async () => {
      [keys, wit] = await Promise.all([api.get('audit/keys'), api.get('admin/audit/witnesses')]);
      keys = keys || [];
      render();
    });
  }

  $('#keys-rotate').addEventListener('click', async (e) => {
    if (!confirm(t('ad.keys.confirm'))) return;
    const button = e.currentTarget;
    showError($('#keys-err'), null);
    await busy(button, $('#keys-err'), async () => {
      last = await api.post('admin/audit/keys/rotate', {});
      keys = (await api.get('audit/keys')) || [];
      render();
      $('#keys-done').focus();
    });
  });

  return { show, render };
}
