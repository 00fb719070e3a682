// A tile per other seat (issue 19, docs/call.md "Seats"): citizen and officer in a two-party call
// see one unlabelled tile; when the officer admits a sign-language interpreter, the citizen's
// phone (390×844) plays the interpreter's video on the main tile and the officer's on a small one, the
// officer's desk (1440×900) plays the citizen and the interpreter, the interpreter's page plays
// both; a supervisor gets a tile on the officer's and the interpreter's page, none on the
// citizen's; a tap makes the officer the citizen's main tile; when the interpreter leaves, their
// tile goes from both pages. Frames are counted on each tile's own <video>.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { shot, phoneContext, watch } from '../lib/browser.mjs';
import { axeViolations, describeViolations, SERIOUS } from '../lib/a11y.mjs';
import { world, loginCitizen, loginOfficer, freeSlot, bookUrgent, claimAndOpen, joinWithCode } from '../lib/journey.mjs';

const T = { timeout: 300_000 };

/** The officer adds a participant and sends their code; their phone enters it and waits. */
async function participantWaiting(w, hearingId, role, name) {
  const o = w.officerPage;
  const phone = `137${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
  await o.waitForSelector('#pt-form');
  await o.selectOption('#pt-role', role);
  await o.fill('#pt-name', name);
  await o.fill('#pt-phone', phone);
  if (role === 'interpreter') await o.fill('#pt-language', 'sign');
  await o.click('#pt-form button[type=submit]');
  await o.waitForSelector('#pt-list li[data-status=added]');
  const pid = await o.getAttribute('#pt-list li[data-status=added]', 'data-participant');
  await o.click(`#pt-list li[data-participant="${pid}"] button[data-action=sms-code]`);
  const { code } = await w.server.waitForCode(phone, 1);
  const p = await (await phoneContext(w.browser, w.server.url)).newPage();
  watch(p, role, w.errors);
  await p.setViewportSize({ width: 390, height: 844 });
  await p.goto(`/?hearing=${encodeURIComponent(hearingId)}&participant=${encodeURIComponent(pid)}`);
  await p.fill('#pt-code', code);
  await p.click('#pt-join button[type=submit]');
  await p.waitForFunction(() => /等待民警准许/.test(document.querySelector('#pt-status')?.textContent || ''));
  return { p, pid };
}

/** The officer admits the participant `pid` from the waiting list; their page connects. */
async function admit(w, { p, pid }) {
  const btn = `#pt-list li[data-participant="${pid}"][data-status=waiting] button[data-action=admit]`;
  await w.officerPage.waitForSelector(btn, { timeout: 20_000 });
  await w.officerPage.click(btn);
  await p.waitForSelector('#pt-call .call-state[data-state=connected]', { timeout: 30_000 });
}

