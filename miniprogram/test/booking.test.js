// The booking page and my bookings: brigade, day, slot and case → POST /bookings with the body
// the API expects; the server's refusals in plain words; the urgent expiry; cancelling.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { lib, mockWx, loadPage, settle, text, tap, BRIGADES, booking, SIGNED_IN } = require('./helpers');

const { todayIn } = lib('format');
const tomorrow = () => todayIn('Asia/Shanghai', 1);
const slots = (day) => [
  { start: `${day}T09:00:00+08:00`, end: `${day}T09:30:00+08:00`, capacity: 2, remaining: 0 },
  { start: `${day}T09:30:00+08:00`, end: `${day}T10:00:00+08:00`, capacity: 2, remaining: 1 },
];

async function input(page, sel, value) {
  page.querySelector(sel).dispatchEvent('input', { detail: { value } });
  await settle(2);
}

async function openBooking(env) {
  env.server.on('GET brigades', { data: BRIGADES }).on('GET brigades/br-1/slots', (req) => {
    const day = /from=(\d{4}-\d\d-\d\d)/.exec(req.path)[1];
    return { data: slots(day) };
  });
  const page = loadPage('book');
  await page.instance.onLoad({});
  await settle();
  return page;
}

async function fillCase(page) {
  await tap(page, page.querySelectorAll('.slot')[1]);
  await input(page, '#bk-plate', '京a12345');
  await input(page, '.v-no', 'R-2026-001');
  await input(page, '.v-fine', '100');
  await input(page, '.v-pts', '3');
}

test('booking: tomorrow is the first day, full slots cannot be chosen, the body is what the API expects', async () => {
  const env = mockWx({ storage: SIGNED_IN });
  const page = await openBooking(env);
  assert.equal(page.data.date, tomorrow());
  assert.equal(page.data.dateMax, todayIn('Asia/Shanghai', 7));
  assert.equal(env.server.find('GET brigades/br-1/slots').length, 0, 'matched by the query-less route');
  assert.equal(env.server.calls.filter((c) => c.path === `brigades/br-1/slots?from=${tomorrow()}&to=${tomorrow()}`).length, 1);
  const rows = page.querySelectorAll('.slot');
  assert.equal(rows.length, 2);
  assert.match(rows[0].dom.textContent, /已约满/);
  await tap(page, page.querySelectorAll('.slot')[0]);
  assert.equal(page.data.slotStart, '', 'a full slot is not chosen');
  await fillCase(page);
  await tap(page, '#bk-add');
  page.querySelectorAll('.v-no')[1].dispatchEvent('input', { detail: { value: 'R-2026-002' } });
  page.querySelectorAll('.v-fine')[1].dispatchEvent('input', { detail: { value: '50' } });
  page.querySelectorAll('.v-pts')[1].dispatchEvent('input', { detail: { value: '0' } });
  await settle();
  env.server.on('POST bookings', { status: 201, data: booking() });
  await tap(page, '#bk-submit');
  const post = env.server.find('POST bookings');
  assert.equal(post.length, 1);
  assert.deepEqual(post[0].body, {
    brigade_id: 'br-1',
    slot_start: `${tomorrow()}T09:30:00+08:00`,
    plate: '京A12345',
    owner: false,
    violations: [
      { record_no: 'R-2026-001', fine_yuan: 100, points: 3 },
      { record_no: 'R-2026-002', fine_yuan: 50, points: 0 },
    ],
    unhandled_count: 2,
    current_points: 0,
  });
  assert.equal(post[0].header.Authorization, 'Bearer session-token-abc');
  assert.deepEqual(env.toasts, ['预约成功']);
  assert.deepEqual(env.navigations, ['back']);
  // The reminder's subscription was asked within the tap; refused, the server is not told.
  assert.deepEqual(env.subscribeAsked, [['TMPL-BOOKING-REMINDER']]);
  assert.equal(env.server.calls.filter((c) => c.path.endsWith('/wechat-reminder')).length, 0);
});

test('booking: nothing is sent without a slot or the case; a refusal is shown in plain words', async () => {
  const env = mockWx({ storage: SIGNED_IN });
  const page = await openBooking(env);
  await tap(page, '#bk-submit');
  assert.equal(text(page, '#book-err'), '请选择一个时段。');
  await tap(page, page.querySelectorAll('.slot')[1]);
  await tap(page, '#bk-submit');
  assert.equal(text(page, '#book-err'), '请完整填写号牌和违法记录。');
  assert.equal(env.server.find('POST bookings').length, 0);
  await fillCase(page);
  env.server.on('POST bookings', { status: 409, data: { error: { code: 'too_far_ahead', message: 'x', params: { days: 7 } } } });
  await tap(page, '#bk-submit');
  assert.equal(text(page, '#book-err'), '最多只能预约 7 天内的时段。');
  env.server.on('POST bookings', { status: 409, data: { error: { code: 'blacklisted', message: 'x' } } });
  await tap(page, '#bk-submit');
  assert.equal(text(page, '#book-err'), '本月爽约次数过多，预约服务暂停一个月。', 'a text whose params are missing falls back to its plain form');
  assert.deepEqual(env.navigations, []);
});

