// An officer who enrolled an authenticator app signs in on the officer page: the password alone
// brings up the one-time-code field (the server answers totp_required), and the code this test
// computes (RFC 6238, SHA-1, 6 digits, 30 s, with node's own HMAC) signs in.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { world, api } from '../lib/journey.mjs';

/** RFC 4648 base32 (no padding) to bytes. */
function base32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const out = [];
  let acc = 0;
  let bits = 0;
  for (const ch of text.replace(/=+$/, '')) {
    acc = (acc << 5) | alphabet.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 0xff);
      acc &= (1 << bits) - 1;
    }
  }
  return Buffer.from(out);
}

/** The 6-digit code of `secret` (base32) at unix second `t`. */
function totp(secret, t) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(t / 30)));
  const h = createHmac('sha1', base32(secret)).update(counter).digest();
  const off = h[19] & 0x0f;
  const v = (h.readUInt32BE(off) & 0x7fffffff) % 1_000_000;
  return String(v).padStart(6, '0');
}

const json = (token, body) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
  body: JSON.stringify(body),
});

describe('officer sign-in with a one-time code', { concurrency: 1 }, () => {
  it('the code field appears on totp_required and the computed code signs in', { timeout: 180_000 }, async () => {
    const w = await world();
    try {
      const { badge, password } = w.officer;
      const login = await api(w.server, '/api/v1/auth/officer', json(null, { badge, password }));
      assert.equal(login.status, 200, JSON.stringify(login.body));
      const token = login.body.token;
      const enrol = await api(w.server, '/api/v1/auth/totp/enroll', json(token, {}));
      assert.equal(enrol.status, 200, JSON.stringify(enrol.body));
      const { secret } = enrol.body;
      const confirm = await api(w.server, '/api/v1/auth/totp/confirm', json(token, { code: totp(secret, Date.now() / 1000) }));
      assert.equal(confirm.status, 200, JSON.stringify(confirm.body));

      const o = w.officerPage;
      await o.goto('/officer/');
      await o.waitForSelector('[data-view=login]:not([hidden])');
      assert.equal(await o.isHidden('#login-totp-row'), true);
      await o.fill('#login-badge', badge);
      await o.fill('#login-password', password);
      await o.click('#login-form button[type=submit]');
      await o.waitForSelector('#login-totp-row:not([hidden])');
      assert.match(await o.textContent('#login-err'), /动态验证码/);
      // The confirming code's time step is spent: the app's next code (one step of skew is allowed).
      await o.fill('#login-totp', totp(secret, Date.now() / 1000 + 30));
      await o.click('#login-form button[type=submit]');
      await o.waitForSelector('[data-view=dash]:not([hidden])');
      assert.equal(await o.isHidden('#login-totp-row'), true);
    } finally {
      await w.close();
    }
  });
});
