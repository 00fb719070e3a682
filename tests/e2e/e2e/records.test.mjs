// Issue 16, the pages' side: with the records fake as system of record the citizen picks a
// violation from the list (an ineligible one is disabled with its reason; the plate is the
// record's) and the booking shows the record's facts; a booking from the record is then heard
// through to the decision: both parties see the record's evidence photos at the notice, the
// sealed notice entry names them by SHA-256, and the officer sees the write-back `accepted`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { world, loginCitizen, loginOfficer, freeSlot, bookingStep, pickSlot, localDate, localTomorrow, joinWithCode, identityStep, signTranscript, waiveToDecision } from '../lib/journey.mjs';
import { binaryPath, repoRoot } from '../lib/server.mjs';
import { shot } from '../lib/browser.mjs';

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
    const slot = await freeSlot(w, localTomorrow());
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
    // Nothing of the case is typed: the heading says so, and the plate is the picked record's.
    assert.match(await c.textContent('#bk-case-h'), /来自交通管理信息系统/);
    assert.equal(await c.getAttribute('#bk-plate', 'readonly'), '');
    await c.check('#bk-rec-3701021000123456');
    assert.equal(await c.inputValue('#bk-plate'), '鲁A12345');
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

/** The citizen books `record` from the record for the first free slot from tomorrow (a normal
 * booking is never for today); returns {bookingId, slot}. */
async function bookFromRecord(w, record) {
  const c = w.citizen;
  const slot = await freeSlot(w, localTomorrow());
  assert.ok(slot, 'a free slot from tomorrow');
  await c.click('#go-book');
  await bookingStep(c, 1);
  await c.selectOption('#bk-brigade', w.brigade);
  await c.click('#bk-next');
  await bookingStep(c, 2);
  await pickSlot(c, slot);
  await c.click('#bk-next');
  await bookingStep(c, 3);
  await c.waitForSelector(`#bk-rec-${record}`);
  await c.check(`#bk-rec-${record}`);
  await c.click('#bk-next');
  await bookingStep(c, 4);
  await c.click('#bk-submit');
  await c.waitForSelector(`[data-view=home]:not([hidden]) .booking-records li[data-record-no="${record}"]`, { timeout: 15_000 }).catch(async (e) => {
    throw new Error(`${e.message}; book-err: ${await c.textContent('#book-err')}`);
  });
  return { bookingId: await c.getAttribute('[data-booking-id]', 'data-booking-id'), slot };
}

/** Waits until every evidence photo in `page`'s #notice-photos has loaded as a picture. */
async function photosShown(page, n) {
  await page.waitForFunction((n) => {
    const imgs = [...document.querySelectorAll('#notice-photos:not([hidden]) img.evidence-photo')];
    return imgs.length === n && imgs.every((i) => i.complete && i.naturalWidth > 0);
  }, n, { timeout: 15_000 });
  return page.$$eval('#notice-photos img.evidence-photo', (is) => is.map((i) => ({ w: i.naturalWidth, h: i.naturalHeight })));
}

