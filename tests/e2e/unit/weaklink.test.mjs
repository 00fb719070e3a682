// Unit test of the audio-only weak-link rule (web/shared/call.js WeakLink, issue 14 §2): video
// goes off only after the estimate stayed below the threshold for the whole delay, comes back only
// after it stayed above twice the threshold for the longer delay (hysteresis: between the two it
// stays as it is), any good (or bad) sample restarts the count, and 0 kbit/s turns the rule off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { importWeb } from '../lib/webmodule.mjs';

const { WeakLink } = await importWeb('shared/call.js');

/** Feeds (kbps every 2 s) and returns the changes with their times. */
function run(rule, samples, videoOn = true) {
  const out = [];
  let on = videoOn;
  samples.forEach((kbps, i) => {
    const ch = rule.feed(kbps, on, i * 2000);
    if (ch) {
      out.push([i * 2000, ch]);
      on = ch === 'on';
    }
  });
  return out;
}

test('off after 5 s below 150, on after 10 s above 300, nothing in between', () => {
  const r = new WeakLink({ kbps: 150, after_s: 5, back_after_s: 10 });
  // below at 0, 2, 4 s: not yet 5 s; at 6 s it has been 6 s → off
  assert.deepEqual(run(r, [100, 100, 100, 100]), [[6000, 'off']]);
  const r2 = new WeakLink({ kbps: 150, after_s: 5, back_after_s: 10 });
  // a good sample restarts the count
  assert.deepEqual(run(r2, [100, 100, 200, 100, 100, 100]), []);
  const r3 = new WeakLink({ kbps: 150, after_s: 5, back_after_s: 10 });
  // video off: 250 kbit/s (above the threshold, below twice it) never brings it back
  assert.deepEqual(run(r3, Array(20).fill(250), false), []);
  // above 300 for 10 s → on
  assert.deepEqual(run(new WeakLink({ kbps: 150, after_s: 5, back_after_s: 10 }), Array(7).fill(400), false), [[10000, 'on']]);
});

test('defaults, no estimate, and 0 kbit/s', () => {
  const d = new WeakLink(undefined);
  assert.deepEqual([d.kbps, d.afterMs, d.backMs], [150, 5000, 10000]);
  assert.deepEqual(run(new WeakLink({ kbps: 150, after_s: 5 }), [null, null, null, null, null]), []);
  assert.deepEqual(run(new WeakLink({ kbps: 0, after_s: 1 }), Array(10).fill(1)), []);
});
