// Starts the real server binary for the end-to-end tests: a fresh data dir, a unique Redis prefix
// (and a private redis-server when none answers), `demo` + `admin` commands, `serve` on port 0,
// and the SMS outbox file for the codes.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { randomBytes } from 'node:crypto';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export function binaryPath() {
  if (process.env.RH_BIN) return process.env.RH_BIN;
  const target = process.env.CARGO_TARGET_DIR || join(repoRoot, 'target');
  return join(target, 'debug', 'remote-hearing');
}

function canConnect(host, port) {
  return new Promise((res) => {
    const s = net.connect({ host, port }, () => {
      s.destroy();
      res(true);
    });
    s.on('error', () => res(false));
    s.setTimeout(1000, () => {
      s.destroy();
      res(false);
    });
  });
}

export function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}

async function ensureRedis() {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, stop() {} };
  if (await canConnect('127.0.0.1', 6379)) return { url: 'redis://127.0.0.1:6379', stop() {} };
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    if (await canConnect('127.0.0.1', port)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url: `redis://127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') };
}

/** `env`: extra environment for every command (e.g. RH_HEARING__NO_SHOW_WAIT_S); `args`: extra
 * arguments for every command (e.g. `--config FILE`); `serveEnv`: extra environment of `serve` only;
 * `peerEnv`: start a second process too, with this extra environment instead. */
export async function startServer({ log = false, env: extraEnv = {}, args = [], serveEnv = {}, peerEnv = null } = {}) {
  const bin = binaryPath();
  if (!existsSync(bin)) throw new Error(`server binary not found at ${bin}: run cargo build (or set RH_BIN)`);
  const dataDir = mkdtempSync(join(tmpdir(), 'rh-e2e-'));
  const redis = await ensureRedis();
  const env = {
    ...process.env,
    REDIS_URL: redis.url,
    RH_REDIS__PREFIX: `e2e-${randomBytes(6).toString('hex')}`,
    // Port 0: several servers (and the developer's own) never fight over the metrics port.
    RH_OPS__LISTEN: '127.0.0.1:0',
    RUST_LOG: process.env.RUST_LOG || 'warn',
    ...extraEnv,
  };
  if (process.env.E2E_WEB_DIR) env.RH_SERVER__WEB_DIR = join(repoRoot, 'web');
  const common = ['--data-dir', dataDir, ...args];

  const run = (args, input) => {
    const r = spawnSync(bin, args, { env, input, encoding: 'utf8', timeout: 60000 });
    if (r.status !== 0) throw new Error(`remote-hearing ${args.join(' ')} failed (${r.status}): ${r.stderr || r.stdout}`);
    return r.stdout;
  };
  const lastLine = (out) => out.trim().split('\n').pop().trim();

  // The demo users, then a brigade open every day around the clock so that the test finds a slot
  // whenever it runs, with an officer of its own.
  const demoOut = run(['demo', ...common]);
  const demo = {};
  for (const line of demoOut.split('\n')) {
    const [k, a, b] = line.trim().split(/\s+/);
    if (k === 'brigade') demo.brigade = a;
    if (k === 'officer') demo.officer = { badge: a, password: b };
    if (k === 'auditor') demo.auditor = { badge: a, password: b };
  }
  const admin = (args, input) => lastLine(run(['admin', ...args, ...common], input));
  // The facts a brigade's decision documents name (the service step refuses without them).
  const decisionFacts = (brigade) =>
    run(['decision', 'facts', '--brigade', brigade, '--doc-code', `端到端${brigade.replace(/-/g, '').slice(-12)}决字`,
      '--review-body', '测试市公安局', '--court', '测试市历下区人民法院', '--pay-place', '交管12123 App 或测试市工商银行各网点', ...common]);

  const node = await serve(bin, common, { ...env, ...serveEnv }, log);
  // `peerEnv`: a second process on the same data directory, database and Redis prefix (the
  // scale-out of docs/architecture.md), with its own extra environment (node id and URL).
  const peer = peerEnv ? await serve(bin, common, { ...env, ...peerEnv }, log) : null;
  const url = node.url;
  const output = () => node.output() + (peer ? peer.output() : '');

  return {
    url,
    dataDir,
    demo,
    admin,
    decisionFacts,
    output,
    /** The second process (`peerEnv`), or null: `{ url, output() }`. */
    peer,
    /** The newest SMS sent to `phone` (11 digits) after line `afterLine` of the outbox. */
    outbox() {
      const f = join(dataDir, 'sms-outbox.jsonl');
      if (!existsSync(f)) return [];
      return readFileSync(f, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
    },
    async waitForCode(phone, count) {
      for (let i = 0; i < 100; i++) {
        const msgs = this.outbox().filter((m) => String(m.to).endsWith(phone) && m.code);
        if (msgs.length >= count) return { code: String(msgs[count - 1].code), text: msgs[count - 1].text };
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`no SMS code #${count} for ${phone} in the outbox`);
    },
    async stop() {
      await Promise.all([node.stop(), peer?.stop()]);
      redis.stop();
      if (!process.env.E2E_KEEP) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** `serve` on a free loopback port: `{ child, url, output(), stop() }` once it prints its address. */
async function serve(bin, common, env, log) {
  const child = spawn(bin, ['serve', '--listen', '127.0.0.1:0', ...common], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const url = await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`server did not print its address in 60 s:\n${output}`)), 60000);
    const onData = (d) => {
      output += d;
      if (log) process.stderr.write(d);
      const m = /listening on (http:\/\/[^\s]+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        res(m[1].replace(/\/$/, ''));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`server exited (${code}):\n${output}`));
    });
  });
  const more = (d) => {
    output += d;
  };
  child.stdout.on('data', more);
  child.stderr.on('data', more);
  const stop = () =>
    new Promise((r) => {
      if (child.exitCode !== null) return r();
      const t = setTimeout(() => {
        child.kill('SIGKILL');
        r();
      }, 5000);
      child.on('exit', () => {
        clearTimeout(t);
        r();
      });
      child.kill('SIGTERM');
    });
  return { child, url, output: () => output, stop };
}
