// Trust on first use for the pages that verify (the auditor page, /verify/): the log's verifier
// keys and the witnesses' keys are pinned in localStorage the first time they are seen, shown by
// fingerprint, and compared with what the server publishes on every visit — a change is
// reported loudly and the pinned set keeps being used until the person accepts the new one; a
// rotated log key endorsed by a pinned key (signed by both) joins the pinned set by itself.
// Also the log's memory: the newest checkpoint seen, against which a new one must be consistent
// (RFC 9162 consistency proof): a smaller tree is a rollback, another root a fork.
import { b64, hex, sha256, verifyNote, parseCheckpoint, parseNote, verifyConsistency } from './verify.js';

const PIN_KEY = 'rh.trust.pins';
const CP_KEY = 'rh.trust.checkpoint';

/** A key's fingerprint: SHA-256 of its verifier-key text, first 8 bytes, grouped by 2. */
export async function fingerprint(vkey) {
  const h = hex.encode((await sha256(String(vkey))).slice(0, 8));
  return h.match(/..../g).join(' ');
}

/** What the server publishes: {keys: [{vkey, from_size, to_size?}], witnesses: [vkey], quorum}. */
export async function published(getJson) {
  const keys = (await getJson('/api/v1/audit/keys')) || [];
  let w = { witnesses: [], quorum: 0 };
  try {
    w = (await getJson('/api/v1/audit/witnesses')) || w;
  } catch {
    /* a server without witnesses configured answers an empty list */
  }
  return { keys, witnesses: (w.witnesses || []).map((x) => x.vkey), quorum: w.quorum || 0 };
}

export function loadPins(storage = localStorage) {
  try {
    return JSON.parse(storage.getItem(PIN_KEY) || 'null');
  } catch {
    return null;
  }
}

export function savePins(trust, storage = localStorage) {
  storage.setItem(PIN_KEY, JSON.stringify({ ...trust, pinned_at: new Date().toISOString() }));
}

const sorted = (xs) => [...new Set(xs.map(String))].sort();

/** The differences between the pinned set and a published one, in words (empty: the same). */
export function differences(pinned, now) {
  const out = [];
  const cmp = (label, a, b) => {
    for (const x of b) if (!a.includes(x)) out.push(`${label} added: ${x}`);
    for (const x of a) if (!b.includes(x)) out.push(`${label} removed: ${x}`);
  };
  cmp('log key', sorted(pinned.keys.map((k) => k.vkey)), sorted(now.keys.map((k) => k.vkey)));
  cmp('witness key', sorted(pinned.witnesses), sorted(now.witnesses));
  if (pinned.quorum !== now.quorum) out.push(`witness quorum ${pinned.quorum} → ${now.quorum}`);
  return out;
}

/** Whether `k.endorsement` (docs/audit-format.md "Key rotation") names `old` → `k` and verifies under both. */
async function endorses(k, old) {
  const lines = String(k.endorsement || '').split('\n');
  if (lines[0] !== 'remote-hearing audit key rotation' || lines[2] !== `old ${old}` || lines[3] !== `new ${k.vkey}`) return false;
  return (await verifyNote(k.endorsement, old)).ok && (await verifyNote(k.endorsement, k.vkey)).ok;
}

/**
 * The log keys published but not pinned whose rotation a pinned key endorsed (in a chain: a
 * key endorsed by one so accepted counts too). A key without such a note is a change to report.
 */
export async function endorsedKeys(pinned, now) {
  const have = new Set(pinned.keys.map((k) => k.vkey));
  const out = [];
  for (let grew = true; grew; ) {
    grew = false;
    for (const k of now.keys) {
      if (have.has(k.vkey) || !k.endorsement) continue;
      const old = /^old (\S+)$/m.exec(k.endorsement)?.[1];
      if (old && have.has(old) && (await endorses(k, old))) {
        have.add(k.vkey);
        out.push(k.vkey);
        grew = true;
      }
    }
  }
  return out;
}

/**
 * Pins at first use: returns {trust (what to verify with: always the pinned set once there is
 * one), first, changed: [differences], rotated: [log keys accepted because a pinned key
 * endorsed them; they join the pinned set], now (the published set)}.
 */
