// Officer dashboard: login, the day's bookings by slot, the urgent lane (deadlines counting down,
// claim with lease renewal, release), the account's two-step verification (shared/totp.js; an
// enrol-only session, when TOTP is required and none is set up, sees only that). The hearing
// room is in hearing.js.
import './strings.js';
import { t, fmtTime, fmtDuration, setData, dataLang, setZone } from '/shared/i18n.js';
import { createApi } from '/shared/api.js';
import { bootPage, staffLoginForm, signedIn } from '/shared/session.js';
import { $, h, showView, busy, announce, todayIn } from '/shared/ui.js';
import { initHearingRoom, openHearingRoom, closeHearingRoom, onOfficerEvent } from './hearing.js';
import { openEventStream } from '/shared/sse.js';
import { mountTotp } from '/shared/totp.js';
import { scorePill } from '/shared/selftest.js';
import { linkPill } from './links.js';

// The session lives in an HttpOnly cookie with CSRF protection, like the admin page's (issue 15 §2).
const api = createApi('staff', { cookie: true });
// `presence`: the citizen's state per booking from the live events since this page loaded
// (waiting, in the video, reconnecting, left).
// `selftest`: the score of the citizen's newest self-test per booking, from the events likewise.
// `link`: per booking, each party's link level as the call's server measures it (`link` events:
// on every change and every 15 s); the list shows the citizen's while the call is live.
const state = { me: null, bookings: [], urgent: { depth: 0, items: [] }, claims: new Map(), presence: new Map(), selftest: new Map(), link: new Map() };
const LEVELS = ['good', 'fair', 'poor'];
window.__rh = { api, state };
const HEARINGS_KEY = 'rh.officer.hearings';
let dashTimer = null;
let tickTimer = null;
let stopEvents = null;

/** Live dashboard events (citizen waiting/joined/dropped, steps, deadlines near). */
function startEvents() {
  if (stopEvents) return;
  stopEvents = openEventStream(api, 'officer/events', (type, ev) => {
    if (type === 'ready') return;
    if (type === 'urgent_deadline_near') announce(t('o.ev.deadlineNear'), 'error');
    if (/^citizen_/.test(type) && ev?.booking_id) state.presence.set(ev.booking_id, type);
    if (type === 'selftest' && ev?.booking_id) state.selftest.set(ev.booking_id, ev.score);
    if (type === 'link' && ev?.booking_id && LEVELS.includes(ev.level)) {
      if (!state.link.has(ev.booking_id)) state.link.set(ev.booking_id, new Map());
      state.link.get(ev.booking_id).set(ev.role, ev.level);
    }
    // the citizen gone ends the case's call; the officer gone only its own link
    if (['citizen_left', 'interrupted'].includes(type) && ev?.booking_id) state.link.delete(ev.booking_id);
    if (type === 'officer_left' && ev?.booking_id) state.link.get(ev.booking_id)?.delete('officer');
    if (document.body.dataset.currentView === 'dash') refreshDash();
    onOfficerEvent(type, ev);
  });
}

export function rememberHearing(bookingId, hearingId) {
  const m = JSON.parse(localStorage.getItem(HEARINGS_KEY) || '{}');
  m[bookingId] = hearingId;
  localStorage.setItem(HEARINGS_KEY, JSON.stringify(m));
}
function knownHearing(b) {
  return b.hearing_id || JSON.parse(localStorage.getItem(HEARINGS_KEY) || '{}')[b.id] || null;
}

// ---------- login ----------
staffLoginForm(api, (me) => {
  if (me.role !== 'officer') {
    state.me = me;
    $('#login-err').hidden = false;
    $('#login-err').replaceChildren(t('o.login.notOfficer'), ' ', h('a', { href: '/auditor/' }, t('o.login.toAuditor')));
    return;
  }
  // `auth/me` (read by route) also says whether the account has a second factor.
  state.me = null;
  route();
});

// ---------- two-step verification ----------
const totpHome = $('#totp-box').parentNode;
const totp = mountTotp($('#totp-box'), api, {
  onEnrolled: async () => {
    if (!state.me?.totp_enrolment_required) return;
    // The session may do everything now: back to the dashboard.
    state.me = null;
    totpHome.append($('#totp-box'));
    await route();
  },
});

