// Issue 16, the pages' side: with the records fake as system of record the citizen picks a
// violation from the list (an ineligible one is disabled with its reason) and the booking shows
// the record's facts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { world, loginCitizen, freeSlot, bookingStep, pickSlot } from '../lib/journey.mjs';
import { binaryPath, repoRoot } from '../lib/server.mjs';

const SECRET = 'e2e-records-secret';

/** Starts `records-fake` on a free port; resolves with {url, stop}. */
function startFake() {
  const child = spawn(binaryPath(), ['records-fake', '--data', join(repoRoot, 'tests/data/records-fake.json'), '--listen', '127.0.0.1:0', '--secret', SECRET], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((res, rej) => {
    let out = '';
    child.on('exit', (c) => rej(new Error(`records-fake exited ${c}`)));
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) res({ url: m[1], stop: () => child.kill('SIGTERM') });
    });
  });
}

test('the citizen books a violation picked from the system of record', { timeout: 40_000 }, async () => {
  const fake = await startFake();
  const w = await world({ env: { RH_RECORDS__PROVIDER: 'fake', RH_RECORDS__URL: fake.url, RH_RECORDS__SECRET: SECRET } });
  try {
    const c = w.citizen;
    await loginCitizen(w);
    const put = await c.evaluate(() => window.__rh.api.put('citizens/me/identity', { name: '张三', id_number: '370102198503120011' }).then(() => 'ok', (e) => e.code));
    assert.equal(put, 'ok');
    const slot = await freeSlot(w, Date.now() + 86400000 - (Date.now() % 86400000));
    assert.ok(slot, 'a free slot from tomorrow');
    await c.click('#go-book');
    await bookingStep(c, 1);
    await c.selectOption('#bk-brigade', w.brigade);
    await c.click('#bk-next');
    await bookingStep(c, 2);
    await pickSlot(c, slot);
    await c.click('#bk-next');
    await bookingStep(c, 3);
    await c.waitForSelector('#bk-records:not([hidden]) .record');
    assert.equal(await c.isVisible('#bk-violations'), false, 'the typed fields are hidden');
    assert.equal(await c.isVisible('#bk-phone'), false, 'the phone is not asked again after the SMS login');
    // 3701021000123457 has a 500-yuan fine; 3701021000123458 was not camera-captured.
    assert.equal(await c.isDisabled('#bk-rec-3701021000123457'), true);
    assert.equal(await c.isDisabled('#bk-rec-3701021000123458'), true);
    assert.match(await c.textContent('[data-record-no="3701021000123458"] .rec-why'), /电子监控|camera/);
    assert.equal(await c.isDisabled('#bk-rec-3701021000123456'), false);
    await c.fill('#bk-plate', '鲁A12345');
    await c.check('#bk-rec-3701021000123456');
    await c.screenshot({ path: join(repoRoot, 'artifacts/screenshots/records-pick.png'), fullPage: true });
    await c.click('#bk-next');
    await bookingStep(c, 4);
    assert.match(await c.textContent('#bk-summary'), /3701021000123456/);
    await c.click('#bk-submit');
    await c.waitForSelector('[data-view=home]:not([hidden]) .booking-records li[data-record-no="3701021000123456"]', { timeout: 15_000 }).catch(async (e) => {
      throw new Error(`${e.message}; book-err: ${await c.textContent('#book-err')}`);
    });
    const facts = await c.textContent('.booking-records');
    assert.match(facts, /100/);
    await c.screenshot({ path: join(repoRoot, 'artifacts/screenshots/records-booked.png'), fullPage: true });
  } finally {
    await w.close();
    fake.stop();
  }
});
