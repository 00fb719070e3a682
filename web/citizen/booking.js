// The citizen's booking as four short steps (issue 21): 选大队 → 选日期时段 → 填案件 → 确认, with a
// numbered step bar and one full-width primary action per step. Owns the step navigation, the
// date list (each day of the bookable range with why it cannot be booked: today for a normal
// booking, past, closed, full, a day the citizen cancelled at this brigade, after an urgent
// expiry), the slot list (refreshed after `slot_full`), the remembered brigade, the summary and
// the submit. The case from the record is ./records.js.
import { t, fmtTime, setData, dataLang, setZone, getZone, getLang } from '/shared/i18n.js';
import { $, $$, h, showView, busy, showError, announce, todayIn } from '/shared/ui.js';
import { loadRecords, inRecordsMode, pickedRecords } from './records.js';

const LAST_BRIGADE = 'rh.citizen.brigade';
// Refusals that are about the date or the slot: the citizen chooses again in step 2.
const SLOT_ERRORS = new Set(['slot_full', 'slot_in_past', 'same_day_not_allowed', 'too_far_ahead', 'brigade_closed', 'rebook_after_cancel', 'after_deadline']);
const URGENT_ERRORS = new Set(['not_urgent_eligible']);

let ctx = null; // {api, state, goHome}
let step = 1;
// The slots of the brigade's bookable range, by local date: {date: [slot]}.
let days = new Map();
let daysFor = '';

export function initBooking(c) {
  ctx = c;
  $('#book-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (step < 4) next();
    else submit();
  });
  $('#bk-prev').addEventListener('click', () => {
    showError($('#book-err'), null);
    go(step - 1);
  });
  $('#bk-add').addEventListener('click', () => {
    const row = violationRow();
    $('#bk-violations').append(row);
    row.querySelector('input').focus();
  });
  $('#bk-brigade').addEventListener('change', () => {
    $('#bk-brigade-last').hidden = true;
    syncBrigade();
  });
  $('#bk-urgent').addEventListener('change', () => {
    $('#bk-urgent-box').hidden = !$('#bk-urgent').checked;
    showExpiry();
  });
  $('#bk-regdate').addEventListener('input', showExpiry);
  for (const r of $$('input[name=kind]')) r.addEventListener('change', showExpiry);
}

/** Opens the booking at step 1 (the last brigade chosen again). */
export async function openBooking() {
  showView('book');
  await loadRecords(ctx.api);
  if (!$('#bk-violations').children.length) $('#bk-violations').append(violationRow());
  // The phone is the one signed in with (SMS login): asked only when the page knows none.
  $('#bk-phone-box').hidden = !!(ctx.state.me?.phone_masked || ctx.state.me?.phone_bound);
  await busy(null, $('#book-err'), async () => {
    if (!ctx.state.brigades.length) ctx.state.brigades = (await ctx.api.get('brigades')) || [];
  });
  const sel = $('#bk-brigade');
  const chosen = sel.value;
  sel.replaceChildren(...ctx.state.brigades.map((b) => h('option', { value: b.id, lang: dataLang(b.name) }, b.name)));
  const last = localStorage.getItem(LAST_BRIGADE);
  const remembered = !chosen && last && ctx.state.brigades.some((b) => b.id === last);
  if (chosen) sel.value = chosen;
  else if (remembered) sel.value = last;
  $('#bk-brigade-last').hidden = !remembered;
  syncBrigade();
  go(1, { focus: false });
}

/** Redraws what was drawn from data after the zh/en switch (the selection stays). */
export function relabelBooking() {
  $('#bk-next').textContent = t(`c.book.next${step}`);
  showExpiry();
  renderDates();
  renderSlots();
  if (step === 4) renderSummary();
}

function syncBrigade() {
  const br = brigade();
  setZone(br?.timezone);
  setData($('#bk-brigade-addr'), br?.address || '');
  daysFor = '';
}

const brigade = () => ctx.state.brigades.find((b) => b.id === $('#bk-brigade').value);
const urgent = () => $('#bk-urgent').checked;
const chosenDate = () => $('input[name=bkdate]:checked')?.value || '';
const chosenSlot = () => $('input[name=slot]:checked')?.value || '';

