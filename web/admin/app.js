// Administration page (`/admin/`, admin role): sign-in, then three tabs by the URL's hash —
// brigades (brigades.js: settings, hours per weekday, closed dates and a holiday-file import),
// staff (staff.js: accounts, disable/enable, password and TOTP resets, sessions), the log's
// signing keys (keys.js: list and rotate) and the admin's
// own two-step verification (shared/totp.js). An enrol-only session (TOTP required, none yet)
// reaches the enrolment tab only.
import './strings.js';
import { t, setData } from '/shared/i18n.js';
import { createApi } from '/shared/api.js';
import { bootPage, staffLoginForm, signedIn } from '/shared/session.js';
import { $, $$, h, showView } from '/shared/ui.js';
import { mountTotp } from '/shared/totp.js';
import { createBrigades } from './brigades.js';
import { createStaff } from './staff.js';
import { createKeys } from './keys.js';

// The administration page keeps its session in an HttpOnly cookie (issue 15 §2).
const api = createApi('staff', { cookie: true });
const state = { me: null, brigades: [] };
window.__rh = { api, state };

/** The brigades (id, name, address, timezone) for the lists and the staff form. */
async function loadBrigades() {
  state.brigades = (await api.get('brigades')) || [];
  return state.brigades;
}

const brigades = createBrigades(api, state, loadBrigades);
const staff = createStaff(api, state, loadBrigades);
const keys = createKeys(api);
const totp = mountTotp($('#totp-box'), api, {
  onEnrolled: async () => {
    if (state.me?.totp_enrolment_required) {
      state.me = null;
      location.hash = '#brigades';
      await route();
    }
  },
});

// ---------- login ----------
staffLoginForm(api, async (me) => {
  if (me.role !== 'admin') {
    api.setToken(null);
    $('#login-err').hidden = false;
    $('#login-err').replaceChildren(t('ad.login.notAdmin'), ' ', h('a', { href: '/officer/' }, t('ad.login.toOfficer')), ' · ', h('a', { href: '/auditor/' }, t('ad.login.toAuditor')));
    return;
  }
  state.me = null;
  await route();
});

function showLogin() {
  state.me = null;
  $('#logout').hidden = true;
  $('#tabs').hidden = true;
  setData($('#who'), '');
  showView('login');
}

// ---------- routing ----------
function tabOf() {
  const tab = location.hash.replace(/^#/, '');
  return ['brigades', 'staff', 'keys', 'totp'].includes(tab) ? tab : 'brigades';
}

async function route() {
  // `auth/me` also says whether this session may only enrol TOTP.
  if (!(await signedIn(api, state))) return showLogin();
  if (state.me.role !== 'admin') {
    api.setToken(null);
    return showLogin();
  }
  $('#logout').hidden = false;
  $('#tabs').hidden = false;
  setData($('#who'), `${state.me.name || ''}`);
  let tab = tabOf();
  if (state.me.totp_enrolment_required) tab = 'totp';
  for (const a of $$('#tabs a')) {
    if (a.dataset.tab === tab) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
    a.hidden = !!state.me.totp_enrolment_required && a.dataset.tab !== 'totp';
  }
  showView(tab);
  if (tab === 'brigades') await brigades.show();
  else if (tab === 'staff') await staff.show();
  else if (tab === 'keys') await keys.show();
  else await totp.refresh();
}

window.addEventListener('hashchange', route);
bootPage({
  api,
  showLogin,
  onLangChange: () => {
    const v = document.body.dataset.currentView;
    if (v === 'brigades') brigades.render();
    if (v === 'staff') staff.render();
    if (v === 'keys') keys.render();
  },
});
route();