/** Waits until the page's tile of `role` is shown and its own video decodes new frames. */
async function plays(page, role, who) {
  const frames = () =>
    page.evaluate((r) => {
      const tile = document.querySelector(`.stage .tile[data-role=${r}]:not([hidden])`);
      const v = tile?.querySelector('video');
      if (!v || !v.videoWidth || v.srcObject !== window.__rhCall?.streams.get(r)) return -1;
      return v.getVideoPlaybackQuality().totalVideoFrames;
    }, role);
  let first = -1;
  for (let i = 0; i < 150 && first <= 0; i++) {
    first = await frames();
    if (first <= 0) await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(first > 0, `${who}: the ${role} tile plays (frames ${first})`);
  let later = first;
  for (let i = 0; i < 50 && later <= first; i++) {
    await new Promise((r) => setTimeout(r, 200));
    later = await frames();
  }
  assert.ok(later > first, `${who}: the ${role} tile keeps decoding (${first} → ${later})`);
}

const tiles = (page) =>
  page.evaluate(() => ({
    count: document.querySelector('.stage[data-tiles]')?.dataset.tiles,
    shown: [...document.querySelectorAll('.stage .tile:not([hidden])')].map((t) => ({
      role: t.dataset.role,
      main: t.classList.contains('tile-main'),
      label: getComputedStyle(t.querySelector('.tile-label')).display !== 'none' ? t.querySelector('.tile-label').textContent : null,
    })),
  }));

describe('a tile per seat', { concurrency: 1 }, () => {
  it('one tile for two, a tile for the interpreter on every page while they are in the call', T, async () => {
    const w = await world();
    try {
      const c = w.citizen;
      const o = w.officerPage;
      await c.setViewportSize({ width: 390, height: 844 });
      await loginCitizen(w);
      await loginOfficer(w);
      const slot = await freeSlot(w);
      assert.ok(slot, 'a free slot');
      const hearingId = await claimAndOpen(w, await bookUrgent(w, slot));
      const interpreter = await participantWaiting(w, hearingId, 'interpreter', '李手语');
      const p = interpreter.p;

      // Two parties: exactly one tile, unlabelled, as before there were seats.
      await joinWithCode(w, 2);
      if (!(await o.$('.peer-video'))) await o.click('#join-call');
      await plays(c, 'officer', 'citizen');
      await plays(o, 'citizen', 'officer');
      assert.deepEqual(await tiles(c), { count: '1', shown: [{ role: 'officer', main: true, label: null }] });
      assert.deepEqual(await tiles(o), { count: '1', shown: [{ role: 'citizen', main: true, label: null }] });

      // The officer admits the interpreter: a tile appears on the citizen's and the officer's page.
      await admit(w, interpreter);
      await plays(c, 'interpreter', 'citizen');
      await plays(c, 'officer', 'citizen');
      await plays(o, 'citizen', 'officer');
      await plays(o, 'interpreter', 'officer');
      await plays(p, 'citizen', 'interpreter');
      await plays(p, 'officer', 'interpreter');
      // The citizen's main tile is the interpreter (a deaf citizen reads the signs), the officer small.
      assert.deepEqual(await tiles(c), {
        count: '2',
        shown: [
          { role: 'officer', main: false, label: '民警' },
          { role: 'interpreter', main: true, label: '翻译' },
        ],
      });
      assert.deepEqual((await tiles(o)).shown.map((t) => [t.role, t.main]), [['citizen', true], ['interpreter', false]]);
      // The officer's line about the citizen still speaks of the citizen.
      await o.waitForSelector('#citizen-state[data-key="o.hr.citizenJoined"]');
      // Every tile lies inside the stage and no small tile covers the self view or the call bar.
      const laidOut = (page) =>
        page.evaluate(() => {
          const stage = document.querySelector('.stage[data-tiles]').getBoundingClientRect();
          const self = document.querySelector('.self-video').getBoundingClientRect();
          const bar = document.querySelector('.callview .call-bar')?.getBoundingClientRect();
          const meets = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
          const out = [];
          for (const t of document.querySelectorAll('.stage .tile-small:not([hidden])')) {
            const r = t.getBoundingClientRect();
            if (r.left < stage.left || r.right > stage.right + 0.5 || r.top < stage.top || r.bottom > stage.bottom + 0.5) out.push(`${t.dataset.role} outside`);
            if (meets(r, self)) out.push(`${t.dataset.role} on the self view`);
            if (bar && meets(r, bar)) out.push(`${t.dataset.role} on the call bar`);
          }
          return out;
        });
      for (const page of [c, o, p]) assert.deepEqual(await laidOut(page), []);
      await shot(c, 'tiles-citizen-phone-3');
      await shot(o, 'tiles-officer-desk-3');
      await shot(p, 'tiles-interpreter-phone-3');
      // axe finds nothing serious with three tiles; in English the labels follow.
      for (const page of [c, o]) {
        const bad = (await axeViolations(page)).filter((v) => SERIOUS.has(v.impact));
        assert.deepEqual(bad, [], describeViolations(bad));
      }
      await c.click('#lang');
      await c.waitForSelector('html[lang=en]');
      assert.deepEqual((await tiles(c)).shown.map((t) => t.label), ['Officer', 'Interpreter']);
      assert.equal(await c.getAttribute('.stage .tile[data-role=officer]', 'aria-label'), 'Officer (video): tap to enlarge');
      await c.click('#lang');
      await c.waitForSelector('html[lang=zh-CN]');
      // The same in the care mode (larger text, a smaller stage).
      await c.click('#care');
      await c.waitForSelector('html.care');
      await shot(c, 'tiles-citizen-phone-3-care');
      assert.deepEqual(await laidOut(c), []);
      await c.click('#care');

      // A supervisor (法制员) joins: a third small tile on the officer's desk and the interpreter's
      // page, none on the citizen's phone, which has no media slot for it either.
      const supervisor = await participantWaiting(w, hearingId, 'supervisor', '王法制');
      await admit(w, supervisor);
      await plays(o, 'supervisor', 'officer');
      await plays(p, 'supervisor', 'interpreter');
      await plays(supervisor.p, 'citizen', 'supervisor');
      await plays(supervisor.p, 'interpreter', 'supervisor');
      assert.deepEqual((await tiles(o)).shown.map((t) => [t.role, t.main]), [['citizen', true], ['interpreter', false], ['supervisor', false]]);
      for (const page of [o, p, supervisor.p]) assert.deepEqual(await laidOut(page), []);
      await shot(o, 'tiles-officer-desk-4');
      assert.deepEqual((await tiles(c)).shown.map((t) => t.role), ['officer', 'interpreter']);
      assert.equal(await c.$('.stage .tile[data-role=supervisor]'), null);
      assert.ok(!(await c.evaluate(() => window.__rhCall.streams.has('supervisor'))), 'no supervisor stream on the citizen');
      await supervisor.p.click('#pt-leave');
      await o.waitForFunction(() => document.querySelector('.stage[data-tiles]')?.dataset.tiles === '2', null, { timeout: 20_000 });

      // A tap on the officer's small tile makes it the citizen's main one (the main tile takes no tap).
      await c.click('.stage .tile[data-role=interpreter]');
      await c.click('.stage .tile[data-role=officer]');
      assert.deepEqual((await tiles(c)).shown.map((t) => [t.role, t.main]), [['officer', true], ['interpreter', false]]);
      await plays(c, 'interpreter', 'citizen');
      await shot(c, 'tiles-citizen-phone-officer-main');

      // The interpreter leaves: their tile goes from both pages, one tile is left.
      await p.click('#pt-leave');
      for (const page of [c, o]) {
        await page.waitForFunction(() => document.querySelector('.stage[data-tiles]')?.dataset.tiles === '1', null, { timeout: 20_000 });
      }
      assert.deepEqual(await tiles(c), { count: '1', shown: [{ role: 'officer', main: true, label: null }] });
      assert.deepEqual(await tiles(o), { count: '1', shown: [{ role: 'citizen', main: true, label: null }] });
      await o.waitForSelector('#citizen-state[data-key="o.hr.citizenJoined"]');
      assert.deepEqual(w.errors.filter((e) => /pageerror/.test(e)), []);
    } finally {
      await w.close();
    }
  });
});