test('a booking from the record is heard with its evidence photos and written back', { timeout: 150_000 }, async () => {
  const fake = await startFake();
  // The booking is for tomorrow at the earliest: the officer may open its hearing now.
  const env = { RH_RECORDS__PROVIDER: 'fake', RH_RECORDS__URL: fake.url, RH_RECORDS__SECRET: SECRET, RH_HEARING__OPEN_BEFORE_S: String(3 * 86400) };
  const w = await world({ env });
  const auditor = { badge: `RAUD${Date.now() % 1e5}`, password: 'auditor-pass-1' };
  try {
    w.server.admin(['create-user', '--role', 'auditor', '--badge', auditor.badge, '--name', '测试审计员', '--password-stdin'], auditor.password + '\n');
    const c = w.citizen;
    const o = w.officerPage;
    await c.setViewportSize({ width: 390, height: 844 });
    // Every photo request of both pages, to check where the pictures came from.
    const photoHits = [];
    for (const [who, p] of [['citizen', c], ['officer', o]]) {
      p.on('response', (r) => {
        if (r.url().includes('/photos/')) photoHits.push({ who, url: new URL(r.url()).pathname, status: r.status() });
      });
    }
    await loginCitizen(w);
    const put = await c.evaluate(() => window.__rh.api.put('citizens/me/identity', { name: '张三', id_number: '370102198503120011' }).then(() => 'ok', (e) => e.code));
    assert.equal(put, 'ok');
    const { bookingId, slot } = await bookFromRecord(w, '3701021000123456');
    await loginOfficer(w);
    await o.fill('#dash-date', localDate(new Date(slot.start).getTime()));
    await o.dispatchEvent('#dash-date', 'change');
    await o.click('#dash-refresh');
    const open = `#today button[data-booking="${bookingId}"]`;
    await o.waitForSelector(open, { timeout: 15_000 });
    await o.click(open);
    await o.waitForSelector('[data-view=hearing]:not([hidden])');
    await o.waitForSelector('#step-card[data-step=identity]');
    const hid = decodeURIComponent(/hearing=([^&]+)/.exec(await o.evaluate(() => location.hash))[1]);
    await joinWithCode(w, 2);
    await identityStep(o, c);
    await o.waitForSelector('#step-card[data-step=inquiry]');
    await o.fill('#qa-a1', '是本人驾驶。');
    await o.fill('#qa-a2', '无异议。');
    await o.click('#inq-submit');
    await o.waitForSelector('#step-card[data-step=transcript_ack]');
    await signTranscript(c);
    // The notice: the record's facts are filled in from the booking; the server fetches the
    // record's photos and seals them with the notice.
    await o.waitForSelector('#step-card[data-step=notice]', { timeout: 15_000 });
    assert.match(await o.inputValue('#not-rec-0-behaviour'), /禁止标线/);
    await o.click('#not-submit');
    await o.waitForSelector('#step-card[data-step=notice_ack]', { timeout: 15_000 });
    const officerImgs = await photosShown(o, 2);
    await c.waitForSelector('#ack-notice', { timeout: 15_000 });
    const citizenImgs = await photosShown(c, 2);
    assert.ok([...officerImgs, ...citizenImgs].every((i) => i.w === 96 && i.h === 64), JSON.stringify({ officerImgs, citizenImgs }));
    await (await c.$('#notice-photos')).scrollIntoViewIfNeeded();
    await shot(c, 'records-citizen-notice-photos');
    await shot(o, 'records-officer-notice-photos');
    const prefix = `/api/v1/hearings/${hid}/photos/3701021000123456/`;
    for (const who of ['citizen', 'officer']) {
      const mine = photoHits.filter((x) => x.who === who && x.url.startsWith(prefix) && x.status === 200);
      assert.equal(new Set(mine.map((x) => x.url)).size, 2, `${who}: ${JSON.stringify(photoHits)}`);
    }
    await c.click('#ack-notice');
    await c.waitForSelector('#st-waive');
    await waiveToDecision(w);
    // The officer's summary: the traffic management system accepted the decision.
    await o.waitForSelector('#summary-status', { timeout: 15_000 });
    await o.waitForSelector('#write-back[data-status=accepted]', { timeout: 15_000 });
    assert.match(await o.textContent('#write-back'), /交管系统已接收处罚决定/);
    await shot(o, 'records-officer-written-back');
    const decisions = await (await fetch(`${fake.url}/_fake/decisions`)).json();
    assert.equal(decisions.length, 1);
    assert.deepEqual(decisions[0].record_nos, ['3701021000123456']);

    // The sealed notice entry names each photo by the SHA-256 of the bytes the pages showed.
    const login = await fetch(`${w.server.url}/api/v1/auth/officer`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(auditor) });
    assert.equal(login.status, 200);
    const auth = { Authorization: `Bearer ${(await login.json()).token}` };
    const bundle = await (await fetch(`${w.server.url}/api/v1/audit/hearings/${hid}/bundle`, { headers: auth })).json();
    const notice = bundle.entries.find((e) => e.step === 'notice');
    assert.equal(notice.payload.photos.length, 2, JSON.stringify(notice.payload));
    for (const p of notice.payload.photos) {
      const r = await fetch(`${w.server.url}${prefix}${p.index}`, { headers: auth });
      assert.equal(r.status, 200);
      const sha = createHash('sha256').update(Buffer.from(await r.arrayBuffer())).digest('hex');
      assert.equal(p.sha256, sha, `photo ${p.index}`);
    }
    const wb = bundle.entries.filter((e) => e.step === 'write_back');
    assert.equal(wb.length, 1);
    assert.equal(wb[0].payload.answer, 'accepted');
    assert.equal(wb[0].payload.decision_no, decisions[0].decision_no);
  } finally {
    await w.close();
    fake.stop();
  }
});
