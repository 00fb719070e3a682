// What the three pages share when they start: the zh/en switch, sign-out (the #logout button),
// back to the login view when the server answers 401, the staff sign-in form (officer and
// auditor pages), and the signed-in user from a stored token.
import { applyI18n, mountLangSwitch, t } from './i18n.js';
import { $, busy, h } from './ui.js';

/**
 * Mounts the language switch (#lang) and translates the page; wires #logout and the 401 event
 * to `showLogin`; `onLangChange` runs after every switch.
 */
export function bootPage({ api, showLogin, onLangChange }) {
  $('#logout').addEventListener('click', async () => {
    try {
      await api.post('auth/logout');
    } catch {
      /* the token may be gone already */
    }
    api.setToken(null);
    location.hash = '';
    showLogin();
  });
  document.addEventListener('unauthorized', () => showLogin());
  mountLangSwitch($('#lang'));
  applyI18n();
  if (onLangChange) document.addEventListener('langchange', onLangChange);
}

/** A text element translated now and again after every zh/en switch (data-i18n). */
function said(tag, key, attrs = {}) {
  return h(tag, { ...attrs, 'data-i18n': key }, t(key));
}

/**
 * Fills the page's empty `<section data-view="login" data-login="P">` with the staff sign-in
 * form, its texts from the page's `P.login.*` strings (h, badge, password, submit).
 */
function renderStaffLogin() {
  const section = document.querySelector('section[data-view=login][data-login]');
  if (!section || section.querySelector('form')) return;
  const p = section.dataset.login;
  section.setAttribute('aria-labelledby', 'login-h');
  section.replaceChildren(
    said('h1', `${p}.login.h`, { id: 'login-h' }),
    h(
      'form',
      { id: 'login-form', novalidate: true },
      said('label', `${p}.login.badge`, { for: 'login-badge' }),
      h('input', { id: 'login-badge', type: 'text', autocomplete: 'username', maxlength: '32', required: true }),
      said('label', `${p}.login.password`, { for: 'login-password' }),
      h('input', { id: 'login-password', type: 'password', autocomplete: 'current-password', required: true }),
      h(
        'div',
        { id: 'login-totp-row', hidden: true },
        said('label', 'login.totp', { for: 'login-totp' }),
        h('input', {
          id: 'login-totp', type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code',
          maxlength: '6', pattern: '[0-9]{6}', 'aria-describedby': 'login-totp-hint',
        }),
        said('p', 'login.totpHint', { class: 'hint', id: 'login-totp-hint' }),
      ),
      h('div', { class: 'alert', id: 'login-err', role: 'alert', hidden: true }),
      said('button', `${p}.login.submit`, { type: 'submit', class: 'btn btn-block' }),
    ),
  );
}

/**
 * The staff sign-in form (#login-form: #login-badge, #login-password, #login-err), drawn into
 * the page's login section by `renderStaffLogin`:
 * `onSignedIn(officer)`. When the server answers `totp_required` (the account enrolled an
 * authenticator app), the code field (#login-totp-row, #login-totp) is shown and sent from then on.
 */
export function staffLoginForm(api, onSignedIn) {
  renderStaffLogin();
  const totpRow = $('#login-totp-row');
  $('#login-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(ev.submitter, $('#login-err'), async () => {
      const body = { badge: $('#login-badge').value.trim(), password: $('#login-password').value };
      if (totpRow && !totpRow.hidden) body.totp = $('#login-totp').value.trim();
      let r;
      try {
        r = await api.post('auth/officer', body);
      } catch (e) {
        if (totpRow && (e.code === 'totp_required' || e.code === 'totp_invalid')) {
          totpRow.hidden = false;
          $('#login-totp').value = '';
          $('#login-totp').focus();
        }
        throw e;
      }
      if (totpRow) totpRow.hidden = true;
      api.setToken(r.token);
      await onSignedIn(r.officer);
    });
  });
}

/** Whether someone is signed in: `state.me`, or else `auth/me` with the stored token (kept in `state.me`). */
export async function signedIn(api, state) {
  if (!api.token) return false;
  if (state.me) return true;
  try {
    state.me = await api.get('auth/me');
    return true;
  } catch {
    return false;
  }
}
