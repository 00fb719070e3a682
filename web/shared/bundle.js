// Verification of a hearing's offline audit bundle, in the browser, following
// docs/audit-format.md §8 step by step (the counterpart of `remote-hearing audit verify`): the
// checkpoint signed by a trusted (published) key, each entry's strict leaf decoding, chain link,
// fields, payload digest and RFC 6962 inclusion proof, and the sealed recordings. Every check is
// reported; none is skipped.
import { b64, hex, equal, leafHash, verifyInclusion, verifyNote, parseCheckpoint } from './verify.js';
import { decodeLeaf, payloadCommitment } from './leaf.js';
import { witnessChecks } from './witness.js';

/**
 * bundle: the parsed JSON. trustedKeys: [{vkey, from_size, to_size?}] as GET /audit/keys lists
 * them (the bundle's own `keys` are not trusted). Returns {ok, erased, checks: [{name, args, ok, detail}]}:
 * `erased` lists the hearing_seq of version-2 entries whose payload and salt were deleted
 * (retention, §10): their inclusion is checked, their missing payload is not a failure.
 * `complete` / `completeness` (§9, like the CLI): whether the chain ends with its valid
 * `hearing_closed` terminal entry; reported beside the checks, not as one.
 * `policy` {witnesses: [vkey], quorum}: with trusted witnesses, one `witness` check each and a
 * `quorum` check on the checkpoint's cosignatures (§10), like `audit verify --witness`.
 */
export async function verifyBundle(bundle, trustedKeys, policy = null) {
  const checks = [];
  const add = (name, ok, detail = '', args = {}) => checks.push({ name, ok: !!ok, detail: String(detail), args });
  const erased = [];
  const whole = completeness(bundle);
  const done = () => ({ ok: checks.length > 0 && checks.every((c) => c.ok), erased, ...whole, checks });

  // 1. version and shape
  const shapeOk = bundle && typeof bundle === 'object' && typeof bundle.checkpoint === 'string' && Array.isArray(bundle.entries);
  add('format', shapeOk && bundle.version === 1, shapeOk ? `version ${bundle.version}, ${bundle.entries.length} entries` : 'not a bundle');
  if (!shapeOk) return done();

  // 2. the checkpoint, signed by a trusted key valid for its size, with the bundle's origin
  let cp = null;
  let sig = { ok: false, detail: 'no trusted keys (GET /api/v1/audit/keys failed)' };
  for (const k of trustedKeys || []) {
    const r = await verifyNote(bundle.checkpoint, k.vkey);
    if (!r.ok) {
      sig = r;
      continue;
    }
    try {
      const c = parseCheckpoint(r.body);
      if (c.size < (k.from_size ?? 0) || (k.to_size != null && c.size > k.to_size)) {
        sig = { ok: false, detail: `key not valid for tree size ${c.size}` };
        continue;
      }
      cp = c;
      sig = { ok: true, detail: `${r.detail}; tree size ${c.size}` };
      break;
    } catch (e) {
      sig = { ok: false, detail: e.message };
    }
  }
  add('key', !!cp, cp ? 'the checkpoint is signed by a published key' : sig.detail);
  add('signature', sig.ok, sig.detail);
  add('origin', !!cp && cp.origin === bundle.origin, cp ? `${cp.origin}` : 'no verified checkpoint');
  if (policy?.witnesses?.length) for (const c of await witnessChecks(bundle.checkpoint, policy.witnesses, policy.quorum)) checks.push(c);

  // 3. entries in hearing_seq order
  const entries = [...bundle.entries].sort((a, b) => a.hearing_seq - b.hearing_seq);
  if (!entries.length) add('chain', false, 'no entries');
  let prevHash = new Uint8Array(32);
  let chainOk = entries.length > 0;
  const chainProblems = [];
  const sealed = new Map(); // recording id -> {sha256, bytes}
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    const args = { seq: e.seq };
    let bytes;
    let leaf;
    try {
      if (typeof e.leaf_hex !== 'string' || /[A-F]/.test(e.leaf_hex)) throw new Error('leaf_hex is not lowercase hex');
      bytes = hex.decode(e.leaf_hex);
      leaf = decodeLeaf(bytes);
    } catch (err) {
      add('leaf', false, err.message, args);
      add('inclusion', false, 'no leaf', args);
      chainOk = false;
      chainProblems.push(`entry ${i} unreadable`);
      prevHash = null;
      continue;
    }
    const lh = await leafHash(bytes);
    // 3.2, 3.3, 3.5: the leaf's fields
    const diff = [];
    if (bundle.hearing_id != null && leaf.hearing_id !== bundle.hearing_id) diff.push('hearing_id');
    if (e.hearing_seq !== i || leaf.hearing_seq !== i) diff.push(`hearing_seq (want ${i})`);
    if (e.step !== leaf.step) diff.push('step');
    const actor = e.actor && typeof e.actor === 'object' ? e.actor : null;
    if (!actor || actor.role !== leaf.actor.role || (actor.id ?? '') !== leaf.actor.id) diff.push('actor');
    if (Date.parse(e.at) !== leaf.at_ms) diff.push('at');
    add('leaf', diff.length === 0, diff.length ? `differs from the leaf: ${diff.join(', ')}` : `${leaf.step} · ${new Date(leaf.at_ms).toISOString()}`, args);
    // 3.4: the chain
    if (!prevHash || !equal(leaf.prev_hash, prevHash)) {
      chainOk = false;
      chainProblems.push(`link ${i}`);
    }
    prevHash = lh;
    // 3.6: the payload commitment (v1 plain digest, v2 salted; §10: an erased v2 entry has none)
    if (e.erased === true) {
      const ok = leaf.version === 2 && (e.payload === null || e.payload === undefined) && e.salt == null;
      if (ok) erased.push(i);
      add('payload', ok, ok ? 'erased (payload and salt deleted)' : leaf.version === 2 ? 'marked erased but still carries a payload or salt' : 'only version-2 payloads can be erased', args);
    } else {
      try {
        const pd = await payloadCommitment(leaf.version, e.salt ?? null, e.payload);
        const ok = equal(pd, leaf.payload_sha256);
        add('payload', ok, ok ? `v${leaf.version} ` + hex.encode(pd).slice(0, 16) + '…' : 'payload differs from its sealed digest', args);
      } catch (err) {
        add('payload', false, err.message, args);
      }
    }
    // 3.7: inclusion under the checkpoint
    let proof = null;
    try {
      proof = (e.proof || []).map((p) => b64.decode(p));
    } catch {
      proof = null;
    }
    const incl = !!cp && !!proof && Number.isSafeInteger(e.seq) && (await verifyInclusion(e.seq, cp.size, lh, proof, cp.root));
    add('inclusion', incl, incl ? `entry ${e.seq} of ${cp.size}` : cp ? 'the proof does not lead to the signed root' : 'no verified checkpoint', args);
    for (const r of leaf.recordings) sealed.set(r.id, r);
  }
  if (entries.length) add('chain', chainOk, chainOk ? `${entries.length} entries linked from hearing_seq 0` : chainProblems.join(', '));

  // 4. recordings: the listed ones equal the sealed ones, and every sealed one is listed
  const listed = Array.isArray(bundle.recordings) ? bundle.recordings : [];
  const recProblems = [];
  for (const r of listed) {
    const s = sealed.get(r.id);
    if (!s) recProblems.push(`${r.id} not sealed`);
    else if (s.sha256 !== String(r.sha256).toLowerCase() || s.bytes !== r.bytes) recProblems.push(`${r.id} differs from the sealed digest`);
  }
  for (const id of sealed.keys()) if (!listed.some((r) => r.id === id)) recProblems.push(`${id} sealed but not listed`);
  add('recordings', recProblems.length === 0, recProblems.join(', ') || `${listed.length} sealed`);

  return done();
}

