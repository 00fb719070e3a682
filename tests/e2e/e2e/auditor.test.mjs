// The auditor's page at 1440×900, in zh and en (issue 21 "The auditor", issue 18 §4): the list
// comes from the server's search one page at a time (next page: other hearings, none twice), a
// search by plate narrows it to the one hearing, opening it shows its summary (brigade, officer by
// name and badge, plate) and one green verdict line in Chinese with the check rows folded until
// asked for; the zh/en switch keeps the result (no second verification). Layout rules of
// lib/layout.mjs on every view; screenshots under artifacts/screenshots/.
// More hearings than one page are written straight into the server's SQLite file (sqlite3); with
// no sqlite3 or another database the paging part is skipped (the integration tests page on both).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { desktopContext, watch, shot } from '../lib/browser.mjs';
import { layoutProblems } from '../lib/layout.mjs';
import { world, loginCitizen, loginOfficer, freeSlot, bookUrgent, claimAndOpen } from '../lib/journey.mjs';

const T = { timeout: 300_000 };
let w;
let a;
const s = {};

/** `n` closed hearings of the world's brigade and officer, with plates 鲁A100xx; true when written. */
function seed(n) {
  if (process.env.DATABASE_URL) return false;
  const rows = [];
  const base = Date.now() - 10 * 86400000;
  for (let i = 0; i < n; i++) {
    const id = `seed-h-${String(i).padStart(3, '0')}`;
    const start = base + i * 3600000;
    const plate = `鲁A100${String(i).padStart(2, '0')}`;
    rows.push(
      `INSERT INTO citizens (id, phone, created_at) VALUES ('seed-c-${i}', '1370000${String(i).padStart(4, '0')}', 0);`,
      `INSERT INTO bookings (id, citizen_id, brigade_id, slot_start, slot_end, slot_date, status, phone, plate, owner, violations, unhandled_count, current_points, urgent, created_at, updated_at) VALUES ('seed-b-${i}', 'seed-c-${i}', '${w.brigade}', ${start}, ${start + 3600000}, '${new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date(start))}', 'completed', '13700000000', '${plate}', 1, '[]', 1, 0, 0, 0, 0);`,
      `INSERT INTO hearings (id, booking_id, brigade_id, citizen_id, officer_id, phone, status, outcome, slot_start, slot_end, opened_at, closed_at, updated_at) SELECT '${id}', 'seed-b-${i}', '${w.brigade}', 'seed-c-${i}', id, '13700000000', 'completed', 'completed', ${start}, ${start + 3600000}, ${start}, ${start + 3600000}, ${start} FROM staff WHERE badge = '${w.officer.badge}';`,
    );
  }
  const r = spawnSync('sqlite3', ['-cmd', '.timeout 5000', join(w.server.dataDir, 'remote-hearing.db')], { input: `BEGIN;\n${rows.join('\n')}\nCOMMIT;\n`, encoding: 'utf8' });
  if (r.error || r.status !== 0) return false;
  return true;
}

async function layoutOk(page, what) {
  const problems = await layoutProblems(page);
  assert.deepEqual(problems, [], `${what}: ${problems.join('; ')}`);
}

async function toLang(page, lang) {
  if ((await page.getAttribute('html', 'lang')) !== lang) {
    await page.click('#lang');
    await page.waitForSelector(`html[lang="${lang}"]`);
  }
}

const rowIds = () => a.$$eval('#list tr[data-hearing-id]', (rs) => rs.map((r) => r.dataset.hearingId));

