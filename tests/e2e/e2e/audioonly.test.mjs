// Audio-only (issue 14 §2) through the real pages: a phone without a camera joins the call on its
// microphone alone ("仅语音" with why), the officer's page shows the citizen's 仅语音 badge, the
// record has the citizen's `video_off` entry (no_camera); the officer's 关闭视频/打开视频 button
// goes round trip (the phone shows, then drops, the officer's badge; video_off and video_on by_hand
// sealed). Then, with a weak-link threshold no link reaches, a phone with a camera turns its video
// off by itself (weak_link). Each part has its own server and browser. Without the citizen's
// video the identity cannot be checked: the officer refers the case to the window, no still,
// and the record says why. With the card checked on video, a citizen who turns video off
// completes the rest of the hearing, to the served decision, on audio alone.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { shot } from '../lib/browser.mjs';
import { world, loginCitizen, loginOfficer, freeSlot, bookUrgent, claimAndOpen, joinWithCode, identityStep, inquiryToStatement, waiveToDecision } from '../lib/journey.mjs';

const T = { timeout: 240_000 };

/** The phone has a microphone but no camera: any request for video fails as Chromium's does. */
const NO_CAMERA = () => {
  const md = navigator.mediaDevices;
  const gum = md.getUserMedia.bind(md);
  md.getUserMedia = (c) => (c && c.video ? Promise.reject(new DOMException('Requested device not found', 'NotFoundError')) : gum(c));
  const list = md.enumerateDevices.bind(md);
  md.enumerateDevices = async () => (await list()).filter((d) => d.kind !== 'videoinput');
};

/** The hearing's record as its citizen gets it (the proof bundle's entries). */
const entriesOf = (c, id) => c.evaluate(async (x) => (await window.__rh.api.get(`hearings/${encodeURIComponent(x)}/proof`)).entries, id);

async function intoCall(w) {
  await loginCitizen(w);
  await loginOfficer(w);
  const slot = await freeSlot(w);
  if (!slot) throw new Error('no free slot in the next days');
  const bookingId = await bookUrgent(w, slot);
  const hearingId = await claimAndOpen(w, bookingId);
  await joinWithCode(w, 2);
  return hearingId;
}

describe('a phone without a camera joins audio-only', { concurrency: 1 }, () => {
  it('the call runs on the microphone; the officer sees 仅语音; the record says why; the button round trip', T, async () => {
    const w = await world();
    try {
      const c = w.citizen;
      const o = w.officerPage;
      await c.context().addInitScript(NO_CAMERA);
      await c.setViewportSize({ width: 390, height: 844 });
      const hearingId = await intoCall(w);
      // The phone is in the call, audio only, and says why; no video button (nothing to turn on).
      await c.waitForSelector('#self-audio-only:not([hidden])', { timeout: 15_000 });
      assert.match(await c.textContent('#self-audio-only'), /仅语音：未检测到摄像头/);
      assert.equal(await c.getAttribute('#self-audio-only', 'data-reason'), 'no_camera');
      assert.equal(await c.isVisible('#call-video'), false);
      assert.equal(await c.isVisible('.self-video'), false);
      assert.equal(await c.isVisible('#step-err'), false, 'no error on the phone');
      // The officer joins: the citizen's audio arrives, no video, and the badge says so.
      await o.click('#join-call');
      await o.waitForSelector('#peer-audio-only:not([hidden])', { timeout: 20_000 });
      assert.match(await o.textContent('#peer-audio-only'), /当事人仅语音（无摄像头）/);
      await o.waitForFunction(
        async () => {
          const pc = window.__rhCall?.pc;
          if (!pc) return false;
          let audio = 0;
          (await pc.getStats()).forEach((r) => {
            if (r.type === 'inbound-rtp' && r.kind === 'audio') audio += r.packetsReceived || 0;
          });
          return audio > 50;
        },
        null,
        { timeout: 20_000, polling: 500 },
      );
      await c.waitForSelector('.call-state[data-state=connected]', { timeout: 20_000 });
      await shot(c, 'citizen-call-audio-only-390');
      await shot(o, 'officer-call-citizen-audio-only');
      // The officer turns video off by hand, then on again: the phone shows it, then drops it.
      await o.click('#call-video');
      await o.waitForSelector('#self-audio-only:not([hidden])');
      assert.match(await o.textContent('#self-audio-only'), /已手动关闭视频/);
      assert.equal(await o.textContent('#call-video'), '打开视频');
      await c.waitForSelector('#peer-audio-only:not([hidden])', { timeout: 15_000 });
      assert.match(await c.textContent('#peer-audio-only'), /民警仅语音（手动关闭）/);
      assert.equal(await c.isVisible('.peer-video'), false, 'no frozen picture of the officer');
      await shot(c, 'citizen-call-both-audio-only-390');
      await o.click('#call-video');
      await c.waitForSelector('#peer-audio-only', { state: 'hidden', timeout: 15_000 });
      assert.equal(await o.textContent('#call-video'), '关闭视频');
      assert.equal(await o.isVisible('#self-audio-only'), false);
      // The officer's video is back at the phone (decoded frames grow).
      const frames = () =>
        c.evaluate(async () => {
          let n = 0;
          (await window.__rhCall.pc.getStats()).forEach((r) => {
            if (r.type === 'inbound-rtp' && r.kind === 'video') n += r.framesDecoded || 0;
          });
          return n;
        });
      const before = await frames();
      await c.waitForFunction(async (b) => {
        let n = 0;
        (await window.__rhCall.pc.getStats()).forEach((r) => {
          if (r.type === 'inbound-rtp' && r.kind === 'video') n += r.framesDecoded || 0;
        });
        return n > b + 10;
      }, before, { timeout: 20_000, polling: 500 });
      // The record: why and when video was off, by whom.
      const entries = await entriesOf(c, hearingId);
      const video = entries.filter((e) => e.step === 'video_off' || e.step === 'video_on').map((e) => [e.step, e.payload.role, e.payload.reason]);
      assert.deepEqual(video, [
        ['video_off', 'citizen', 'no_camera'],
        ['video_off', 'officer', 'by_hand'],
        ['video_on', 'officer', 'by_hand'],
      ]);
      const off = entries.find((e) => e.step === 'video_off');
      assert.ok(off.at && off.seq != null, JSON.stringify(off));
      // Identity cannot be checked without the citizen's video: the phone says so, and the
      // officer refers the case to the window without a still, saying why in the remarks.
      await c.waitForSelector('#identity-given, #id-name', { timeout: 15_000 });
      assert.match(await c.textContent('#identity-ask'), /未能打开摄像头.*转到窗口办理/);
      if (await c.$('#id-name')) {
        await c.fill('#id-name', '张三');
        await c.fill('#id-number', '370102199003181234');
        await c.click('#id-save');
        await c.waitForSelector('#identity-given');
      }
      await o.waitForSelector('#step-card[data-step=identity] #id-novideo:not([hidden])', { timeout: 15_000 });
      await shot(o, 'officer-identity-citizen-no-video');
      await shot(c, 'citizen-identity-no-video-390');
      // The small phone, in Chinese and in English.
      await c.setViewportSize({ width: 360, height: 640 });
      await shot(c, 'citizen-identity-no-video-360');
      await c.click('#lang');
      await c.waitForSelector('html[lang=en]');
      await shot(c, 'citizen-identity-no-video-360-en');
      await c.click('#lang');
      await c.waitForSelector('html[lang="zh-CN"]');
      await c.setViewportSize({ width: 390, height: 844 });
      await o.click('#id-refer-novideo');
      await o.waitForSelector('#step-err:not([hidden])');
      assert.match(await o.textContent('#step-err'), /备注/);
      await o.fill('#id-remarks', '当事人手机无摄像头，无法视频核验身份证件。');
      await o.click('#id-refer-novideo');
      await o.waitForSelector('#hr-status[data-status=referred]', { timeout: 15_000 });
      const id = (await entriesOf(c, hearingId)).find((e) => e.step === 'identity');
      assert.equal(id.payload.no_still, 'citizen_video_off', JSON.stringify(id));
      assert.equal(id.payload.citizen_video_off, 'no_camera');
      assert.equal(id.payload.still_sha256, undefined);
    } finally {
      await w.close();
    }
  });
});

