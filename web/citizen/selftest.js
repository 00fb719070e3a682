// The citizen's self-test (issue 14 §3; docs/call.md "Self-test"): camera preview, microphone
// level, a speaker check (a tone, "did you hear it?"), and a real media test against the server's
// echo peer (GET /api/v1/selftest for the call's ICE servers, POST /api/v1/selftest/echo with a
// complete offer): the path that connected, RTT, loss, upload and download kbit/s from getStats.
// The result goes to the booking (POST /api/v1/bookings/{id}/selftest); the server's score and
// advice are shown, and the officer sees the same in the view of the waiting citizen.
import { t, stampLang } from '/shared/i18n.js';
import { $, h, showView, showError } from '/shared/ui.js';
import { selfTestFacts, adviceList, scorePill } from '/shared/selftest.js';

let ctx = null; // {api, state}
let run = null; // the running test: {stream, timer, audio, pc, stopped}
let from = 'home';
let shown = null; // the result on screen: {view, id}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** The microphone meter runs at least this long before it may call the microphone silent. */
const MIC_MS = 4000;

export function initSelfTest(c) {
  ctx = c;
  $('#test-start').addEventListener('click', () => start());
  $('#test-heard-yes').addEventListener('click', () => answerSpeaker('heard'));
  $('#test-heard-no').addEventListener('click', () => answerSpeaker('not_heard'));
  $('#test-tone').addEventListener('click', () => playTone());
  document.addEventListener('langchange', () => {
    if (document.body.dataset.currentView !== 'test') return;
    for (const el of [$('#test-cam'), $('#test-speaker'), $('#test-net')]) if (el.dataset.key) stampLang(el).textContent = t(el.dataset.key);
    draw();
  });
}

/** Opens the self-test view; remembers whether it came from the waiting room. */
export function openTest() {
  from = document.body.dataset.currentView === 'wait' ? 'wait' : 'home';
  showView('test');
}

/** Where the self-test was opened from (`wait` or `home`). */
export const testFrom = () => from;

export function stopTest() {
  if (!run) return;
  run.stopped = true;
  clearInterval(run.timer);
  for (const tr of run.stream?.getTracks() || []) tr.stop();
  run.synth?.stop();
  run.pc?.close();
  run.audio?.close().catch(() => {});
  run.speaker?.('skipped');
  run = null;
}

/** A getUserMedia error as a device state of the report. */
function deviceState(e) {
  if (['NotAllowedError', 'SecurityError', 'PermissionDeniedError'].includes(e?.name)) return 'denied';
  if (['NotFoundError', 'OverconstrainedError', 'DevicesNotFoundError', 'NotReadableError'].includes(e?.name)) return 'missing';
  return 'error';
}

/** The camera and microphone, each on its own when both together are refused. */
async function devices() {
  const md = navigator.mediaDevices;
  if (!md?.getUserMedia) return { stream: null, camera: 'missing', microphone: 'missing' };
  try {
    return { stream: await md.getUserMedia({ audio: true, video: { facingMode: 'user' } }), camera: 'ok', microphone: 'ok' };
  } catch (both) {
    let camera = deviceState(both);
    let microphone = camera;
    let stream = null;
    try {
      stream = await md.getUserMedia({ audio: true });
      microphone = 'ok';
    } catch (e) {
      microphone = deviceState(e);
      try {
        stream = await md.getUserMedia({ video: { facingMode: 'user' } });
        camera = 'ok';
      } catch (e2) {
        camera = deviceState(e2);
      }
    }
    return { stream, camera, microphone };
  }
}