/** An enrol-only session (TOTP required, none yet): the enrolment alone. */
async function showEnrol() {
  stopDash();
  $('#logout').hidden = false;
  setData($('#who'), state.me?.name || '');
  $('#enrol-slot').append($('#totp-box'));
  showView('enrol');
  await totp.refresh();
}

function showLogin() {
  stopDash();
  stopEvents?.();
  stopEvents = null;
  $('#logout').hidden = true;
  setData($('#who'), '');
  showView('login');
}

// ---------- dashboard ----------
function stopDash() {
  clearInterval(dashTimer);
  clearInterval(tickTimer);
}

async function showDash() {
  closeHearingRoom();
  $('#logout').hidden = false;
  setData($('#who'), state.me?.name || '');
  showView('dash');
  if (!$('#dash-date').value) $('#dash-date').value = todayIn();
  totp.refresh();
  await refreshDash();
  stopDash();
  dashTimer = setInterval(refreshDash, 10000);
  tickTimer = setInterval(renderUrgent, 1000);
}

async function refreshDash() {
  await Promise.all([
    busy(null, $('#dash-err'), async () => {
      const list = await api.get(`bookings?date=${$('#dash-date').value}`);
      state.bookings = (Array.isArray(list) ? list : list?.items || []).sort((a, b) => String(a.slot_start).localeCompare(String(b.slot_start)));
      // The brigade's zone comes with its bookings.
      setZone(state.bookings[0]?.timezone);
    }),
    busy(null, $('#urgent-err'), async () => {
      state.urgent = (await api.get('urgent')) || { depth: 0, items: [] };
      renderUrgent();
    }),
  ]);
  renderToday();
}

/** The case in one line: plate, slot, and the violations (count, fines, points). */
function caseLine(b) {
  const v = b.violations || [];
  const fine = v.reduce((n, x) => n + (x.fine_yuan || 0), 0);
  const pts = v.reduce((n, x) => n + (x.points || 0), 0);
  return t('o.case', { plate: b.plate, slot: `${fmtTime(b.slot_start)}–${fmtTime(b.slot_end, { date: false })}`, n: v.length, fine, pts, phone: b.phone_masked || '' });
}

function renderToday() {
  // One case is listed once: a booking in the urgent lane (waiting, claimed or in its hearing) is
  // there, with its one action.
  const inLane = new Set((state.urgent?.items || []).map((it) => it.booking_id));
  const shown = state.bookings.filter((b) => !inLane.has(b.id));
  if (!shown.length) return $('#today').replaceChildren(h('p', { class: 'muted' }, t(state.bookings.length ? 'o.today.allUrgent' : 'o.today.none')));
  const rows = shown.map((b) => {
    const hid = knownHearing(b);
    const canOpen = b.status === 'booked';
    const action = hid && b.status !== 'booked'
      ? h('button', { type: 'button', class: 'btn btn-ghost', onclick: () => goHearing(hid) }, t('o.resume'))
      : canOpen
        ? h('button', { type: 'button', class: 'btn', 'data-booking': b.id, onclick: (e) => openFor(e.currentTarget, b) }, t('o.open'))
        : null;
    const change = canOpen
      ? [
        ' ',
        h('button', { type: 'button', class: 'btn btn-ghost', 'data-cancel': b.id, onclick: (e) => cancelBooking(e.currentTarget, b) }, t('o.cancel')),
        ' ',
        h('button', { type: 'button', class: 'btn btn-ghost', 'data-move': b.id, onclick: (e) => moveBooking(e.currentTarget, b) }, t('o.move')),
      ]
      : null;
    return h(
      'tr',
      { 'data-booking-id': b.id },
      h('td', {}, `${fmtTime(b.slot_start, { date: false })}–${fmtTime(b.slot_end, { date: false })}`, b.urgent ? [' ', h('span', { class: 'pill', 'data-status': 'in_hearing' }, t('o.urgentTag'))] : null),
      h('td', { lang: dataLang(b.plate) }, b.plate),
      h('td', {}, h('span', { class: 'pill', 'data-status': b.status }, t('status.' + b.status))),
      presenceCell(b.id),
      h('td', {}, action, change),
    );
  });
  $('#today').replaceChildren(
    h('table', {}, h('thead', {}, h('tr', {}, ...['o.today.slot', 'o.today.plate', 'o.today.status', 'o.today.citizen', 'o.today.action'].map((k) => h('th', { scope: 'col' }, t(k))))), h('tbody', {}, ...rows)),
  );
}

