// Citizen page: phone login, my booking, the booking form (with the urgent 3-day rule), the device
// self-test. The waiting room, the call and the decision are in hearing.js.
import './strings.js';
import { t, has, fmtTime, setData, stampLang, dataLang, setZone, getZone } from '/shared/i18n.js';
import { createApi } from '/shared/api.js';
import { bootPage, signedIn } from '/shared/session.js';
import { $, h, showView, busy, showError, countdown, announce, todayIn } from '/shared/ui.js';
import { initHearing, enterWaitingRoom, resumeCall } from './hearing.js';
import { loadRecords, inRecordsMode, pickedRecords } from './records.js';
import { participantPage } from './participant.js';

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
  stopTest();
  goHome();
});

// ---------- booking ----------
function violationRow() {
  const n = $('#bk-violations').children.length + 1;
  const id = (s) => `bk-v${n}-${s}`;
  const row = h(
    'div',
    { class: 'row violation' },
    h('div', {}, h('label', { for: id('no'), 'data-i18n': 'c.book.recordNo' }, t('c.book.recordNo')), h('input', { id: id('no'), class: 'v-no', type: 'text', maxlength: 32, required: true })),
    h('div', {}, h('label', { for: id('fine'), 'data-i18n': 'c.book.fine' }, t('c.book.fine')), h('input', { id: id('fine'), class: 'v-fine', type: 'number', inputmode: 'numeric', min: 0, max: 200, required: true })),
    h('div', {}, h('label', { for: id('pts'), 'data-i18n': 'c.book.points' }, t('c.book.points')), h('input', { id: id('pts'), class: 'v-pts', type: 'number', inputmode: 'numeric', min: 0, max: 12, required: true })),
  );
  if (n > 1) {
    row.append(h('button', { type: 'button', class: 'btn btn-ghost shrink', onclick: () => row.remove(), 'aria-label': `${t('c.book.remove')} ${n}` }, t('c.book.remove')));
  }
  return row;
}
$('#bk-add').addEventListener('click', () => {
  const row = violationRow();
  $('#bk-violations').append(row);
  row.querySelector('input').focus();
});

async function openBooking() {
  showView('book');
  await loadRecords(api);
  if (!$('#bk-violations').children.length) $('#bk-violations').append(violationRow());
  $('#bk-phone-box').hidden = !!state.me?.phone_bound;
  const sel = $('#bk-brigade');
  await busy(null, $('#book-err'), async () => {
    if (!state.brigades.length) state.brigades = (await api.get('brigades')) || [];
  });
  sel.replaceChildren(...state.brigades.map((b) => h('option', { value: b.id }, b.name)));
  syncDateBounds();
  await loadSlots();
}

function syncDateBounds() {
  const urgent = $('#bk-urgent').checked;
  const d = $('#bk-date');
  // Dates are the chosen brigade's: its `timezone` decides what "today" is.
  const br = state.brigades.find((b) => b.id === $('#bk-brigade').value);
  setZone(br?.timezone);
  d.min = todayIn(getZone(), urgent ? 0 : 1);
  d.max = todayIn(getZone(), 7);
  if (!d.value || d.value < d.min || d.value > d.max) d.value = d.min;
  setData($('#bk-brigade-addr'), br?.address || '');
}

async function loadSlots() {
  const box = $('#bk-slots');
  const brigade = $('#bk-brigade').value;
  const date = $('#bk-date').value;
  if (!brigade || !date) return box.replaceChildren();
  const chosen = document.querySelector('input[name=slot]:checked')?.value;
  box.replaceChildren(h('p', { class: 'muted' }, t('common.loading')));
  await busy(null, $('#book-err'), async () => {
    const slots = await api.get(`brigades/${encodeURIComponent(brigade)}/slots?from=${date}&to=${date}`);
    const now = Date.now();
    const items = (slots || []).map((s, i) => {
      const full = s.remaining <= 0;
      const past = new Date(s.start).getTime() <= now;
      const id = `slot-${i}`;
      return h(
        'div',
        { class: 'slot' },
        h('input', { type: 'radio', name: 'slot', id, value: s.start, disabled: full || past, checked: s.start === chosen && !full && !past }),
        h(
          'label',
          { for: id },
          `${fmtTime(s.start, { date: false })} – ${fmtTime(s.end, { date: false })}`,
          h('span', { class: 'hint' }, full ? t('c.book.full') : t('c.book.remaining', { n: s.remaining, c: s.capacity })),
        ),
      );
    });
    box.replaceChildren(...(items.length ? items : [h('p', { class: 'muted' }, t('c.book.noSlots'))]));
  });
}
$('#bk-brigade').addEventListener('change', () => {
  syncDateBounds();
  loadSlots();
});
$('#bk-date').addEventListener('change', loadSlots);
$('#bk-urgent').addEventListener('change', () => {
  $('#bk-urgent-box').hidden = !$('#bk-urgent').checked;
  syncDateBounds();
  showExpiry();
  loadSlots();
});
$('#bk-regdate').addEventListener('input', showExpiry);

