// Witness cosignatures in the browser (c2sp.org/tlog-cosignature, cosignature/v1 Ed25519;
// docs/audit-format.md §10): parse a witness verifier key (type 0x04), find and verify its
// cosignature line on a signed checkpoint note, and apply a quorum of trusted witnesses.
import { b64, hex, concat, equal, sha256, ed25519Verify, parseNote } from './verify.js';

const enc = new TextEncoder();

/** A witness verifier key `name+hexkeyid+base64(0x04||pk)`; the key id is recomputed. */
export async function parseWitnessKey(vkey) {
  const text = String(vkey).trim();
  const i = text.indexOf('+');
  const j = text.indexOf('+', i + 1);
  if (i <= 0 || j < 0) throw new Error('witness key must be name+keyid+key');
  const [name, idHex, keyB64] = [text.slice(0, i), text.slice(i + 1, j), text.slice(j + 1)];
  if (!/^[0-9a-f]{8}$/.test(idHex)) throw new Error('bad key id');
  const raw = b64.decode(keyB64);
  if (raw.length !== 33 || raw[0] !== 4) throw new Error('not a cosignature/v1 key (type 0x04)');
  const publicKey = raw.slice(1);
  const want = (await sha256(concat(enc.encode(name), Uint8Array.of(0x0a, 0x04), publicKey))).slice(0, 4);
  if (!equal(want, hex.decode(idHex))) throw new Error('key id does not match the key');
  return { name, keyId: want, publicKey, vkey: text };
}

/**
 * The cosignature of witness `w` (from parseWitnessKey) on `note`: {ok, time, detail}. A line
 * naming the witness (name and key id) that does not verify is a failure, not an absence.
 */
export async function checkCosignature(note, w) {
  let parsed;
  try {
    parsed = parseNote(note);
  } catch (e) {
    return { ok: false, detail: e.message };
  }
  const line = parsed.sigs.find((s) => s.name === w.name && equal(s.keyId, w.keyId));
  if (!line) return { ok: false, missing: true, detail: 'no cosignature by this witness' };
  if (line.signature.length !== 72) return { ok: false, detail: 'cosignature is not 8 + 64 bytes' };
  let t = 0n;
  for (const b of line.signature.slice(0, 8)) t = (t << 8n) | BigInt(b);
  if (t < 1n || t >= 2n ** 63n) return { ok: false, detail: 'bad cosignature time' };
  const msg = enc.encode(`cosignature/v1\ntime ${t}\n${parsed.body}`);
  let ok = false;
  try {
    ok = await ed25519Verify(w.publicKey, line.signature.slice(8), msg);
  } catch (e) {
    return { ok: false, detail: `Ed25519 unavailable: ${e.message}` };
  }
  const time = new Date(Number(t) * 1000).toISOString();
  return ok ? { ok, time, detail: `cosigned at ${time}` } : { ok: false, detail: 'the cosignature does not verify' };
}

/**
 * One check per trusted witness ({name: 'witness', args: {w}}) then {name: 'quorum'}: at least
 * `quorum` valid cosignatures by distinct trusted witnesses. `witnesses`: vkey strings.
 */
export async function witnessChecks(note, witnesses, quorum) {
  const checks = [];
  let valid = 0;
  for (const vkey of witnesses) {
    let r;
    let name = String(vkey).split('+')[0];
    try {
      const w = await parseWitnessKey(vkey);
      name = w.name;
      r = await checkCosignature(note, w);
    } catch (e) {
      r = { ok: false, detail: e.message };
    }
    if (r.ok) valid++;
    checks.push({ name: 'witness', ok: r.ok, detail: r.detail, args: { w: name } });
  }
  checks.push({ name: 'quorum', ok: valid >= quorum, detail: `${valid} of ${witnesses.length} trusted witnesses cosigned, ${quorum} required`, args: { n: valid, k: quorum, of: witnesses.length } });
  return checks;
}
