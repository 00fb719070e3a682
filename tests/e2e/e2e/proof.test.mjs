// Evidence in the citizen's hands and pinned trust (issue 13 §4 and §1), through the real pages
// against a server whose checkpoints two of our witness processes cosign: the citizen of a
// served hearing downloads its proof file from the decision view; the public /verify/ page (no
// login) turns it green — log signature, both cosignatures and the quorum, every entry, the
// record complete — and turns a copy with one changed byte red, naming the check. Then the
// auditor page pins the log and witness keys at first use, warns when they change, and turns
// red on a rollback and on a fork of the checkpoint it remembers (stored checkpoints signed here
// with the log's own key, as a server showing another history would).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binaryPath } from '../lib/server.mjs';
import { shot, phoneContext, desktopContext } from '../lib/browser.mjs';
import { world, toStatement, clickDownload, waiveToDecision } from '../lib/journey.mjs';
import { key, checkpointBody, logLine, note } from '../lib/notes.mjs';

const T = { timeout: 300_000 };
const ORIGIN = 'e2e.example/audit';
const bin = binaryPath();

/** `remote-hearing witness serve` on a free port: {vkey, url, stop}. */
function startWitness(dir, name, logVkey) {
  const keyFile = join(dir, `${name.replace(/\W/g, '_')}.key`);
  const kg = spawnSync(bin, ['witness', 'keygen', '--name', name, '--out', keyFile], { encoding: 'utf8' });
  if (kg.status !== 0) throw new Error(`witness keygen: ${kg.stderr}`);
  const child = spawn(bin, ['witness', 'serve', '--listen', '127.0.0.1:0', '--key', keyFile, '--state', join(dir, name.replace(/\W/g, '_')), '--log', logVkey], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error(`witness ${name} did not start: ${out}`)), 30_000);
    child.stdout.on('data', (d) => {
      out += d;
      const lines = out.split('\n');
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        res({ vkey: lines[0].trim(), url: m[1].replace(/\/$/, ''), stop: () => child.kill('SIGTERM') });
      }
    });
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (c) => rej(new Error(`witness ${name} exited ${c}: ${out}`)));
  });
}

let w;
let dir;
let logKey;
const witnesses = [];
const s = {};