/** The next anniversary of `reg` on or after today (29 Feb → 28 Feb), as the server derives it. */
export function nextAnniversary(reg, today) {
  const [ry, rm, rd] = reg.split('-').map(Number);
  const [ty] = today.split('-').map(Number);
  if (!ry || reg > today) return null;
  for (let y = Math.max(ty, ry + 1); y <= Math.max(ty, ry + 1) + 1; y++) {
    let day = rd;
    const dim = new Date(Date.UTC(y, rm, 0)).getUTCDate();
    if (day > dim) day = dim;
    const s = `${y}-${String(rm).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
    if (s >= today) return s;
  }
  return null;
}

function showExpiry() {
  const out = $('#bk-expiry');
  const reg = $('#bk-regdate').value;
  if (!reg) return (out.textContent = '');
  const today = todayIn();
  const exp = nextAnniversary(reg, today);
  if (!exp) return (out.textContent = '');
  const days = Math.round((Date.parse(exp) - Date.parse(today)) / 86400000);
  const ok = days <= 3;
  out.textContent = `${t('c.book.expiry', { d: exp, n: days })} ${ok ? t('c.book.expiryOk') : t('c.book.expiryNo')}`;
  out.className = ok ? 'small banner banner-ok' : 'small alert';
}

$('#book-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  busy($('#bk-submit'), $('#book-err'), async () => {
    const slot = document.querySelector('input[name=slot]:checked');
    if (!slot) {
      showError($('#book-err'), t('c.book.pickSlot'));
      $('#bk-slots').querySelector('input:not(:disabled)')?.focus();
      return;
    }
    const num = (sel) => Number($(sel).value);
    if (inRecordsMode()) {
      const picked = pickedRecords();
      if (!picked.length) {
        showError($('#book-err'), t('c.book.pickOne'));
        return $('#bk-record-list input:not(:disabled)')?.focus();
      }
      const body = { brigade_id: $('#bk-brigade').value, slot_start: slot.value, plate: $('#bk-plate').value.trim().toUpperCase(), owner: $('#bk-owner').checked, record_nos: picked };
      if (!$('#bk-phone-box').hidden && $('#bk-phone').value.trim()) body.phone = $('#bk-phone').value.trim();
      if ($('#bk-urgent').checked) {
        const kind = document.querySelector('input[name=kind]:checked').value;
        body.urgent = kind === 'licence' ? { kind, licence_file_no: $('#bk-licence-no').value.trim() } : { kind };
      }
      await api.post('bookings', body);
      announce(t('c.book.done'));
      return goHome();
    }
    const body = {
      brigade_id: $('#bk-brigade').value,
      slot_start: slot.value,
      plate: $('#bk-plate').value.trim().toUpperCase(),
      owner: $('#bk-owner').checked,
      violations: [...document.querySelectorAll('#bk-violations .violation')].map((r) => ({
        record_no: r.querySelector('.v-no').value.trim(),
        fine_yuan: Number(r.querySelector('.v-fine').value),
        points: Number(r.querySelector('.v-pts').value),
      })),
      unhandled_count: num('#bk-unhandled'),
      current_points: num('#bk-points'),
    };
    if (!$('#bk-phone-box').hidden && $('#bk-phone').value.trim()) body.phone = $('#bk-phone').value.trim();
    if ($('#bk-urgent').checked) {
      body.urgent = { kind: document.querySelector('input[name=kind]:checked').value, registration_date: $('#bk-regdate').value };
    }
    await api.post('bookings', body);
    announce(t('c.book.done'));
    await goHome();
  });
});

// ---------- device self-test ----------
let testStream = null;
let testTimer = null;
function openTest() {
  showView('test');
}
function stopTest() {
  clearInterval(testTimer);
  for (const tr of testStream?.getTracks() || []) tr.stop();
  testStream = null;
}
$('#wait-test').addEventListener('click', openTest);
$('#test-start').addEventListener('click', async () => {
  stopTest();
  try {
    testStream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { facingMode: 'user' } });
    $('#test-video').srcObject = testStream;
    stampLang($('#test-cam')).textContent = t('c.test.ok');
    const ctx = new AudioContext();
    const an = ctx.createAnalyser();
    an.fftSize = 512;
    ctx.createMediaStreamSource(testStream).connect(an);
    const buf = new Uint8Array(an.fftSize);
    testTimer = setInterval(() => {
      an.getByteTimeDomainData(buf);
      let peak = 0;
      for (const v of buf) peak = Math.max(peak, Math.abs(v - 128));
      const pct = Math.min(100, Math.round((peak / 128) * 200));
      $('#test-meter').setAttribute('aria-valuenow', String(pct));
      $('#test-meter span').style.width = `${pct}%`;
    }, 150);
  } catch (e) {
    stampLang($('#test-cam')).textContent = t('c.test.fail', { e: e.name || e.message });
  }
  // network: a few round trips to the server
  const times = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    try {
      await fetch('/healthz', { cache: 'no-store' });
      times.push(performance.now() - t0);
    } catch {
      /* counted as missing */
    }
  }
  stampLang($('#test-net'));
  if (!times.length) $('#test-net').textContent = t('err.network');
  else {
    const ms = Math.round(Math.min(...times));
    const q = t(ms < 150 ? 'call.quality.good' : ms < 400 ? 'call.quality.fair' : 'call.quality.poor');
    $('#test-net').textContent = t('c.test.netResult', { ms, q });
  }
});

// ---------- start ----------
bootPage({
  api,
  showLogin,
  onLangChange: () => {
    if (document.body.dataset.currentView === 'home') renderHome();
    else if (document.body.dataset.currentView === 'book') {
      showExpiry();
      loadSlots();
    }
  },
});
initHearing({ api, state, goHome });

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