/** The microphone meter; `peak()` is the loudest level (0–100) seen so far. */
function meter(audio, stream) {
  let peakSeen = 0;
  if (!stream?.getAudioTracks().length) return { timer: null, peak: () => 0 };
  const an = audio.createAnalyser();
  an.fftSize = 512;
  audio.createMediaStreamSource(stream).connect(an);
  const buf = new Uint8Array(an.fftSize);
  const timer = setInterval(() => {
    an.getByteTimeDomainData(buf);
    let p = 0;
    for (const v of buf) p = Math.max(p, Math.abs(v - 128));
    const pct = Math.min(100, Math.round((p / 128) * 200));
    peakSeen = Math.max(peakSeen, pct);
    $('#test-meter').setAttribute('aria-valuenow', String(pct));
    $('#test-meter span').style.width = `${pct}%`;
  }, 150);
  return { timer, peak: () => peakSeen };
}

/** A one-second 880 Hz tone through the speaker. */
function playTone() {
  const audio = run?.audio;
  if (!audio) return;
  audio.resume?.();
  const osc = audio.createOscillator();
  const gain = audio.createGain();
  osc.frequency.value = 880;
  gain.gain.setValueAtTime(0.0001, audio.currentTime);
  gain.gain.exponentialRampToValueAtTime(0.3, audio.currentTime + 0.05);
  gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 1);
  osc.connect(gain).connect(audio.destination);
  osc.start();
  osc.stop(audio.currentTime + 1.05);
}

function answerSpeaker(answer) {
  run?.speaker?.(answer);
}

/** Synthetic tracks for what the devices do not give (the media test still runs). */
function synthetic(audio, needAudio, needVideo) {
  const tracks = [];
  let osc = null;
  if (needAudio) {
    osc = audio.createOscillator();
    const dest = audio.createMediaStreamDestination();
    const g = audio.createGain();
    g.gain.value = 0.01;
    osc.connect(g).connect(dest);
    osc.start();
    tracks.push(...dest.stream.getAudioTracks());
  }
  if (needVideo) {
    const cv = Object.assign(document.createElement('canvas'), { width: 320, height: 240 });
    const g = cv.getContext('2d');
    let n = 0;
    const draw = setInterval(() => {
      g.fillStyle = `hsl(${(n += 7) % 360} 60% 50%)`;
      g.fillRect(0, 0, 320, 240);
    }, 66);
    const s = cv.captureStream(15);
    tracks.push(...s.getVideoTracks());
    tracks.stopDraw = () => clearInterval(draw);
  }
  const stream = new MediaStream(tracks);
  return { stream, stop: () => { osc?.stop(); tracks.stopDraw?.(); for (const tr of tracks) tr.stop(); } };
}

/** Resolves when ICE gathering is complete (or after `ms`). */
function gathered(pc, ms) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((res) => {
    const done = () => pc.iceGatheringState === 'complete' && res();
    pc.addEventListener('icegatheringstatechange', done);
    setTimeout(res, ms);
  });
}

/** True once the connection is up, false when it failed or `ms` passed. */
function connected(pc, ms) {
  return new Promise((res) => {
    const check = () => {
      if (pc.connectionState === 'connected') res(true);
      if (['failed', 'closed'].includes(pc.connectionState)) res(false);
    };
    pc.addEventListener('connectionstatechange', check);
    setTimeout(() => res(pc.connectionState === 'connected'), ms);
    check();
  });
}

