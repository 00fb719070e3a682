// The mini program's way into the call (issue 19 §1): the mini program, signed in, asks the
// server for a one-time web ticket and opens the H5 page with it in a web-view. Here a fresh
// phone page (no session of its own) is opened at `/?ticket=…`: it redeems the ticket, takes it
// out of the address at once, lands in the hearing's waiting room without typing the hearing,
// and joins the call with the SMS code. The same ticket opened again is refused in plain words.
// In the call, the two parties write to each other (issue 14 §4): each message shows on both
// pages only once the server has sealed it, and counts on the closed panel's button. When the
// call is over the page goes back to the mini program (wx.miniProgram.navigateBack).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { shot, phoneContext, watch, staffHeaders } from '../lib/browser.mjs';
import { world, api, loginCitizen, loginOfficer, freeSlot, bookUrgent, claimAndOpen } from '../lib/journey.mjs';

const T = { timeout: 240_000 };

describe('the web ticket of the mini program', { concurrency: 1 }, () => {
  it('opens the waiting room of its hearing once, joins with the code, and is refused the second time', T, async () => {
    const w = await world();
    try {
      await loginCitizen(w);
      await loginOfficer(w);
      const slot = await freeSlot(w);
      assert.ok(slot, 'a free slot');
      const hearingId = await claimAndOpen(w, await bookUrgent(w, slot));
      // The mini program's session (here: the signed-in phone page's) asks for a ticket.
      const token = await w.citizen.evaluate(() => localStorage.getItem('rh.token.citizen'));
      const minted = await api(w.server, `/api/v1/hearings/${hearingId}/web-ticket`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
      assert.equal(minted.status, 200, JSON.stringify(minted.body));
      const url = `/?ticket=${minted.body.ticket}`;

      // The web-view: WeChat's user agent says `miniProgram`; WeChat's JS-SDK is stood in for
      // by a script that records the page's wx.miniProgram calls.
      const ctx = await phoneContext(w.browser, w.server.url, {
        userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 MicroMessenger/8.0.50 NetType/WIFI Language/zh_CN miniProgram/wx0123456789abcdef',
      });
      await ctx.route('https://res.wx.qq.com/**', (r) =>
        r.fulfill({ contentType: 'application/javascript', body: 'window.wx = { miniProgram: { navigateBack: (o) => { window.__mpBack = o; } } };' }),
      );
      const p = await ctx.newPage();
      watch(p, 'web-view', w.errors);
      await p.goto(url);
      await p.waitForSelector('[data-view=wait]:not([hidden])');
      assert.ok(!p.url().includes('ticket'), `the ticket left the address: ${p.url()}`);
      assert.ok(p.url().includes(`hearing=${hearingId}`), p.url());
      assert.equal(await p.isVisible('#join-hearing-box'), false, 'nothing to type');
      assert.notEqual(await p.evaluate(() => localStorage.getItem('rh.token.citizen')), token, 'a session of its own');
      await shot(p, 'citizen-ticket-waiting');
      await w.officerPage.click('#send-code');
      const { code } = await w.server.waitForCode(w.phone, 2);
      await p.fill('#join-code', code);
      await p.click('#join-submit');
      await p.waitForSelector('[data-view=call]:not([hidden])');
      await w.officerPage.waitForFunction(() => document.querySelector('#hr-status')?.textContent.length > 0);
      const hr = await api(w.server, `/api/v1/hearings/${hearingId}`, { headers: { Authorization: `Bearer ${token}` } });
      assert.equal(hr.body.citizen_joined, true, `the citizen joined: ${JSON.stringify(hr.body)}`);

      // Text in the call: the citizen writes; the officer's closed panel counts it; the reply.
      const o = w.officerPage;
      await o.click('#join-call');
      // Both on the call (the chat goes to the seats connected when it is sealed).
      await o.waitForSelector('#call-box .call-state[data-state=connected]', { timeout: 20_000 });
      await p.waitForSelector('#call-box .call-state[data-state=connected]', { timeout: 20_000 });
      await p.click('.chat-toggle');
      await p.fill('.chat-input', '我听不清，请打字。');
      await p.click('.chat-form button[type=submit]');
      await p.waitForSelector('.chat-log li.chat-mine:has-text("我听不清，请打字。")');
      assert.equal(await p.inputValue('.chat-input'), '', 'cleared once sealed');
      await o.waitForFunction(() => /文字 \(1\)/.test(document.querySelector('.chat-toggle')?.textContent || ''), null, { timeout: 15_000 });
      await o.click('.chat-toggle');
      await o.waitForSelector('.chat-log li.chat-theirs:has-text("我听不清，请打字。")');
      await o.fill('.chat-input', '好的，我会打字说明每一步。');
      await o.click('.chat-form button[type=submit]');
      await p.waitForSelector('.chat-log li.chat-theirs:has-text("好的，我会打字说明每一步。")');
      const seqs = await p.$$eval('.chat-log li', (lis) => lis.map((li) => Number(li.dataset.seq)));
      assert.ok(seqs.length === 2 && seqs[0] > 0 && seqs[1] > seqs[0], `sealed in order: ${seqs}`);
      await shot(p, 'citizen-call-chat');
      await shot(o, 'officer-call-chat');

      // The call is over (the officer interrupts it): the web-view goes back to the mini program.
      const stop = await api(w.server, `/api/v1/hearings/${hearingId}/interrupt`, {
        method: 'POST',
        headers: { ...(await staffHeaders(o)), 'Content-Type': 'application/json' },
        body: JSON.stringify({ reason: 'technical_failure' }),
      });
      assert.equal(stop.status, 200, JSON.stringify(stop.body));
      await p.waitForFunction(() => window.__mpBack, null, { timeout: 20_000 });
      assert.deepEqual(await p.evaluate(() => window.__mpBack), { delta: 1 });

      // Used once: a second web-view with the same address gets plain words and the login.
      const again = await (await phoneContext(w.browser, w.server.url)).newPage();
      await again.goto(url);
      await again.waitForSelector('[data-view=login]:not([hidden])');
      await again.waitForFunction(() => /只能使用一次/.test(document.querySelector('#toast')?.textContent || ''));
      assert.ok(!again.url().includes('ticket'), again.url());
    } finally {
      await w.close();
    }
  });
});
