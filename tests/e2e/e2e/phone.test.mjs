// The citizen's hearing on a phone (issue 21): at every prompt, at 390×844 and 360×640, in zh and
// in en, the layout rules of lib/layout.mjs hold (nothing wider than the screen, the action to take
// on screen without scrolling, the page itself does not scroll in the call, nothing fixed over the
// text being read, tap targets ≥ 44 px); the numbered step bar names the current stage; leaving
// the call during the hearing asks first; the decision puts the party, penalty, pay-by and
// remedies in front and the digests behind the 核验信息 fold. Before the call: each booking step,
// the waiting room (what happens next, to the masked phone; only the code asked; the code's input
// focused once the hearing is open) and the device check (back to the waiting room). Screenshots
// of every screen at both sizes in both languages go to artifacts/screenshots/. Each screen again
// in 关怀模式 (care mode, issue 19 §3): text ≥ 18 px, h1 ≥ 30 px, tap targets ≥ 60 px.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { shot } from '../lib/browser.mjs';
import { layoutProblems, PHONES, CARE } from '../lib/layout.mjs';
import { world, loginCitizen, loginOfficer, freeSlot, fillUrgentBooking, claimAndOpen, identityStep, signTranscript, drawSignature } from '../lib/journey.mjs';

const T = { timeout: 300_000 };

