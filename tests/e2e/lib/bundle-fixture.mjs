// A hearing's audit bundle built independently of the server (node:crypto), per docs/audit-format.md:
// leaf encoding, canonical JSON payload digests, RFC 6962 tree and proofs, a C2SP signed checkpoint.
import crypto from 'node:crypto';

// ---- an independent bundle: encoder, Merkle tree and signature written here with node:crypto ----
const sha = (...b) => crypto.createHash('sha256').update(Buffer.concat(b)).digest();
const str = (s) => {
  const b = Buffer.from(s, 'utf8');
  const l = Buffer.alloc(2);
  l.writeUInt16BE(b.length);
  return Buffer.concat([l, b]);
};
const u64 = (n) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
};
function canon(v) {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canon).join(',')}]`;
  return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canon(v[k])}`).join(',')}}`;
}
function encodeLeaf({ version = 1, salt = null, hid, seq, prev, step, at, role, actor, payload, recs = [] }) {
  const r = Buffer.alloc(2);
  r.writeUInt16BE(recs.length);
  return Buffer.concat([
    str('remote-hearing/audit-leaf'), Buffer.from([version]), str(hid), u64(seq), prev, str(step), u64(at), str(role), str(actor),
    version === 2 ? sha(salt, Buffer.from(canon(payload))) : sha(Buffer.from(canon(payload))), r, ...recs.flatMap((x) => [str(x.id), Buffer.from(x.sha256, 'hex'), u64(x.bytes)]),
  ]);
}
const lh = (leaf) => sha(Buffer.from([0]), leaf);
function mth(ls) {
  if (ls.length === 1) return ls[0];
  let k = 1;
  while (k * 2 < ls.length) k *= 2;
  return sha(Buffer.from([1]), mth(ls.slice(0, k)), mth(ls.slice(k)));
}
function auditPath(m, ls) {
  if (ls.length <= 1) return [];
  let k = 1;
  while (k * 2 < ls.length) k *= 2;
  return m < k ? [...auditPath(m, ls.slice(0, k)), mth(ls.slice(k))] : [...auditPath(m - k, ls.slice(k)), mth(ls.slice(0, k))];
}

/** version 2: salted payload commitments (docs/audit-format.md §10), each entry carrying its salt. */
/** close: an outcome to end hearing h-1 with its hearing_closed terminal entry (§9). */
export function makeBundle({ version = 1, close = null } = {}) {
  const origin = 'test.example/audit';
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
  const pub = Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url');
  const keyId = sha(Buffer.from(origin), Buffer.from([0x0a, 0x01]), pub).subarray(0, 4);
  const vkey = `${origin}+${keyId.toString('hex')}+${Buffer.concat([Buffer.from([1]), pub]).toString('base64')}`;
  const rec = { id: 'rec-1', sha256: 'cd'.repeat(32), bytes: 1234 };
  // two hearings interleaved in one log: "other" at seq 0 and 3
  const steps = [
    ['other', 'identity', { id_number_matches: true, face_matches: true, still_id: 'ev-0', still_sha256: 'ab'.repeat(32), id_number_masked: '3701**********1234' }],
    ['h-1', 'identity', { id_number_matches: true, face_matches: true, still_id: 'ev-1', still_sha256: 'ef'.repeat(32), id_number_masked: '1101**********002X' }],
    ['h-1', 'inquiry', { transcript: [{ q: '是否本人驾驶？', a: '是' }] }],
    ['other', 'inquiry', { transcript: [] }],
    ['h-1', 'notice', { facts: 'x', legal_basis: 'y', proposed_fine_yuan: 100, proposed_points: 3 }],
    ['h-1', 'recording_sealed', { recordings: [rec] }],
  ];
  const prev = {};
  const counts = {};
  const leaves = [];
  const entries = [];
  if (close) steps.push(['h-1', 'hearing_closed', null]);
  steps.forEach(([hid, step, payload], seq) => {
    if (step === 'hearing_closed') payload = { outcome: close, entries: counts[hid], head: prev[hid].toString('hex') };
    const hseq = counts[hid] ?? 0;
    counts[hid] = hseq + 1;
    const at = 1795000000000 + seq * 1000;
    const salt = version === 2 ? crypto.randomBytes(16) : null;
    const leaf = encodeLeaf({ version, salt, hid, seq: hseq, prev: prev[hid] || Buffer.alloc(32), step, at, role: 'officer', actor: 'u7', payload, recs: step === 'recording_sealed' ? [rec] : [] });
    prev[hid] = lh(leaf);
    leaves.push(lh(leaf));
    if (hid === 'h-1') entries.push({ seq, hearing_seq: hseq, step, at: new Date(at).toISOString(), actor: { role: 'officer', id: 'u7' }, leaf_hex: leaf.toString('hex'), payload, ...(salt ? { salt: salt.toString('hex') } : {}) });
  });
  for (const e of entries) e.proof = auditPath(e.seq, leaves).map((x) => x.toString('base64'));
  const body = `${origin}\n${leaves.length}\n${mth(leaves).toString('base64')}\n`;
  const sig = crypto.sign(null, Buffer.from(body), privateKey);
  const checkpoint = `${body}\n\u2014 ${origin} ${Buffer.concat([keyId, sig]).toString('base64')}\n`;
  return { bundle: { version: 1, origin, hearing_id: 'h-1', checkpoint, keys: [vkey], entries, recordings: [rec] }, trusted: [{ vkey, from_size: 0 }] };
}

