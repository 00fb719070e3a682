// Others in the room (issue 19 §2) in Chromium: the officer adds a sign-language interpreter on
// the hearing page (添加参与人), sends the interpreter's own SMS code and admits them from the
// waiting list; the interpreter opens the citizen's H5 page with their link, enters the code,
// waits, and joins the call (no step actions). Citizen, officer and interpreter are in one call;
// the hearing runs to the served decision, the call ends, the interpreter's own recording is
// listed with the hearing's sealed recordings, the auditor's bundle carries their admission and
// their recorded files, and the decision names them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { shot, phoneContext, watch } from '../lib/browser.mjs';
import { world, loginCitizen, loginOfficer, freeSlot, bookUrgent, claimAndOpen, joinWithCode, stepsToStatement, waiveToDecision } from '../lib/journey.mjs';

const T = { timeout: 300_000 };
const officerApi = (w, path) => w.officerPage.evaluate((p) => window.__rh.api.get(p), path);

describe('a sign-language interpreter in the hearing', { concurrency: 1 }, () => {
  it('is added, gets their code, waits, is admitted, joins the call and is recorded', T, async () => {
    const w = await world();
    try {
      await loginCitizen(w);
      await loginOfficer(w);
      const slot = await freeSlot(w);
      assert.ok(slot, 'a free slot');
      const hearingId = await claimAndOpen(w, await bookUrgent(w, slot));
      const o = w.officerPage;
      // 添加参与人
      const phone = `137${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
      await o.waitForSelector('#pt-form');
      await o.selectOption('#pt-role', 'interpreter');
      await o.fill('#pt-name', '李手语');
      await o.fill('#pt-phone', phone);
      await o.fill('#pt-language', 'sign');
      await o.click('#pt-form button[type=submit]');
      await o.waitForSelector('#pt-list li[data-status=added]');
      const pid = await o.getAttribute('#pt-list li[data-status=added]', 'data-participant');
      await o.click('#pt-list li button[data-action=sms-code]');
      const { code } = await w.server.waitForCode(phone, 1);
      await shot(o, 'officer-participant-added');

      // The interpreter's phone: their link, their code, the waiting line.
      const p = await (await phoneContext(w.browser, w.server.url)).newPage();
      watch(p, 'interpreter', w.errors);
      await p.goto(`/?hearing=${encodeURIComponent(hearingId)}&participant=${encodeURIComponent(pid)}`);
      await p.waitForSelector('[data-view=participant]:not([hidden])');
      await p.fill('#pt-code', code);
      await p.click('#pt-join button[type=submit]');
      await p.waitForFunction(() => /等待民警准许/.test(document.querySelector('#pt-status')?.textContent || ''));
      await shot(p, 'interpreter-waiting');

      // The officer admits from the waiting list (the list refreshes with the room).
      await o.waitForSelector('#pt-list li[data-status=waiting] button[data-action=admit]', { timeout: 20_000 });
      await o.click('#pt-list li[data-status=waiting] button[data-action=admit]');
      await p.waitForSelector('#pt-call .call-state[data-state=connected]', { timeout: 30_000 });
      assert.equal(await p.$('#step-card'), null, 'no step actions on the participant page');

      // The citizen and the officer join; the procedure runs with the interpreter in the call.
      await joinWithCode(w, 2);
      await stepsToStatement(w);
      await shot(p, 'interpreter-in-call');
      await waiveToDecision(w);
      await o.waitForFunction(() => document.querySelector('#hr-status')?.dataset.status === 'completed', null, { timeout: 20_000 });
      // The decision names the interpreter.
      const fields = await officerApi(w, `hearings/${encodeURIComponent(hearingId)}/decision?format=json`);
      assert.ok(
        fields.participants.some((x) => x.role === 'interpreter' && x.kind === 'sign' && x.name === '李手语'),
        JSON.stringify(fields.participants),
      );
      await shot(w.citizen, 'citizen-decision-with-interpreter');

      // The call ended: the interpreter's own tracks are among the sealed recordings.
      let recs = [];
      for (let i = 0; i < 150; i++) {
        recs = await officerApi(w, `hearings/${encodeURIComponent(hearingId)}/recordings`);
        if (recs.some((r) => r.participant === 'interpreter' && r.format === 'webm')) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(recs.some((r) => r.participant === 'interpreter' && r.format === 'webm'), JSON.stringify(recs));
      const hr = await officerApi(w, `hearings/${encodeURIComponent(hearingId)}`);
      const names = hr.events.map((e) => e.step);
      for (const s of ['participant_added', 'participant_joined', 'participant_admitted', 'recordings_sealed']) {
        assert.ok(names.includes(s), `${s} in ${names}`);
      }
      const list = await officerApi(w, `hearings/${encodeURIComponent(hearingId)}/participants`);
      assert.equal(list[0].status, 'admitted');
      // The auditor's bundle: the interpreter's admission and recorded files are sealed in it.
      const login = await fetch(`${w.server.url}/api/v1/auth/officer`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(w.server.demo.auditor),
      });
      assert.equal(login.status, 200);
      const auth = { Authorization: `Bearer ${(await login.json()).token}` };
      const bundle = await (await fetch(`${w.server.url}/api/v1/audit/hearings/${hearingId}/bundle`, { headers: auth })).json();
      const steps = bundle.entries.map((e) => e.step);
      assert.ok(steps.includes('participant_admitted'), steps.join(' '));
      const sealedIds = new Set(bundle.recordings.map((r) => r.id));
      const theirs = recs.filter((r) => r.participant === 'interpreter');
      assert.ok(theirs.length >= 2 && theirs.every((r) => sealedIds.has(r.id)), JSON.stringify({ theirs, sealed: [...sealedIds] }));
    } finally {
      await w.close();
    }
  });
});
