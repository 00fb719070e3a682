// Login and phone binding on the home page: wx.login → POST /auth/citizen {wx_code} → the
// session in storage, sent as a bearer header; the getPhoneNumber button → POST
// /auth/citizen/phone {phone_code}; refusals in plain words.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { mockWx, loadPage, settle, text, BRIGADES, booking, SIGNED_IN } = require('./helpers');

const LOGIN = { data: { token: 'tok-1', citizen: { id: 'cz-1', phone_masked: null, phone_bound: false } } };

test('login: wx.login code goes to the server, the token is kept and sent as a bearer header', async () => {
  const env = mockWx();
  env.server.on('POST auth/citizen', LOGIN).on('GET bookings', { data: [booking()] }).on('GET brigades', { data: BRIGADES });
  const page = loadPage('home');
  await page.instance.onShow();
  await settle();
  const login = env.server.find('POST auth/citizen');
  assert.equal(login.length, 1);
  assert.deepEqual(login[0].body, { wx_code: 'wx-code-1' });
  assert.equal(login[0].header.Authorization, undefined);
  assert.equal(env.storage.get('rh.token.citizen'), 'tok-1');
  const list = env.server.find('GET bookings')[0];
  assert.equal(list.header.Authorization, 'Bearer tok-1');
  assert.equal(text(page, '#active-brigade'), '朝阳交警大队');
  assert.equal(text(page, '#active-time'), '2026-12-07 09:00 – 09:30');
  assert.equal(text(page, '#active-status'), '已预约');
  assert.ok(page.querySelector('#bind-phone'), 'the phone binding button shows while no phone is bound');
});

test('login: a stored session is reused; a 401 signs in again once with a new code', async () => {
  const env = mockWx({ storage: SIGNED_IN });
  let first = true;
  env.server
    .on('GET bookings', () => (first ? ((first = false), { status: 401, data: { error: { code: 'unauthorized', message: 'expired' } } }) : { data: [] }))
    .on('GET brigades', { data: BRIGADES })
    .on('POST auth/citizen', { data: { token: 'tok-2', citizen: SIGNED_IN['rh.citizen'] } });
  const page = loadPage('home');
  await page.instance.onShow();
  await settle();
  assert.equal(env.logins, 1);
  assert.equal(env.storage.get('rh.token.citizen'), 'tok-2');
  const calls = env.server.find('GET bookings');
  assert.equal(calls.length, 2);
  assert.equal(calls[0].header.Authorization, 'Bearer session-token-abc');
  assert.equal(calls[1].header.Authorization, 'Bearer tok-2');
  assert.equal(text(page, '#no-booking'), '您目前没有有效预约。');
  assert.ok(page.querySelector('#phone-bound'));
});

test('login: a refused wx code is shown in plain words, with a retry', async () => {
  const env = mockWx();
  env.server.on('POST auth/citizen', { status: 422, data: { error: { code: 'wx_code_invalid', message: 'invalid code' } } });
  const page = loadPage('home');
  await page.instance.onShow();
  await settle();
  assert.match(text(page, '#error'), /微信登录凭证无效或已使用/);
  assert.equal(env.storage.has('rh.token.citizen'), false);
  env.server.on('POST auth/citizen', LOGIN).on('GET bookings', { data: [] }).on('GET brigades', { data: BRIGADES });
  await page.instance.onRetry();
  await settle();
  assert.equal(text(page, '#error'), '');
  assert.deepEqual(env.server.find('POST auth/citizen')[1].body, { wx_code: 'wx-code-2' });
});

test('binding: the getPhoneNumber code goes to the phone route and the page shows the bound phone', async () => {
  const env = mockWx();
  env.server
    .on('POST auth/citizen', LOGIN)
    .on('GET bookings', { data: [] })
    .on('GET brigades', { data: BRIGADES })
    .on('POST auth/citizen/phone', { data: { phone_masked: '139****0001', phone_bound: true } });
  const page = loadPage('home');
  await page.instance.onShow();
  await settle();
  page.querySelector('#bind-phone').dispatchEvent('getphonenumber', { detail: { code: 'phone-code-9', errMsg: 'getPhoneNumber:ok' } });
  await settle();
  const bind = env.server.find('POST auth/citizen/phone');
  assert.equal(bind.length, 1);
  assert.deepEqual(bind[0].body, { phone_code: 'phone-code-9' });
  assert.equal(bind[0].header.Authorization, 'Bearer tok-1');
  assert.equal(text(page, '#phone-bound'), '已绑定手机：139****0001');
  assert.equal(page.querySelector('#bind-phone'), undefined);
  assert.equal(env.storage.get('rh.citizen').phone_bound, true);
  assert.deepEqual(env.toasts, ['手机号已绑定']);
});

test('binding: a refused authorisation sends nothing; a phone bound elsewhere is refused in words', async () => {
  const env = mockWx();
  env.server
    .on('POST auth/citizen', LOGIN)
    .on('GET bookings', { data: [] })
    .on('GET brigades', { data: BRIGADES })
    .on('POST auth/citizen/phone', { status: 409, data: { error: { code: 'phone_in_use', message: 'bound to another' } } });
  const page = loadPage('home');
  await page.instance.onShow();
  await settle();
  page.querySelector('#bind-phone').dispatchEvent('getphonenumber', { detail: { errMsg: 'getPhoneNumber:fail user deny' } });
  await settle();
  assert.equal(env.server.find('POST auth/citizen/phone').length, 0);
  assert.equal(text(page, '#error'), '您未授权手机号，暂不能预约。');
  page.querySelector('#bind-phone').dispatchEvent('getphonenumber', { detail: { code: 'pc', errMsg: 'getPhoneNumber:ok' } });
  await settle();
  assert.equal(text(page, '#error'), '该手机号已绑定其他用户。');
  assert.equal(env.storage.get('rh.citizen').phone_bound, false);
});
