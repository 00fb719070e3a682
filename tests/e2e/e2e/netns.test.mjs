// Chromium across emulated networks (issue 14 §1 (a) and (b)): the citizen's Chromium (fake
// camera) runs inside a network namespace behind a NAT router, the server, coturn and the
// officer's Chromium in the root namespace (lib/netns.mjs). Both pages run web/shared/call.js with
// real join tokens. (a) behind NAT: connected, video decoded and bytes received both ways; (b) the
// router drops forwarded UDP: with coturn over TCP the selected pair is the citizen's relay
// candidate (relayProtocol tcp) and media flows both ways.
// Needs root, ip, iptables, tc, turnserver; otherwise skipped — except under
// RH_NETNS_TESTS=require (.ci/run), where a missing piece fails the test.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { spawn } from 'node:child_process';
import { Net, unavailable, callStats, sleep, randomUUID, TURN_SECRET } from '../lib/netns.mjs';

const T = { timeout: 180_000 };

function skipReason(opts) {
  const why = unavailable(opts);
  if (why && process.env.RH_NETNS_TESTS === 'require') throw new Error(`cannot run: ${why} (RH_NETNS_TESTS=require)`);
  return why;
}

/** Polls both pages until each decoded video and received audio bytes (or 60 s). */
async function mediaBothWays(officer, citizen) {
  let o;
  let c;
  for (let k = 0; k < 120; k++) {
    o = await callStats(officer);
    c = await callStats(citizen);
    const ok = (s) => s && s.state === 'connected' && s.video && s.video.framesDecoded > 10 && s.audio && s.audio.bytes > 0;
    if (ok(o) && ok(c)) return { o, c };
    await sleep(500);
  }
  assert.fail(`no media both ways in 60 s: officer ${JSON.stringify(o)} citizen ${JSON.stringify(c)}`);
}

/** Whether a UDP datagram sent from the citizen's namespace arrives at the server's address. */
async function udpReaches(net) {
  const sock = dgram.createSocket('udp4');
  let got = false;
  sock.on('message', () => (got = true));
  await new Promise((r) => sock.bind(0, net.serverIp, r));
  const code = `import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nfor i in range(10):\n s.sendto(b'x',('${net.serverIp}',${sock.address().port}));time.sleep(0.05)`;
  await new Promise((r) => spawn('ip', ['netns', 'exec', net.c, '/usr/bin/python3', '-c', code]).on('exit', r));
  await sleep(500);
  sock.close();
  return got;
}

/** The router drops UDP (checked: a datagram from the citizen's namespace never reaches the
 * server side); coturn listens and the server hands out `turn:…?transport=tcp`. */
async function udpBlockedTurnTcp(net) {
  net.blockUdp();
  assert.equal(await udpReaches(net), false, 'the router forwards UDP');
  await net.startCoturn();
  await net.startServer({
    RH_CALL__TURN_URLS: JSON.stringify([`turn:${net.serverIp}:3478?transport=tcp`]),
    RH_CALL__TURN_SECRET: TURN_SECRET,
  });
}

async function call(net) {
  const hearing = randomUUID().replaceAll('-', '');
  const officer = await net.callPage(await net.browser(null), hearing, 'officer');
  const citizen = await net.callPage(await net.browser(net.c), hearing, 'citizen');
  return { officer, citizen };
}

describe('Chromium in network namespaces', { concurrency: 1 }, () => {
  it('(a) the citizen behind a NAT connects directly, media both ways', T, async (t) => {
    const why = skipReason({});
    if (why) return t.skip(why);
    const net = new Net(0);
    try {
      assert.equal(await udpReaches(net), true, 'UDP through the NAT');
      await net.startServer();
      const { officer, citizen } = await call(net);
      const { o, c } = await mediaBothWays(officer, citizen);
      // no TURN, direct: the citizen's local candidate is its host address or — learnt from the
      // server's check response — its address behind the NAT (peer-reflexive, the router's
      // 10.243.n.2), to the server's own address
      const viaNat = c.pair.local === 'prflx' && c.pair.localAddress === `10.243.${net.n}.2`;
      assert.ok(c.pair.local === 'host' || viaNat, JSON.stringify(c.pair));
      assert.ok(['host', 'prflx'].includes(c.pair.remote), JSON.stringify(c.pair));
      assert.equal(c.pair.remoteAddress, net.serverIp, JSON.stringify(c.pair));
      assert.equal(c.pair.localProto, 'udp');
      // the server saw the citizen through the NAT: its connection works although the citizen's
      // private address 10.241.n.2 is not routable from the root namespace
      const route = await import('node:child_process').then((cp) => cp.spawnSync('ip', ['route', 'get', net.citizenIp], { encoding: 'utf8' }).stdout);
      assert.ok(!route.includes(net.h), `the root namespace must not reach the citizen directly: ${route}`);
      assert.ok(o.video.bytes > 0 && c.video.bytes > 0);
    } finally {
      await net.cleanup();
    }
  });

  it('(b) UDP blocked: the citizen connects through coturn over TCP, media both ways', T, async (t) => {
    const why = skipReason({ turn: true });
    if (why) return t.skip(why);
    const net = new Net(1);
    try {
      await udpBlockedTurnTcp(net);
      const { officer, citizen } = await call(net);
      const { o, c } = await mediaBothWays(officer, citizen);
      assert.equal(c.pair.local, 'relay', JSON.stringify(c.pair));
      assert.equal(c.pair.relayProto, 'tcp', JSON.stringify(c.pair));
      assert.ok(o.video.framesDecoded > 10 && c.video.framesDecoded > 10);
    } finally {
      await net.cleanup();
    }
  });

  it("(b') UDP blocked: the citizen's self-test measures through coturn over TCP", T, async (t) => {
    const why = skipReason({ turn: true });
    if (why) return t.skip(why);
    const net = new Net(2);
    try {
      await udpBlockedTurnTcp(net);
      const c = await net.citizenPage(await net.browser(net.c));
      await c.click('#go-test');
      await c.waitForSelector('[data-view=test]:not([hidden])');
      await c.click('#test-start');
      await c.waitForSelector('#test-speaker-ask:not([hidden])', { timeout: 30_000 });
      await c.click('#test-heard-yes');
      await c.waitForSelector('#test-result [data-path]', { timeout: 90_000 }).catch(async (e) => {
        throw new Error(`no result: ${await c.textContent('[data-view=test]')} (${e.message})`);
      });
      const attr = (a) => c.getAttribute(`#test-result [data-${a}]`, `data-${a}`);
      const path = await attr('path');
      const up = Number(await attr('up'));
      const down = Number(await attr('down'));
      console.log(`self-test through coturn: path ${path}, rtt ${await attr('rtt')} ms, up ${up} / down ${down} kbit/s`);
      // the only way out of the namespace is TCP: the echo peer was reached through the relay
      assert.equal(path, 'relay_tcp', await c.textContent('#test-result'));
      assert.ok(up > 0 && down > 0, `up ${up}, down ${down}`);
    } finally {
      await net.cleanup();
    }
  });
});
