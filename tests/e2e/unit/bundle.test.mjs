// Unit tests of the auditor page's leaf decoder, canonical JSON and bundle verifier against
// docs/audit-format.md: its worked examples, and a bundle built and signed here independently.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { importWeb } from '../lib/webmodule.mjs';

const { decodeLeaf, canonicalJson } = await importWeb('shared/leaf.js');
const { verifyBundle } = await importWeb('shared/bundle.js');

const EXAMPLE =
  '0019' + Buffer.from('remote-hearing/audit-leaf').toString('hex') + '01' + '0002' + '6831' + '0000000000000002' + 'ab'.repeat(32) +
  '0008' + Buffer.from('identity').toString('hex') + '000001a1ee565e7b' + '0007' + Buffer.from('officer').toString('hex') + '0002' + '7537' +
  '11'.repeat(32) + '0000';

test('decodes the worked example of §2', () => {
  const l = decodeLeaf(Uint8Array.from(Buffer.from(EXAMPLE, 'hex')));
  assert.equal(l.hearing_id, 'h1');
  assert.equal(l.hearing_seq, 2);
  assert.equal(l.step, 'identity');
  assert.equal(l.at_ms, 1795000000123);
  assert.equal(new Date(l.at_ms).toISOString(), '2026-11-18T11:06:40.123Z');
  assert.deepEqual(l.actor, { role: 'officer', id: 'u7' });
  assert.equal(Buffer.from(l.payload_sha256).toString('hex'), '11'.repeat(32));
  assert.deepEqual(l.recordings, []);
});

test('rejects what §2 rejects', () => {
  const bad = (h) => assert.throws(() => decodeLeaf(Uint8Array.from(Buffer.from(h, 'hex'))));
  bad(EXAMPLE + '00'); // trailing byte
  bad(EXAMPLE.slice(0, -2)); // truncated
  bad(EXAMPLE.replace('0019' + Buffer.from('remote').toString('hex'), '0019' + Buffer.from('Remote').toString('hex'))); // tag
  bad(EXAMPLE.replace(/(6c656166)01/, '$102')); // version 2
  bad(EXAMPLE.replace('0000000000000002', '0000000000000000')); // seq 0 with a previous hash
  bad(EXAMPLE.replace('ab'.repeat(32), '00'.repeat(32))); // seq 2 without one
  bad(EXAMPLE.replace('0008' + Buffer.from('identity').toString('hex'), '0008' + Buffer.from('Identity').toString('hex'))); // step chars
});

