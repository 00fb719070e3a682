// Citizen page: phone login, my booking, the device self-test (back to where it was opened from).
// The booking steps are in booking.js; the waiting room, the call and the decision in hearing.js.
import './strings.js';
import { t, has, fmtTime, dataLang, setZone } from '/shared/i18n.js';
import { createApi } from '/shared/api.js';
import { bootPage, signedIn } from '/shared/session.js';
import { mountCareSwitch } from '/shared/care.js';
import { $, h, showView, busy, showError, countdown, announce } from '/shared/ui.js';
import { initHearing, resumeCall } from './hearing.js';
import { initWaiting, enterWaitingRoom } from './waiting.js';
import { initBooking, openBooking, relabelBooking } from './booking.js';
import { participantPage } from './participant.js';
import { initMyData } from './mydata.js';
import { initSelfTest, openTest, stopTest, testFrom } from './selftest.js';

const api = createApi('citizen');
const ACTIVE = ['booked', 'in_hearing'];
const state = { me: null, bookings: [], active: null, brigades: [] };
window.__rh = { api, state };

// ---------- login ----------
$('#login-send').addEventListener('click', (ev) =>
  busy(ev.currentTarget, $('#login-err'), async () => {
    const r = await api.post('auth/sms-code', { phone: $('#login-phone').value.trim() });
    announce(t('common.codeSent'));
    countdown($('#login-send'), r?.resend_after_s ?? 60);
    $('#login-code').focus();
  }),
);
$('#login-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  busy(ev.submitter, $('#login-err'), async () => {
    const r = await api.post('auth/citizen', { phone: $('#login-phone').value.trim(), code: $('#login-code').value.trim() });
    api.setToken(r.token);
    state.me = r.citizen;
    await goHome();
  });
});

function showLogin() {
  $('#logout').hidden = true;
  showView('login');
}

// ---------- home ----------
async function loadBookings() {
  const list = await api.get('bookings');
  state.bookings = Array.isArray(list) ? list : list?.items || [];
  state.bookings.sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)));
  state.active = state.bookings.find((b) => ACTIVE.includes(b.status)) || null;
  setZone((state.active || state.bookings[0])?.timezone);
  return state.active;
}

function brigadeName(id) {
  return state.brigades.find((b) => b.id === id)?.name || id;
}

export function bookingCard(b) {
  return h(
    'dl',
    { class: 'booking', dataset: { bookingId: b.id } },
    h('dt', { 'data-i18n': 'c.bk.brigade' }, t('c.bk.brigade')),
    h('dd', { lang: dataLang(brigadeName(b.brigade_id)) }, brigadeName(b.brigade_id)),
    h('dt', { 'data-i18n': 'c.bk.time' }, t('c.bk.time')),
    h('dd', {}, `${fmtTime(b.slot_start)} – ${fmtTime(b.slot_end, { date: false })}`, b.urgent ? [' ', h('span', { class: 'pill', 'data-status': 'in_hearing' }, t('c.bk.urgentTag'))] : null),
    b.deadline ? [h('dt', {}, t('c.bk.deadline')), h('dd', {}, fmtTime(b.deadline))] : null,
    h('dt', {}, t('c.bk.plate')),
    h('dd', { lang: dataLang(b.plate) }, b.plate),
    b.facts_source === 'records' && b.violations?.length
      ? [h('dt', {}, t('c.bk.records')), h('dd', { class: 'booking-records' }, h('ul', {}, ...b.violations.map((v) => h('li', { dataset: { recordNo: v.record_no } }, `${v.behaviour || ''} · ${v.time ? fmtTime(v.time) : ''} · ${v.place || ''} · ${t('c.book.recordMoney', { f: v.fine_yuan, p: v.points })}`))))]
      : null,
    h('dt', {}, t('c.bk.status')),
    h('dd', {}, h('span', { class: 'pill', 'data-status': b.status, id: 'booking-status' }, t('status.' + b.status))),
    b.moved_from ? [h('dt', {}, t('c.bk.movedFrom')), h('dd', { class: 'moved-from' }, fmtTime(b.moved_from))] : null,
    b.reason ? [h('dt', {}, t('c.bk.reason')), h('dd', { class: 'booking-reason', lang: has('reason.' + b.reason) ? undefined : dataLang(b.reason) }, reasonText(b.reason))] : null,
  );
}

