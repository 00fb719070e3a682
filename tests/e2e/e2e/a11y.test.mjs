// Accessibility audit with axe-core: every view a user reaches (citizen login, booking form, home,
// hearing view; officer login, dashboard, hearing view; auditor login, list, hearing with its
// verification, a bundle file's result; the public proof check /verify/, empty and with a proof
// file), in Chinese and again after the zh/en switch (which must
// move <html lang>). Fails on any axe violation of impact serious or critical, and on Chinese text
// not marked lang="zh-CN" while the page is in English (WCAG 3.1.2, which axe does not check: a
// view that did not follow the switch, or data such as names and plates). The counts go to
// artifacts/a11y.json and the test's diagnostics.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../lib/server.mjs';
import { desktopContext, watch } from '../lib/browser.mjs';
import { axeViolations, describeViolations, SERIOUS, langOfParts } from '../lib/a11y.mjs';
import { world, loginCitizen, loginOfficer, freeSlot, bookUrgent, claimAndOpen, joinWithCode, stepsToStatement } from '../lib/journey.mjs';

const T = { timeout: 300_000 };

describe('accessibility (axe-core)', { concurrency: 1 }, () => {
  it('no serious or critical violation on any page, in zh and in en', T, async (t) => {
    const w = await world();
    const report = {};
    const serious = [];
    /** Audits the page as it is, then in the other language, then switches back. */
    async function check(page, name) {
      for (const lang of ['zh-CN', 'en']) {
        if ((await page.getAttribute('html', 'lang')) !== lang) {
          await page.click('#lang');
          await page.waitForSelector(`html[lang="${lang}"]`, { timeout: 5_000 });
        }
        const vs = await axeViolations(page);
        const counts = {};
        for (const v of vs) counts[v.impact] = (counts[v.impact] || 0) + v.nodes.length;
        report[`${name} (${lang})`] = { counts, violations: vs };
        t.diagnostic(`${name} (${lang}): ${JSON.stringify(counts)}`);
        const bad = vs.filter((v) => SERIOUS.has(v.impact));
        if (bad.length) serious.push(`${name} (${lang}):\n${describeViolations(bad)}`);
        const parts = await langOfParts(page);
        report[`${name} (${lang})`].langOfParts = parts;
        if (parts.length) {
          t.diagnostic(`${name} (${lang}): ${parts.length} Chinese text(s) not marked lang=zh`);
          serious.push(`${name} (${lang}): Chinese text not marked lang="zh-CN" (WCAG 3.1.2):\n${parts.join('\n')}`);
        }
      }
      await page.click('#lang');
      await page.waitForSelector('html[lang="zh-CN"]', { timeout: 5_000 });
    }
    try {
      const auditor = { badge: `A11Y${Date.now() % 1e5}`, password: 'auditor-pass-1' };
      w.server.admin(['create-user', '--role', 'auditor', '--badge', auditor.badge, '--name', '测试审计员', '--password-stdin'], auditor.password + '\n');
      const c = w.citizen;
      const o = w.officerPage;

      await c.goto('/');
      await c.waitForSelector('[data-view=login]:not([hidden])');
      await check(c, 'citizen login');
      await loginCitizen(w);
      await check(c, 'citizen home');
      await c.click('#go-book');
      await c.waitForSelector('[data-view=book]:not([hidden]) .bk-step[data-step="1"]:not([hidden])');
      await c.check('#bk-urgent');
      await check(c, 'citizen booking step 1');
      await c.click('#bk-next');
      await c.waitForSelector('#book-err:not([hidden])');
      await check(c, 'citizen booking step 1 (error shown)');
      await c.uncheck('#bk-urgent');
      await c.click('#bk-next');
      await c.waitForSelector('.bk-step[data-step="2"]:not([hidden]) #bk-dates .day');
      await check(c, 'citizen booking step 2');
      await c.click('#bk-prev');
      await c.click('[data-view=book] [data-back]');
      await c.waitForSelector('[data-view=home]:not([hidden])');

      await o.goto('/officer/');
      await o.waitForSelector('[data-view=login]:not([hidden])');
      await check(o, 'officer login');
      await loginOfficer(w);
      const slot = await freeSlot(w);
      assert.ok(slot, 'a free slot');
      const bookingId = await bookUrgent(w, slot);
      await o.click('#dash-refresh');
      await o.waitForSelector(`#urgent-list li[data-booking-id="${bookingId}"]`);
      await o.waitForSelector(`#today tr[data-booking-id="${bookingId}"]`, { state: 'detached' });
      await check(o, 'officer dashboard');
      const hearingId = await claimAndOpen(w, bookingId);
      await check(o, 'officer hearing view');
      await c.click('#go-wait');
      await c.waitForSelector('[data-view=wait]:not([hidden])');
      await check(c, 'citizen waiting room');
      await c.click('#wait-test');
      await c.waitForSelector('[data-view=test]:not([hidden])');
      await c.click('#test-start');
      await c.waitForFunction(() => document.querySelector('#test-net').textContent !== '—');
      await check(c, 'citizen device test');
      // The device check opened from the waiting room goes back there.
      await c.click('[data-view=test] [data-back]');
      await c.waitForSelector('[data-view=wait]:not([hidden])');
      await c.click('[data-view=wait] [data-back]');
      await c.waitForSelector('[data-view=home]:not([hidden])');
      await joinWithCode(w, 2);
      await stepsToStatement(w);
      await check(c, 'citizen hearing view');
      // The identity step has the officer in the call already (the still is taken from it).
      if (await o.isVisible('#join-call')) await o.click('#join-call');
      await o.waitForSelector('#call-box .call-bar');
      await check(o, 'officer hearing view (in progress, in the call)');
      await c.fill('#st-text', '当时不是我本人驾驶。');
      await c.click('#st-dispute');
      await c.waitForSelector('[data-view=decision]:not([hidden])', { timeout: 15_000 });
      await o.waitForSelector('#summary-status', { timeout: 15_000 });
      await check(c, 'citizen outcome');
      await check(o, 'officer hearing summary');

      const a = await (await desktopContext(w.browser, w.server.url)).newPage();
      watch(a, 'auditor', w.errors);
      await a.goto('/auditor/');
      await a.waitForSelector('[data-view=login]:not([hidden])');
      await check(a, 'auditor login');
      await a.fill('#login-badge', auditor.badge);
      await a.fill('#login-password', auditor.password);
      await a.click('#login-form button[type=submit]');
      await a.waitForSelector('[data-view=list]:not([hidden])');
      await a.waitForSelector(`tr[data-hearing-id="${hearingId}"]`);
      await check(a, 'auditor list');
      await a.click(`tr[data-hearing-id="${hearingId}"] a`);
      await a.waitForSelector('[data-view=hearing]:not([hidden])');
      await a.click('#verify');
      await a.waitForSelector('#verify-result #verdict');
      await check(a, 'auditor hearing');
      await a.click('#hr-back');
      await a.waitForSelector('[data-view=list]:not([hidden])');
      await a.setInputFiles('#bundle-file', { name: 'broken.json', mimeType: 'application/json', buffer: Buffer.from('{"version":1}') });
      await a.waitForSelector('#file-result :is(#verdict, .alert, li)', { timeout: 10_000 });
      await check(a, 'auditor bundle file result');

      // The public proof check (/verify/, no login): empty, then the citizen's proof file.
      const v = await (await desktopContext(w.browser, w.server.url)).newPage();
      watch(v, 'verify', w.errors);
      await v.goto('/verify/');
      await v.waitForSelector('#trust-state');
      await check(v, 'verify page');
      const tok = await c.evaluate(() => localStorage.getItem('rh.token.citizen'));
      const proof = await (await fetch(`${w.server.url}/api/v1/hearings/${hearingId}/proof`, { headers: { Authorization: `Bearer ${tok}` } })).text();
      await v.setInputFiles('#proof-file', { name: 'proof.json', mimeType: 'application/json', buffer: Buffer.from(proof) });
      await v.waitForSelector('#verdict[data-ok]');
      await check(v, 'verify page result');
    } finally {
      mkdirSync(join(repoRoot, 'artifacts'), { recursive: true });
      writeFileSync(join(repoRoot, 'artifacts', 'a11y.json'), JSON.stringify(report, null, 2));
      await w.close();
    }
    assert.equal(serious.length, 0, `serious or critical accessibility violations:\n${serious.join('\n\n')}`);
  });
});