// ---------- steps ----------
function go(n, { focus = true } = {}) {
  step = Math.min(4, Math.max(1, n));
  for (const el of $$('#book-form .bk-step')) el.hidden = Number(el.dataset.step) !== step;
  for (const li of $$('#bk-progress li')) {
    const k = Number(li.dataset.step);
    li.dataset.done = String(k < step);
    li.dataset.current = String(k === step);
    if (k === step) li.setAttribute('aria-current', 'step');
    else li.removeAttribute('aria-current');
  }
  $('#bk-next').hidden = step === 4;
  $('#bk-submit').hidden = step !== 4;
  $('#bk-prev').hidden = step === 1;
  $('[data-view=book] [data-back]').hidden = step !== 1;
  $('#bk-next').textContent = t(`c.book.next${step}`);
  $('#bk-next').dataset.step = String(step);
  if (step === 2) loadDays();
  if (step === 4) renderSummary();
  if (focus) {
    window.scrollTo(0, 0);
    // The step's first field that is shown (step 2's days arrive later: its list then).
    const el = $(`#book-form .bk-step[data-step="${step}"]`);
    const first = $$('input:not([type=hidden]):not(:disabled), select, h2', el).find((x) => x.offsetParent !== null) || el.querySelector('fieldset');
    if (first && !first.matches('input, select, textarea, button')) first.setAttribute('tabindex', '-1');
    first?.focus({ preventScroll: true });
  }
}

/** Checks the current step; moves on when it holds, else says what is missing and focuses it. */
function next() {
  showError($('#book-err'), null);
  const fail = (key, el) => {
    showError($('#book-err'), t(key));
    // Above the action bar kept at the bottom of the screen, not under it.
    el?.focus({ preventScroll: true });
    el?.scrollIntoView({ block: 'center' });
  };
  if (step === 1) {
    if (!$('#bk-brigade').value) return fail('c.book.pickBrigade', $('#bk-brigade'));
    if (urgent() && !inRecordsMode() && !$('#bk-regdate').value) return fail('c.book.needRegDate', $('#bk-regdate'));
    if (urgent() && inRecordsMode() && $('#bk-kind-l').checked && !$('#bk-licence-no').value.trim()) return fail('c.book.needLicenceNo', $('#bk-licence-no'));
    localStorage.setItem(LAST_BRIGADE, $('#bk-brigade').value);
  } else if (step === 2) {
    if (!chosenSlot()) return fail('c.book.pickSlot', $('#bk-slots input:not(:disabled)') || $('#bk-dates input:not(:disabled)'));
  } else if (step === 3) {
    if (!$('#bk-phone-box').hidden && !$('#bk-phone').value.trim()) return fail('c.book.needPhone', $('#bk-phone'));
    if (!$('#bk-plate').value.trim()) return fail('c.book.needPlate', $('#bk-plate'));
    if (inRecordsMode()) {
      if (!pickedRecords().length) return fail('c.book.pickOne', $('#bk-record-list input:not(:disabled)'));
    } else {
      const empty = $$('#bk-manual input[required]').find((i) => !i.value.trim());
      if (empty) return fail('c.book.needViolation', empty);
    }
  }
  go(step + 1);
}

// ---------- step 2: the days and their slots ----------
/** The slots of the brigade from today to today + 7, grouped by its local date (once per brigade). */
async function loadDays({ force = false } = {}) {
  const br = $('#bk-brigade').value;
  if (!br) return;
  const key = `${br}:${todayIn(getZone())}`;
  if (!force && daysFor === key) {
    renderDates();
    return renderSlots();
  }
  $('#bk-dates').replaceChildren(h('p', { class: 'muted loading' }, t('common.loading')));
  $('#bk-slots').replaceChildren();
  await busy(null, $('#book-err'), async () => {
    const from = todayIn(getZone());
    const to = todayIn(getZone(), 7);
    const slots = (await ctx.api.get(`brigades/${encodeURIComponent(br)}/slots?from=${from}&to=${to}`)) || [];
    days = new Map();
    for (const s of slots) {
      const d = localDate(s.start);
      if (!days.has(d)) days.set(d, []);
      days.get(d).push(s);
    }
    daysFor = key;
  });
  renderDates();
  renderSlots();
}

/** YYYY-MM-DD of `iso` in the brigade's zone. */
function localDate(iso) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: getZone(), year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(iso));
}

/** The dates of the citizen's own cancelled bookings at this brigade (the server refuses a rebooking). */
function cancelledDates() {
  const br = $('#bk-brigade').value;
  return new Set(ctx.state.bookings.filter((b) => b.status === 'cancelled' && b.brigade_id === br).map((b) => localDate(b.slot_start)));
}