describe('the hearing on a phone', { concurrency: 1 }, () => {
  it('every prompt fits 390×844 and 360×640 in zh and en; the decision fits too', T, async () => {
    const w = await world();
    const problems = [];
    const c = w.citizen;
    const o = w.officerPage;
    /** The layout at each phone size in each language, with a screenshot; back to zh at 390×844. */
    async function check(name, { action, stage, inCall = true, langs = ['zh-CN', 'en'] } = {}) {
      for (const size of PHONES) {
        await c.setViewportSize(size);
        for (const lang of langs) {
          if ((await c.getAttribute('html', 'lang')) !== lang) {
            await c.click('#lang');
            await c.waitForSelector(`html[lang="${lang}"]`);
          }
          if (action) await c.waitForSelector(action);
          await c.waitForTimeout(250);
          const where = `${name} ${size.width}×${size.height} ${lang}`;
          const found = await layoutProblems(c, { action, text: inCall ? '#call-scroll' : null, noPageScroll: inCall });
          problems.push(...found.map((p) => `${where}: ${p}`));
          if (stage) {
            const current = await c.getAttribute('#call-stepbar li[aria-current=step]', 'data-stage');
            if (current !== stage) problems.push(`${where}: the step bar shows ${current}, not ${stage}`);
          }
          await shot(c, `phone-${name}-${size.width}-${lang === 'en' ? 'en' : 'zh'}`);
        }
      }
      if ((await c.getAttribute('html', 'lang')) !== 'zh-CN') {
        await c.click('#lang');
        await c.waitForSelector('html[lang="zh-CN"]');
      }
      // 关怀模式 (issue 19 §3), in zh at both sizes: text ≥ 18 px, h1 ≥ 30 px, targets ≥ 60 px.
      await c.click('#care');
      await c.waitForSelector('html.care');
      for (const size of PHONES) {
        await c.setViewportSize(size);
        if (action) await c.waitForSelector(action);
        await c.waitForTimeout(250);
        const found = await layoutProblems(c, { action, text: inCall ? '#call-scroll' : null, noPageScroll: inCall, ...CARE });
        problems.push(...found.map((p) => `${name} ${size.width}×${size.height} care: ${p}`));
        await shot(c, `phone-${name}-${size.width}-care`);
      }
      await c.click('#care');
      await c.waitForSelector('html:not(.care)');
      await c.setViewportSize(PHONES[0]);
    }
    try {
      await c.goto('/');
      await c.waitForSelector('[data-view=login]:not([hidden])');
      await check('login', { action: '#login-send', inCall: false });
      await loginCitizen(w);
      await check('home', { action: '#go-book', inCall: false });
      await loginOfficer(w);
      const slot = await freeSlot(w);
      assert.ok(slot, 'a free slot in the next days');
      // Each booking step, its one primary action on screen (the switch keeps the choices).
      await fillUrgentBooking(w, slot, { onStep: (_p, n) => check(`booking-${n}`, { action: n === 4 ? '#bk-submit' : '#bk-next', inCall: false }) });
      await c.waitForSelector('[data-view=home]:not([hidden]) #booking-status', { timeout: 15_000 });
      const bookingId = await c.getAttribute('[data-booking-id]', 'data-booking-id');
      await check('booked', { action: '#go-wait', inCall: false });

      // The waiting room says what happens next, to which (masked) phone, and asks only for the code.
      await c.click('#go-wait');
      await c.waitForSelector('#wait-next[data-state=waiting]');
      const masked = `${w.phone.slice(0, 3)}****${w.phone.slice(7)}`;
      assert.ok((await c.textContent('#wait-next')).includes(`民警开始办理后会向 ${masked} 发送验证码`), await c.textContent('#wait-next'));
      const inputs = await c.$$eval('[data-view=wait] input', (is) => is.filter((i) => i.offsetParent).map((i) => i.id));
      assert.deepEqual(inputs, ['join-code'], 'the code is the only thing asked (the SMS carries nothing else)');
      await check('wait', { action: '#join-submit', inCall: false });
      // The device check goes back to the waiting room.
      await c.click('#wait-test');
      await c.waitForSelector('[data-view=test]:not([hidden])');
      await check('device-check', { action: '#test-start', inCall: false });
      await c.click('[data-view=test] [data-back]');
      await c.waitForSelector('[data-view=wait]:not([hidden])');
      // The officer opens the hearing: the page says the code is on its way; its input has the focus.
      await claimAndOpen(w, bookingId);
      await c.waitForSelector('#wait-next[data-state=opened]', { timeout: 10_000 });
      assert.ok((await c.textContent('#wait-next')).includes(masked));
      assert.equal(await c.evaluate(() => document.activeElement?.id), 'join-code', 'the code input has the focus');
      await check('wait-opened', { action: '#join-submit', inCall: false });
      await o.click('#send-code');
      const sms = await w.server.waitForCode(w.phone, 2);
      assert.doesNotMatch(sms.text || '', /编号/, 'the SMS carries the code only');
      // The waiting room learns that the code went out, and when.
      await c.waitForSelector('#wait-next[data-state=sent]', { timeout: 10_000 });
      assert.match(await c.textContent('#wait-next'), new RegExp(`已于 \\d{1,2}:\\d{2} 发送至 ${masked.replace(/\*/g, '\\*')}`));
      await check('wait-sent', { action: '#join-submit', inCall: false });
      await c.fill('#join-code', sms.code);
      await c.click('#join-submit');
      await c.waitForSelector('[data-view=call]:not([hidden])');

      await c.waitForSelector('#id-name, #identity-given', { timeout: 15_000 });
      await check('identity', { action: (await c.$('#id-save')) ? '#id-save' : null, stage: 'identity' });
      await identityStep(o, c);
      await o.waitForSelector('#step-card[data-step=inquiry]');
      await o.fill('#qa-a1', '是本人驾驶。');
      await o.fill('#qa-a2', '无异议。');
      await o.click('#inq-submit');

      await c.waitForSelector('#tr-list dt', { timeout: 15_000 });
      await check('transcript', { action: '#tr-accept', stage: 'inquiry' });
      assert.ok(await c.isVisible('#action-bar #tr-sig'), 'the signature pad is in the action bar');
      await signTranscript(c);

      await o.waitForSelector('#step-card[data-step=notice]', { timeout: 15_000 });
      await o.fill('#not-rec-0-time', '2026-11-01 08:31');
      await o.fill('#not-rec-0-place', '经十路与舜耕路路口');
      await o.fill('#not-rec-0-behaviour', '机动车违反信号灯通行');
      await o.click('#not-submit');
      await c.waitForSelector('#ack-notice', { timeout: 15_000 });
      await check('notice', { action: '#ack-notice', stage: 'notice' });
      // On a desktop the same screen holds too.
      await c.setViewportSize({ width: 1280, height: 800 });
      await c.waitForTimeout(250);
      problems.push(...(await layoutProblems(c, { action: '#ack-notice', text: '#call-scroll', noPageScroll: true })).map((p) => `notice 1280×800: ${p}`));
      await shot(c, 'desktop-notice-1280');
      await c.setViewportSize(PHONES[0]);
      // The legal text scrolls inside its box; the action stays where it is.
      const before = await c.evaluate(() => document.querySelector('#ack-notice').getBoundingClientRect().top);
      await c.evaluate(() => document.querySelector('#call-scroll').scrollTo(0, 10_000));
      const after = await c.evaluate(() => ({ top: document.querySelector('#ack-notice').getBoundingClientRect().top, page: window.scrollY }));
      assert.equal(after.top, before, 'the action does not move when the text scrolls');
      assert.equal(after.page, 0, 'the page itself does not scroll');
      // The step's status message is a line in the action bar, not a toast over the text.
      assert.equal(await c.evaluate(() => !!document.querySelector('#action-bar #toast.toast-inline')), true, 'the toast lives in the action bar');
      await c.click('#ack-notice');

      await c.waitForSelector('#st-waive', { timeout: 15_000 });
      await check('statement', { action: '#st-waive', stage: 'statement' });
      // 离开通话 during the hearing asks first; saying no stays in the call.
      c.removeAllListeners('dialog');
      const asked = [];
      c.on('dialog', (d) => {
        asked.push(d.message());
        d.dismiss();
      });
      await c.click('#call-leave');
      await c.waitForTimeout(300);
      assert.equal(asked.length, 1, 'leaving asks for confirmation');
      assert.match(asked[0], /中断/);
      assert.ok(await c.isVisible('[data-view=call]'), 'still in the call after saying no');
      c.removeAllListeners('dialog');
      c.on('dialog', (d) => d.accept());
      await c.click('#st-waive');

      await o.waitForSelector('#rul-submit', { timeout: 15_000 });
      await o.click('#rul-submit');
      await c.waitForSelector('#conf-accept', { timeout: 15_000 });
      await check('confirmation', { action: '#conf-accept', stage: 'confirmation' });
      await c.check('#conf-consent');
      await drawSignature(c, '#conf-sig');
      await c.click('#conf-accept');

      await o.waitForSelector('#srv-submit', { timeout: 15_000 });
      await o.click('#srv-submit');
      await c.waitForSelector('#receipt-ack', { timeout: 15_000 });
      await check('receipt', { action: '#receipt-ack', stage: 'service' });
      await drawSignature(c, '#rc-sig');
      await c.click('#receipt-ack');

      await c.waitForSelector('[data-view=decision]:not([hidden]) #decision-fields', { timeout: 15_000 });
      const front = await c.$$eval('#decision-fields dd', (ds) => ds.map((d) => d.dataset.field));
      const fold = await c.$$eval('#doc-verify dd', (ds) => ds.map((d) => d.dataset.field));
      for (const k of ['party', 'fine_yuan', 'pay_by', 'review_days', 'litigation_months']) assert.ok(front.includes(k), `${k} in front: ${front}`);
      for (const k of ['sha256', 'audit_checkpoint', 'hearing_id']) assert.ok(fold.includes(k) && !front.includes(k), `${k} behind the fold: ${fold}`);
      assert.equal(await c.getAttribute('#doc-verify', 'open'), null, 'the fold starts closed');
      await check('decision', { inCall: false });
      await c.click('#doc-verify summary');
      await c.waitForSelector('#decision-verify dd[data-field=sha256]');
      await check('decision-verify', { inCall: false });
      assert.equal(await c.getAttribute('#doc-verify', 'open'), '', 'the fold stays open across the language switch');
      // The rules catch what they are meant to: a too-wide line, a small button, an action off screen.
      await c.evaluate(() => document.querySelector('#doc-body').append(Object.assign(document.createElement('div'), { id: 'too-wide', style: 'width:900px;height:10px' }), Object.assign(document.createElement('button'), { id: 'too-small', textContent: 'x', style: 'min-height:0;padding:0' })));
      const caught = await layoutProblems(c, { action: '#doc-home' });
      for (const want of [/page is \d+px wide/, /div#too-wide/, /button#too-small/, /#doc-home is off screen/]) assert.ok(caught.some((p) => want.test(p)), `${want} in ${caught.join(' | ')}`);
    } finally {
      await w.close();
    }
    assert.deepEqual(problems, [], problems.join('\n'));
  });
});
