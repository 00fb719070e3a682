// The staff tab: the accounts (`GET /admin/staff`) with their actions — disable (every session of
// the account ends at once), enable, reset the password (the page draws a one-time password and
// shows it once), reset the TOTP second factor, list and end sessions — and the form that creates
// an account (role, badge, name, brigade, initial password); refusals show next to their field.
import { t, dataLang, fmtTime, stampLang } from '/shared/i18n.js';
import { $, h, busy, announce } from '/shared/ui.js';
import { submitForm } from '/shared/fielderr.js';

const ALPHABET = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** A random password of 16 characters from an unambiguous alphabet (about 92 bits), in groups of 4. */
export function randomPassword() {
  const out = [];
  const buf = new Uint8Array(64);
  while (out.length < 16) {
    crypto.getRandomValues(buf);
    // Rejection sampling: no bias towards the first letters.
    for (const b of buf) if (b < 224 && out.length < 16) out.push(ALPHABET[b % ALPHABET.length]);
  }
  return out.join('').replace(/(.{4})(?!$)/g, '$1-');
}

export function createStaff(api, state, loadBrigades) {
  let list = [];
  // The account whose sessions are shown, and the one-time password on show: {badge, password, kind}.
  let sessionsOf = null;
  let sessions = [];
  let secret = null;

  const brigadeName = (id) => state.brigades.find((b) => b.id === id)?.name || id || '—';

  function renderList() {
    const rows = list.map((s) => {
      const self = s.id === state.me?.id;
      const btn = (key, fn, cls = 'btn btn-ghost') =>
        h('button', { type: 'button', class: cls, 'data-action': key, 'aria-label': t('ad.st.actOf', { act: t(`ad.st.${key}`), who: `${s.name} (${s.badge})` }), onclick: (e) => fn(e.currentTarget, s) }, t(`ad.st.${key}`));
      return h(
        'tr',
        { 'data-staff-id': s.id, 'data-badge': s.badge, 'data-active': String(s.active), 'aria-current': sessionsOf?.id === s.id ? 'true' : null },
        h('td', { class: 'mono' }, s.badge),
        h('td', { lang: dataLang(s.name) }, s.name),
        h('td', {}, t(`role.${s.role}`)),
        h('td', { lang: dataLang(brigadeName(s.brigade_id)) }, s.brigade_id ? brigadeName(s.brigade_id) : '—'),
        h('td', {}, h('span', { class: 'pill', 'data-ok': String(s.active) }, t(s.active ? 'ad.st.active' : 'ad.st.disabled'))),
        h(
          'td',
          {},
          h(
            'div',
            { class: 'row-actions' },
            self ? null : s.active ? btn('disable', disable, 'btn btn-danger') : btn('enable', enable),
            btn('resetPassword', resetPassword),
            btn('resetTotp', resetTotp),
            btn('sessions', showSessions),
          ),
        ),
      );
    });
    if (!rows.length) return $('#st-list').replaceChildren(h('p', { class: 'muted' }, t('common.none')));
    $('#st-list').replaceChildren(
      h('table', {}, h('thead', {}, h('tr', {}, ...['ad.col.badge', 'ad.sf.name', 'ad.sf.role', 'ad.sf.brigade', 'ad.st.state', 'ad.col.action'].map((k) => h('th', { scope: 'col' }, t(k))))), h('tbody', {}, ...rows)),
    );
  }

  function renderBrigadeSelect() {
    const sel = $('#sf-brigade');
    const keep = sel.value;
    sel.replaceChildren(h('option', { value: '' }, t('ad.sf.noBrigade')), ...state.brigades.map((b) => h('option', { value: b.id, lang: dataLang(b.name) }, b.name)));
    if (keep && state.brigades.some((b) => b.id === keep)) sel.value = keep;
  }

  /** The one-time password note (after a create or a reset): shown until the next action. */
  function renderSecret() {
    const box = $('#st-secret');
    box.hidden = !secret;
    if (!secret) return box.replaceChildren();
    box.replaceChildren(
      h('p', {}, t(secret.kind === 'created' ? 'ad.st.createdPw' : 'ad.st.resetPw', { badge: secret.badge })),
      h('p', { class: 'mono secret-line', id: 'st-secret-pw' }, secret.password),
      h('p', { class: 'small' }, t('ad.st.pwOnce')),
    );
    stampLang(box);
  }

  async function refresh() {
    await busy(null, $('#st-err'), async () => {
      list = (await api.get('admin/staff')) || [];
    });
    renderList();
  }

  async function act(button, fn) {
    secret = null;
    renderSecret();
    await busy(button, $('#st-err'), fn);
  }

  async function disable(button, s) {
    if (!confirm(t('ad.st.disableConfirm', { who: `${s.name} (${s.badge})` }))) return;
    await act(button, async () => {
      await api.post(`admin/staff/${encodeURIComponent(s.id)}/disable`);
      announce(t('ad.st.disabledMsg', { badge: s.badge }));
      await refresh();
      if (sessionsOf?.id === s.id) await loadSessions();
    });
  }

  async function enable(button, s) {
    await act(button, async () => {
      await api.post(`admin/staff/${encodeURIComponent(s.id)}/enable`);
      announce(t('ad.st.enabledMsg', { badge: s.badge }));
      await refresh();
    });
  }

  async function resetPassword(button, s) {
    if (!confirm(t('ad.st.resetPasswordConfirm', { who: `${s.name} (${s.badge})` }))) return;
    await act(button, async () => {
      const password = randomPassword();
      await api.post(`admin/staff/${encodeURIComponent(s.id)}/reset-password`, { password });
      secret = { kind: 'reset', badge: s.badge, password };
      renderSecret();
      if (sessionsOf?.id === s.id) await loadSessions();
    });
  }

  async function resetTotp(button, s) {
    if (!confirm(t('ad.st.resetTotpConfirm', { who: `${s.name} (${s.badge})` }))) return;
    await act(button, async () => {
      await api.post(`admin/staff/${encodeURIComponent(s.id)}/reset-totp`);
      announce(t('ad.st.totpResetMsg', { badge: s.badge }));
      if (sessionsOf?.id === s.id) await loadSessions();
    });
  }

  // ---------- sessions ----------
  async function showSessions(button, s) {
    sessionsOf = s;
    $('#ss-box').hidden = false;
    await busy(button, $('#ss-err'), loadSessions);
    renderList();
    $('#ss-h').focus();
  }

  async function loadSessions() {
    sessions = (await api.get(`admin/staff/${encodeURIComponent(sessionsOf.id)}/sessions`)) || [];
    renderSessions();
  }

  function renderSessions() {
    if (!sessionsOf) return;
    $('#ss-h').textContent = t('ad.ss.h', { who: `${sessionsOf.name} (${sessionsOf.badge})` });
    const name = dataLang(sessionsOf.name);
    if (name) $('#ss-h').setAttribute('lang', name);
    if (!sessions.length) return $('#ss-list').replaceChildren(h('p', { class: 'muted', id: 'ss-none' }, t('ad.ss.none')));
    $('#ss-list').replaceChildren(
      h(
        'table',
        {},
        h('thead', {}, h('tr', {}, ...['ad.ss.created', 'ad.ss.seen', 'ad.ss.ip', 'ad.ss.agent', 'ad.col.action'].map((k) => h('th', { scope: 'col' }, t(k))))),
        h(
          'tbody',
          {},
          ...sessions.map((x) =>
            h(
              'tr',
              { 'data-session-id': x.id },
              h('td', {}, fmtTime(x.created_at)),
              h('td', {}, fmtTime(x.last_seen_at)),
              h('td', { class: 'mono' }, x.ip_masked || '—'),
              h('td', { class: 'small' }, x.user_agent || '—'),
              h('td', {}, h('button', { type: 'button', class: 'btn btn-ghost', 'data-revoke': x.id, onclick: (e) => revoke(e.currentTarget, x) }, t('ad.ss.revoke'))),
            ),
          ),
        ),
      ),
    );
  }

  async function revoke(button, x) {
    await busy(button, $('#ss-err'), async () => {
      await api.del(`admin/staff/${encodeURIComponent(sessionsOf.id)}/sessions/${encodeURIComponent(x.id)}`);
      announce(t('ad.ss.revoked'));
      await loadSessions();
    });
  }

  // ---------- create ----------
  $('#sf-generate').addEventListener('click', () => {
    $('#sf-password').value = randomPassword();
    $('#sf-password').focus();
  });
  $('#sf-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const form = ev.currentTarget;
    submitForm(form, ev.submitter, $('#sf-err'), async () => {
      const body = {
        role: $('#sf-role').value,
        badge: $('#sf-badge').value.trim(),
        name: $('#sf-name').value.trim(),
        password: $('#sf-password').value,
      };
      if ($('#sf-brigade').value) body.brigade_id = $('#sf-brigade').value;
      const made = await api.post('admin/staff', body);
      secret = { kind: 'created', badge: made.badge, password: body.password };
      form.reset();
      renderBrigadeSelect();
      await refresh();
      renderSecret();
      announce(t('ad.st.createdMsg', { badge: made.badge }));
    });
  });
  $('#st-refresh').addEventListener('click', refresh);

  return {
    async show() {
      await busy(null, $('#st-err'), loadBrigades);
      renderBrigadeSelect();
      await refresh();
      renderSecret();
    },
    render() {
      renderList();
      renderBrigadeSelect();
      renderSecret();
      renderSessions();
    },
  };
}