describe('the citizen holds the proof; the pages pin their trust', { concurrency: 1 }, () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rh-e2e-proof-'));
    const logFile = join(dir, 'log.key');
    const kg = spawnSync(bin, ['keygen', '--name', ORIGIN, '--out', logFile], { encoding: 'utf8' });
    if (kg.status !== 0) throw new Error(`keygen: ${kg.stderr}`);
    logKey = key(ORIGIN, 1, logFile);
    for (const name of ['court.example/w1', 'notary.example/w2']) witnesses.push(await startWitness(dir, name, logKey.vkey));
    const toml = [
      '[audit]',
      `origin = "${ORIGIN}"`,
      `key_file = "${logFile}"`,
      'checkpoint_interval_ms = 200',
      'witness_quorum = 2',
      ...witnesses.flatMap((x) => ['[[audit.witnesses]]', `name = "${x.vkey.split('+')[0]}"`, `vkey = "${x.vkey}"`, `url = "${x.url}"`]),
    ].join('\n');
    writeFileSync(join(dir, 'config.toml'), toml + '\n');
    w = await world({ args: ['--config', join(dir, 'config.toml')] });
  });

  after(async () => {
    await w?.close();
    for (const x of witnesses) x.stop();
    if (dir && !process.env.E2E_KEEP) rmSync(dir, { recursive: true, force: true });
  });

  it('the citizen downloads the proof of the served hearing; /verify/ turns it green', T, async () => {
    const { hearingId } = await toStatement(w);
    s.hearingId = hearingId;
    const c = w.citizen;
    const o = w.officerPage;
    await waiveToDecision(w, '#doc-proof');

    // The proof is served to its citizen only: without a session 401.
    assert.equal((await fetch(`${w.server.url}/api/v1/hearings/${hearingId}/proof`)).status, 401);
    // Wait until both witnesses cosigned a checkpoint covering the closed hearing.
    const tok = await c.evaluate(() => localStorage.getItem('rh.token.citizen'));
    const cosigners = (b) => b.checkpoint.split('\n').filter((l) => /^\u2014 (court|notary)\.example\//.test(l)).length;
    let served;
    for (let i = 0; i < 150; i++) {
      served = await (await fetch(`${w.server.url}/api/v1/hearings/${hearingId}/proof`, { headers: { Authorization: `Bearer ${tok}` } })).json();
      if (cosigners(served) === 2 && served.entries.some((e) => e.step === 'hearing_closed')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(cosigners(served), 2, `the proof's checkpoint carries both cosignatures:\n${served.checkpoint}`);

    const dl = await clickDownload(c, '#doc-proof');
    const text = readFileSync(await dl.path(), 'utf8');
    const proof = JSON.parse(text);
    assert.equal(proof.hearing_id, hearingId);
    assert.equal(cosigners(proof), 2);
    assert.match(dl.suggestedFilename(), /\.json$/);
    s.proof = text;
    await shot(c, 'citizen-proof-offered');

    // The public page, in a fresh browser context: nobody signed in.
    const v = await (await phoneContext(w.browser, w.server.url)).newPage();
    s.verifyPage = v;
    await v.goto('/verify/');
    await v.waitForSelector('#trust-state[data-state=first]');
    assert.equal(await v.$$eval('#trust-keys li', (ls) => ls.length), 3, 'the log key and two witness keys, by fingerprint');
    await v.setInputFiles('#proof-file', { name: 'proof.json', mimeType: 'application/json', buffer: Buffer.from(text) });
    await v.waitForSelector('#verdict[data-ok]');
    const failed = await v.$$eval('#result li[data-ok=false]', (ls) => ls.map((l) => l.textContent));
    assert.deepEqual(failed, []);
    assert.equal(await v.getAttribute('#verdict', 'data-ok'), 'true');
    assert.match(await v.textContent('#verdict'), /核验通过/);
    assert.equal(await v.getAttribute('#completeness', 'data-complete'), 'true');
    assert.match(await v.textContent('#completeness'), /记录完整/);
    assert.deepEqual(await v.$$eval('#result li[data-check=witness]', (ls) => ls.map((l) => l.dataset.ok)), ['true', 'true']);
    assert.equal(await v.getAttribute('#result li[data-check=quorum]', 'data-ok'), 'true');
    await shot(v, 'verify-green');
    // A second visit: the pinned keys are the published ones.
    await v.reload();
    await v.waitForSelector('#trust-state[data-state=same]');
  });

  it('a proof file with one changed byte turns /verify/ red, naming the check', T, async (t) => {
    if (!s.proof) return t.skip('needs the downloaded proof');
    const v = s.verifyPage;
    const once = (text, at, by) => text.slice(0, at) + by + text.slice(at + 1);
    const cases = [];
    // A byte of an entry's payload (the terminal entry's outcome).
    const i = s.proof.indexOf('"completed"');
    assert.ok(i > 0);
    cases.push(['payload', once(s.proof, i + 2, 'C'), /内容未被改动/]);
    // A byte of the second witness's cosignature (base64 inside the checkpoint's last line).
    const cp = JSON.parse(s.proof).checkpoint;
    const last = cp.trimEnd().split('\n').pop();
    const j = s.proof.indexOf(last.slice(0, 40)) + 30;
    cases.push(['witness', once(s.proof, j, s.proof[j] === 'A' ? 'B' : 'A'), /见证方/]);
    // A byte of an inclusion proof hash.
    const k = s.proof.indexOf('"proof": [') + 20;
    cases.push(['inclusion', once(s.proof, k, s.proof[k] === 'A' ? 'B' : 'A'), /已收录在签名的日志中/]);
    for (const [check, bad, words] of cases) {
      assert.equal(bad.length, s.proof.length);
      await v.setInputFiles('#proof-file', { name: `tampered-${check}.json`, mimeType: 'application/json', buffer: Buffer.from(bad) });
      await v.waitForSelector(`#result p.small:has-text("tampered-${check}.json")`);
      assert.equal(await v.getAttribute('#verdict', 'data-ok'), 'false', check);
      const failed = await v.$$eval('#result li[data-ok=false]', (ls) => ls.map((l) => l.dataset.check));
      assert.ok(failed.includes(check), `${check}: failed checks ${failed}`);
      assert.match(await v.textContent('#verdict'), /核验未通过/);
      assert.match(await v.textContent('#verdict'), words, `the verdict names the failed check (${check})`);
      await shot(v, `verify-red-${check}`);
    }
    // In English too.
    await v.click('#lang');
    await v.waitForFunction(() => /NOT verified/.test(document.querySelector('#verdict').textContent));
  });

  it('the auditor page pins the keys, shows the log grew, and turns red on changed keys, a rollback and a fork', T, async (t) => {
    if (!s.hearingId) return t.skip('needs the served hearing');
    const auditor = { badge: `AUDP${Date.now() % 1e5}`, password: 'auditor-pass-1' };
    w.server.admin(['create-user', '--role', 'auditor', '--badge', auditor.badge, '--name', '测试审计员', '--password-stdin'], auditor.password + '\n');
    const a = await (await desktopContext(w.browser, w.server.url)).newPage();
    await a.goto('/auditor/');
    await a.waitForSelector('[data-view=login]:not([hidden])');
    await a.fill('#login-badge', auditor.badge);
    await a.fill('#login-password', auditor.password);
    await a.click('#login-form button[type=submit]');
    await a.waitForSelector('#log-state[data-ok]');
    assert.equal(await a.getAttribute('#keys-state', 'data-state'), 'first');
    assert.equal(await a.getAttribute('#log-state', 'data-kind'), 'first');
    assert.equal(await a.$$eval('#log-keys li', (ls) => ls.length), 3);
    await shot(a, 'auditor-pinned');

    const revisit = async () => {
      await a.reload();
      await a.waitForSelector('#log-state[data-ok]');
      return { keys: await a.getAttribute('#keys-state', 'data-state'), kind: await a.getAttribute('#log-state', 'data-kind'), ok: await a.getAttribute('#log-state', 'data-ok'), text: await a.textContent('#log-state') };
    };
    let r = await revisit();
    assert.equal(r.keys, 'same');
    assert.ok(['same', 'grew'].includes(r.kind), r.kind);

    // The hearing verifies green with the pinned keys and both witnesses, and reads complete.
    await a.goto(`/auditor/#hearing=${encodeURIComponent(s.hearingId)}`);
    await a.waitForSelector('[data-view=hearing]:not([hidden])');
    await a.click('#verify');
    await a.waitForSelector('#verify-result #verdict');
    for (let i = 0; i < 50 && (await a.getAttribute('#verify-result #verdict', 'data-ok')) !== 'true'; i++) {
      // The newest checkpoint may be seconds old and not cosigned yet: verify again.
      await new Promise((res) => setTimeout(res, 300));
      await a.click('#verify');
      await a.waitForSelector('#verify-result #verdict');
    }
    assert.equal(await a.getAttribute('#verify-result #verdict', 'data-ok'), 'true', await a.textContent('#verify-result'));
    assert.equal(await a.getAttribute('#verify-result #completeness', 'data-complete'), 'true');
    // The timeline names each terminal entry once: the first closes, a later one re-states.
    const closes = await a.$$eval('#timeline tr[data-step=hearing_closed] td:nth-child(2)', (tds) => tds.map((td) => td.textContent));
    assert.ok(closes.length >= 1, 'the timeline shows the terminal entry');
    assert.equal(closes[0], '办理结束');
    assert.equal(new Set(closes).size, Math.min(closes.length, 2), `labels: ${closes.join(' | ')}`);
    await shot(a, 'auditor-complete');
    // On a phone's width and in English (screenshots to look at), nothing scrolls sideways.
    const phones = [{ width: 390, height: 844 }, { width: 360, height: 640 }];
    const fits = async (size, name) => {
      await a.setViewportSize(size);
      const widths = await a.evaluate(() => {
        const tl = document.querySelector('#timeline');
        return { page: document.documentElement.scrollWidth, tl: tl.scrollWidth, tlBox: tl.clientWidth };
      });
      assert.ok(widths.page <= size.width, `page ${widths.page} px at ${size.width}`);
      assert.ok(widths.tl <= widths.tlBox, `timeline ${widths.tl} px in ${widths.tlBox}`);
      await shot(a, `${name}-${size.width}`);
    };
    for (const size of phones) await fits(size, 'auditor-complete-zh');
    await a.setViewportSize({ width: 1440, height: 900 });
    await a.click('#lang');
    await a.waitForSelector('html[lang="en"]');
    const closesEn = await a.$$eval('#timeline tr[data-step=hearing_closed] td:nth-child(2)', (tds) => tds.map((td) => td.textContent));
    assert.equal(closesEn[0], 'Hearing closed');
    if (closesEn.length > 1) assert.equal(closesEn[1], 'Hearing closedrestated after sealing');
    await shot(a, 'auditor-complete-en');
    for (const size of phones) await fits(size, 'auditor-complete-en');
    await a.setViewportSize({ width: 1440, height: 900 });
    await a.click('#lang');
    await a.waitForSelector('html[lang="zh-CN"]');
    await a.goto('/auditor/');

    // Changed keys: the page keeps the pinned (here: foreign) key and says so loudly.
    const pins = JSON.parse(await a.evaluate(() => localStorage.getItem('rh.trust.pins')));
    const foreign = key(ORIGIN, 1);
    await a.evaluate((p) => localStorage.setItem('rh.trust.pins', p), JSON.stringify({ ...pins, keys: [{ vkey: foreign.vkey, from_size: 0 }] }));
    r = await revisit();
    assert.equal(r.keys, 'changed');
    assert.equal(r.ok, 'false');
    assert.equal(r.kind, 'unsigned');
    assert.match(await a.textContent('#keys-state'), /警告/);
    await shot(a, 'auditor-keys-changed');
    await a.click('#keys-accept');
    await a.waitForSelector('#keys-state[data-state=same]');
    assert.equal(await a.getAttribute('#log-state', 'data-ok'), 'true');

    // Rollback: the remembered checkpoint (signed with the log's key) is larger than the served one.
    const served = await (await fetch(`${w.server.url}/api/v1/audit/checkpoint`)).text();
    const size = Number(served.split('\n')[1]);
    const remember = (n, root) => {
      const body = checkpointBody(ORIGIN, n, root);
      return a.evaluate((x) => localStorage.setItem('rh.trust.checkpoint', x), note(body, logLine(logKey, body)));
    };
    await remember(size + 100, Buffer.alloc(32, 7));
    r = await revisit();
    assert.deepEqual([r.ok, r.kind], ['false', 'rollback']);
    assert.match(r.text, /回滚/);
    await shot(a, 'auditor-rollback');

    // Fork: a remembered smaller tree with another root; the server's consistency proof cannot
    // lead from it to the served checkpoint.
    await remember(Math.max(1, size - 1), Buffer.alloc(32, 9));
    r = await revisit();
    assert.deepEqual([r.ok, r.kind], ['false', 'fork']);
    assert.match(r.text, /分叉/);
    await shot(a, 'auditor-fork');
    // Same size, another root: a fork too.
    const now = await (await fetch(`${w.server.url}/api/v1/audit/checkpoint`)).text();
    await remember(Number(now.split('\n')[1]), Buffer.alloc(32, 3));
    r = await revisit();
    assert.deepEqual([r.ok, r.kind], ['false', 'fork']);
  });
});
