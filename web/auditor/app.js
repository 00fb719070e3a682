// Auditor page: sign-in, the routing between the list (list.js: server-side search and paging)
// and one hearing (hearing.js: summary and decision, the verdict line, recordings, timeline),
// the log's pinned keys (logstate.js), the check of an offline bundle file and the account's
// two-step verification (an enrol-only session sees only that). The zh/en switch
// writes every view again from the data it holds: results, loaded players and pages stay.
import './strings.js';
import { t, setData } from '/shared/i18n.js';
import { createApi } from '/shared/api.js';
import { bootPage, staffLoginForm, signedIn } from '/shared/session.js';
import { $, h, showView, busy, download } from '/shared/ui.js';
import { checkLog } from './logstate.js';
import { createList } from './list.js';
import { cur, openHearing, verifyNow, rerenderHearing } from './hearing.js';
import { runVerify, rerenderVerdicts } from './verdict.js';
import { relabelRecordings } from './recordings.js';
import { mountTotp } from '/shared/totp.js';

// The session lives in an HttpOnly cookie with CSRF protection, like the admin page's (issue 15 §2).
const api = createApi('staff', { cookie: true });
const state = { me: null, trust: null };
window.__rh = { api, state, cur };
const list = createList(api);

// ---------- login ----------
staffLoginForm(api, () => {
  // `auth/me` (read by route) also says whether the session may only enrol TOTP.
  state.me = null;
  route();
});

// ---------- two-step verification (shared/totp.js) ----------
const totpHome = $('#totp-box').parentNode;
const totp = mountTotp($('#totp-box'), api, {
  onEnrolled: async () => {
    if (!state.me?.totp_enrolment_required) return;
    state.me = null;
    totpHome.append($('#totp-box'));
    await route();
  },
});

function showLogin() {
  $('#logout').hidden = true;
  setData($('#who'), '');
  showView('login');
}

/** The pinned keys (logstate.js), checked once per visit. */
async function pinned() {
  if (!state.trust) state.trust = await checkLog(api, $('#log-status'));
  return state.trust || { keys: [], witnesses: [], quorum: 0 };
}

// ---------- list ----------
async function showList() {
  $('#logout').hidden = false;
  showView('list');
  const log = checkLog(api, $('#log-status')).then((tr) => (state.trust = tr));
  totp.refresh();
  await list.refresh(null);
  await log;
}

// ---------- offline bundle file ----------
$('#bundle-file').addEventListener('change', async (ev) => {
  const f = ev.target.files?.[0];
  if (!f) return;
  let bundle;
  try {
    bundle = JSON.parse(await f.text());
  } catch (e) {
    return $('#file-result').replaceChildren(h('p', { class: 'alert', role: 'alert', lang: document.documentElement.lang }, t('a.file.bad', { e: e.message })));
  }
  await runVerify($('#file-result'), bundle, () => t('a.v.file', { f: f.name }), await pinned());
});

// ---------- one hearing ----------
async function showHearing(id) {
  $('#logout').hidden = false;
  showView('hearing');
  await openHearing(api, id, pinned);
}

$('#verify').addEventListener('click', (ev) =>
  busy(ev.currentTarget, $('#hr-err'), async () => {
    await verifyNow(api, pinned); // always verify what the server serves now
    $('#verify-result #verdict')?.focus?.();
  }),
);
$('#download').addEventListener('click', (ev) =>
  busy(ev.currentTarget, $('#hr-err'), async () => {
    if (!cur.bundle) cur.bundle = await api.get(`audit/hearings/${encodeURIComponent(cur.id)}/bundle`);
    download(`bundle-${cur.id}.json`, JSON.stringify(cur.bundle, null, 2), 'application/json');
  }),
);
$('#hr-back').addEventListener('click', () => (location.hash = ''));

// ---------- routing ----------
window.addEventListener('hashchange', route);
async function route() {
  if (!(await signedIn(api, state))) return showLogin();
  setData($('#who'), state.me?.name || '');
  if (state.me.totp_enrolment_required) {
    // An enrol-only session (TOTP required, none yet): the enrolment alone.
    $('#logout').hidden = false;
    $('#enrol-slot').append($('#totp-box'));
    showView('enrol');
    return totp.refresh();
  }
  const m = /hearing=([^&]+)/.exec(location.hash);
  if (m) await showHearing(decodeURIComponent(m[1]));
  else await showList();
}

bootPage({
  api,
  showLogin,
  onLangChange: async () => {
    rerenderVerdicts();
    list.render();
    if (cur.id) {
      rerenderHearing(api);
      relabelRecordings();
    }
    // The log card is written in the language of the moment: check and write it again.
    if (state.trust) state.trust = await checkLog(api, $('#log-status'));
  },
});
route();