describe('the auditor page', { concurrency: 1 }, () => {
  before(async () => {
    w = await world();
    s.auditor = { badge: `AUDL${Date.now() % 1e5}`, password: 'auditor-pass-1' };
    w.server.admin(['create-user', '--role', 'auditor', '--badge', s.auditor.badge, '--name', '测试审计员', '--password-stdin'], s.auditor.password + '\n');
  });
  after(async () => {
    await w?.close();
  });

  it('a real hearing is opened (citizen books, officer opens)', T, async () => {
    await loginCitizen(w);
    await loginOfficer(w);
    const slot = await freeSlot(w);
    assert.ok(slot, 'a free slot');
    const bookingId = await bookUrgent(w, slot);
    s.hearingId = await claimAndOpen(w, bookingId);
    s.seeded = seed(24);
  });

  it('lists hearings a page at a time, in zh and en, within the layout rules', T, async (t) => {
    if (!s.hearingId) return t.skip('needs the hearing');
    a = await (await desktopContext(w.browser, w.server.url)).newPage();
    watch(a, 'auditor', w.errors);
    await a.goto('/auditor/');
    await a.waitForSelector('[data-view=login]:not([hidden])');
    await a.fill('#login-badge', s.auditor.badge);
    await a.fill('#login-password', s.auditor.password);
    await a.click('#login-form button[type=submit]');
    await a.waitForSelector(`#list tr[data-hearing-id="${s.hearingId}"]`);
    await a.waitForSelector('#log-state[data-ok]');
    // The newest slot first: the real hearing (today or later) heads the list.
    const first = await rowIds();
    assert.equal(first[0], s.hearingId);
    const row = await a.textContent(`#list tr[data-hearing-id="${s.hearingId}"]`);
    for (const want of ['结果测试大队', '测试民警', `警号 ${w.officer.badge}`, '鲁B54321']) assert.ok(row.includes(want), `row shows ${want}: ${row}`);
    await layoutOk(a, 'list (zh)');
    await shot(a, 'auditor-list-zh');
    if (!s.seeded) {
      t.diagnostic('no sqlite3 (or not SQLite): one page only');
      assert.equal(first.length, 1);
      return;
    }
    assert.equal(first.length, 20, 'a page holds 20');
    assert.ok(await a.isVisible('#list-next'));
    assert.ok(!(await a.isVisible('#list-prev')));
    await a.click('#list-next');
    await a.waitForFunction(() => /第 2 页/.test(document.querySelector('#list-count').textContent));
    const second = await rowIds();
    assert.equal(second.length, 5, 'the other 5 of 25');
    assert.deepEqual(second.filter((id) => first.includes(id)), [], 'no hearing twice');
    assert.ok(!(await a.isVisible('#list-next')));
    await toLang(a, 'en');
    await a.waitForFunction(() => /Page 2/.test(document.querySelector('#list-count').textContent));
    assert.deepEqual(await rowIds(), second, 'the switch keeps the page');
    await layoutOk(a, 'list page 2 (en)');
    await shot(a, 'auditor-list-page2-en');
    await a.click('#list-prev');
    await a.waitForFunction(() => /Page 1/.test(document.querySelector('#list-count').textContent));
    assert.deepEqual(await rowIds(), first);
    await toLang(a, 'zh-CN');
  });

  it('a search by plate narrows the list to the one hearing', T, async (t) => {
    if (!a) return t.skip('needs the list');
    await a.fill('#f-plate', '鲁b54321');
    await a.click('#f-search');
    await a.waitForFunction(() => document.querySelectorAll('#list tr[data-hearing-id]').length === 1);
    assert.deepEqual(await rowIds(), [s.hearingId]);
    await layoutOk(a, 'search result (zh)');
    await shot(a, 'auditor-search-zh');
    // A plate of nobody: no rows, said in words.
    await a.fill('#f-plate', '鲁Z99999');
    await a.click('#f-search');
    await a.waitForSelector('#list p.muted');
    assert.match(await a.textContent('#list'), /没有符合条件的记录/);
    // A bad plate: the server's 422 named in words, the list kept.
    await a.fill('#f-plate', 'XX');
    await a.click('#f-search');
    await a.waitForSelector('#list-err:not([hidden])');
    assert.match(await a.textContent('#list-err'), /号牌/);
    await a.click('#f-clear');
    await a.waitForSelector('#list-err', { state: 'hidden' });
    await a.waitForSelector(`#list tr[data-hearing-id="${s.hearingId}"]`);
  });

  it('opening the hearing shows its summary and one green verdict line; details on demand; the switch keeps it', T, async (t) => {
    if (!a) return t.skip('needs the list');
    await a.click(`#list tr[data-hearing-id="${s.hearingId}"] a`);
    await a.waitForSelector('[data-view=hearing]:not([hidden])');
    await a.waitForSelector('#verify-result #verdict[data-ok]');
    assert.equal(await a.getAttribute('#verdict', 'data-ok'), 'true', await a.textContent('#verify-result'));
    assert.match(await a.textContent('#verdict'), /^✓ 核验通过/);
    // The check rows are folded: present, not shown, until the auditor asks.
    const rows = await a.$$eval('#verify-result li[data-check]', (ls) => ls.length);
    assert.ok(rows >= 5, `${rows} check rows`);
    assert.equal(await a.$$eval('#verify-result li[data-ok=false]', (ls) => ls.length), 0);
    assert.ok(!(await a.isVisible('#verify-result li[data-check]')));
    // Actors by name and badge, never the officer's id.
    const summary = await a.textContent('#hr-summary');
    for (const want of ['结果测试大队', '测试民警', w.officer.badge, '鲁B54321', '未作出决定书']) assert.ok(summary.includes(want), `summary shows ${want}: ${summary}`);
    const timeline = await a.textContent('#timeline');
    assert.ok(timeline.includes('测试民警'), timeline);
    const officerId = await a.evaluate(() => window.__rh.cur.detail.hearing.officer.id);
    assert.ok(!timeline.includes(officerId), 'no staff id in the timeline');
    await layoutOk(a, 'hearing (zh)');
    await shot(a, 'auditor-hearing-zh');
    await a.click('#verify-result summary');
    await a.waitForSelector('#verify-result li[data-check]', { state: 'visible' });
    await layoutOk(a, 'hearing with details (zh)');
    await shot(a, 'auditor-hearing-details-zh');
    // The switch writes the same result in English: no new verification, the fold stays open.
    const bundles = [];
    a.on('request', (r) => r.url().includes('/bundle') && bundles.push(r.url()));
    await toLang(a, 'en');
    await a.waitForFunction(() => /^✓ Verified/.test(document.querySelector('#verdict').textContent));
    assert.equal(bundles.length, 0, 'the switch does not fetch or verify again');
    assert.ok(await a.isVisible('#verify-result li[data-check]'));
    assert.match(await a.textContent('#hr-summary'), /No decision issued/);
    await layoutOk(a, 'hearing (en)');
    await shot(a, 'auditor-hearing-en');
    await toLang(a, 'zh-CN');
    assert.match(await a.textContent('#verdict'), /^✓ 核验通过/);
    assert.deepEqual(w.errors.filter((e) => e.startsWith('auditor') && !/→ 4\d\d|Failed to load resource/.test(e)), [], w.errors.join('\n'));
  });
});
