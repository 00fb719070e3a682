// Unit tests of the pages' witness and trust checks (web/shared/witness.js, trust.js) in node:
// cosignature/v1 lines made here with node's Ed25519 (lib/notes.mjs) verify, a forged or
// altered one does not, the quorum counts distinct trusted witnesses; keys are pinned at first
// use and a change is reported; the remembered checkpoint only moves forward, and a rollback,
// a fork at the same size, a history rewritten behind a bigger tree, and an unsigned checkpoint
// are each named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { importWeb } from '../lib/webmodule.mjs';
import { key, checkpointBody, logLine, cosignLine, note, leafHash, mth, consistencyProof } from '../lib/notes.mjs';

const w = await importWeb('shared/witness.js');
const trust = await importWeb('shared/trust.js');

const memory = () => {
  const m = new Map();
  return { getItem: (k) => (m.has(k) ? m.get(k) : null), setItem: (k, v) => m.set(k, String(v)), removeItem: (k) => m.delete(k) };
};

const log = key('log.example/audit', 1);
const w1 = key('court.example/w1', 4);
const w2 = key('notary.example/w2', 4);
const leaves = [...Array(20).keys()].map((i) => leafHash(Buffer.from(`entry ${i}`)));
const cpNote = (size, ls = leaves, ...witnesses) => {
  const body = checkpointBody(log.name, size, mth(ls.slice(0, size)));
  return note(body, logLine(log, body), ...witnesses.map((x) => cosignLine(x, body, 1_790_000_000)));
};

test('cosignatures: valid, absent, forged, altered; the quorum', async () => {
  const n = cpNote(7, leaves, w1, w2);
  const p1 = await w.parseWitnessKey(w1.vkey);
  assert.equal((await w.checkCosignature(n, p1)).ok, true);
  assert.match((await w.checkCosignature(n, p1)).detail, /2026-09-21T/);
  // Same name, another key: its key id differs, so no line is found for it.
  const forged = await w.parseWitnessKey(key('court.example/w1', 4).vkey);
  assert.equal((await w.checkCosignature(n, forged)).missing, true);
  // One changed character in the body: the signature no longer verifies.
  const altered = n.replace('\n7\n', '\n8\n');
  assert.match((await w.checkCosignature(altered, p1)).detail, /does not verify/);
  // A log key (type 0x01) is not a witness key.
  await assert.rejects(w.parseWitnessKey(log.vkey), /0x04/);
  const checks = await w.witnessChecks(cpNote(7, leaves, w1), [w1.vkey, w2.vkey], 2);
  assert.deepEqual(checks.map((c) => [c.name, c.ok]), [['witness', true], ['witness', false], ['quorum', false]]);
  const ok = await w.witnessChecks(n, [w1.vkey, w2.vkey], 2);
  assert.ok(ok.every((c) => c.ok));
});

test('keys are pinned at first use; a change is reported and the pinned set stays in use', async () => {
  const store = memory();
  let served = { keys: [{ vkey: log.vkey, from_size: 0 }], witnesses: { witnesses: [{ name: w1.name, vkey: w1.vkey }], quorum: 1 } };
  const getJson = async (p) => (p.endsWith('/keys') ? served.keys : served.witnesses);
  const first = await trust.pinnedTrust(getJson, store);
  assert.equal(first.first, true);
  const again = await trust.pinnedTrust(getJson, store);
  assert.deepEqual([again.first, again.changed], [false, []]);
  const other = key('log.example/audit', 1);
  served = { ...served, keys: [{ vkey: other.vkey, from_size: 0 }] };
  const changed = await trust.pinnedTrust(getJson, store);
  assert.equal(changed.changed.length, 2, changed.changed.join('; '));
  assert.equal(changed.trust.keys[0].vkey, log.vkey, 'still the pinned key');
  assert.match(await trust.fingerprint(log.vkey), /^[0-9a-f]{4}( [0-9a-f]{4}){3}$/);
});

