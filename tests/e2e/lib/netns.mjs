// Chromium in Linux network namespaces (issue 14): the emulated network of one browser call, the
// server binary and coturn on the server side, Chromium launched inside the citizen's namespace,
// join tokens, and link impairment for the weak-link benchmark. `cleanup()` deletes everything it
// made; it also runs on process exit so a failed test leaves no namespace behind.
//
// Topology (n = slot): citizen ns `rhbc<n>` 10.241.n.2 — impair ns `rhbi<n>` (plain forwarding;
// rate with tbf, loss with iptables statistic, delay/jitter with the TUN relay
// scripts/impair-relay.py) — router ns `rhbr<n>` (iptables MASQUERADE) — veth `rhbh<n>` in the root
// namespace 10.243.n.1, where the server, coturn and the officer's Chromium run.
// Needs root, `ip`, `iptables`, `tc` (and `turnserver` for TURN). Chromium in a namespace is
// started through a wrapper script (`ip netns exec <ns> chromium "$@"`) given to playwright as
// its executable: playwright talks to it over --remote-debugging-pipe, file descriptors that
// `ip netns exec` passes on, so no debugging port has to cross the namespaces.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, chmodSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import net from 'node:net';
import { chromium } from 'playwright-core';
import { CHROMIUM, shot } from './browser.mjs';
import { binaryPath, repoRoot } from './server.mjs';

export const TOKEN_KEY = 'netns-e2e-token-key';
export const TURN_SECRET = 'netns-e2e-turn-secret';