/** The figures of one getStats() snapshot. */
async function snapshot(pc) {
  const stats = await pc.getStats();
  const s = { at: performance.now(), sent: 0, recv: 0, pktSent: 0, lostUp: 0, pktRecv: 0, lostDown: 0, rtt: null, pair: null };
  let pairId = null;
  stats.forEach((r) => {
    if (r.type === 'outbound-rtp') (s.sent += r.bytesSent || 0), (s.pktSent += r.packetsSent || 0);
    if (r.type === 'inbound-rtp') (s.recv += r.bytesReceived || 0), (s.pktRecv += r.packetsReceived || 0), (s.lostDown += Math.max(0, r.packetsLost || 0));
    if (r.type === 'remote-inbound-rtp') {
      s.lostUp += Math.max(0, r.packetsLost || 0);
      if (r.roundTripTime && s.rtt === null) s.rtt = r.roundTripTime;
    }
    if (r.type === 'transport' && r.selectedCandidatePairId) pairId = r.selectedCandidatePairId;
  });
  let pair = pairId ? stats.get(pairId) : null;
  if (!pair) stats.forEach((r) => { if (r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded') pair = r; });
  if (pair) {
    const local = stats.get(pair.localCandidateId) || {};
    s.pair = { type: local.candidateType, protocol: local.protocol, relay: local.relayProtocol };
    if (pair.currentRoundTripTime) s.rtt = pair.currentRoundTripTime;
  }
  return s;
}

function pathOf(p) {
  if (!p) return 'failed';
  if (p.type === 'relay') return ['udp', 'tcp', 'tls'].includes(p.relay) ? `relay_${p.relay}` : 'relay_udp';
  return p.protocol === 'tcp' ? 'tcp' : 'udp';
}

/** The media test against the echo peer: {path, candidate, rtt_ms, loss_pct, up_kbps, down_kbps}. */
async function mediaTest(stream) {
  const setup = await ctx.api.get('selftest');
  const pc = new RTCPeerConnection({ iceServers: setup.ice_servers || [] });
  run.pc = pc;
  const have = new Set((stream?.getTracks() || []).map((tr) => tr.kind));
  for (const tr of stream?.getTracks() || []) pc.addTrack(tr, stream);
  if (!have.has('audio') || !have.has('video')) {
    run.synth = synthetic(run.audio, !have.has('audio'), !have.has('video'));
    for (const tr of run.synth.stream.getTracks()) pc.addTrack(tr, run.synth.stream);
  }
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc, 4000);
  const offer = () => ctx.api.post('selftest/echo', { sdp: pc.localDescription.sdp });
  // The previous test's echo may still be closing (one per user): wait for it once.
  const ans = await offer().catch(async (e) => {
    if (e?.code !== 'selftest_busy' || run?.pc !== pc) throw e;
    setNet('c.st.waitEcho');
    await sleep(Math.min(15, e.retryAfter || 10) * 1000);
    setNet('c.st.measuring');
    return offer();
  });
  await pc.setRemoteDescription({ type: 'answer', sdp: ans.sdp });
  if (!(await connected(pc, 8000))) return { path: 'failed' };
  // the echo runs `echo_seconds`: a second to start, then a window of a few seconds
  await sleep(1500);
  const a = await snapshot(pc);
  await sleep(Math.max(2000, Math.min(5000, ((ans.echo_seconds || 10) - 3) * 1000)));
  const b = await snapshot(pc);
  const secs = (b.at - a.at) / 1000;
  const kbps = (bytes) => Math.max(0, Math.round((bytes * 8) / 1000 / secs));
  const up = b.pktSent - a.pktSent;
  const lostUp = b.lostUp - a.lostUp;
  const down = b.pktRecv - a.pktRecv;
  const lostDown = b.lostDown - a.lostDown;
  const pct = (lost, n) => (n + lost > 0 ? (100 * Math.max(0, lost)) / (n + Math.max(0, lost)) : 0);
  const loss = Math.min(100, Math.max(pct(lostUp, up), pct(lostDown, down)));
  const out = {
    path: pathOf(b.pair),
    candidate: ['host', 'srflx', 'prflx', 'relay'].includes(b.pair?.type) ? b.pair.type : undefined,
    rtt_ms: b.rtt !== null ? Math.round(b.rtt * 1000) : undefined,
    loss_pct: Math.round(loss * 10) / 10,
    up_kbps: kbps(b.sent - a.sent),
    down_kbps: kbps(b.recv - a.recv),
  };
  pc.close();
  return out;
}

/** The booking the result belongs to: the active one, or the hearing's in the address. */
async function bookingId() {
  if (ctx.state.active?.id) return ctx.state.active.id;
  const hid = new URLSearchParams(location.search).get('hearing') || $('#join-hearing')?.value;
  if (!hid) return null;
  try {
    return (await ctx.api.get(`hearings/${encodeURIComponent(hid)}`))?.booking_id || null;
  } catch {
    return null;
  }
}

/** Says `key` in `el`, again after the zh/en switch. */
function say(el, key) {
  el.dataset.key = key;
  stampLang(el).textContent = t(key);
}

function setNet(key) {
  say($('#test-net'), key);
}

async function start() {
  stopTest();
  const me = { stopped: false };
  run = me;
  $('#test-err').hidden = true;
  shown = null;
  $('#test-result').replaceChildren();
  $('#test-result').removeAttribute('data-score');
  $('#test-start').disabled = true;
  try {
    me.audio = new AudioContext();
    const { stream, camera, microphone } = await devices();
    if (me.stopped) return;
    me.stream = stream;
    $('#test-video').srcObject = stream;
    say($('#test-cam'), camera === 'ok' ? 'c.test.ok' : 'st.dev.' + camera);
    const mic = meter(me.audio, stream);
    const micFrom = performance.now();
    me.timer = mic.timer;
    // the speaker: a tone now, the question answered while the network is measured
    const speaker = new Promise((res) => (me.speaker = res));
    $('#test-speaker-ask').hidden = false;
    say($('#test-speaker'), 'c.st.listen');
    playTone();
    setNet('c.st.measuring');
    let net;
    try {
      net = await mediaTest(stream);
    } catch (e) {
      if (me.stopped) return;
      net = { path: 'failed' };
      showError($('#test-err'), e);
    }
    if (me.stopped) return;
    setNet(net.path === 'failed' ? 'st.path.failed' : 'c.st.measured');
    if (!$('#test-speaker-ask').hidden) setNet('c.st.answerTone');
    const heard = await speaker;
    if (me.stopped) return;
    $('#test-speaker-ask').hidden = true;
    say($('#test-speaker'), 'st.dev.' + heard);
    // the microphone is judged over a few seconds at least (a quick answer is not silence)
    await sleep(Math.max(0, MIC_MS - (performance.now() - micFrom)));
    if (me.stopped) return;
    const micState = microphone === 'ok' && mic.peak() < 5 ? 'silent' : microphone;
    const report = { camera, microphone: micState, speaker: heard, ...net };
    for (const k of Object.keys(report)) if (report[k] === undefined) delete report[k];
    await send(report);
  } finally {
    if (run === me) $('#test-start').disabled = false;
  }
}

/** Sends the report for the booking and shows the server's score; without a booking, the figures. */
async function send(report) {
  const box = $('#test-result');
  const id = await bookingId();
  let view = { id: '', report, score: null, advice: [] };
  if (id) {
    try {
      view = await ctx.api.post(`bookings/${encodeURIComponent(id)}/selftest`, report);
    } catch (e) {
      showError($('#test-err'), e);
    }
  }
  setNet(report.path === 'failed' ? 'st.path.failed' : 'c.st.measured');
  shown = { view, id };
  draw();
  box.scrollIntoView?.({ block: 'start', behavior: 'smooth' });
}

/** The shown result, in the page's language (again after the zh/en switch). */
function draw() {
  if (!shown) return;
  const { view, id } = shown;
  const box = $('#test-result');
  if (view.score) box.dataset.score = view.score;
  const parts = [
    view.score ? h('p', { class: `banner banner-${view.score === 'good' ? 'ok' : 'warn'}` }, t('st.score'), ' ', scorePill(view.score)) : null,
    view.score ? adviceList(view.advice) : h('p', { class: 'note small' }, t(id ? 'c.st.notSent' : 'c.st.noBooking')),
    selfTestFacts({ ...view, at: view.at || null }, { score: false }),
    view.score && id ? h('p', { class: 'small muted' }, t('c.st.sent')) : null,
  ];
  box.replaceChildren(...parts.filter(Boolean));
}