test('the remembered checkpoint only moves forward along consistent trees', async () => {
  const store = memory();
  const keys = [{ vkey: log.vkey, from_size: 0 }];
  const proofs = (ls) => async (a, b) => consistencyProof(a, ls.slice(0, b)).map((x) => x.toString('base64'));
  const honest = proofs(leaves);
  const r = (n, ls = leaves, c = honest) => trust.checkGrowth(cpNote(n, ls), keys, c, store);
  assert.equal((await r(5)).kind, 'first');
  assert.equal((await r(5)).kind, 'same');
  assert.equal((await r(13)).kind, 'grew');
  assert.equal((await r(20)).kind, 'grew');
  const back = await r(16);
  assert.deepEqual([back.ok, back.kind], [false, 'rollback']);
  // Another history: entry 3 rewritten. Same size 20, another root: a fork.
  const forked = leaves.map((l, i) => (i === 3 ? leafHash(Buffer.from('rewritten')) : l));
  assert.equal((await r(20, forked, proofs(forked))).kind, 'fork');
  // A bigger rewritten tree: no consistency proof from the remembered one can pass.
  const more = [...forked, ...leaves.slice(0, 5)];
  assert.equal((await r(25, more, proofs(more))).kind, 'fork');
  // A checkpoint signed by another key: not accepted, the memory does not move.
  const stranger = key('log.example/audit', 1);
  const body = checkpointBody(log.name, 25, mth(more));
  assert.equal((await trust.checkGrowth(note(body, logLine(stranger, body)), keys, honest, store)).kind, 'unsigned');
  assert.equal((await r(20)).kind, 'same', 'the memory stayed at the last good checkpoint');
});

test('a remembered empty tree grows without a proof (there is none from size 0)', async () => {
  const store = memory();
  const keys = [{ vkey: log.vkey, from_size: 0 }];
  const noProof = async () => {
    throw new Error('need 0 < from <= to');
  };
  assert.equal((await trust.checkGrowth(cpNote(0, []), keys, noProof, store)).kind, 'first');
  const g = await trust.checkGrowth(cpNote(7, leaves), keys, noProof, store);
  assert.deepEqual([g.ok, g.kind, g.old, g.size], [true, 'grew', 0, 7]);
  assert.equal((await trust.checkGrowth(cpNote(7, leaves), keys, noProof, store)).kind, 'same');
});

test('a rotated log key endorsed by the pinned key joins the pins; a forged or missing endorsement is a change', async () => {
  const store = memory();
  const next = key('log.example/audit', 1);
  const rotation = (oldK, newK, from, ...signers) => {
    const body = `remote-hearing audit key rotation\nlog.example/audit\nold ${oldK.vkey}\nnew ${newK.vkey}\nfrom ${from}\n`;
    return note(body, ...signers.map((k) => logLine(k, body)));
  };
  let served = { keys: [{ vkey: log.vkey, from_size: 0 }], witnesses: { witnesses: [], quorum: 0 } };
  const getJson = async (p) => (p.endsWith('/keys') ? served.keys : served.witnesses);
  await trust.pinnedTrust(getJson, store);
  // Endorsed by the old key but not signed by the new one: not accepted.
  served = { ...served, keys: [{ vkey: log.vkey, from_size: 0, to_size: 9 }, { vkey: next.vkey, from_size: 9, endorsement: rotation(log, next, 9, log) }] };
  let r = await trust.pinnedTrust(getJson, store);
  assert.deepEqual(r.rotated, []);
  assert.equal(r.changed.length, 1, r.changed.join('; '));
  // Signed by the new key and an impostor with the old key's name: not accepted.
  const impostor = key('log.example/audit', 1);
  served.keys[1].endorsement = rotation(log, next, 9, impostor, next);
  r = await trust.pinnedTrust(getJson, store);
  assert.deepEqual(r.rotated, []);
  // Both signatures, naming the pinned key: accepted, pinned, with the old key's closed range.
  served.keys[1].endorsement = rotation(log, next, 9, log, next);
  r = await trust.pinnedTrust(getJson, store);
  assert.deepEqual(r.rotated, [next.vkey]);
  assert.deepEqual(r.changed, []);
  assert.deepEqual(r.trust.keys.map((k) => [k.vkey, k.to_size]), [[log.vkey, 9], [next.vkey, undefined]]);
  const later = await trust.pinnedTrust(getJson, store);
  assert.deepEqual([later.rotated, later.changed], [[], []], 'remembered');
  // A chain: the next rotation endorsed by the key accepted above.
  const third = key('log.example/audit', 1);
  served = { ...served, keys: [...served.keys, { vkey: third.vkey, from_size: 20, endorsement: rotation(next, third, 20, next, third) }] };
  r = await trust.pinnedTrust(getJson, store);
  assert.deepEqual(r.rotated, [third.vkey]);
});
