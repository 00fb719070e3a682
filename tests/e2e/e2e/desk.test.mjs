// The officer's pages at 1440×900 (issue 21): the day's list and the urgent lane show the
// citizen's live state (from the dashboard events); "发送验证码" says in plain words when the
// citizen can receive the code and why not (to which masked phone; sent at; the code budget says
// wait; not needed once the citizen is in); every string follows the zh/en switch (no Chinese
// left unmarked in English but data); the call's text chat, open, lies beside the step card and
// never over it or its action. Layout rules of lib/layout.mjs and screenshots in zh and en.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shot } from '../lib/browser.mjs';
import { layoutProblems } from '../lib/layout.mjs';
import { langOfParts } from '../lib/a11y.mjs';
import { world, loginCitizen, loginOfficer, freeSlot, bookUrgent, claimAndOpen } from '../lib/journey.mjs';

test('the officer desk at 1440×900: live citizen state, the code in plain words, zh/en, the chat beside the step card', { timeout: 180_000 }, async () => {
  const w = await world();
  const problems = [];
  const o = w.officerPage;
  const c = w.citizen;
  /** The layout rules and the language of every string, zh and en, with screenshots; back to zh. */
  async function check(name, opts = {}) {
    for (const lang of ['zh-CN', 'en']) {
      if ((await o.getAttribute('html', 'lang')) !== lang) {
        await o.click('#lang');
        await o.waitForSelector(`html[lang="${lang}"]`);
      }
      await o.waitForTimeout(200);
      problems.push(...(await layoutProblems(o, opts)).map((p) => `${name} ${lang}: ${p}`));
      if (lang === 'en') problems.push(...(await langOfParts(o)).map((p) => `${name} en: Chinese text in English: ${p}`));
      await shot(o, `desk-${name}-1440-${lang === 'en' ? 'en' : 'zh'}`);
    }
    await o.click('#lang');
    await o.waitForSelector('html[lang="zh-CN"]');
  }
  try {
    await loginCitizen(w);
    await loginOfficer(w);
    const slot = await freeSlot(w);
    assert.ok(slot, 'a free slot');
    const bookingId = await bookUrgent(w, slot);
    await o.click('#dash-refresh');
    await o.waitForSelector(`#urgent-list li[data-booking-id="${bookingId}"]`);
    await check('dashboard', { action: '#urgent-claim' });

    const hearingId = await claimAndOpen(w, bookingId);
    const masked = `${w.phone.slice(0, 3)}****${w.phone.slice(7)}`;
    await o.waitForSelector('#code-info[data-state=ready]');
    assert.ok((await o.textContent('#code-info')).includes(masked), 'the code goes to the masked phone, said before sending');
    await check('hearing-before-code', { action: '#send-code' });
    await o.click('#send-code');
    await o.waitForSelector('#code-info[data-state=sent]');
    assert.match(await o.textContent('#code-info'), /已于 \d\d:\d\d 发往/);
    const { code } = await w.server.waitForCode(w.phone, 2);
    // A second send at once: the budget says wait, in words under the button (not a red error).
    await o.evaluate(() => {
      const b = document.querySelector('#send-code');
      b.disabled = false;
      b.click();
    });
    await o.waitForSelector('#code-info[data-state=throttled]');
    assert.match(await o.textContent('#code-info'), /刚刚发送过验证码.*\d+ 秒后可再发送/);
    assert.equal(await o.isVisible('#hr-err'), false, 'no red error beside the words');
    await check('hearing-code-throttled');

    // The citizen joins: the words say no code is needed; the list shows the citizen's state.
    await c.click('#go-wait');
    await c.waitForSelector('#wait-next[data-state=sent]', { timeout: 10_000 });
    await c.fill('#join-code', code);
    await c.click('#join-submit');
    await c.waitForSelector('[data-view=call]:not([hidden])');
    await o.waitForSelector('#code-info[data-state=joined]', { timeout: 15_000 });
    await o.click('#hr-back');
    await o.waitForSelector('[data-view=dash]:not([hidden])');
    await o.waitForSelector(`[data-booking-id="${bookingId}"] .presence:is([data-presence=citizen_waiting], [data-presence=citizen_joined])`, { timeout: 15_000 });
    await check('dashboard-citizen-in');
    await o.evaluate((id) => (location.hash = `hearing=${encodeURIComponent(id)}`), hearingId);
    await o.waitForSelector('#step-card[data-step=identity]');

    // In the call with the text chat open: the panel is beside the step card, not over it.
    await o.click('#join-call');
    await o.waitForSelector('#call-box .chat-toggle');
    await o.waitForSelector('#hr-status[data-status=in_call]', { timeout: 20_000 });
    await o.click('#call-box .chat-toggle');
    await o.waitForSelector('.chat-panel:not([hidden])');
    for (const lang of ['zh-CN', 'en']) {
      if ((await o.getAttribute('html', 'lang')) !== lang) {
        await o.click('#lang');
        await o.waitForSelector(`html[lang="${lang}"]`);
      }
      await o.waitForSelector('#step-card #id-submit');
      await o.waitForTimeout(200);
      const overlap = await o.evaluate(() => {
        const a = document.querySelector('.chat-panel').getBoundingClientRect();
        const hit = (b) => a.left < b.right && a.right > b.left && a.top < b.bottom && a.bottom > b.top;
        const card = document.querySelector('#step-card').getBoundingClientRect();
        const action = document.querySelector('#step-card #id-submit').getBoundingClientRect();
        return { card: hit(card), action: hit(action) };
      });
      assert.deepEqual(overlap, { card: false, action: false }, `${lang}: the open chat panel covers the step card or its action`);
      await shot(o, `desk-chat-open-1440-${lang === 'en' ? 'en' : 'zh'}`);
    }
    await o.click('#lang');
    await o.waitForSelector('html[lang="zh-CN"]');
    problems.push(...(await layoutProblems(o, { text: '#step-card' })).map((p) => `chat open: ${p}`));
    // The check sees the fault it guards against: without the panel's own column the panel stands
    // over the card's column.
    const without = await o.evaluate(() => {
      document.body.classList.remove('chat-open');
      const a = document.querySelector('.chat-panel').getBoundingClientRect();
      const b = document.querySelector('#step-card').getBoundingClientRect();
      // the columns: whether they also meet vertically depends on how tall the card is now
      const hit = a.left < b.right && a.right > b.left;
      document.body.classList.add('chat-open');
      return { hit, a: [a.left, a.right, a.top, a.bottom], b: [b.left, b.right, b.top, b.bottom] };
    });
    assert.equal(without.hit, true, `the overlap check would catch the panel over the step card: ${JSON.stringify(without)}`);
  } finally {
    await w.close();
  }
  assert.deepEqual(problems, [], problems.join('\n'));
});