/** The urgent expiry the citizen typed (typed mode), if any: no day after it can be booked. */
function urgentExpiry() {
  if (!urgent() || inRecordsMode() || !$('#bk-regdate').value) return null;
  return nextAnniversary($('#bk-regdate').value, todayIn(getZone()));
}

/** Why `date` cannot be booked (a string key), or null; `free` is the number of seats left. */
function dayState(date) {
  const today = todayIn(getZone());
  const slots = days.get(date) || [];
  const now = Date.now();
  const future = slots.filter((s) => new Date(s.start).getTime() > now);
  const free = future.reduce((n, s) => n + Math.max(0, s.remaining), 0);
  let why = null;
  if (date === today && !urgent()) why = 'today';
  else if (cancelledDates().has(date)) why = 'cancelled';
  else if (!slots.length) why = 'closed';
  else if (!future.length) why = 'past';
  else if (!free) why = 'full';
  else if (urgentExpiry() && date > urgentExpiry()) why = 'afterExpiry';
  return { why, free };
}

function renderDates() {
  if (!daysFor) return;
  const today = todayIn(getZone());
  const prev = chosenDate();
  const dates = Array.from({ length: 8 }, (_, i) => todayIn(getZone(), i));
  const states = dates.map((d) => [d, dayState(d)]);
  const pick = states.find(([d, s]) => d === prev && !s.why)?.[0] || states.find(([, s]) => !s.why)?.[0] || '';
  const fmt = new Intl.DateTimeFormat(getLang() === 'zh' ? 'zh-CN' : 'en-GB', { timeZone: 'UTC', month: 'numeric', day: 'numeric', weekday: 'short' });
  $('#bk-dates').replaceChildren(
    ...states.map(([d, s], i) => {
      const id = `bk-date-${i}`;
      const label = fmt.format(new Date(`${d}T12:00:00Z`));
      return h(
        'div',
        { class: 'slot day', dataset: { date: d, state: s.why || 'open' } },
        h('input', { type: 'radio', name: 'bkdate', id, value: d, disabled: !!s.why, checked: d === pick, 'aria-describedby': `${id}-d`, onchange: () => renderSlots() }),
        h('label', { for: id }, d === today ? `${label} · ${t('c.book.today')}` : label, h('span', { class: 'hint', id: `${id}-d` }, s.why ? t(`c.book.day.${s.why}`) : t('c.book.dayFree', { n: s.free }))),
      );
    }),
  );
}

function renderSlots() {
  const box = $('#bk-slots');
  if (!daysFor) return box.replaceChildren();
  const date = chosenDate();
  if (!date) return box.replaceChildren(h('p', { class: 'muted' }, t('c.book.noDay')));
  const prev = chosenSlot();
  const now = Date.now();
  const all = days.get(date) || [];
  // Today's slots that are over are one line, not a long list of disabled buttons.
  const over = all.filter((s) => new Date(s.start).getTime() <= now);
  const pastNote = over.length > 2
    ? h('p', { class: 'hint slots-over', style: 'grid-column:1/-1' }, t('c.book.slotsOver', { from: fmtTime(over[0].start, { date: false }), to: fmtTime(over[over.length - 1].end, { date: false }) }))
    : null;
  const items = (pastNote ? all.filter((s) => !over.includes(s)) : all).map((s, i) => {
    const full = s.remaining <= 0;
    const past = new Date(s.start).getTime() <= now;
    const id = `slot-${i}`;
    return h(
      'div',
      { class: 'slot', dataset: { state: past ? 'past' : full ? 'full' : 'open' } },
      h('input', { type: 'radio', name: 'slot', id, value: s.start, disabled: full || past, checked: s.start === prev && !full && !past }),
      h(
        'label',
        { for: id },
        `${fmtTime(s.start, { date: false })} – ${fmtTime(s.end, { date: false })}`,
        h('span', { class: 'hint' }, past ? t('c.book.slotPast') : full ? t('c.book.full') : t('c.book.remaining', { n: s.remaining, c: s.capacity })),
      ),
    );
  });
  box.replaceChildren(...(pastNote ? [pastNote] : []), ...(items.length ? items : [h('p', { class: 'muted' }, t('c.book.noSlots'))]));
}

// ---------- step 3: typed violations ----------
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

// ---------- step 1: the urgent rule ----------
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
  const today = todayIn(getZone());
  const exp = nextAnniversary(reg, today);
  if (!exp) return (out.textContent = '');
  const n = Math.round((Date.parse(exp) - Date.parse(today)) / 86400000);
  const ok = n <= 3;
  out.textContent = `${t('c.book.expiry', { d: exp, n })} ${ok ? t('c.book.expiryOk') : t('c.book.expiryNo')}`;
  out.className = ok ? 'small banner banner-ok' : 'small alert';
}