/** A fate's reason: the server's codes in words, an officer's own reason as written. */
function reasonText(r) {
  return has('reason.' + r) ? t('reason.' + r) : r;
}

async function goHome() {
  $('#logout').hidden = false;
  showView('home');
  await busy(null, $('#home-err'), async () => {
    if (!state.brigades.length) state.brigades = (await api.get('brigades')) || [];
    await loadBookings();
  });
  renderHome();
}

function renderHome() {
  const b = state.active;
  $('#home-booking').replaceChildren(b ? bookingCard(b) : h('p', { class: 'muted' }, t('c.home.none')));
  $('#go-book').hidden = !!b;
  $('#go-wait').hidden = !b;
  $('#cancel-booking').hidden = !(b && b.status === 'booked');
  const past = state.bookings.filter((x) => x !== b);
  $('#history-box').hidden = past.length === 0;
  $('#history').replaceChildren(...past.map(bookingCard));
}

$('#go-book').addEventListener('click', () => openBooking());
$('#go-test').addEventListener('click', () => openTest());
$('#go-wait').addEventListener('click', () => enterWaitingRoom(state.active));
$('#cancel-booking').addEventListener('click', (ev) => {
  if (!state.active || !confirm(t('c.home.cancelConfirm'))) return;
  busy(ev.currentTarget, $('#home-err'), async () => {
    await api.del(`bookings/${encodeURIComponent(state.active.id)}`);
    announce(t('c.home.cancelled'));
    await goHome();
  });
});
for (const b of document.querySelectorAll('[data-back]')) b.addEventListener('click', () => {
  const from = document.body.dataset.currentView;
  stopTest();
  // The device check opened from the waiting room goes back there, not home.
  if (from === 'test' && testFrom() === 'wait') return enterWaitingRoom(state.active);
  goHome();
});

// ---------- device self-test (selftest.js) ----------
$('#wait-test').addEventListener('click', openTest);

// ---------- start ----------
const myData = initMyData({ api });
bootPage({
  api,
  showLogin,
  onLangChange: () => {
    if (document.body.dataset.currentView === 'home') renderHome();
    else if (document.body.dataset.currentView === 'book') relabelBooking();
    else if (document.body.dataset.currentView === 'data') myData.relabel();
  },
});
mountCareSwitch($('#care'));
initHearing({ api, state, goHome });
initWaiting({ api, state });
initBooking({ api, state, goHome });
initSelfTest({ api, state });

/**
 * The mini program's web-view opens `/citizen/?ticket=…`: the one-time ticket becomes this
 * page's own session and leaves the address at once (only the hearing stays in it), so it is
 * never in the history, a bookmark or a shared link. True when the page now has a session.
 */
async function redeemTicket() {
  const params = new URLSearchParams(location.search);
  const ticket = params.get('ticket');
  if (!ticket) return false;
  params.delete('ticket');
  const clean = () => history.replaceState(null, '', `${location.pathname}${[...params].length ? `?${params}` : ''}`);
  clean();
  try {
    const r = await api.post('auth/web-ticket', { ticket });
    api.setToken(r.token);
    params.set('hearing', r.hearing_id);
    clean();
    return true;
  } catch (e) {
    showError(null, e);
    return false;
  }
}

(async () => {
  // An interpreter, agent or supervisor's link: their own page (web/citizen/participant.js).
  if (await participantPage()) return;
  if (await redeemTicket()) {
    state.me = null;
    if (await resumeCall()) return;
    return enterWaitingRoom(null);
  }
  if (!(await signedIn(api, state))) return showLogin();
  if (await resumeCall()) return;
  await goHome();
})();