describe('after the identity check the hearing goes on audio-only', { concurrency: 1 }, () => {
  it('the citizen turns video off once the card was checked; every later step and the served decision on audio', T, async () => {
    const w = await world();
    try {
      const c = w.citizen;
      const o = w.officerPage;
      await c.setViewportSize({ width: 390, height: 844 });
      const hearingId = await intoCall(w);
      await identityStep(o, c);
      await o.waitForSelector('#step-card[data-step=inquiry]');
      // The phone's own 关闭视频: the officer sees 仅语音, the record says so.
      await c.click('#call-video');
      await c.waitForSelector('#self-audio-only:not([hidden])', { timeout: 15_000 });
      await o.waitForSelector('#peer-audio-only:not([hidden])', { timeout: 15_000 });
      await inquiryToStatement(w);
      await waiveToDecision(w);
      await shot(c, 'citizen-decision-after-audio-only-390');
      const entries = await entriesOf(c, hearingId);
      const seq = (step) => entries.find((e) => e.step === step)?.seq;
      const off = entries.find((e) => e.step === 'video_off' && e.payload.role === 'citizen');
      assert.equal(off?.payload.reason, 'by_hand', JSON.stringify(off));
      assert.ok(seq('identity') < off.seq && off.seq < seq('inquiry') && seq('inquiry') < seq('receipt'), 'the identity with video, the rest audio-only');
      assert.ok(!entries.some((e) => e.step === 'video_on' && e.payload.role === 'citizen'), 'video stayed off to the end');
    } finally {
      await w.close();
    }
  });
});

describe('a weak link turns video off by itself', { concurrency: 1 }, () => {
  it('below the threshold for the configured seconds, the phone goes audio-only and the officer sees why', T, async () => {
    // No link reaches 10 Gbit/s: the outgoing estimate stays below it, the rule fires after 2 s.
    const w = await world({ env: { RH_CALL__AUDIO_ONLY_KBPS: '10000000', RH_CALL__AUDIO_ONLY_AFTER_S: '2' } });
    try {
      const c = w.citizen;
      const o = w.officerPage;
      const hearingId = await intoCall(w);
      await o.click('#join-call');
      await c.waitForSelector('#self-audio-only[data-reason=weak_link]:not([hidden])', { timeout: 30_000 });
      assert.match(await c.textContent('#self-audio-only'), /网络较弱/);
      assert.equal(await c.textContent('#call-video'), '打开视频', 'the participant may try video again by hand');
      await o.waitForSelector('#peer-audio-only:not([hidden])', { timeout: 15_000 });
      assert.match(await o.textContent('#peer-audio-only'), /当事人仅语音（网络较弱）/);
      await shot(c, 'citizen-call-weak-link');
      const entries = await entriesOf(c, hearingId);
      const off = entries.find((e) => e.step === 'video_off' && e.payload.role === 'citizen');
      assert.equal(off?.payload.reason, 'weak_link', JSON.stringify(entries.map((e) => e.step)));
    } finally {
      await w.close();
    }
  });
});