// ---------- step 4: the summary and the submit ----------
function caseFacts() {
  if (inRecordsMode()) {
    return $$('#bk-record-list input[name=record]:checked').map((i) => i.closest('.record')?.querySelector('label')?.textContent || i.value);
  }
  return $$('#bk-violations .violation').map((r) => `${r.querySelector('.v-no').value.trim()} · ${t('c.book.recordMoney', { f: r.querySelector('.v-fine').value, p: r.querySelector('.v-pts').value })}`);
}

function renderSummary() {
  const br = brigade();
  const slot = (days.get(chosenDate()) || []).find((s) => s.start === chosenSlot());
  const phone = ctx.state.me?.phone_masked || $('#bk-phone').value.trim();
  const row = (key, ...v) => [h('dt', {}, t(key)), h('dd', {}, ...v)];
  $('#bk-summary').replaceChildren(
    h(
      'dl',
      { class: 'booking', id: 'bk-summary-list' },
      row('c.bk.brigade', h('span', { lang: dataLang(br?.name) }, br?.name || ''), br?.address ? [h('br'), h('span', { class: 'small muted', lang: dataLang(br.address) }, br.address)] : null),
      row('c.bk.time', slot ? `${fmtTime(slot.start)} – ${fmtTime(slot.end, { date: false })}` : '', urgent() ? [' ', h('span', { class: 'pill', 'data-status': 'in_hearing' }, t('c.bk.urgentTag'))] : null),
      row('c.bk.plate', h('span', { lang: dataLang($('#bk-plate').value) }, $('#bk-plate').value.trim().toUpperCase()), $('#bk-owner').checked ? ` · ${t('c.book.ownerShort')}` : ''),
      row('c.bk.records', h('ul', { class: 'plain' }, ...caseFacts().map((x) => h('li', { lang: dataLang(x) }, x)))),
      phone ? row('c.bk.phone', phone, h('span', { class: 'hint' }, t('c.book.phoneUse'))) : null,
    ),
  );
}

async function submit() {
  const body = {
    brigade_id: $('#bk-brigade').value,
    slot_start: chosenSlot(),
    plate: $('#bk-plate').value.trim().toUpperCase(),
    owner: $('#bk-owner').checked,
  };
  if (!$('#bk-phone-box').hidden && $('#bk-phone').value.trim()) body.phone = $('#bk-phone').value.trim();
  const kind = $('input[name=kind]:checked').value;
  if (inRecordsMode()) {
    body.record_nos = pickedRecords();
    if (urgent()) body.urgent = kind === 'licence' ? { kind, licence_file_no: $('#bk-licence-no').value.trim() } : { kind };
  } else {
    body.violations = $$('#bk-violations .violation').map((r) => ({
      record_no: r.querySelector('.v-no').value.trim(),
      fine_yuan: Number(r.querySelector('.v-fine').value),
      points: Number(r.querySelector('.v-pts').value),
    }));
    body.unhandled_count = Number($('#bk-unhandled').value);
    body.current_points = Number($('#bk-points').value);
    if (urgent()) body.urgent = { kind, registration_date: $('#bk-regdate').value };
  }
  let refused = null;
  await busy($('#bk-submit'), $('#book-err'), async () => {
    try {
      await ctx.api.post('bookings', body);
    } catch (e) {
      refused = e;
      throw e;
    }
    localStorage.setItem(LAST_BRIGADE, body.brigade_id);
    announce(t('c.book.done'));
    await ctx.goHome();
  });
  if (!refused) return;
  // Back to the step where the citizen can fix it, with the error kept in view.
  const code = refused.code;
  const field = refused.field || '';
  const back = SLOT_ERRORS.has(code) || field === 'slot_start' ? 2 : URGENT_ERRORS.has(code) || field.startsWith('urgent') ? 1 : field === 'phone' || field === 'plate' || field.startsWith('violations') || code === 'ineligible_case' || code === 'vehicle_driver_limit' ? 3 : 4;
  if (back === 4) return;
  go(back, { focus: false });
  showError($('#book-err'), refused);
  if (back === 2) {
    // The slot list as it is now (a `slot_full` seat went to someone else).
    await loadDays({ force: true });
    showError($('#book-err'), refused);
  }
  $('#book-err').scrollIntoView({ block: 'nearest' });
}
