// Link quality (issue 14 §2, docs/call.md "Link quality") through the real pages: in a call on
// loopback the officer's hearing room shows the server's figures for both parties (round trip,
// loss, kbit/s both ways) with level good and no "网络较差" alert; the citizen's page never gets a
// `link` frame; a poor frame raises the alert; the officer's list shows the case's link pill from
// the `link` events.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { shot } from '../lib/browser.mjs';
import { world, loginCitizen, loginOfficer, freeSlot, bookUrgent, claimAndOpen, joinWithCode } from '../lib/journey.mjs';

const T = { timeout: 240_000 };

describe('the officer sees each party’s link', { concurrency: 1 }, () => {
  it('figures from the server, level good on loopback, none at the citizen, a pill in the list', T, async () => {
    const w = await world({ env: { RH_CALL__LINK__SAMPLE_EVERY_S: '1' } });
    try {
      const c = w.citizen;
      const o = w.officerPage;
      await loginCitizen(w);
      await loginOfficer(w);
      const slot = await freeSlot(w);
      if (!slot) throw new Error('no free slot in the next days');
      const bookingId = await bookUrgent(w, slot);
      await claimAndOpen(w, bookingId);
      await joinWithCode(w, 2);
      await o.click('#join-call');
      // The citizen's call counts any link frame it would get (none may come).
      await c.waitForFunction(() => window.__rhCall, null, { timeout: 20_000 });
      await c.evaluate(() => {
        window.__links = 0;
        window.__rhCall.addEventListener('link', () => window.__links++);
      });
      // Chromium's estimate ramps up over a few seconds; the level follows with hysteresis.
      const row = '#link-box tr[data-role=citizen][data-level=good]';
      // read in one go: the table is drawn again on every frame; the round trip needs the
      // receiver's first report on the stream sent to it, which may come after the level
      const got = await o.waitForFunction(
        (sel) => {
          const tr = document.querySelector(sel);
          const cells = tr ? [...tr.querySelectorAll('td')].map((td) => td.textContent) : null;
          return cells && /^\d+ ms$/.test(cells[0]) ? cells : null;
        },
        row,
        { timeout: 60_000, polling: 200 },
      );
      const cells = await got.jsonValue();
      await o.waitForSelector('#link-box tr[data-role=officer]', { timeout: 20_000 });
      const rtt = Number(/^(\d+) ms$/.exec(cells[0])?.[1]);
      assert.ok(rtt >= 1 && rtt < 500, `a measured round trip: ${cells}`);
      assert.match(cells[1], /^\d+(\.\d)? %$/, `loss in %: ${cells}`);
      const [, kin, kout] = /↑(\d+) ↓(\d+) kbit\/s/.exec(cells[2]) || [];
      assert.ok(Number(kin) > 50 && Number(kout) > 50, `media both ways: ${cells}`);
      await o.waitForSelector('#link-alert', { state: 'hidden', timeout: 30_000 }); // none on loopback
      assert.equal(await o.getAttribute('#link-alert', 'role'), 'alert');
      assert.match(await o.textContent('#link-box h2'), /通话网络/);
      await shot(o, 'officer-call-link-stats');
      // A poor frame (as the server sends it for a seat on a bad link) raises the alert; the
      // interpreter's seat gets no real frames here, so it stays.
      await o.evaluate(() =>
        window.__rhCall.onFrame({ type: 'link', role: 'interpreter', rtt_ms: 620, loss_pct: 9.5, kbps_in: 80, kbps_out: 300, audio_only: true, level: 'poor' }),
      );
      await o.waitForSelector('#link-alert:not([hidden])');
      assert.match(await o.textContent('#link-alert'), /网络较差：翻译/);
      assert.equal(await o.getAttribute('#link-box tr[data-role=interpreter]', 'data-level'), 'poor');
      await shot(o, 'officer-call-link-poor-alert');
      // In English, the same panel and alert.
      await o.click('#lang');
      await o.waitForFunction(() => /Call network/.test(document.querySelector('#link-box h2')?.textContent || ''));
      assert.match(await o.textContent('#link-alert'), /^Poor network: Interpreter\./);
      await shot(o, 'officer-call-link-poor-alert-en');
      await o.click('#lang');
      assert.equal(await c.evaluate(() => window.__links), 0, 'the citizen got no link frame');
      assert.equal(await c.$('#link-box'), null);
      // Back to the list: the case in the call has its link pill (from the dashboard events).
      await o.click('#hr-back');
      await o.waitForSelector(`.link-bit[data-booking="${bookingId}"] .link-level`, { timeout: 40_000 });
      assert.match(await o.textContent(`.link-bit[data-booking="${bookingId}"]`), /当事人网络\s*(良好|一般|网络较差)/);
      await shot(o, 'officer-dash-link-pill');
    } finally {
      await w.close();
    }
  });
});
