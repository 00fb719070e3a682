// The log's signing keys (`/admin/#keys`): every verifier key with the tree sizes it signs and,
// for a rotated key, whether the previous key endorsed it; "rotate now" (with a confirmation)
// makes a new key that every process signs with from its next checkpoint
// (POST /api/v1/admin/audit/keys/rotate; src/audit/rotation.rs).
import { t } from '/shared/i18n.js';
import { $, h, busy, showError } from '/shared/ui.js';

export function createKeys(api) {
  let keys = [];
  let last = null; // the last rotation's answer

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
    $('#keys-done').hidden = !last;
    if (last) $('#keys-done').textContent = t('ad.keys.rotated', { vkey: last.new_vkey, from: last.from_size });
  }

  async function show() {
    await busy(null, $('#keys-err'), async () => {
      keys = (await api.get('audit/keys')) || [];
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