/** The citizen's live state for a booking (from the events), or a dash. */
function presenceCell(bookingId) {
  const p = state.presence.get(bookingId) || 'none';
  const st = state.selftest.get(bookingId);
  return h('td', { class: 'presence', 'data-presence': p }, t('o.presence.' + p), st ? [' ', h('span', { class: 'small' }, t('st.h')), ' ', scorePill(st)] : null, linkBit(bookingId));
}

/** The citizen's link level in the booking's live call, as a labelled pill (none: no call). */
function linkBit(bookingId) {
  const level = state.link.get(bookingId)?.get('citizen');
  if (!level) return null;
  return h('span', { class: 'link-bit', 'data-booking': bookingId, 'data-level': level }, ' ', h('span', { class: 'small' }, t('link.list')), ' ', linkPill(level));
}

/** Cancels a booked booking with a reason (the server sends the citizen an SMS). */
async function cancelBooking(button, b) {
  const reason = (prompt(t('o.cancelReason')) || '').trim();
  if (!reason) return;
  await busy(button, $('#dash-err'), async () => {
    await api.post(`bookings/${encodeURIComponent(b.id)}/cancel-by-brigade`, { reason });
    announce(t('o.cancelled'));
    await refreshDash();
  });
}

/** Moves a booked booking to another slot (brigade time, the booking's UTC offset). */
async function moveBooking(button, b) {
  const to = (prompt(t('o.moveTo')) || '').trim();
  if (!to) return;
  const reason = (prompt(t('o.moveReason')) || '').trim();
  if (!reason) return;
  const offset = /([+-]\d\d:\d\d|Z)$/.exec(b.slot_start)?.[1] || 'Z';
  const slot = `${to.replace(' ', 'T')}:00${offset}`;
  await busy(button, $('#dash-err'), async () => {
    await api.post(`bookings/${encodeURIComponent(b.id)}/move-by-brigade`, { slot_start: slot, reason });
    announce(t('o.moved'));
    await refreshDash();
  });
}

async function openFor(button, b) {
  await busy(button, $('#dash-err'), async () => {
    let hr;
    try {
      hr = await api.post('hearings', { booking_id: b.id });
    } catch (e) {
      // Already open (another tab, a reload): find it and go there.
      if (e.code !== 'hearing_exists') throw e;
      const list = await api.get(`hearings?booking_id=${encodeURIComponent(b.id)}`).catch(() => null);
      hr = (Array.isArray(list) ? list : list?.items || []).find((x) => !['completed', 'referred', 'no_show'].includes(x.status));
      if (!hr) throw e;
    }
    rememberHearing(b.id, hr.id);
    goHearing(hr.id);
  });
}

function goHearing(id) {
  location.hash = `hearing=${encodeURIComponent(id)}`;
}