function sh(args, { check = true } = {}) {
  const r = spawnSync(args[0], args.slice(1), { encoding: 'utf8' });
  if (check && r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr || r.stdout}`);
  return r;
}

/** Why the namespace browser tests cannot run here, or null. */
export function unavailable({ turn = false } = {}) {
  if (process.getuid && process.getuid() !== 0) return 'not root';
  for (const t of ['ip', 'iptables', 'tc', ...(turn ? ['turnserver'] : [])]) {
    if (spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0) return `\`${t}\` is missing (scripts/deps.sh netns)`;
  }
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is missing`;
  return null;
}

/** The join token the server verifies (`call::tokens`: v1.<b64url claims>.<b64url HMAC-SHA256>). */
export function joinToken(hearing, role, key = TOKEN_KEY) {
  const claims = { h: hearing, r: role, p: `${role}-${hearing}`, e: Date.now() + 3_600_000, n: randomBytes(8).toString('hex') };
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const tag = createHmac('sha256', key).update(`v1.${body}`).digest('base64url');
  return `v1.${body}.${tag}`;
}

const live = new Set();
process.on('exit', () => {
  for (const n of live) n.cleanupSync();
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    for (const n of live) n.cleanupSync();
    process.exit(130);
  });
}

export class Net {
  constructor(slot) {
    this.n = ((process.pid * 3 + slot) % 200) + 20;
    const n = this.n;
    this.c = `rhbc${n}`;
    this.i = `rhbi${n}`;
    this.r = `rhbr${n}`;
    this.h = `rhbh${n}`;
    this.dir = mkdtempSync(join(tmpdir(), 'rh-netns-'));
    this.children = [];
    this.browsers = [];
    this.cleanupSync(); // leftovers of a killed earlier run with the same numbers
    live.add(this);
    const ex = (ns, ...cmd) => sh(['ip', 'netns', 'exec', ns, ...cmd]);
    for (const ns of [this.c, this.i, this.r]) {
      sh(['ip', 'netns', 'add', ns]);
      ex(ns, 'ip', 'link', 'set', 'lo', 'up');
    }
    // citizen — impair
    sh(['ip', 'link', 'add', `rhbc${n}`, 'netns', this.c, 'type', 'veth', 'peer', 'name', `rhbl${n}`, 'netns', this.i]);
    // impair — router
    sh(['ip', 'link', 'add', `rhbw${n}`, 'netns', this.i, 'type', 'veth', 'peer', 'name', `rhbm${n}`, 'netns', this.r]);
    // router — root
    sh(['ip', 'link', 'add', this.h, 'type', 'veth', 'peer', 'name', `rhbu${n}`, 'netns', this.r]);
    ex(this.c, 'ip', 'addr', 'add', `10.241.${n}.2/24`, 'dev', `rhbc${n}`);
    ex(this.c, 'ip', 'link', 'set', `rhbc${n}`, 'up');
    ex(this.c, 'ip', 'route', 'add', 'default', 'via', `10.241.${n}.1`);
    ex(this.i, 'ip', 'addr', 'add', `10.241.${n}.1/24`, 'dev', `rhbl${n}`);
    ex(this.i, 'ip', 'addr', 'add', `10.242.${n}.2/24`, 'dev', `rhbw${n}`);
    ex(this.i, 'ip', 'link', 'set', `rhbl${n}`, 'up');
    ex(this.i, 'ip', 'link', 'set', `rhbw${n}`, 'up');
    ex(this.i, 'ip', 'route', 'add', 'default', 'via', `10.242.${n}.1`);
    ex(this.i, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
    ex(this.r, 'ip', 'addr', 'add', `10.242.${n}.1/24`, 'dev', `rhbm${n}`);
    ex(this.r, 'ip', 'addr', 'add', `10.243.${n}.2/24`, 'dev', `rhbu${n}`);
    ex(this.r, 'ip', 'link', 'set', `rhbm${n}`, 'up');
    ex(this.r, 'ip', 'link', 'set', `rhbu${n}`, 'up');
    ex(this.r, 'ip', 'route', 'add', `10.241.${n}.0/24`, 'via', `10.242.${n}.2`);
    ex(this.r, 'ip', 'route', 'add', 'default', 'via', `10.243.${n}.1`);
    ex(this.r, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
    ex(this.r, 'iptables', '-t', 'nat', '-A', 'POSTROUTING', '-o', `rhbu${n}`, '-j', 'MASQUERADE');
    sh(['ip', 'addr', 'add', `10.243.${n}.1/24`, 'dev', this.h]);
    sh(['ip', 'link', 'set', this.h, 'up']);
    // the root namespace routes nothing to the citizen's private range: only the NAT reaches it
  }

  get serverIp() {
    return `10.243.${this.n}.1`;
  }
  get citizenIp() {
    return `10.241.${this.n}.2`;
  }

  exec(ns, ...cmd) {
    return sh(['ip', 'netns', 'exec', ns, ...cmd]);
  }

  /** The router drops every UDP datagram it would forward (a network that blocks UDP). */
  blockUdp() {
    this.exec(this.r, 'iptables', '-A', 'FORWARD', '-p', 'udp', '-j', 'DROP');
  }

  /** Link impairment between the citizen and the router, both directions.
   * rateKbit: tbf on both egress sides; lossPct: iptables statistic DROP in FORWARD (each
   * direction); delayMs/jitterMs: added round trip (half each way) and per-packet extra delay up
   * to jitterMs each way, by the TUN relay (FIFO, no reordering). */
  impair({ rateKbit = 0, lossPct = 0, delayMs = 0, jitterMs = 0 } = {}) {
    const n = this.n;
    for (const dev of [`rhbl${n}`, `rhbw${n}`]) {
      if (rateKbit) {
        // burst: ~10 ms of the rate but at least a few MTUs; queue: 300 ms of packets
        const burst = Math.max(6000, Math.round((rateKbit * 1000) / 8 / 100));
        this.exec(this.i, 'tc', 'qdisc', 'replace', 'dev', dev, 'root', 'tbf', 'rate', `${rateKbit}kbit`, 'burst', String(burst), 'latency', '300ms');
      }
    }
    if (lossPct) {
      // on the way out of the link interfaces only: with the relay a packet is forwarded twice
      // (into the TUN device, then out), and a rule on FORWARD alone would drop it twice as often
      for (const dev of [`rhbl${n}`, `rhbw${n}`]) {
        this.exec(this.i, 'iptables', '-A', 'FORWARD', '-o', dev, '-m', 'statistic', '--mode', 'random', '--probability', String(lossPct / 100), '-j', 'DROP');
      }
    }
    if (delayMs || jitterMs) {
      const ex = (...cmd) => this.exec(this.i, ...cmd);
      ex('ip', 'tuntap', 'add', 'dev', 'rhbt', 'mode', 'tun');
      ex('ip', 'link', 'set', 'rhbt', 'up');
      for (const k of ['all', 'default', `rhbl${n}`, `rhbw${n}`, 'rhbt']) ex('sysctl', '-qw', `net.ipv4.conf.${k}.rp_filter=0`);
      ex('ip', 'route', 'add', 'default', 'dev', 'rhbt', 'table', '100');
      ex('ip', 'rule', 'add', 'iif', `rhbl${n}`, 'lookup', '100');
      ex('ip', 'rule', 'add', 'iif', `rhbw${n}`, 'lookup', '100');
      const relay = spawn('ip', ['netns', 'exec', this.i, '/usr/bin/python3', join(repoRoot, 'scripts', 'impair-relay.py'),
        '--dev', 'rhbt', '--down-net', `10.241.${n}.0/24`, '--delay-ms', String(delayMs / 2), '--jitter-ms', String(jitterMs)],
      { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      relay.stderr.on('data', (d) => (err += d));
      relay.on('exit', (c) => c && process.stderr.write(`impair-relay exited ${c}: ${err}\n`));
      this.children.push(relay);
    }
  }

  /** Cut the citizen's link completely (both directions) or restore it. */
  outage(on) {
    this.exec(this.i, 'iptables', on ? '-I' : '-D', 'FORWARD', '-j', 'DROP');
  }

  async startCoturn() {
    const c = spawn('turnserver', ['-n', '--no-tls', '--no-dtls', '--no-cli', '--fingerprint', `--listening-ip=${this.serverIp}`,
      `--relay-ip=${this.serverIp}`, '--listening-port=3478', '--use-auth-secret', '--realm=rh.test',
      `--static-auth-secret=${TURN_SECRET}`, `--pidfile=${this.dir}/turn.pid`, '--log-file=stdout', '--simple-log'], { stdio: 'ignore' });
    this.children.push(c);
    for (let k = 0; k < 100; k++) {
      if (await canConnect(this.serverIp, 3478)) return;
      await sleep(50);
    }
    throw new Error('coturn did not start');
  }

  /** The server binary on the root namespace's veth address; returns its http://host:port. */
  async startServer(env = {}) {
    const data = join(this.dir, 'data');
    const child = spawn(binaryPath(), ['serve', '--listen', `${this.serverIp}:0`, '--data-dir', data], {
      env: {
        ...process.env,
        RH_REDIS__PREFIX: `netns-e2e:${randomBytes(6).toString('hex')}`,
        RH_CALL__TOKEN_KEY: TOKEN_KEY,
        RH_OPS__LISTEN: '127.0.0.1:0',
        RH_CALL__BIND_IPS: JSON.stringify([this.serverIp]),
        RH_SERVER__WEB_DIR: join(repoRoot, 'web'),
        RUST_LOG: process.env.RUST_LOG || 'warn',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.children.push(child);
    this.dataDir = data;
    let out = '';
    this.serverLog = () => out;
    const url = await new Promise((res, rej) => {
      const t = setTimeout(() => rej(new Error(`server did not start:\n${out}`)), 60000);
      const on = (d) => {
        out += d;
        const m = /listening on (http:\/\/[^\s]+)/.exec(out);
        if (m) {
          clearTimeout(t);
          res(m[1].replace(/\/$/, ''));
        }
      };
      child.stdout.on('data', on);
      child.stderr.on('data', on);
      child.on('exit', (c) => rej(new Error(`server exited ${c}:\n${out}`)));
    });
    this.url = url;
    return url;
  }

  /** Chromium with the fake camera and microphone, in namespace `ns` (null: the root one). */
  async browser(ns) {
    let exe = CHROMIUM;
    if (ns) {
      exe = join(this.dir, `chromium-${ns}.sh`);
      writeFileSync(exe, `#!/bin/sh\nexec ip netns exec ${ns} ${CHROMIUM} "$@"\n`);
      chmodSync(exe, 0o755);
    }
    const b = await chromium.launch({
      executablePath: exe,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
        '--autoplay-policy=no-user-gesture-required', `--unsafely-treat-insecure-origin-as-secure=${this.url}`,
        // mDNS host candidates would hide the addresses the test looks at
        '--disable-features=WebRtcHideLocalIpsWithMdns'],
    });
    this.browsers.push(b);
    return b;
  }

  /** A page on the server's origin running web/shared/call.js for `role` of `hearing`
   * (window.call: the CallSession). */
  async callPage(browser, hearing, role) {
    const page = await (await browser.newContext()).newPage();
    page.on('pageerror', (e) => process.stderr.write(`[${role} page] ${e}\n`));
    await page.goto(`${this.url}/officer/`, { waitUntil: 'domcontentloaded' });
    await page.evaluate(async ({ hearing, token }) => {
      const m = await import('/shared/call.js');
      const local = await m.getLocalMedia();
      const call = new m.CallSession({ hearingId: hearing, joinToken: token, localStream: local });
      window.call = call;
      // play what arrives (Chromium counts audio samples and concealment only for played audio)
      call.addEventListener('remote', (ev) => {
        let v = document.querySelector('video#remote');
        if (!v) {
          v = document.createElement('video');
          v.id = 'remote';
          v.autoplay = true;
          document.body.append(v);
        }
        if (v.srcObject !== ev.detail.stream) v.srcObject = ev.detail.stream;
        v.play().catch(() => {});
      });
      call.start();
    }, { hearing, token: joinToken(hearing, role) });
    return page;
  }

  /** The citizen's H5 page on a phone viewport, signed in with the console SMS code (a fresh phone). */
  async citizenPage(browser) {
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
    const page = await ctx.newPage();
    page.on('pageerror', (e) => process.stderr.write(`[citizen page] ${e}\n`));
    const phone = `139${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
    const pending = new Set();
    page.on('request', (r) => pending.add(r.url()));
    page.on('requestfinished', (r) => pending.delete(r.url()));
    page.on('requestfailed', (r) => pending.delete(r.url()));
    await page.goto(`${this.url}/`);
    // Once (CI, 2026-12-05) the page loaded in its namespace and its login view never showed, for
    // a reason not found; a second failed load still fails the test, and the first one leaves
    // a screenshot and the requests it was waiting for.
    try {
      await page.waitForSelector('[data-view=login]:not([hidden])', { timeout: 15_000 });
    } catch {
      process.stderr.write(`[citizen page] no login view after 15 s; pending: ${[...pending].join(' ') || 'none'}; loading it again\n`);
      await shot(page, 'netns-citizen-no-login-view').catch(() => {});
      await page.reload();
      await page.waitForSelector('[data-view=login]:not([hidden])');
    }
    await page.fill('#login-phone', phone);
    await page.click('#login-send');
    const outbox = join(this.dataDir, 'sms-outbox.jsonl');
    let code = null;
    for (let i = 0; i < 100 && !code; i++) {
      if (existsSync(outbox)) {
        const m = readFileSync(outbox, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((x) => String(x.to).endsWith(phone) && x.code);
        code = m ? String(m.code) : null;
      }
      if (!code) await sleep(100);
    }
    if (!code) throw new Error(`no SMS code for ${phone} in ${outbox}`);
    await page.fill('#login-code', code);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('[data-view=home]:not([hidden])');
    return page;
  }

  async cleanup() {
    for (const b of this.browsers.splice(0)) await b.close().catch(() => {});
    this.cleanupSync();
    live.delete(this);
    if (!process.env.E2E_KEEP) rmSync(this.dir, { recursive: true, force: true });
  }

  cleanupSync() {
    for (const c of this.children.splice(0)) {
      try {
        c.kill('SIGKILL');
      } catch {
        /* gone */
      }
    }
    for (const ns of [this.c, this.i, this.r]) sh(['ip', 'netns', 'del', ns], { check: false });
    sh(['ip', 'link', 'del', this.h], { check: false });
  }
}

/** The call's stats at a page: selected pair, inbound video/audio and outbound totals. */
export async function callStats(page) {
  return page.evaluate(async () => {
    const pc = window.call && window.call.pc;
    if (!pc) return null;
    const s = await pc.getStats();
    const r = { state: pc.connectionState, pair: null, video: null, audio: null, sentBytes: 0 };
    const byId = new Map();
    s.forEach((x) => byId.set(x.id, x));
    s.forEach((x) => {
      if (x.type === 'transport' && x.selectedCandidatePairId) {
        const p = byId.get(x.selectedCandidatePairId);
        const l = p && byId.get(p.localCandidateId);
        const rm = p && byId.get(p.remoteCandidateId);
        if (p) r.pair = { local: l && l.candidateType, localAddress: l && l.address, localProto: l && l.protocol, relayProto: l && l.relayProtocol, remote: rm && rm.candidateType, remoteAddress: rm && rm.address, rtt: p.currentRoundTripTime };
      }
      if (x.type === 'inbound-rtp' && x.kind === 'video') {
        r.video = { framesDecoded: x.framesDecoded || 0, bytes: x.bytesReceived || 0, freezeCount: x.freezeCount || 0, freezeS: x.totalFreezesDuration || 0, lost: x.packetsLost || 0, packets: x.packetsReceived || 0, fps: x.framesPerSecond || 0, width: x.frameWidth || 0 };
      }
      if (x.type === 'inbound-rtp' && x.kind === 'audio') {
        r.audio = { bytes: x.bytesReceived || 0, concealed: x.concealedSamples || 0, samples: x.totalSamplesReceived || 0, lost: x.packetsLost || 0 };
      }
      if (x.type === 'outbound-rtp') r.sentBytes += x.bytesSent || 0;
    });
    return r;
  });
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

function canConnect(host, port) {
  return new Promise((res) => {
    const s = net.connect({ host, port }, () => {
      s.destroy();
      res(true);
    });
    s.on('error', () => res(false));
  });
}

export { randomUUID };
