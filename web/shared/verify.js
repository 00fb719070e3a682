// In-browser verification of the audit log: SHA-256 and Ed25519 through WebCrypto, the RFC 6962 /
// RFC 9162 inclusion proof check in our own code, C2SP signed notes and checkpoints. Works in
// browsers and in node (globalThis.crypto.subtle), so it is unit-tested with `node --test`.

const subtle = globalThis.crypto.subtle;
const enc = new TextEncoder();

export const b64 = {
  decode(s) {
    if (typeof s !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) {
      throw new Error('bad base64');
    }
    const bin = atob(s);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  },
  encode(u8) {
    let s = '';
    for (const b of u8) s += String.fromCharCode(b);
    return btoa(s);
  },
};

export const hex = {
  decode(s) {
    if (typeof s !== 'string' || s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) throw new Error('bad hex');
    const out = new Uint8Array(s.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
    return out;
  },
  encode(u8) {
    return [...u8].map((b) => b.toString(16).padStart(2, '0')).join('');
  },
};

export function concat(...parts) {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function equal(a, b) {
  if (!a || !b || a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

export async function sha256(data) {
  const u8 = typeof data === 'string' ? enc.encode(data) : data;
  return new Uint8Array(await subtle.digest('SHA-256', u8));
}

/** RFC 6962 leaf hash: SHA-256(0x00 || data). */
export const leafHash = (data) => sha256(concat(Uint8Array.of(0), data));
/** RFC 6962 interior node: SHA-256(0x01 || left || right). */
export const nodeHash = (l, r) => sha256(concat(Uint8Array.of(1), l, r));

/**
 * RFC 9162 §2.1.3.2: the root that an inclusion proof leads to. Throws on a malformed proof
 * (index out of range, wrong length, hashes not 32 bytes).
 */
export async function rootFromInclusionProof(index, size, leaf, proof) {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || size < 1) {
    throw new Error('bad index or size');
  }
  if (index >= size) throw new Error(`index ${index} beyond tree size ${size}`);
  if (leaf.length !== 32) throw new Error('leaf hash is not 32 bytes');
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (p.length !== 32) throw new Error('proof hash is not 32 bytes');
    if (sn === 0) throw new Error('proof too long');
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new Error('proof too short');
  return r;
}

export async function verifyInclusion(index, size, leaf, proof, root) {
  try {
    const r = await rootFromInclusionProof(index, size, leaf, proof);
    return equal(r, root);
  } catch {
    return false;
  }
}

/** Merkle tree hash of a list of leaf hashes (RFC 6962 §2.1), for tests and small trees. */
export async function treeHash(leaves) {
  if (leaves.length === 0) return sha256(new Uint8Array());
  if (leaves.length === 1) return leaves[0];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(await treeHash(leaves.slice(0, k)), await treeHash(leaves.slice(k)));
}

/** Parse a verifier key `name+hexkeyid+base64(0x01||pk)`. */
export function parseVkey(vkey) {
  const text = String(vkey).trim();
  const i = text.indexOf('+');
  const j = text.indexOf('+', i + 1);
  if (i <= 0 || j < 0) throw new Error('verifier key must be name+keyid+key');
  const [name, idHex, keyB64] = [text.slice(0, i), text.slice(i + 1, j), text.slice(j + 1)];
  if (!/^[0-9a-f]{8}$/.test(idHex)) throw new Error('bad key id');
  const raw = b64.decode(keyB64);
  if (raw.length !== 33 || raw[0] !== 1) throw new Error('not an Ed25519 key');
  return { name, keyId: hex.decode(idHex), publicKey: raw.slice(1) };
}

/** Key ID = SHA-256(name || 0x0A || 0x01 || pk)[0..4]. */
export async function keyIdFor(name, publicKey) {
  const h = await sha256(concat(enc.encode(name), Uint8Array.of(0x0a, 0x01), publicKey));
  return h.slice(0, 4);
}

export async function ed25519Verify(publicKey, signature, message) {
  const key = await subtle.importKey('raw', publicKey, { name: 'Ed25519' }, false, ['verify']);
  return subtle.verify({ name: 'Ed25519' }, key, signature, message);
}

/** Split a signed note into its body (with final newline) and signature lines. */
export function parseNote(text) {
  const i = text.lastIndexOf('\n\n');
  if (i < 0) throw new Error('note has no signature block');
  const body = text.slice(0, i + 1);
  const sigs = [];
  for (const line of text.slice(i + 2).split('\n')) {
    if (line === '') continue;
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
    if (!m) throw new Error('malformed signature line');
    const raw = b64.decode(m[2]);
    if (raw.length < 5) throw new Error('signature too short');
    sigs.push({ name: m[1], keyId: raw.slice(0, 4), signature: raw.slice(4) });
  }
  if (!sigs.length) throw new Error('note has no signatures');
  return { body, sigs };
}

/** Verify a signed note with a verifier key; returns {ok, detail, body}. */
export async function verifyNote(text, vkey) {
  let key;
  let note;
  try {
    key = parseVkey(vkey);
    note = parseNote(text);
  } catch (e) {
    return { ok: false, detail: e.message };
  }
  const wantId = await keyIdFor(key.name, key.publicKey);
  if (!equal(wantId, key.keyId)) return { ok: false, detail: 'key id does not match the key' };
  const sig = note.sigs.find((s) => s.name === key.name && equal(s.keyId, key.keyId));
  if (!sig) return { ok: false, detail: `no signature by ${key.name}` };
  if (sig.signature.length !== 64) return { ok: false, detail: 'signature is not 64 bytes' };
  let ok = false;
  try {
    ok = await ed25519Verify(key.publicKey, sig.signature, enc.encode(note.body));
  } catch (e) {
    return { ok: false, detail: `Ed25519 unavailable: ${e.message}` };
  }
  return { ok, detail: ok ? `signed by ${key.name}` : 'signature does not verify', body: note.body };
}

/** Parse a C2SP checkpoint body: origin, size, root hash, extension lines. */
export function parseCheckpoint(body) {
  const lines = body.split('\n');
  if (lines.length < 4 || lines[lines.length - 1] !== '') throw new Error('checkpoint too short');
  const [origin, sizeStr, rootB64] = lines;
  if (!origin) throw new Error('checkpoint has no origin');
  if (!/^(0|[1-9][0-9]*)$/.test(sizeStr)) throw new Error('bad tree size');
  const size = Number(sizeStr);
  if (!Number.isSafeInteger(size)) throw new Error('tree size too large');
  const root = b64.decode(rootB64);
  if (root.length !== 32) throw new Error('root hash is not 32 bytes');
  return { origin, size, root, extensions: lines.slice(3, -1) };
}

/** Whether n (a safe integer) is a power of two. */
function isPow2(n) {
  if (n < 1) return false;
  while (n % 2 === 0) n /= 2;
  return n === 1;
}

/**
 * RFC 9162 §2.1.4.2: whether `proof` (32-byte hashes) proves that the tree (size1, root1) is a
 * prefix of the tree (size2, root2). Sizes must satisfy 0 < size1 <= size2 (a proof from 0 is
 * rejected, docs/audit-format.md §4); equal sizes need an empty proof and equal roots.
 */
export async function verifyConsistency(size1, size2, root1, root2, proof) {
  if (!Number.isSafeInteger(size1) || !Number.isSafeInteger(size2) || size1 < 1 || size1 > size2) return false;
  if ([root1, root2, ...proof].some((x) => !x || x.length !== 32)) return false;
  if (size1 === size2) return proof.length === 0 && equal(root1, root2);
  if (!proof.length) return false;
  const path = isPow2(size1) ? [root1, ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equal(fr, root1) && equal(sr, root2);
}
