// Reads a call's recording for the weak-link benchmark: the raw captures (recordings/src/
// capture.rs format) give what the server received; the WebM (recordings/src/webm.rs layout)
// gives what the playable copy kept. `coverage()` compares them second by second.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

/** Every RTP record of a capture: {arrivalUs, ts, marker, seq}. */
export function readCapture(path) {
  const b = readFileSync(path);
  if (b.subarray(0, 5).toString() !== 'RHRTP') throw new Error(`${path}: not a capture`);
  const hlen = b.readUInt32BE(8);
  const header = JSON.parse(b.subarray(12, 12 + hlen).toString());
  const out = [];
  let o = 12 + hlen;
  while (o + 4 <= b.length) {
    const len = b.readUInt32BE(o);
    if (o + 4 + len > b.length) break; // truncated tail
    const body = b.subarray(o + 4, o + 4 + len);
    if (body[0] === 1) {
      out.push({ arrivalUs: Number(body.readBigUInt64BE(1)), seq: body.readUInt16BE(13), ts: body.readUInt32BE(15), marker: (body[20] & 1) === 1 });
    }
    o += 4 + len;
  }
  return { header, records: out };
}

function vint(b, o, keepMarker) {
  const first = b[o];
  let len = 1;
  while (len <= 8 && !(first & (0x80 >> (len - 1)))) len++;
  let v = keepMarker ? first : first & (0xff >> len);
  for (let k = 1; k < len; k++) v = v * 256 + b[o + k];
  return { v, len };
}

/** The blocks of a WebM: [{track, timeMs, key}] and the track types {number: 'video'|'audio'}. */
export function readWebm(path) {
  const b = readFileSync(path);
  const blocks = [];
  const types = {};
  const MASTER = new Set([0x18538067, 0x1f43b675, 0x1654ae6b, 0xae]);
  function walk(start, end, ctx) {
    let o = start;
    while (o < end) {
      const id = vint(b, o, true);
      const size = vint(b, o + id.len, false);
      const data = o + id.len + size.len;
      const next = data + size.v;
      if (MASTER.has(id.v)) {
        const c = id.v === 0xae ? { entry: {} } : id.v === 0x1f43b675 ? { cluster: 0 } : ctx;
        walk(data, Math.min(next, end), c);
        if (id.v === 0xae) types[c.entry.number] = c.entry.type === 1 ? 'video' : 'audio';
      } else if (id.v === 0xe7 && ctx.cluster !== undefined) {
        ctx.cluster = b.readUIntBE(data, size.v);
      } else if (id.v === 0xd7 && ctx.entry) {
        ctx.entry.number = b.readUIntBE(data, size.v);
      } else if (id.v === 0x83 && ctx.entry) {
        ctx.entry.type = b.readUIntBE(data, size.v);
      } else if (id.v === 0xa3) {
        const t = vint(b, data, false);
        blocks.push({ track: t.v, timeMs: ctx.cluster + b.readInt16BE(data + t.len), key: (b[data + t.len + 2] & 0x80) !== 0 });
      }
      o = next;
    }
  }
  walk(0, b.length, {});
  return { blocks, types };
}

/** The segment directories of a hearing's recordings under `dataDir`. */
export function segments(dataDir, hearing) {
  const d = join(dataDir, 'recordings', hearing);
  if (!existsSync(d)) return [];
  return readdirSync(d).map((s) => join(d, s)).filter((s) => existsSync(join(s, 'manifest.json')));
}

/** For `role`'s `kind` track in one segment: the seconds (from the first packet) in which the
 * server received packets, and how many of them the WebM has at least one frame of that kind in
 * (WebM time mapped onto arrival time by the playback's start). */
export function coverage(segDir, role, kind) {
  const m = JSON.parse(readFileSync(join(segDir, 'manifest.json'), 'utf8'));
  // a seat's track may have several captures (a new one after a reconnect or a new SSRC)
  const tracks = m.tracks.filter((t) => t.participant === role && t.kind === kind);
  const play = m.playback.find((p) => p.participant === role);
  if (!tracks.length) return null;
  const caps = tracks.flatMap((t) => t.files).filter((f) => f.name.endsWith('.rtp'));
  const recs = caps.flatMap((f) => readCapture(join(segDir, f.name)).records);
  if (!recs.length) return { packets: 0 };
  const t0 = Math.min(...recs.map((r) => r.arrivalUs));
  const received = new Set(recs.map((r) => Math.floor((r.arrivalUs - t0) / 1e6)));
  const frames = caps.reduce((n, f) => n + new Set(readCapture(join(segDir, f.name)).records.map((r) => r.ts)).size, 0);
  let inWebm = new Set();
  let webmFrames = 0;
  let durationMs = 0;
  if (play) {
    const w = readWebm(join(segDir, play.file.name));
    const tn = Object.keys(w.types).find((k) => w.types[k] === kind);
    const start = play.start_at_us ?? t0;
    const mine = w.blocks.filter((x) => String(x.track) === tn);
    webmFrames = mine.length;
    durationMs = play.duration_ms;
    inWebm = new Set(mine.map((x) => Math.floor((start + x.timeMs * 1000 - t0) / 1e6)));
  }
  // a second counts as kept when the WebM has a frame in it or in a neighbour (RTP time and
  // arrival time drift apart by the jitter buffer's worth)
  const kept = [...received].filter((s) => inWebm.has(s) || inWebm.has(s - 1) || inWebm.has(s + 1));
  const missing = [...received].filter((s) => !inWebm.has(s) && !inWebm.has(s - 1) && !inWebm.has(s + 1)).sort((a, b) => a - b);
  return { captures: caps.length, packets: recs.length, receivedSeconds: received.size, keptSeconds: kept.length, missing, captureFrames: frames, webmFrames, durationMs };
}
