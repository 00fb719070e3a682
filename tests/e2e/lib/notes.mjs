// Test-side signing, independent of the server and of web/shared: C2SP signed notes and
// checkpoints (log key, type 0x01) and cosignature/v1 lines (witness key, type 0x04) with
// node's own Ed25519, and RFC 9162 consistency proofs over a list of leaf hashes — to build
// genuine, forked and rolled-back checkpoints for the pages' checks.
import { createHash, generateKeyPairSync, createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';

const sha = (...parts) => createHash('sha256').update(Buffer.concat(parts.map((p) => Buffer.from(p)))).digest();

function rawPublic(privateKey) {
  return Buffer.from(createPublicKey(privateKey).export({ format: 'jwk' }).x, 'base64url');
}

/** The Ed25519 key of a PKCS#8 file (ring writes version 2, which OpenSSL does not read: take
 * the 32-byte seed after `04 22 04 20` and wrap it as version 1). */
function fromPkcs8(der) {
  const i = der.indexOf(Buffer.from('04220420', 'hex'));
  if (i < 0) throw new Error('not an Ed25519 PKCS#8 key');
  const v1 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), der.subarray(i + 4, i + 36)]);
  return createPrivateKey({ key: v1, format: 'der', type: 'pkcs8' });
}

/** A key: {name, type (1 log, 4 witness), privateKey, vkey, keyId}. From a PKCS#8 DER file when `file`. */
export function key(name, type = 1, file = null) {
  const privateKey = file ? fromPkcs8(readFileSync(file)) : generateKeyPairSync('ed25519').privateKey;
  const pk = rawPublic(privateKey);
  const keyId = sha(name, Buffer.of(0x0a, type), pk).subarray(0, 4);
  const vkey = `${name}+${keyId.toString('hex')}+${Buffer.concat([Buffer.of(type), pk]).toString('base64')}`;
  return { name, type, privateKey, vkey, keyId };
}

export const checkpointBody = (origin, size, root) => `${origin}\n${size}\n${Buffer.from(root).toString('base64')}\n`;

/** The log's signature line over `body`. */
export function logLine(k, body) {
  const sig = sign(null, Buffer.from(body), k.privateKey);
  return `\u2014 ${k.name} ${Buffer.concat([k.keyId, sig]).toString('base64')}`;
}

/** A witness's cosignature/v1 line over `body` at POSIX time `t`. */
export function cosignLine(w, body, t = Math.floor(Date.now() / 1000)) {
  const ts = Buffer.alloc(8);
  ts.writeBigUInt64BE(BigInt(t));
  const sig = sign(null, Buffer.from(`cosignature/v1\ntime ${t}\n${body}`), w.privateKey);
  return `\u2014 ${w.name} ${Buffer.concat([w.keyId, ts, sig]).toString('base64')}`;
}

/** A signed note: body, empty line, the lines. */
export const note = (body, ...lines) => `${body}\n${lines.join('\n')}\n`;

export const leafHash = (data) => sha(Buffer.of(0), data);
const node = (l, r) => sha(Buffer.of(1), l, r);

/** RFC 9162 MTH over leaf hashes. */
export function mth(leaves) {
  if (leaves.length === 0) return sha('');
  if (leaves.length === 1) return leaves[0];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return node(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

/** RFC 9162 §2.1.4.1 consistency proof from size m to the whole of `leaves` (m > 0). */
export function consistencyProof(m, leaves) {
  const sub = (m, d, b) => {
    const n = d.length;
    if (m === n) return b ? [] : [mth(d)];
    let k = 1;
    while (k * 2 < n) k *= 2;
    if (m <= k) return [...sub(m, d.slice(0, k), b), mth(d.slice(k))];
    return [...sub(m - k, d.slice(k), false), mth(d.slice(0, k))];
  };
  return sub(m, leaves, true);
}
