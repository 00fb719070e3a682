// Every string key the pages use exists in Chinese and English, and every error code of API.md
// has its own plain-words message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { importWeb, webRoot } from '../lib/webmodule.mjs';

// The modules touch localStorage only when called; give node a stand-in.
globalThis.localStorage ??= { getItem: () => null, setItem() {}, removeItem() {} };

const i18n = await importWeb('shared/i18n.js');
await importWeb('shared/api.js');
await importWeb('shared/steps.js');
await importWeb('shared/chat.js');
await importWeb('shared/photos.js');
await importWeb('shared/fielderr.js');
await importWeb('shared/totp.js');
await importWeb('shared/selftest.js');
for (const page of ['citizen', 'officer', 'auditor', 'verify', 'admin']) await importWeb(`${page}/strings.js`);

function files(dir, ext) {
  return readdirSync(join(webRoot, dir)).filter((f) => f.endsWith(ext)).map((f) => join(webRoot, dir, f));
}

test('every key used by the pages has a Chinese and an English text', () => {
  const missing = [];
  const all = ['shared', 'citizen', 'officer', 'auditor', 'verify', 'admin'].flatMap((d) => [...files(d, '.js'), ...files(d, '.html')]);
  for (const f of all) {
    const src = readFileSync(f, 'utf8');
    const keys = [
      ...[...src.matchAll(/\bt\('([a-z]\w*\.[\w.]*\w)'/g)].map((m) => m[1]),
      ...[...src.matchAll(/data-i18n="([\w.]+)"/g)].map((m) => m[1]),
      ...[...src.matchAll(/data-i18n-attr="[\w-]+:([\w.]+)"/g)].map((m) => m[1]),
      ...[...src.matchAll(/'data-i18n': '([\w.]+)'/g)].map((m) => m[1]),
    ];
    for (const k of keys) if (!i18n.has(k)) missing.push(`${f.slice(webRoot.length)}: ${k}`);
  }
  assert.deepEqual(missing, []);
});

test('every error code of API.md has its own message', () => {
  const codes = `slot_full same_day_not_allowed too_far_ahead slot_in_past brigade_closed active_booking_exists
    blacklisted rebook_after_cancel vehicle_driver_limit not_urgent_eligible ineligible_case
    phone_binding_immutable invalid_state ruling_exceeds_notice code_invalid code_attempts_exceeded
    sms_throttled record_already_booked plate_mismatch`.split(/\s+/);
  const missing = codes.filter((c) => !i18n.has(`err.${c}`));
  assert.deepEqual(missing, []);
  for (const c of codes) assert.notEqual(i18n.t(`err.${c}`), `err.${c}`);
});

test('no string key is defined twice (a later table would silently replace the earlier text)', () => {
  const seen = new Map();
  const twice = [];
  const all = ['shared', 'citizen', 'officer', 'auditor', 'verify', 'admin'].flatMap((d) => files(d, '.js'));
  for (const f of all) {
    const src = readFileSync(f, 'utf8');
    for (const m of src.matchAll(/^\s*'([a-z]\w*\.[\w.]*\w)': \[/gm)) {
      const where = `${f.slice(webRoot.length)}`;
      if (seen.has(m[1])) twice.push(`${m[1]}: ${seen.get(m[1])} and ${where}`);
      else seen.set(m[1], where);
    }
  }
  assert.ok(seen.size > 100, `found the string tables (${seen.size} keys)`);
  assert.deepEqual(twice, []);
});
