// Unit tests of web/shared/verify.js (the auditor page's checks) in node, no browser:
// RFC 6962 inclusion vectors from transparency-dev/merkle and the C2SP signed-note vectors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importWeb } from '../lib/webmodule.mjs';
import { jsonFiles } from '../lib/vectors.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const v = await importWeb('shared/verify.js');

const dec = (s) => (s ? v.b64.decode(s) : new Uint8Array());

test('RFC 6962 inclusion proof vectors', async () => {
  let n = 0;
  for (const file of jsonFiles(join(here, '../../../audit/tests/data/merkle/inclusion'))) {
    const c = JSON.parse(readFileSync(file, 'utf8'));
    let ok;
    try {
      ok = await v.verifyInclusion(c.leafIdx, c.treeSize, dec(c.leafHash), (c.proof || []).map(dec), dec(c.root));
    } catch {
      ok = false;
    }
    assert.equal(ok, !c.wantErr, `${file}: ${c.desc}`);
    n++;
  }
  assert.ok(n > 50, `ran ${n} cases`);
});

test('tree heads of the known leaves', async () => {
  const leaves = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'];
  const hashes = await Promise.all(leaves.map((x) => v.leafHash(v.hex.decode(x))));
  assert.equal(v.hex.encode(await v.treeHash(hashes.slice(0, 3))), 'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77');
  assert.equal(v.hex.encode(await v.treeHash(hashes)), '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328');
});

test('signed-note vector 1', async () => {
  const vkey = 'example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k';
  const note = 'This is an example message.\n\n\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n';
  const r = await v.verifyNote(note, vkey);
  assert.equal(r.ok, true, r.detail);
  const bad = await v.verifyNote(note.replace('example message', 'example massage'), vkey);
  assert.equal(bad.ok, false);
});

test('checkpoint vector 2', async () => {
  const vkey = 'example.com/hearings+685feff1+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
  const note =
    'example.com/hearings\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\n' +
    '\u2014 example.com/hearings aF/v8W4HJNMj8zVDV8uHo3MNPn9m0kONmruC52xn1hWrXF7x/g39RGcop4XzaOa8xqQrzx2+G4usPV+zkYXqE7f4qwM=\n';
  const r = await v.verifyNote(note, vkey);
  assert.equal(r.ok, true, r.detail);
  const cp = v.parseCheckpoint(r.body);
  assert.equal(cp.origin, 'example.com/hearings');
  assert.equal(cp.size, 8);
  assert.equal(v.hex.encode(cp.root), '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328');
  const tampered = await v.verifyNote(note.replace('\n8\n', '\n9\n'), vkey);
  assert.equal(tampered.ok, false);
});

test('verifier keys whose base64 contains +', () => {
  const k = v.parseVkey('mock.example/hearings+253be076+AcV/JyAEsBTmEPzOSOCXkp6Ac2n/neN+5hK1tE5slUlu');
  assert.equal(k.name, 'mock.example/hearings');
  assert.equal(k.publicKey.length, 32);
  assert.throws(() => v.parseVkey('nokey'));
});
