// Words: every string has its English; the keys shared with the H5 citizen page carry the same
// text there; the en switch and 关怀模式 (large text: WeChat's own font size, or the switch).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { lib, mockWx, loadPage, settle, text, tap, BRIGADES, SIGNED_IN } = require('./helpers');

const { STRINGS } = lib('strings');
const WEB = path.join(__dirname, '..', '..', 'web');

/** The `'key': ['中文', 'English']` rows of an H5 string table. */
function h5Table(file) {
  const src = fs.readFileSync(path.join(WEB, file), 'utf8');
  const out = {};
  const row = /^\s*'([\w.]+)':\s*\['((?:[^'\\]|\\.)*)',\s*'((?:[^'\\]|\\.)*)'\],?\s*$/gm;
  for (const m of src.matchAll(row)) out[m[1]] = [m[2], m[3]];
  return out;
}

test('i18n: every string has Chinese and English', () => {
  for (const [key, [zh, en]] of Object.entries(STRINGS)) {
    assert.ok(zh && en, `${key} lacks a language`);
  }
});

test('i18n: keys shared with the H5 citizen page read the same there', () => {
  const h5 = { ...h5Table('shared/i18n.js'), ...h5Table('shared/api.js'), ...h5Table('citizen/strings.js') };
  assert.ok(Object.keys(h5).length > 200, 'the H5 tables were read');
  const shared = Object.keys(STRINGS).filter((k) => k in h5);
  assert.ok(shared.length > 100, `only ${shared.length} keys shared`);
  for (const k of shared) assert.deepEqual(STRINGS[k], h5[k], k);
  const own = Object.keys(STRINGS).filter((k) => !(k in h5));
  for (const k of own) assert.match(k, /^(mp\.|err\.wx_)/, `${k}: a mini-program-only key is named mp.*`);
});

async function home(env) {
  env.server.on('GET bookings', { data: [] }).on('GET brigades', { data: BRIGADES });
  const page = loadPage('home');
  await page.instance.onShow();
  await settle();
  return page;
}

test('i18n: the language switch shows English and is remembered', async () => {
  const env = mockWx({ storage: SIGNED_IN });
  const page = await home(env);
  assert.equal(text(page, '#no-booking'), '您目前没有有效预约。');
  await tap(page, '#lang');
  assert.equal(text(page, '#no-booking'), 'You have no active booking.');
  assert.equal(text(page, '#lang'), '中文');
  assert.equal(env.storage.get('rh.lang'), 'en');
  assert.equal(env.titles.at(-1), 'Remote hearing');
});

test('care: WeChat large text turns the large-text class on; the switch overrides and is remembered', async () => {
  const env = mockWx({ storage: SIGNED_IN, fontSizeSetting: 22 });
  const page = await home(env);
  const root = () => page.dom.firstElementChild.className;
  assert.match(root(), /care/);
  await tap(page, '#care');
  assert.doesNotMatch(root(), /care/);
  assert.equal(env.storage.get('rh.care'), 'off');
  const env2 = mockWx({ storage: SIGNED_IN });
  const page2 = await home(env2);
  assert.doesNotMatch(page2.dom.firstElementChild.className, /care/);
  await tap(page2, '#care');
  assert.match(page2.dom.firstElementChild.className, /care/);
  assert.equal(text(page2, '#care'), '大字模式：开');
});

test('care: the large-text rules meet the elder-mode sizes (18 px text, 30 px headings, 60 px targets)', () => {
  const css = fs.readFileSync(path.join(__dirname, '..', 'src', 'app.wxss'), 'utf8');
  const rule = (sel) => (new RegExp(`^${sel.replace(/[.*]/g, '\\$&')}\\s*\\{([^}]*)\\}`, 'm').exec(css) || [])[1] || '';
  const px = (decl, prop) => Number((new RegExp(`${prop}:\\s*(\\d+)px`).exec(decl) || [])[1]);
  assert.ok(px(rule('.care'), 'font-size') >= 18);
  assert.ok(px(rule('.care .small'), 'font-size') >= 18);
  assert.ok(px(rule('.care .h'), 'font-size') >= 30);
  const target = rule('.care button, .care .slot, .care .field input');
  assert.ok(px(target, 'min-height') >= 60 && px(target, 'min-width') >= 60);
});