export const INCOMPLETE = 'incomplete (hearing open or entries missing)';

/** §9: {complete, completeness} of a bundle, the rules of the audit crate's `terminal::completeness`. */
export function completeness(bundle) {
  const no = (why) => ({ complete: false, completeness: `${INCOMPLETE}: ${why}` });
  const entries = bundle && Array.isArray(bundle.entries) ? bundle.entries : [];
  if (!entries.length) return no('no entries');
  const last = entries.reduce((a, b) => (b.hearing_seq > a.hearing_seq ? b : a));
  let leaf;
  try {
    if (typeof last.leaf_hex !== 'string' || /[A-F]/.test(last.leaf_hex)) throw new Error();
    leaf = decodeLeaf(hex.decode(last.leaf_hex));
  } catch {
    return no("the last entry's leaf does not decode");
  }
  if (leaf.step !== 'hearing_closed') return no(`the last entry is "${leaf.step}", not hearing_closed`);
  const p = last.payload && typeof last.payload === 'object' ? last.payload : {};
  if (typeof p.outcome !== 'string' || !p.outcome) return no('the terminal entry has no outcome');
  if (p.entries !== leaf.hearing_seq || entries.length !== leaf.hearing_seq + 1) {
    return no(`the terminal entry counts ${Number.isInteger(p.entries) ? p.entries : 'no'} entries before it; the bundle has ${entries.length - 1} before it at position ${leaf.hearing_seq}`);
  }
  if (typeof p.head !== 'string' || !/^[0-9a-f]{64}$/.test(p.head) || p.head !== hex.encode(leaf.prev_hash)) {
    return no("the terminal entry's head is not the entry it chains onto");
  }
  return { complete: true, completeness: `complete (outcome ${p.outcome}, ${leaf.hearing_seq} entries before the terminal entry)` };
}
