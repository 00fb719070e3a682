// The browser journey over HTTPS through nginx in front of two server processes (issue 15 §7):
// the shipped deploy/nginx/remote-hearing.conf terminates TLS with a certificate from a CA the
// test makes and its Chromium trusts; both processes share the data directory and Redis; the
// call's signalling goes through nginx's WebSocket upgrade (and, when the two sockets land on
// different processes, through the per-process route of the `wrong_node` redirect). The hearing
// runs to the served decision; the pages were a secure context throughout; both processes
// answered; the client address the server keeps is the one nginx saw, not a forged header.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { shot, framesDecoded } from '../lib/browser.mjs';
import { world, toStatement, waiveToDecision } from '../lib/journey.mjs';

const T = { timeout: 300_000 };

/** `fetch` in the page (the page trusts the test CA; node's fetch would not). */
const inPage = (page, path, init = {}) =>
  page.evaluate(
    async ([p, i]) => {
      const r = await fetch(p, i);
      return { status: r.status, body: await r.text() };
    },
    [path, init],
  );

describe('HTTPS through nginx in front of two processes', { concurrency: 1 }, () => {
  it('a hearing runs to the served decision over TLS, on both processes', T, async () => {
    const w = await world({ https: true });
    try {
      const { hearingId } = await toStatement(w);
      const c = w.citizen;
      const o = w.officerPage;
      for (const page of [c, o]) {
        const where = await page.evaluate(() => ({ proto: location.protocol, secure: window.isSecureContext }));
        assert.deepEqual(where, { proto: 'https:', secure: true });
      }
      // The call's media reached both sides while the signalling went through nginx (wss).
      const wsUrl = await c.evaluate(() => window.__rhCall?.ws?.url || '');
      assert.match(wsUrl, /^wss:\/\/localhost:\d+\//, wsUrl);
      await c.waitForFunction(() => window.__rhCall?.pc?.connectionState === 'connected', null, { timeout: 20_000 });
      for (const [who, page] of [['citizen', c], ['officer', o]]) {
        let frames = 0;
        for (let i = 0; i < 50 && frames < 10; i++) {
          frames = await framesDecoded(page);
          await new Promise((r) => setTimeout(r, 200));
        }
        assert.ok(frames >= 10, `${who} decoded ${frames} frames`);
      }

      await waiveToDecision(w);
      await shot(c, 'https-citizen-decision');
      const hr = await o.evaluate((id) => window.__rh.api.get(`hearings/${encodeURIComponent(id)}`), hearingId);
      assert.equal(hr.status, 'completed');

      // 我的数据: the citizen sees what is kept of this hearing and until when (issue 15 §3).
      await c.goto('/');
      await c.waitForSelector('[data-view=home]:not([hidden])');
      await c.click('#go-data');
      const card = `#data-list [data-hearing="${hearingId}"]`;
      await c.waitForSelector(card);
      const kept = await c.$$eval(`${card} dd[data-state]`, (dds) => dds.map((d) => [d.dataset.state, d.textContent]));
      assert.equal(kept.length, 2);
      for (const [state, text] of kept) {
        assert.equal(state, 'kept');
        assert.match(text, /^保存至 \d{4}\/\d{2}\/\d{2}/, text);
      }
      assert.match(await c.textContent('#data-rules'), /视频录像保存 183 天.*个人信息保存 365 天/);
      assert.match(await c.textContent('#data-identity'), /已登记/);
      await shot(c, 'citizen-my-data');

      // Both processes answered requests through the one front; the sockets were upgraded.
      const log = w.front.requests();
      const upstreams = new Set(log.filter((r) => r.path.startsWith('/api/')).map((r) => r.upstream));
      assert.deepEqual([...upstreams].sort(), [new URL(w.server.url).host, new URL(w.server.peer.url).host].sort(), 'both processes served the API');
      const upgrades = log.filter((r) => r.status === 101);
      assert.ok(upgrades.length >= 2, `WebSocket upgrades through nginx: ${JSON.stringify(upgrades)}`);
      console.log(`https: ${log.length} requests, ${upgrades.length} upgrades (${upgrades.filter((u) => u.path.startsWith('/node/')).length} through a node route)`);
      // Each process's own route reaches that process; /metrics is not on the public side.
      for (const [node, url] of [['hearing-1', w.server.url], ['hearing-2', w.server.peer.url]]) {
        assert.equal((await inPage(o, `/node/${node}/healthz`)).status, 200);
        const last = w.front.requests().filter((r) => r.path === `/node/${node}/healthz`).pop();
        assert.ok(last, JSON.stringify(w.front.requests().slice(-5)));
        assert.equal(last.upstream, new URL(url).host, `/node/${node}/ goes to that process`);
      }
      assert.equal((await inPage(o, '/metrics')).status, 404);

      // A forged X-Forwarded-For from the browser is not the address the server keeps.
      const login = await inPage(o, '/api/v1/auth/officer', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': '203.0.113.9' },
        body: JSON.stringify({ badge: w.officer.badge, password: w.officer.password }),
      });
      assert.equal(login.status, 200, login.body);
      const token = JSON.parse(login.body).token;
      const sessions = JSON.parse((await inPage(o, '/api/v1/auth/sessions', { headers: { Authorization: `Bearer ${token}` } })).body);
      const mine = sessions.find((s) => s.current);
      assert.equal(mine.ip_masked, '127.0.0.*', JSON.stringify(mine));
    } finally {
      await w.close();
    }
  });
});
