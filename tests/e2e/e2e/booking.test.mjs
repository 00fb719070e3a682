// The citizen's booking as short steps on a phone (issue 21): the numbered step bar, one step at a
// time with one full-width primary action; in step 2 the days that cannot be booked say why before
// the case is asked for (today for a normal booking, a closed date, a day the citizen cancelled);
// a `slot_full` refusal (the last seat taken by someone else meanwhile) brings the citizen back to
// step 2 with the slot list as it is now; the phone is not asked again after the SMS login; the
// brigade of the last booking is chosen again. Layout rules at 390×844 and 360×640 in zh and en.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shot } from '../lib/browser.mjs';
import { layoutProblems, PHONES } from '../lib/layout.mjs';
import { world, api, loginCitizen, bookingStep, localDate } from '../lib/journey.mjs';

const DAY = 86400000;

/** Another citizen, signed in through the API, books `slotStart` (takes its one seat). */
async function otherCitizenBooks(w, slotStart) {
  const phone = `139${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
  const json = { 'Content-Type': 'application/json' };
  const sent = await api(w.server, '/api/v1/auth/sms-code', { method: 'POST', headers: json, body: JSON.stringify({ phone }) });
  assert.ok(sent.status < 300, JSON.stringify(sent.body));
  const { code } = await w.server.waitForCode(phone, 1);
  const login = await api(w.server, '/api/v1/auth/citizen', { method: 'POST', headers: json, body: JSON.stringify({ phone, code }) });
  assert.equal(login.status, 200, JSON.stringify(login.body));
  const body = { brigade_id: w.brigade, slot_start: slotStart, plate: '鲁A11111', owner: true, violations: [{ record_no: '3701020000000001', fine_yuan: 50, points: 0 }], unhandled_count: 1, current_points: 0 };
  const r = await api(w.server, '/api/v1/bookings', { method: 'POST', headers: { ...json, Authorization: `Bearer ${login.body.token}` }, body: JSON.stringify(body) });
  assert.equal(r.status, 201, JSON.stringify(r.body));
}

test('booking in four steps: unbookable days say why, slot_full refreshes the slots, the brigade is remembered', { timeout: 120_000 }, async () => {
  const closed = localDate(Date.now() + 2 * DAY);
  const w = await world({ seats: 1, brigade: ['--hours', '00:00-24:00', '--closed', closed] });
  const problems = [];
  const c = w.citizen;
  /** The layout rules at both phone sizes in zh and en, with screenshots; back to zh at 390×844. */
  async function check(name, action) {
    for (const size of PHONES) {
      await c.setViewportSize(size);
      for (const lang of ['zh-CN', 'en']) {
        if ((await c.getAttribute('html', 'lang')) !== lang) {
          await c.click('#lang');
          await c.waitForSelector(`html[lang="${lang}"]`);
        }
        await c.waitForTimeout(150);
        const found = await layoutProblems(c, { action });
        problems.push(...found.map((p) => `${name} ${size.width}×${size.height} ${lang}: ${p}`));
        await shot(c, `booking-${name}-${size.width}-${lang === 'en' ? 'en' : 'zh'}`);
      }
    }
    await c.click('#lang');
    await c.waitForSelector('html[lang="zh-CN"]');
    await c.setViewportSize(PHONES[0]);
  }
  try {
    await c.setViewportSize(PHONES[0]);
    await loginCitizen(w);
    await c.click('#go-book');
    await bookingStep(c, 1);
    assert.equal(await c.isVisible('#bk-brigade-last'), false, 'nothing remembered yet');
    await c.selectOption('#bk-brigade', w.brigade);
    await check('step1', '#bk-next');
    await c.click('#bk-next');
    await bookingStep(c, 2);
    await c.waitForSelector('#bk-dates .day');
    const states = Object.fromEntries(await c.$$eval('#bk-dates .day', (ds) => ds.map((d) => [d.dataset.date, [d.dataset.state, d.querySelector('input').disabled, d.querySelector('.hint').textContent]])));
    const today = localDate(Date.now());
    assert.deepEqual(states[today].slice(0, 2), ['today', true], `today, normal booking: ${states[today]}`);
    assert.match(states[today][2], /当天仅限加急/);
    assert.deepEqual(states[closed].slice(0, 2), ['closed', true], `the closed date: ${states[closed]}`);
    assert.match(states[closed][2], /不办公/);
    const tomorrow = localDate(Date.now() + DAY);
    assert.deepEqual(states[tomorrow].slice(0, 2), ['open', false]);
    assert.equal(await c.$eval('#bk-dates input:checked', (i) => i.value), tomorrow, 'the first day that can be booked is chosen');
    // Two slots of tomorrow: the first is taken by someone else before this citizen submits.
    const starts = await c.$$eval('#bk-slots input[name=slot]:not(:disabled)', (is) => is.map((i) => i.value));
    assert.ok(starts.length >= 2, 'free slots tomorrow');
    await c.click(`input[name=slot][value="${starts[0]}"] + label`);
    await check('step2', '#bk-next');
    await c.click('#bk-next');
    await bookingStep(c, 3);
    assert.equal(await c.isVisible('#bk-phone'), false, 'the phone is not asked again after the SMS login');
    await c.fill('#bk-plate', '鲁B54321');
    await c.fill('.violation .v-no', '3701029876543210');
    await c.fill('.violation .v-fine', '100');
    await c.fill('.violation .v-pts', '3');
    await check('step3', '#bk-next');
    await c.click('#bk-next');
    await bookingStep(c, 4);
    assert.match(await c.textContent('#bk-summary'), /鲁B54321/);
    assert.match(await c.textContent('#bk-summary'), /3701029876543210/);
    await check('step4', '#bk-submit');

    await otherCitizenBooks(w, starts[0]);
    const reloaded = c.waitForResponse((r) => r.url().includes('/slots?') && r.request().method() === 'GET');
    await c.click('#bk-submit');
    await bookingStep(c, 2);
    await reloaded;
    await c.waitForSelector(`.slot[data-state=full] input[value="${starts[0]}"]:disabled`);
    assert.match(await c.textContent('#book-err'), /已约满/);
    await shot(c, 'booking-slot-full');
    await c.click(`input[name=slot][value="${starts[1]}"] + label`);
    await c.click('#bk-next');
    await bookingStep(c, 3);
    assert.equal(await c.inputValue('#bk-plate'), '鲁B54321', 'the case is kept');
    await c.click('#bk-next');
    await bookingStep(c, 4);
    await c.click('#bk-submit');
    await c.waitForSelector('[data-view=home]:not([hidden]) #booking-status[data-status=booked]', { timeout: 15_000 });

    // Cancelled: that day cannot be booked again here, and says so; the brigade is remembered.
    await c.click('#cancel-booking');
    await c.waitForSelector('#go-book:not([hidden])');
    await c.reload();
    await c.waitForSelector('[data-view=home]:not([hidden])');
    await c.click('#go-book');
    await bookingStep(c, 1);
    assert.equal(await c.inputValue('#bk-brigade'), w.brigade, 'the last brigade is chosen');
    assert.equal(await c.isVisible('#bk-brigade-last'), true);
    await c.click('#bk-next');
    await bookingStep(c, 2);
    await c.waitForSelector(`#bk-dates .day[data-date="${tomorrow}"][data-state=cancelled] input:disabled`);
    await shot(c, 'booking-cancelled-day');
  } finally {
    await w.close();
  }
  assert.deepEqual(problems, [], problems.join('\n'));
});
