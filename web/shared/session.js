// What the three pages share when they start: the zh/en switch, sign-out (the #logout button),
// back to the login view when the server answers 401, the staff sign-in form (officer and
// auditor pages), and the signed-in user from a stored token.
import { applyI18n, mountLangSwitch } from './i18n.js';
import { $, busy } from './ui.js';

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

/** The staff sign-in form (#login-form: #login-badge, #login-password, #login-err): `onSignedIn(officer)`. */
export function staffLoginForm(api, onSignedIn) {
  $('#login-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(ev.submitter, $('#login-err'), async () => {
      const r = await api.post('auth/officer', { badge: $('#login-badge').value.trim(), password: $('#login-password').value });
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
