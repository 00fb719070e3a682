// Unit tests of the auditor page's leaf decoder, canonical JSON and bundle verifier against
// docs/audit-format.md: its worked examples, and a bundle built and signed here independently.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { importWeb } from '../lib/webmodule.mjs';

const { decodeLeaf, canonicalJson, payloadCommitment } = await importWeb('shared/leaf.js');
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
  bad(EXAMPLE.replace(/(6c656166)01/, '$103')); // version 3
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

import { makeBundle } from '../lib/bundle-fixture.mjs';

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

import { readFileSync } from 'node:fs';

test('the known-answer leaf vectors of audit/tests/data/leaf (v1 and v2)', async () => {
  const doc = JSON.parse(readFileSync(new URL('../../../audit/tests/data/leaf/vectors.json', import.meta.url), 'utf8'));
  assert.ok(doc.vectors.some((v) => v.version === 2));
  for (const v of doc.vectors) {
    assert.equal(canonicalJson(v.payload), v.canonical_payload);
    const c = await payloadCommitment(v.version, v.salt, v.payload);
    assert.equal(Buffer.from(c).toString('hex'), v.payload_sha256, v.name);
    const l = decodeLeaf(Uint8Array.from(Buffer.from(v.leaf_hex, 'hex')));
    assert.equal(l.version, v.version);
    assert.equal(Buffer.from(l.payload_sha256).toString('hex'), v.payload_sha256);
  }
});

test('version-2 bundles verify, erased entries are reported, forged ones fail', async () => {
  const { bundle, trusted } = makeBundle({ version: 2 });
  let r = await verifyBundle(bundle, trusted);
  assert.deepEqual(r.checks.filter((c) => !c.ok), []);
  assert.deepEqual(r.erased, []);
  const erased = structuredClone(bundle);
  Object.assign(erased.entries[1], { payload: null, erased: true });
  delete erased.entries[1].salt;
  r = await verifyBundle(erased, trusted);
  assert.equal(r.ok, true, JSON.stringify(r.checks.filter((c) => !c.ok)));
  assert.deepEqual(r.erased, [1]);
  const bad = async (why, f) => {
    const b = structuredClone(bundle);
    f(b);
    assert.equal((await verifyBundle(b, trusted)).ok, false, why);
  };
  await bad('wrong salt', (b) => (b.entries[1].salt = '00'.repeat(16)));
  await bad('salt removed', (b) => delete b.entries[1].salt);
  await bad('erased but payload kept', (b) => (b.entries[1].erased = true));
  const v1 = makeBundle();
  Object.assign(v1.bundle.entries[1], { payload: null, erased: true });
  r = await verifyBundle(v1.bundle, v1.trusted);
  assert.equal(r.ok, false, 'a version-1 entry cannot be erased');
  assert.deepEqual(r.checks.filter((c) => !c.ok).map((c) => c.name), ['payload']);
});

test('completeness of §9, like the CLI', async () => {
  const { completeness, INCOMPLETE } = await importWeb('shared/bundle.js');
  const { bundle, trusted } = makeBundle({ version: 2, close: 'completed' });
  const r = await verifyBundle(bundle, trusted);
  assert.equal(r.ok, true, JSON.stringify(r.checks.filter((c) => !c.ok)));
  assert.equal(r.complete, true, r.completeness);
  assert.match(r.completeness, /^complete \(outcome completed, 4 entries/);
  const cut = structuredClone(bundle);
  cut.entries.pop();
  const c = await verifyBundle(cut, trusted);
  assert.equal(c.ok, true, 'a cut bundle passes every check');
  assert.equal(c.complete, false);
  assert.ok(c.completeness.startsWith(INCOMPLETE));
  const open = makeBundle();
  assert.equal(completeness(open.bundle).complete, false);
  const forged = structuredClone(bundle);
  forged.entries.at(-1).payload.entries = 3;
  assert.equal(completeness(forged).complete, false);
});
