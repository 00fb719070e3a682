// The audit leaf, versions 1 and 2, decoded strictly as docs/audit-format.md §2 specifies, and
// the canonical JSON of §3 the leaf's payload commitment covers: SHA-256(canonical payload) in
// version 1, SHA-256(salt || canonical payload) with a 16-byte salt in version 2 (§10).
import { sha256, hex } from './verify.js';

const TAG = 'remote-hearing/audit-leaf';
const utf8 = new TextDecoder('utf-8', { fatal: true });
const enc = new TextEncoder();
const PRINTABLE = /^[\x21-\x7e]*$/;
const NAME = /^[a-z0-9_.-]*$/;

class Reader {
  constructor(bytes) {
    this.b = bytes;
    this.o = 0;
  }
  take(n) {
    if (this.o + n > this.b.length) throw new Error('leaf ends too early');
    const out = this.b.subarray(this.o, this.o + n);
    this.o += n;
    return out;
  }
  u8() {
    return this.take(1)[0];
  }
  u16() {
    const x = this.take(2);
    return (x[0] << 8) | x[1];
  }
  u64() {
    const x = this.take(8);
    let v = 0n;
    for (const b of x) v = (v << 8n) | BigInt(b);
    return v;
  }
  str(min, max, pattern, what) {
    const n = this.u16();
    if (n < min || n > max) throw new Error(`${what}: length ${n} outside ${min}..${max}`);
    const s = utf8.decode(this.take(n));
    if (pattern && !pattern.test(s)) throw new Error(`${what}: characters not allowed`);
    return s;
  }
}

/** Decodes a version-1 or version-2 leaf; throws on anything §2 rejects. */
export function decodeLeaf(bytes) {
  const r = new Reader(bytes);
  if (r.str(0, 65535, null, 'tag') !== TAG) throw new Error('not an audit leaf (tag)');
  const version = r.u8();
  if (version !== 1 && version !== 2) throw new Error(`unknown leaf version ${version}`);
  const hearing_id = r.str(1, 128, PRINTABLE, 'hearing id');
  const seq = r.u64();
  if (seq > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error('hearing_seq too large');
  const hearing_seq = Number(seq);
  const prev_hash = r.take(32).slice();
  const zero = prev_hash.every((b) => b === 0);
  if (hearing_seq === 0 && !zero) throw new Error('first entry with a previous hash');
  if (hearing_seq > 0 && zero) throw new Error('previous hash missing');
  const step = r.str(1, 64, NAME, 'step');
  let at = r.u64();
  if (at >= 1n << 63n) at -= 1n << 64n; // i64
  const at_ms = Number(at);
  const role = r.str(1, 32, NAME, 'actor role');
  const id = r.str(0, 128, PRINTABLE, 'actor id');
  const payload_sha256 = r.take(32).slice();
  const count = r.u16();
  if (count > 256) throw new Error('too many recordings');
  const recordings = [];
  for (let i = 0; i < count; i++) {
    const rid = r.str(1, 128, PRINTABLE, 'recording id');
    const digest = hex.encode(r.take(32));
    const size = r.u64();
    recordings.push({ id: rid, sha256: digest, bytes: Number(size) });
  }
  if (r.o !== bytes.length) throw new Error(`${bytes.length - r.o} bytes left over`);
  return { version, hearing_id, hearing_seq, prev_hash, step, at_ms, actor: { role, id }, payload_sha256, recordings };
}

function cmpUtf8(a, b) {
  const x = enc.encode(a);
  const y = enc.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

const ESC = { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r' };
function quote(s) {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0);
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (c < 0x20) out += ESC[c] || `\\u00${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + '"';
}

/** Canonical JSON text (§3). Throws on a non-integer number. */
export function canonicalJson(v) {
  if (v === null) return 'null';
  if (v === true) return 'true';
  if (v === false) return 'false';
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error('payload has a non-integer number');
    return Object.is(v, -0) ? '0' : String(v);
  }
  if (typeof v === 'string') return quote(v);
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (typeof v === 'object') {
    const keys = Object.keys(v).sort(cmpUtf8);
    return `{${keys.map((k) => `${quote(k)}:${canonicalJson(v[k])}`).join(',')}}`;
  }
  throw new Error(`cannot encode ${typeof v}`);
}

export async function payloadDigest(payload) {
  return sha256(enc.encode(canonicalJson(payload === undefined ? null : payload)));
}

/**
 * The commitment of a leaf of `version` to `payload` (§10): version 2 needs `saltHex`, 32
 * lowercase hex digits; version 1 takes none. Throws on a wrong or missing salt.
 */
export async function payloadCommitment(version, saltHex, payload) {
  const text = enc.encode(canonicalJson(payload === undefined ? null : payload));
  if (version === 1) {
    if (saltHex != null) throw new Error('a version-1 entry has no salt');
    return sha256(text);
  }
  if (typeof saltHex !== 'string' || !/^[0-9a-f]{32}$/.test(saltHex)) throw new Error('a version-2 entry needs a salt of 32 lowercase hex digits');
  const buf = new Uint8Array(16 + text.length);
  buf.set(hex.decode(saltHex), 0);
  buf.set(text, 16);
  return sha256(buf);
}
