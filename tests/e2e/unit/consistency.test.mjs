// Unit tests of the page's RFC 9162 consistency-proof check (web/shared/verify.js
// `verifyConsistency`, used by the auditor page's "the log only grew" check) against the
// consistency vectors of transparency-dev/merkle shared with the Rust tests.
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

test('RFC 9162 consistency proof vectors', async () => {
  let n = 0;
  for (const file of jsonFiles(join(here, '../../../audit/tests/data/merkle/consistency'))) {
    const c = JSON.parse(readFileSync(file, 'utf8'));
    let ok;
    try {
      ok = await v.verifyConsistency(c.size1, c.size2, dec(c.root1), dec(c.root2), (c.proof || []).map(dec));
    } catch {
      ok = false;
    }
    // Our stricter rules (docs/audit-format.md §4, as in the Rust tests): no proof from size 0,
    // every hash 32 bytes.
    const all32 = [c.root1, c.root2, ...(c.proof || [])].every((x) => dec(x).length === 32);
    const want = !c.wantErr && c.size1 > 0 && all32;
    assert.equal(ok, want, `${file}: ${c.desc}`);
    n++;
  }
  assert.ok(n > 50, `ran ${n} cases`);
});

test('equal sizes, a fork at equal size, bad sizes', async () => {
  const leaves = await Promise.all([...Array(13).keys()].map((i) => v.leafHash(Uint8Array.of(i))));
  const t = (n) => v.treeHash(leaves.slice(0, n));
  // Same sizes need the same root and no proof; sizes out of order or from 0 fail.
  const r6 = await t(6);
  const r13 = await t(13);
  assert.equal(await v.verifyConsistency(6, 6, r6, r6, []), true);
  assert.equal(await v.verifyConsistency(6, 6, r6, r13, []), false);
  assert.equal(await v.verifyConsistency(0, 6, r6, r6, []), false);
  assert.equal(await v.verifyConsistency(7, 6, r6, r6, []), false);
});
