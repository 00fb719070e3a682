// The weak-link benchmark (issue 14 §2; not a test, run by scripts/bench-weaklink.sh as root):
// for each link profile, a call between the citizen's Chromium (fake camera, in a network
// namespace behind NAT and an impaired link, lib/netns.mjs) and the officer's Chromium in the root
// namespace, through the server (recording on) — and, with --direct, the same two browsers
// calling each other directly (no server: the peer a user might pick instead). Prints a Markdown
// table: frames decoded per second at the officer, freezes, audio concealment, time back to video
// after the outage, and whether the recording kept every second the server received.
// Usage: node bench/weaklink.mjs [--seconds 30] [--profiles good4g,3g,bad,outage] [--direct]
// (env BENCH_SERVER_LOG=<dir>: each server run's log written there).
import { Net, callStats, sleep, randomUUID } from '../lib/netns.mjs';
import { segments, coverage } from '../lib/recording.mjs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { PROFILES } from './profiles.mjs';

const args = process.argv.slice(2);
const opt = (k, d) => {
  const i = args.indexOf(`--${k}`);
  return i >= 0 ? args[i + 1] : d;
};
const SECONDS = Number(opt('seconds', '30'));
const names = opt('profiles', Object.keys(PROFILES).join(',')).split(',');
const direct = args.includes('--direct');

// Cumulative inbound counters in the page across peer connections (a rejoin makes a new one).
const SAMPLER = `(() => {
  const last = new Map();
  window.totals = async () => {
    const pc = window.call && window.call.pc;
    if (pc && pc.connectionState !== 'closed') {
      try {
        const s = await pc.getStats();
        const v = { frames: 0, freezes: 0, freezeS: 0, pauses: 0, pauseS: 0, concealed: 0, samples: 0, vbytes: 0, width: 0 };
        s.forEach((x) => {
          if (x.type === 'inbound-rtp' && x.kind === 'video') {
            v.frames += x.framesDecoded || 0; v.freezes += x.freezeCount || 0; v.freezeS += x.totalFreezesDuration || 0;
            v.pauses += x.pauseCount || 0; v.pauseS += x.totalPausesDuration || 0;
            v.vbytes += x.bytesReceived || 0; v.width = x.frameWidth || v.width;
          }
          if (x.type === 'inbound-rtp' && x.kind === 'audio') { v.concealed += x.concealedSamples || 0; v.samples += x.totalSamplesReceived || 0; }
        });
        last.set(pc, v);
      } catch {}
    }
    const t = { frames: 0, freezes: 0, freezeS: 0, pauses: 0, pauseS: 0, concealed: 0, samples: 0, vbytes: 0, width: 0, pcs: last.size };
    for (const v of last.values()) for (const k of Object.keys(v)) t[k] = k === 'width' ? v[k] || t[k] : t[k] + v[k];
    return t;
  };
  // the page's outgoing estimate (kbit/s; what the client's audio-only rule reads)
  window.outKbps = async () => {
    const pc = window.call && window.call.pc;
    let o = null;
    if (pc) (await pc.getStats()).forEach((x) => {
      if (x.type === 'candidate-pair' && x.nominated && x.availableOutgoingBitrate != null) o = x.availableOutgoingBitrate / 1000;
    });
    return o;
  };
})()`;

/** A direct Chromium↔Chromium call (no server): offer/answer carried by this script. */
async function directCall(net, oBrowser, cBrowser) {
  const pages = [];
  for (const b of [oBrowser, cBrowser]) {
    const p = await (await b.newContext()).newPage();
    await p.goto(`${net.url}/officer/`, { waitUntil: 'domcontentloaded' });
    await p.evaluate(async () => {
      const local = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: { ideal: 640 }, height: { ideal: 480 } } });
      const pc = new RTCPeerConnection();
      for (const t of local.getTracks()) pc.addTrack(t, local);
      pc.ontrack = (ev) => {
        let v = document.querySelector('video#remote');
        if (!v) {
          v = document.createElement('video');
          v.id = 'remote';
          v.autoplay = true;
          document.body.append(v);
        }
        if (v.srcObject !== ev.streams[0]) v.srcObject = ev.streams[0];
        v.play().catch(() => {});
      };
      window.call = { pc };
      window.gathered = () => new Promise((r) => {
        if (pc.iceGatheringState === 'complete') r();
        pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && r();
      });
    });
    pages.push(p);
  }
  const [o, c] = pages;
  const offer = await c.evaluate(async () => {
    await call.pc.setLocalDescription(await call.pc.createOffer());
    await gathered();
    return call.pc.localDescription.toJSON();
  });
  const answer = await o.evaluate(async (offer) => {
    await call.pc.setRemoteDescription(offer);
    await call.pc.setLocalDescription(await call.pc.createAnswer());
    await gathered();
    return call.pc.localDescription.toJSON();
  }, offer);
  await c.evaluate((a) => call.pc.setRemoteDescription(a), answer);
  return { officer: o, citizen: c };
}