export async function pinnedTrust(getJson, storage = localStorage) {
  const now = await published(getJson);
  let pinned = loadPins(storage);
  if (!pinned) {
    savePins(now, storage);
    return { trust: now, first: true, changed: [], rotated: [], now };
  }
  const rotated = await endorsedKeys(pinned, now);
  if (rotated.length) {
    // The pinned keys with their published ranges (the old one now closed), plus the endorsed.
    const keep = new Set([...pinned.keys.map((k) => k.vkey), ...rotated]);
    pinned = { ...pinned, keys: now.keys.filter((k) => keep.has(k.vkey)) };
    savePins(pinned, storage);
  }
  return { trust: pinned, first: false, changed: differences(pinned, now), rotated, now };
}

async function openCheckpoint(note, keys) {
  for (const k of keys) {
    const r = await verifyNote(note, k.vkey);
    if (r.ok) return parseCheckpoint(r.body);
  }
  return null;
}

/**
 * The log only grew: compares checkpoint `note` (fresh from the server) with the one remembered
 * in `storage`, both opened with the pinned log `keys`. `consistency(from, to)` fetches the
 * RFC 9162 proof (base64 hashes). Returns {ok, kind, detail, size}; kind is `first`, `same`,
 * `grew`, or the alarm: `unsigned` (the new one does not verify), `stored-invalid`,
 * `origin`, `rollback`, `fork`. The memory moves forward only when ok.
 */
export async function checkGrowth(note, keys, consistency, storage = localStorage) {
  const fresh = await openCheckpoint(note, keys);
  if (!fresh) return { ok: false, kind: 'unsigned', detail: 'the served checkpoint is not signed by a pinned log key' };
  const keep = () => storage.setItem(CP_KEY, note);
  const storedNote = storage.getItem(CP_KEY);
  if (!storedNote) {
    keep();
    return { ok: true, kind: 'first', detail: `remembered tree size ${fresh.size}`, size: fresh.size };
  }
  let old = null;
  try {
    parseNote(storedNote);
    old = await openCheckpoint(storedNote, keys);
  } catch {
    old = null;
  }
  if (!old) return { ok: false, kind: 'stored-invalid', detail: 'the remembered checkpoint does not verify with the pinned keys', size: fresh.size };
  if (old.origin !== fresh.origin) return { ok: false, kind: 'origin', detail: `origin ${old.origin} → ${fresh.origin}`, size: fresh.size };
  if (old.size > fresh.size) {
    return { ok: false, kind: 'rollback', detail: `the server shows tree size ${fresh.size}, smaller than the ${old.size} seen before`, size: fresh.size, old: old.size };
  }
  const same = b64.encode(old.root) === b64.encode(fresh.root);
  if (old.size === fresh.size) {
    if (!same) return { ok: false, kind: 'fork', detail: `two different roots for tree size ${fresh.size}`, size: fresh.size, old: old.size };
    return { ok: true, kind: 'same', detail: `tree size ${fresh.size}, as before`, size: fresh.size };
  }
  // The empty tree is a prefix of every tree and has no consistency proof (RFC 9162 needs
  // 0 < from): a remembered empty tree grew if its root is the empty tree's hash.
  if (old.size === 0) {
    if (hex.encode(old.root) !== hex.encode(await sha256(new Uint8Array()))) {
      return { ok: false, kind: 'fork', detail: 'the remembered empty tree has a root other than the empty hash', size: fresh.size, old: 0 };
    }
    keep();
    return { ok: true, kind: 'grew', detail: `grew from 0 to ${fresh.size} (the empty tree is a prefix of every tree)`, size: fresh.size, old: 0 };
  }
  let proof;
  try {
    proof = (await consistency(old.size, fresh.size)).map((x) => b64.decode(x));
  } catch (e) {
    return { ok: false, kind: 'fork', detail: `no consistency proof from ${old.size} to ${fresh.size}: ${e.message}`, size: fresh.size, old: old.size };
  }
  if (!(await verifyConsistency(old.size, fresh.size, old.root, fresh.root, proof))) {
    return { ok: false, kind: 'fork', detail: `tree ${fresh.size} is not an extension of tree ${old.size} (consistency proof fails)`, size: fresh.size, old: old.size };
  }
  keep();
  return { ok: true, kind: 'grew', detail: `grew from ${old.size} to ${fresh.size} (consistency proof verified)`, size: fresh.size, old: old.size };
}
