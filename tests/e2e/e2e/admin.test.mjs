// The administration page (/admin/, issue 15 §1) and the officer's TOTP enrolment (§2) in
// Chromium against the real server: an admin (made with the CLI, as the other tests make staff)
// signs in, creates a brigade (a malformed day of hours is refused next to the field with its
// code), closes a date, imports a holiday file (a bad line is reported on its line), creates an
// officer (a weak password and a taken badge are refused next to their fields with their codes)
// and gets the one-time password; the officer signs in with it, enrols an authenticator app on
// the dashboard (this test computes the codes, RFC 6238 with node's HMAC-SHA1; a wrong code is
// refused next to the field), signs out and in again with a code; the admin lists the officer's
// sessions and disables the account, and the officer's open page is sent back to the sign-in at
// its next API call (401). axe on each admin view in zh and en; screenshots at 1440×900 in zh.
// With TOTP required (`auth.totp_required`), an officer without it sees only the enrolment and
// reaches the dashboard once it is confirmed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startServer } from '../lib/server.mjs';
import { launch, desktopContext, shot, watch } from '../lib/browser.mjs';
import { axeViolations, describeViolations, SERIOUS, langOfParts } from '../lib/a11y.mjs';

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

/** The 6-digit code of `secret` (base32) at unix second `t` (RFC 6238: SHA-1, 30 s). */
function totp(secret, t) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(t / 30)));
  const h = createHmac('sha1', base32(secret)).update(counter).digest();
  const off = h[19] & 0x0f;
  return String((h.readUInt32BE(off) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

/** YYYY-MM-DD `days` from now (UTC is fine: the dates only need to be in the future). */
const dayAhead = (days) => new Date(Date.now() + days * 86400000).toISOString().slice(0, 10);

describe('administration pages', { concurrency: 1 }, () => {
  it('an admin creates a brigade and an officer; the officer enrols TOTP; disabling ends the open page', { timeout: 300_000 }, async (t) => {
    const server = await startServer({ log: !!process.env.E2E_LOG });
    const errors = [];
    let browser;
    const serious = [];
    /** axe and the language of parts on the page as it is, in zh and en; back to zh. */
    async function audit(page, name, enShot) {
      for (const lang of ['zh-CN', 'en']) {
        if ((await page.getAttribute('html', 'lang')) !== lang) {
          await page.click('#lang');
          await page.waitForSelector(`html[lang="${lang}"]`);
        }
        const bad = (await axeViolations(page)).filter((v) => SERIOUS.has(v.impact));
        if (bad.length) serious.push(`${name} (${lang}):\n${describeViolations(bad)}`);
        const parts = await langOfParts(page);
        if (parts.length) serious.push(`${name} (${lang}): Chinese text not marked lang="zh-CN":\n${parts.join('\n')}`);
        t.diagnostic(`${name} (${lang}): ${bad.length} serious, ${parts.length} unmarked`);
        if (lang === 'en' && enShot) await shot(page, enShot);
      }
      await page.click('#lang');
      await page.waitForSelector('html[lang="zh-CN"]');
    }
    try {
      const admin = { badge: `ADM${Date.now() % 1e6}`, password: 'admin-pass-long-1' };
      server.admin(['create-user', '--role', 'admin', '--badge', admin.badge, '--name', '测试管理员', '--password-stdin'], admin.password + '\n');
      browser = await launch();
      const a = await (await desktopContext(browser, server.url)).newPage();
      const o = await (await desktopContext(browser, server.url)).newPage();
      watch(a, 'admin', errors);
      watch(o, 'officer', errors);
      a.on('dialog', (d) => d.accept());

      // ---- sign-in ----
      await a.goto('/admin/');
      await a.waitForSelector('[data-view=login]:not([hidden])');
      await audit(a, 'admin login');
      await a.fill('#login-badge', admin.badge);
      await a.fill('#login-password', admin.password);
      await a.click('#login-form button[type=submit]');
      await a.waitForSelector('[data-view=brigades]:not([hidden])');
      // Cookie mode: no token the page's script could read or leak; only the CSRF cookie.
      assert.equal(await a.evaluate(() => localStorage.getItem('rh.token.staff')), null);
      const jar = await a.evaluate(() => document.cookie);
      assert.match(jar, /rh_c_staff=/);
      assert.doesNotMatch(jar, /rh_s_staff/, 'the session cookie is HttpOnly');
      const session = (await a.context().cookies()).find((c) => c.name === 'rh_s_staff');
      assert.ok(session?.httpOnly && session.sameSite === 'Strict', JSON.stringify(session));
      // A write without the CSRF header (what another site's form could send) is refused.
      const forged = await a.evaluate(async () => (await fetch('/api/v1/admin/retention/run', { method: 'POST', headers: { 'X-Session': 'staff' } })).status);
      assert.equal(forged, 403);
      assert.equal(await a.getAttribute('#tabs a[data-tab=brigades]', 'aria-current'), 'page');

      // ---- a brigade: a malformed day is refused at the hours, then it is created ----
      const name = `管理测试大队${Date.now() % 1e5}`;
      await a.click('#br-new');
      await a.fill('#bf-name', name);
      await a.fill('#bf-address', '测试市管理路8号');
      await a.fill('#bf-seats', '3');
      await a.fill('#bf-slot', '30');
      await a.fill('#bf-day-sat', '9点到12点');
      await a.click('#bf-save');
      await a.waitForSelector('#bf-week-err:not([hidden])');
      assert.equal(await a.getAttribute('#bf-week-err', 'data-code'), 'invalid_field');
      assert.match(await a.textContent('#bf-week-err'), /invalid_field/);
      await a.fill('#bf-day-sat', '09:00-12:00');
      await a.click('#bf-save');
      const row = `#br-list tr:has(td:text-is("${name}"))`;
      await a.waitForSelector(row);
      const brigadeId = await a.getAttribute(row, 'data-brigade-id');
      assert.ok(brigadeId, 'the new brigade is listed');
      await a.waitForSelector('#bf-week-err[hidden]', { state: 'attached' });
      const view = await (await fetch(`${server.url}/api/v1/brigades`)).json();
      assert.ok(view.some((b) => b.id === brigadeId && b.name === name), 'the API lists the brigade');
      assert.equal(await a.inputValue('#bf-day-sat'), '09:00-12:00');
      assert.equal(await a.inputValue('#bf-day-sun'), '');

      // ---- closed dates: one by hand, then a holiday file with a bad line ----
      const one = dayAhead(40);
      await a.fill('#cd-date', one);
      await a.click('#cd-add');
      await a.waitForSelector(`#cd-list li[data-date="${one}"]`);
      const [r1, r2] = [dayAhead(50), dayAhead(52)];
      const file = ['日期,名称', `${r1}~${r2},测试假期`, '2026-02-30,不存在的日期', '# 注释', dayAhead(60)].join('\n');
      await a.setInputFiles('#cd-file', { name: 'holidays.csv', mimeType: 'text/csv', buffer: Buffer.from(file) });
      await a.waitForSelector('#cd-import-summary[data-done=true]');
      assert.equal(await a.getAttribute('#cd-import-summary', 'data-ok'), '2');
      assert.equal(await a.getAttribute('#cd-import-summary', 'data-failed'), '1');
      assert.equal(await a.getAttribute('#cd-import-lines li[data-line="3"]', 'data-ok'), 'false');
      assert.match(await a.textContent('#cd-import-lines li[data-line="3"]'), /第 3 行/);
      for (const d of [r1, dayAhead(51), r2, dayAhead(60)]) await a.waitForSelector(`#cd-list li[data-date="${d}"]`);
      await a.click(`#cd-list li[data-date="${one}"] button`);
      await a.waitForSelector(`#cd-list li[data-date="${one}"]`, { state: 'detached' });
      await shot(a, 'admin-brigades-1440-zh');
      await audit(a, 'admin brigades', 'admin-brigades-1440-en');

      // ---- staff: a weak password, a taken badge, then an officer with its one-time password ----
      await a.click('#tabs a[data-tab=staff]');
      await a.waitForSelector('[data-view=staff]:not([hidden]) #st-list table');
      const officer = { badge: `OFC${Date.now() % 1e6}`, name: '新任民警' };
      await a.selectOption('#sf-role', 'officer');
      await a.fill('#sf-badge', officer.badge);
      await a.fill('#sf-name', officer.name);
      await a.selectOption('#sf-brigade', brigadeId);
      await a.fill('#sf-password', 'short-pw');
      await a.click('#sf-submit');
      await a.waitForSelector('#sf-password-err:not([hidden])');
      assert.equal(await a.getAttribute('#sf-password-err', 'data-code'), 'password_too_weak');
      assert.match(await a.textContent('#sf-password-err'), /password_too_weak/);
      assert.equal(await a.getAttribute('#sf-password', 'aria-invalid'), 'true');
      await audit(a, 'admin staff (a refusal shown)');
      await a.fill('#sf-badge', admin.badge);
      await a.click('#sf-generate');
      await a.click('#sf-submit');
      await a.waitForSelector('#sf-badge-err:not([hidden])');
      assert.equal(await a.getAttribute('#sf-badge-err', 'data-code'), 'badge_taken');
      assert.equal(await a.isHidden('#sf-password-err'), true, 'the earlier refusal is gone');
      await a.fill('#sf-badge', officer.badge);
      const password = await a.inputValue('#sf-password');
      assert.ok(password.length >= 12);
      await a.click('#sf-submit');
      await a.waitForSelector(`#st-list tr[data-badge="${officer.badge}"][data-active=true]`);
      assert.equal((await a.textContent('#st-secret-pw')).trim(), password, 'the one-time password is shown');
      assert.ok((await a.textContent(`#st-list tr[data-badge="${officer.badge}"]`)).includes(name), 'the brigade is named');
      await shot(a, 'admin-staff-1440-zh');
      await audit(a, 'admin staff', 'admin-staff-1440-en');
      // The admin's own two-step verification tab; then back to the staff.
      await a.click('#tabs a[data-tab=totp]');
      await a.waitForSelector('[data-view=totp]:not([hidden]) #totp-state[data-enrolled=false]');
      await a.click('#totp-start');
      await a.waitForSelector('#totp-qr');
      await audit(a, 'admin TOTP');
      // The log's signing keys: one, current; rotated now: the old range closes, the new key is
      // endorsed, and the next checkpoint the server publishes is signed by it.
      await a.click('#tabs a[data-tab=keys]');
      await a.waitForSelector('[data-view=keys]:not([hidden]) #keys-list tbody tr[data-current="1"]');
      assert.equal(await a.locator('#keys-list tbody tr').count(), 1);
      await a.click('#keys-rotate');
      await a.waitForSelector('#keys-done:not([hidden])');
      assert.equal(await a.locator('#keys-list tbody tr').count(), 2);
      const rows = await a.$$eval('#keys-list tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
      assert.match(rows[0][3], /已停用/);
      assert.match(rows[1][3], /当前密钥/);
      assert.match(rows[1][4], /背书/);
      const newKey = rows[1][1];
      assert.match(await a.textContent('#keys-done'), new RegExp(newKey.replace(/[+/]/g, '\\$&')));
      const note = await (await fetch(`${server.url}/api/v1/audit/checkpoint`)).text();
      assert.ok(note.includes(`— ${newKey.split('+')[0]} `), note);
      const keyId = newKey.split('+')[1];
      const sig = note.trim().split('\n').pop().split(' ').pop();
      assert.equal(Buffer.from(sig, 'base64').subarray(0, 4).toString('hex'), keyId, 'signed by the new key');
      // No witnesses in this server's configuration: the page says so.
      await a.waitForSelector('#wit-none');
      await shot(a, 'admin-keys-1440-zh');
      await audit(a, 'admin keys', 'admin-keys-1440-en');
      await a.click('#tabs a[data-tab=staff]');
      await a.waitForSelector(`[data-view=staff]:not([hidden]) #st-list tr[data-badge="${officer.badge}"]`);

      // ---- the officer: sign in with the one-time password, enrol TOTP on the dashboard ----
      await o.goto('/officer/');
      await o.waitForSelector('[data-view=login]:not([hidden])');
      await o.fill('#login-badge', officer.badge);
      await o.fill('#login-password', password);
      await o.click('#login-form button[type=submit]');
      await o.waitForSelector('[data-view=dash]:not([hidden])');
      await o.waitForSelector('#totp-state[data-enrolled=false]');
      await o.click('#totp-start');
      await o.waitForSelector('#totp-qr');
      assert.ok(await o.evaluate(() => document.querySelector('#totp-qr').naturalWidth > 0), 'the QR code image renders');
      const secret = (await o.textContent('#totp-secret')).replace(/\s+/g, '');
      assert.match(secret, /^[A-Z2-7]{32}$/);
      const now = Date.now() / 1000;
      const good = totp(secret, now);
      const wrong = good === '123456' ? '654321' : '123456';
      await o.fill('#totp-code', wrong);
      await o.click('#totp-confirm');
      await o.waitForSelector('#totp-code-err:not([hidden])');
      assert.equal(await o.getAttribute('#totp-code-err', 'data-code'), 'totp_invalid');
      await shot(o, 'officer-totp-enrol-1440-zh');
      await audit(o, 'officer TOTP enrolment');
      await o.fill('#totp-code', totp(secret, Date.now() / 1000));
      await o.click('#totp-confirm');
      await o.waitForSelector('#totp-state[data-enrolled=true]');

      // ---- out and in again: the code field, the app's next code ----
      await o.click('#logout');
      await o.waitForSelector('[data-view=login]:not([hidden])');
      await o.fill('#login-badge', officer.badge);
      await o.fill('#login-password', password);
      await o.click('#login-form button[type=submit]');
      await o.waitForSelector('#login-totp-row:not([hidden])');
      // The confirming code's step is spent: the next step's code (one step of skew is allowed).
      await o.fill('#login-totp', totp(secret, Date.now() / 1000 + 30));
      await o.click('#login-form button[type=submit]');
      await o.waitForSelector('[data-view=dash]:not([hidden])');
      await o.waitForSelector('#totp-state[data-enrolled=true]');

      // ---- the admin sees the session, then disables the account ----
      const orow = `#st-list tr[data-badge="${officer.badge}"]`;
      await a.click(`${orow} button[data-action=sessions]`);
      await a.waitForSelector('#ss-list tr[data-session-id]');
      assert.equal(await a.locator('#ss-list tr[data-session-id]').count(), 1, 'one live session (the first ended at sign-out)');
      await a.click(`${orow} button[data-action=disable]`);
      await a.waitForSelector(`#st-list tr[data-badge="${officer.badge}"][data-active=false]`);
      await a.waitForSelector('#ss-none');
      // The officer's open dashboard refreshes every 10 s: its next call answers 401.
      await o.waitForSelector('[data-view=login]:not([hidden])', { timeout: 30_000 });
      assert.equal(await o.evaluate(() => window.__rh.api.token), null, 'the session is dropped');

      // ---- a reset password is shown once ----
      await a.click(`#st-list tr[data-badge="${officer.badge}"] button[data-action=resetPassword]`);
      await a.waitForSelector('#st-secret-pw');
      assert.notEqual((await a.textContent('#st-secret-pw')).trim(), password);

      assert.deepEqual(serious, [], serious.join('\n\n'));
      const pageErrors = errors.filter((e) => /pageerror/.test(e));
      assert.deepEqual(pageErrors, [], pageErrors.join('\n'));
    } finally {
      if (errors.length) t.diagnostic(`browser: ${errors.join(' | ')}`);
      await browser?.close();
      await server.stop();
    }
  });

  it('with TOTP required, an officer (an admin) without it sees only the enrolment, then the dashboard', { timeout: 180_000 }, async () => {
    const server = await startServer({ log: !!process.env.E2E_LOG, env: { RH_AUTH__TOTP_REQUIRED: 'true' } });
    const errors = [];
    let browser;
    try {
      const brigade = server.admin(['create-brigade', '--name', '必需验证大队', '--address', '测试路2号', '--weekdays', 'mon-sun', '--hours', '00:00-24:00']);
      const officer = { badge: `REQ${Date.now() % 1e6}`, password: 'officer-pass-long-2' };
      server.admin(['create-user', '--role', 'officer', '--badge', officer.badge, '--name', '待绑定民警', '--brigade', brigade, '--password-stdin'], officer.password + '\n');
      browser = await launch();
      const o = await (await desktopContext(browser, server.url)).newPage();
      watch(o, 'officer', errors);
      await o.goto('/officer/');
      await o.waitForSelector('[data-view=login]:not([hidden])');
      await o.fill('#login-badge', officer.badge);
      await o.fill('#login-password', officer.password);
      await o.click('#login-form button[type=submit]');
      await o.waitForSelector('[data-view=enrol]:not([hidden]) #totp-state[data-enrolled=false]');
      assert.equal(await o.isHidden('[data-view=dash]'), true, 'no dashboard before enrolment');
      await o.click('#totp-start');
      await o.waitForSelector('#totp-secret', { state: 'attached' });
      const secret = (await o.textContent('#totp-secret')).replace(/\s+/g, '');
      await o.fill('#totp-code', totp(secret, Date.now() / 1000));
      await o.click('#totp-confirm');
      await o.waitForSelector('[data-view=dash]:not([hidden]) #totp-state[data-enrolled=true]');

      // An admin without TOTP: the admin page offers only its two-step verification tab.
      const admin = { badge: `RAD${Date.now() % 1e6}`, password: 'admin-pass-long-2' };
      server.admin(['create-user', '--role', 'admin', '--badge', admin.badge, '--name', '待绑定管理员', '--password-stdin'], admin.password + '\n');
      await o.click('#logout');
      await o.goto('/admin/');
      await o.waitForSelector('[data-view=login]:not([hidden])');
      await o.fill('#login-badge', admin.badge);
      await o.fill('#login-password', admin.password);
      await o.click('#login-form button[type=submit]');
      await o.waitForSelector('[data-view=totp]:not([hidden]) #totp-state[data-enrolled=false]');
      assert.equal(await o.isHidden('#tabs a[data-tab=staff]'), true, 'no staff tab before enrolment');
      await o.evaluate(() => (location.hash = '#staff'));
      await o.waitForTimeout(300);
      assert.equal(await o.isHidden('[data-view=staff]'), true, 'the staff view stays closed');
      assert.deepEqual(errors.filter((e) => /pageerror/.test(e)), []);
    } finally {
      await browser?.close();
      await server.stop();
    }
  });
});