async function runOne(name, viaServer) {
  const p = PROFILES[name];
  const net = new Net(0);
  try {
    await net.startServer({ RH_CALL__RECORDING_ENABLED: 'true' });
    net.impair(p.link);
    const hearing = randomUUID().replaceAll('-', '');
    const ob = await net.browser(null);
    const cb = await net.browser(net.c);
    let officer;
    let citizen;
    if (viaServer) {
      officer = await net.callPage(ob, hearing, 'officer');
      citizen = await net.callPage(cb, hearing, 'citizen');
    } else {
      ({ officer, citizen } = await directCall(net, ob, cb));
    }
    await officer.evaluate(SAMPLER);
    await citizen.evaluate(SAMPLER);
    // connected and the first frames decoded (60 s at most), then 3 s to settle
    let t;
    for (let k = 0; k < 240; k++) {
      t = await officer.evaluate(() => totals());
      if (t.frames > 0) break;
      await sleep(250);
    }
    if (!t.frames) throw new Error(`${name}: no video at the officer in 60 s`);
    await sleep(3000);
    const start = await officer.evaluate(() => totals());
    const cStart = await citizen.evaluate(() => totals());
    const t0 = Date.now();
    let back = null;
    const total = SECONDS + (p.outageS || 0);
    let outEnd = null;
    let framesAtEnd = null;
    const outs = [];
    while (Date.now() - t0 < total * 1000) {
      const el = (Date.now() - t0) / 1000;
      if (el >= outs.length) outs.push(await citizen.evaluate(() => outKbps()).catch(() => null));
      if (p.outageS && el >= 10 && outEnd === null && !net.outOn) {
        net.outage(true);
        net.outOn = true;
      }
      if (net.outOn && el >= 10 + p.outageS) {
        net.outage(false);
        net.outOn = false;
        outEnd = Date.now();
        framesAtEnd = (await officer.evaluate(() => totals())).frames;
      }
      if (outEnd && back === null) {
        const f = (await officer.evaluate(() => totals())).frames;
        if (f > framesAtEnd + 5) back = (Date.now() - outEnd) / 1000;
      }
      await sleep(100);
    }
    const end = await officer.evaluate(() => totals());
    const cEnd = await citizen.evaluate(() => totals());
    const cs = await callStats(citizen);
    const os = await callStats(officer);
    const d = (k) => end[k] - start[k];
    const row = {
      profile: p.label,
      peer: viaServer ? 'server' : 'direct',
      fps: d('frames') / total,
      citizenFps: (cEnd.frames - cStart.frames) / total,
      citizenFreezeS: cEnd.freezeS - cStart.freezeS,
      citizenKbps: (8 * (cEnd.vbytes - cStart.vbytes)) / total / 1000,
      freezes: d('freezes'),
      freezeS: d('freezeS'),
      pauses: d('pauses'),
      pauseS: d('pauseS'),
      concealPct: d('samples') > 0 ? (100 * d('concealed')) / d('samples') : null,
      kbps: (8 * d('vbytes')) / total / 1000,
      width: end.width,
      rtt: cs && cs.pair ? cs.pair.rtt : null,
      back,
      pcs: end.pcs,
      officerState: os && os.state,
      // the citizen's availableOutgoingBitrate once a second: min / median / seconds under 150
      citizenOut: (() => {
        const v = outs.filter((x) => x != null).sort((a, b) => a - b);
        return v.length ? { min: Math.round(v[0]), median: Math.round(v[v.length >> 1]), under150: v.filter((x) => x < 150).length, n: v.length } : null;
      })(),
    };
    if (viaServer) {
      for (const pg of [officer, citizen]) await pg.evaluate(() => call.leave()).catch(() => {});
      // the segment ends when both have left: wait for its manifest
      let segs = [];
      for (let k = 0; k < 120 && !segs.length; k++) {
        await sleep(250);
        segs = segments(net.dataDir, hearing);
      }
      const cov = segs.map((s) => coverage(s, 'citizen', 'video')).filter(Boolean);
      const aud = segs.map((s) => coverage(s, 'citizen', 'audio')).filter(Boolean);
      row.rec = { segments: segs.length, video: cov, audio: aud };
    }
    return row;
  } finally {
    // BENCH_SERVER_LOG=<dir>: the server's log of each run (e.g. with RUST_LOG=…=debug)
    if (viaServer && process.env.BENCH_SERVER_LOG && net.serverLog) {
      writeFileSync(join(process.env.BENCH_SERVER_LOG, `${name}-${Date.now()}.log`), net.serverLog());
    }
    await net.cleanup();
  }
}

const f1 = (x) => (x === null || x === undefined ? '–' : Number(x).toFixed(1));
const rows = [];
for (const name of names) {
  for (const viaServer of direct ? [true, false] : [true]) {
    const r = await runOne(name, viaServer);
    process.stderr.write(`${JSON.stringify(r)}\n`);
    rows.push(r);
  }
}
console.log('| profile | peer | fps at officer | freezes (count / s) | pauses ≥ 5 s (count / s) | audio concealed | video kbit/s | width | RTT ms | back after outage | at the citizen: fps / freezes s / kbit/s | recording: seconds kept / received (video, audio) | frames recorded / received |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const rec = r.rec
    ? `${r.rec.video.map((v) => `${v.keptSeconds}/${v.receivedSeconds}`).join('+')}, ${r.rec.audio.map((v) => `${v.keptSeconds}/${v.receivedSeconds}`).join('+')}`
    : 'n/a';
  const fr = r.rec ? r.rec.video.map((v) => `${v.webmFrames}/${v.captureFrames}`).join('+') : 'n/a';
  console.log(`| ${r.profile} | ${r.peer} | ${f1(r.fps)} | ${r.freezes} / ${f1(r.freezeS)} | ${r.pauses} / ${f1(r.pauseS)} | ${r.concealPct === null ? '–' : f1(r.concealPct) + ' %'} | ${Math.round(r.kbps)} | ${r.width} | ${r.rtt === null ? '–' : Math.round(r.rtt * 1000)} | ${r.back === null ? (PROFILES[names.find((n) => PROFILES[n].label === r.profile)].outageS ? 'never' : '–') : f1(r.back) + ' s'} | ${f1(r.citizenFps)} / ${f1(r.citizenFreezeS)} / ${Math.round(r.citizenKbps)} | ${rec} | ${fr} |`);
}