test('booking: without a bound phone the page asks for the getPhoneNumber binding first', async () => {
  const env = mockWx({ storage: { ...SIGNED_IN, 'rh.citizen': { id: 'cz-1', phone_masked: null, phone_bound: false } } });
  const page = await openBooking(env);
  await fillCase(page);
  await tap(page, '#bk-submit');
  assert.equal(text(page, '#book-err'), '请先绑定手机号。');
  env.server.on('POST auth/citizen/phone', { data: { phone_masked: '138****8000', phone_bound: true } });
  page.querySelector('#bind-phone').dispatchEvent('getphonenumber', { detail: { code: 'pc-1' } });
  await settle();
  assert.equal(page.querySelector('#bind-phone'), undefined);
  env.server.on('POST bookings', { status: 201, data: booking() });
  await tap(page, '#bk-submit');
  assert.equal(env.server.find('POST bookings').length, 1);
  assert.equal(env.server.find('POST bookings')[0].body.phone, undefined, 'the phone is never typed in or sent');
});

test('booking: an accepted reminder subscription is told to the server once the booking exists', async () => {
  const env = mockWx({ storage: SIGNED_IN, subscribeAnswer: 'accept' });
  const page = await openBooking(env);
  await fillCase(page);
  env.server.on('POST bookings', { status: 201, data: booking() });
  env.server.on('POST bookings/bk-1/wechat-reminder', { status: 204 });
  await tap(page, '#bk-submit');
  await settle();
  assert.deepEqual(env.subscribeAsked, [['TMPL-BOOKING-REMINDER']]);
  const order = env.server.calls.filter((c) => c.method === 'POST').map((c) => c.path);
  assert.deepEqual(order, ['bookings', 'bookings/bk-1/wechat-reminder']);
  assert.deepEqual(env.toasts, ['预约成功']);
  // A booking the server refused is never subscribed.
  const env2 = mockWx({ storage: SIGNED_IN, subscribeAnswer: 'accept' });
  const page2 = await openBooking(env2);
  await fillCase(page2);
  env2.server.on('POST bookings', { status: 409, data: { error: { code: 'blacklisted', message: 'x' } } });
  await tap(page2, '#bk-submit');
  assert.equal(env2.server.calls.filter((c) => c.path.endsWith('/wechat-reminder')).length, 0);
});

test('booking: urgent opens today, shows the expiry rule and sends the urgent part', async () => {
  const env = mockWx({ storage: SIGNED_IN });
  const page = await openBooking(env);
  page.querySelector('#bk-urgent').dispatchEvent('change', { detail: { value: true } });
  await settle();
  assert.equal(page.data.dateMin, todayIn('Asia/Shanghai', 0));
  const today = todayIn('Asia/Shanghai');
  const [y, m, d] = todayIn('Asia/Shanghai', 2).split('-');
  page.querySelector('#bk-regdate').dispatchEvent('change', { detail: { value: `${Number(y) - 3}-${m}-${d}` } });
  await settle();
  assert.match(text(page, '#bk-expiry'), /（2 天后）.*符合加急条件。/);
  page.querySelector('#bk-kind').dispatchEvent('change', { detail: { value: 'inspection' } });
  page.querySelector('#bk-date').dispatchEvent('change', { detail: { value: tomorrow() } });
  await settle();
  await fillCase(page);
  env.server.on('POST bookings', { status: 201, data: booking({ urgent: true }) });
  await tap(page, '#bk-submit');
  const body = env.server.find('POST bookings')[0].body;
  assert.deepEqual(body.urgent, { kind: 'inspection', registration_date: `${Number(y) - 3}-${m}-${d}` });
  assert.ok(today <= body.slot_start.slice(0, 10));
});

test('booking: the next anniversary follows the server (29 Feb → 28 Feb, none for a future date)', () => {
  const { nextAnniversary } = lib('booking');
  assert.equal(nextAnniversary('2020-02-29', '2027-02-27'), '2027-02-28');
  assert.equal(nextAnniversary('2020-02-29', '2028-02-27'), '2028-02-29');
  assert.equal(nextAnniversary('2024-12-03', '2026-12-04'), '2027-12-03');
  assert.equal(nextAnniversary('2027-01-01', '2026-12-04'), null);
});

test('my bookings: a booked one is cancelled after the confirmation; a refusal leaves it as it is', async () => {
  const env = mockWx({ storage: SIGNED_IN });
  let list = [booking(), booking({ id: 'bk-0', status: 'completed', created_at: '2026-11-01T08:00:00+08:00' })];
  env.server.on('GET brigades', { data: BRIGADES }).on('GET bookings', () => ({ data: list }));
  env.server.on('DELETE bookings/bk-1', () => {
    list = [{ ...list[0], status: 'cancelled' }, list[1]];
    return { data: list[0] };
  });
  const page = loadPage('bookings');
  await page.instance.onShow();
  await settle();
  assert.equal(page.querySelectorAll('.booking').length, 2);
  assert.equal(page.querySelectorAll('.cancel').length, 1, 'only a booked booking can be cancelled');
  env.modalAnswer = false;
  await tap(page, '.cancel');
  assert.equal(env.server.find('DELETE bookings/bk-1').length, 0);
  env.modalAnswer = true;
  await tap(page, '.cancel');
  assert.deepEqual(env.modals, ['确定取消该预约吗？取消后不能再预约同一大队当天的时段。', '确定取消该预约吗？取消后不能再预约同一大队当天的时段。']);
  assert.equal(env.server.find('DELETE bookings/bk-1').length, 1);
  assert.deepEqual(env.toasts, ['预约已取消']);
  assert.equal(page.querySelectorAll('.cancel').length, 0);
  assert.match(text(page, '.booking'), /已取消/);
});