// ---------- urgent lane ----------
function renderUrgent() {
  const u = state.urgent || { depth: 0, items: [] };
  $('#urgent-depth').textContent = u.depth ? t('o.urgent.depth', { n: u.depth }) : t('o.urgent.none');
  const now = Date.now();
  $('#urgent-list').replaceChildren(
    ...(u.items || []).map((it) => {
      const left = (new Date(it.deadline).getTime() - now) / 1000;
      const mine = state.claims.has(it.booking_id);
      return h(
        'li',
        { 'data-booking-id': it.booking_id, 'data-done': 'false' },
        h(
          'div',
          { style: 'flex:1' },
          it.booking ? h('div', { class: 'urgent-case', lang: dataLang(it.booking.plate) }, caseLine(it.booking)) : null,
          h('div', { class: left < 3600 ? 'rec' : '' }, left > 0 ? t('o.urgent.deadline', { d: fmtTime(it.deadline), left: fmtDuration(left) }) : t('o.urgent.overdue')),
          state.presence.has(it.booking_id) ? h('div', { class: 'small presence', 'data-presence': state.presence.get(it.booking_id) }, t('err.withField', { field: t('o.today.citizen'), text: t('o.presence.' + state.presence.get(it.booking_id)) })) : null,
          state.selftest.has(it.booking_id) ? h('div', { class: 'small selftest', 'data-booking': it.booking_id }, t('st.h'), ' ', scorePill(state.selftest.get(it.booking_id))) : null,
          state.link.get(it.booking_id)?.has('citizen') ? h('div', { class: 'small' }, linkBit(it.booking_id)) : null,
          it.claimed_by ? h('div', { class: 'small muted' }, mine ? t('o.urgent.mine', { d: fmtTime(state.claims.get(it.booking_id).lease_until, { date: false }) }) : t('o.urgent.claimedBy')) : null,
        ),
        urgentAction(it, mine),
      );
    }),
  );
}

/** A lane item's one action: its hearing when it is in one (this officer's), else open or release a claim. */
function urgentAction(it, mine) {
  if (it.booking?.status === 'in_hearing') {
    const hid = knownHearing({ id: it.booking_id });
    if (!hid && !mine) return null;
    return h('button', { type: 'button', class: 'btn', onclick: (e) => (hid ? goHearing(hid) : openUrgent(e.currentTarget, it.booking_id)) }, t('o.resume'));
  }
  if (!mine) return null;
  return [
    h('button', { type: 'button', class: 'btn', onclick: (e) => openUrgent(e.currentTarget, it.booking_id) }, t('o.open')),
    h('button', { type: 'button', class: 'btn btn-ghost', onclick: (e) => release(e.currentTarget, it.booking_id) }, t('o.urgent.release')),
  ];
}

$('#urgent-claim').addEventListener('click', (ev) =>
  busy(ev.currentTarget, $('#urgent-err'), async () => {
    const c = await api.post('urgent/claim');
    if (!c) return announce(t('o.urgent.empty'));
    keepClaim(c);
    announce(t('o.urgent.claimed'));
    await refreshDash();
  }),
);

function keepClaim(c) {
  const old = state.claims.get(c.booking_id);
  if (old) clearTimeout(old.timer);
  const ms = Math.max(5000, (new Date(c.lease_until).getTime() - Date.now()) / 2);
  const timer = setTimeout(async () => {
    try {
      const r = await api.post(`urgent/${encodeURIComponent(c.booking_id)}/renew`);
      keepClaim({ ...c, lease_until: r.lease_until });
    } catch {
      state.claims.delete(c.booking_id);
    }
  }, ms);
  state.claims.set(c.booking_id, { ...c, timer });
}

async function release(button, bookingId) {
  await busy(button, $('#urgent-err'), async () => {
    await api.post(`urgent/${encodeURIComponent(bookingId)}/release`);
    clearTimeout(state.claims.get(bookingId)?.timer);
    state.claims.delete(bookingId);
    await refreshDash();
  });
}

async function openUrgent(button, bookingId) {
  await openFor(button, { id: bookingId });
}

// ---------- routing ----------
$('#dash-refresh').addEventListener('click', refreshDash);
$('#dash-date').addEventListener('change', refreshDash);
window.addEventListener('hashchange', route);

async function route() {
  if (!(await signedIn(api, state))) return showLogin();
  if (state.me.totp_enrolment_required) return showEnrol();
  startEvents();
  const m = /hearing=([^&]+)/.exec(location.hash);
  if (m) {
    stopDash();
    $('#logout').hidden = false;
    setData($('#who'), state.me?.name || '');
    await openHearingRoom(decodeURIComponent(m[1]));
  } else {
    await showDash();
  }
}

bootPage({
  api,
  showLogin,
  onLangChange: () => {
    if (document.body.dataset.currentView === 'dash') {
      renderToday();
      renderUrgent();
    }
  },
});
initHearingRoom({ api, state, back: () => (location.hash = '') });
route();