test('canonical JSON of §3', () => {
  const v = JSON.parse('{"b":[1,{"z":null,"a":true}],"a":"x\\"y\\u0001é","c":-5}');
  assert.equal(canonicalJson(v), '{"a":"x\\"y\\u0001é","b":[1,{"a":true,"z":null}],"c":-5}');
  assert.equal(canonicalJson({ s: 'a/b\n\t' }), '{"s":"a/b\\n\\t"}');
  assert.throws(() => canonicalJson({ x: 1.5 }));
});

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
function encodeLeaf({ hid, seq, prev, step, at, role, actor, payload, recs = [] }) {
  const r = Buffer.alloc(2);
  r.writeUInt16BE(recs.length);
  return Buffer.concat([
    str('remote-hearing/audit-leaf'), Buffer.from([1]), str(hid), u64(seq), prev, str(step), u64(at), str(role), str(actor),
    sha(Buffer.from(canon(payload))), r, ...recs.flatMap((x) => [str(x.id), Buffer.from(x.sha256, 'hex'), u64(x.bytes)]),
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

function makeBundle() {
  const origin = 'test.example/audit';
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
  const pub = Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url');
  const keyId = sha(Buffer.from(origin), Buffer.from([0x0a, 0x01]), pub).subarray(0, 4);
  const vkey = `${origin}+${keyId.toString('hex')}+${Buffer.concat([Buffer.from([1]), pub]).toString('base64')}`;
  const rec = { id: 'rec-1', sha256: 'cd'.repeat(32), bytes: 1234 };
  // two hearings interleaved in one log: "other" at seq 0 and 3
  const steps = [
    ['other', 'identity', { id_checked: true }],
    ['h-1', 'identity', { id_checked: true }],
    ['h-1', 'inquiry', { transcript: [{ q: '是否本人驾驶？', a: '是' }] }],
    ['other', 'inquiry', { transcript: [] }],
    ['h-1', 'notice', { facts: 'x', legal_basis: 'y', proposed_fine_yuan: 100, proposed_points: 3 }],
    ['h-1', 'recording_sealed', { recordings: [rec] }],
  ];
  const prev = {};
  const counts = {};
  const leaves = [];
  const entries = [];
  steps.forEach(([hid, step, payload], seq) => {
    const hseq = counts[hid] ?? 0;
    counts[hid] = hseq + 1;
    const at = 1795000000000 + seq * 1000;
    const leaf = encodeLeaf({ hid, seq: hseq, prev: prev[hid] || Buffer.alloc(32), step, at, role: 'officer', actor: 'u7', payload, recs: step === 'recording_sealed' ? [rec] : [] });
    prev[hid] = lh(leaf);
    leaves.push(lh(leaf));
    if (hid === 'h-1') entries.push({ seq, hearing_seq: hseq, step, at: new Date(at).toISOString(), actor: { role: 'officer', id: 'u7' }, leaf_hex: leaf.toString('hex'), payload });
  });
  for (const e of entries) e.proof = auditPath(e.seq, leaves).map((x) => x.toString('base64'));
  const body = `${origin}\n${leaves.length}\n${mth(leaves).toString('base64')}\n`;
  const sig = crypto.sign(null, Buffer.from(body), privateKey);
  const checkpoint = `${body}\n\u2014 ${origin} ${Buffer.concat([keyId, sig]).toString('base64')}\n`;
  return { bundle: { version: 1, origin, hearing_id: 'h-1', checkpoint, keys: [vkey], entries, recordings: [rec] }, trusted: [{ vkey, from_size: 0 }] };
}

test('an independent bundle verifies, check by check', async () => {
  const { bundle, trusted } = makeBundle();
  const r = await verifyBundle(bundle, trusted);
  assert.deepEqual(r.checks.filter((c) => !c.ok), []);
  assert.equal(r.ok, true);
});

test('any tampering turns it red', async () => {
  const cases = {
    'payload edited': (b) => (b.entries[2].payload.proposed_fine_yuan = 50),
    'leaf byte flipped': (b) => (b.entries[1].leaf_hex = b.entries[1].leaf_hex.replace(/.$/, (c) => (c === '0' ? '1' : '0'))),
    'entry dropped': (b) => b.entries.splice(1, 1),
    'time changed': (b) => (b.entries[0].at = new Date(Date.parse(b.entries[0].at) + 1).toISOString()),
    'proof hash changed': (b) => (b.entries[0].proof[0] = Buffer.alloc(32, 7).toString('base64')),
    'checkpoint size changed': (b) => (b.checkpoint = b.checkpoint.replace('\n6\n', '\n7\n')),
    'recording hash changed': (b) => (b.recordings[0].sha256 = 'ef'.repeat(32)),
    'recording not listed': (b) => (b.recordings = []),
    'other hearing id': (b) => (b.hearing_id = 'other'),
  };
  for (const [name, tamper] of Object.entries(cases)) {
    const { bundle, trusted } = makeBundle();
    tamper(bundle);
    const r = await verifyBundle(bundle, trusted);
    assert.equal(r.ok, false, name);
  }
  const { bundle } = makeBundle();
  const other = makeBundle().trusted; // a key the server did not publish
  assert.equal((await verifyBundle(bundle, other)).ok, false, 'untrusted key');
  assert.equal((await verifyBundle(bundle, null)).ok, false, 'no trusted keys');
});
