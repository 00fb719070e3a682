// The auditor page's verifier (web/shared/bundle.js) and the server's `remote-hearing audit verify`
// must agree: on a bundle built independently here, and on every tampered variant of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importWeb } from '../lib/webmodule.mjs';
import { makeBundle } from '../lib/bundle-fixture.mjs';
import { binaryPath } from '../lib/server.mjs';

const { verifyBundle } = await importWeb('shared/bundle.js');

const TAMPER = {
  untouched: () => {},
  'payload edited': (b) => (b.entries[2].payload.proposed_fine_yuan = 50),
  'leaf byte flipped': (b) => (b.entries[1].leaf_hex = b.entries[1].leaf_hex.replace(/.$/, (c) => (c === '0' ? '1' : '0'))),
  'entry dropped': (b) => b.entries.splice(1, 1),
  'time changed': (b) => (b.entries[0].at = new Date(Date.parse(b.entries[0].at) + 1).toISOString()),
  'proof hash changed': (b) => (b.entries[0].proof[0] = Buffer.alloc(32, 7).toString('base64')),
  'checkpoint size changed': (b) => (b.checkpoint = b.checkpoint.replace('\n6\n', '\n7\n')),
  'recording hash changed': (b) => (b.recordings[0].sha256 = 'ef'.repeat(32)),
  'other hearing id': (b) => (b.hearing_id = 'other'),
};

test('page and CLI verifiers agree', { skip: !existsSync(binaryPath()) && `no server binary at ${binaryPath()}` }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rh-verify-'));
  try {
    for (const [name, tamper] of Object.entries(TAMPER)) {
      const { bundle, trusted } = makeBundle();
      tamper(bundle);
      const page = await verifyBundle(bundle, trusted);
      const f = join(dir, 'b.json');
      writeFileSync(f, JSON.stringify(bundle));
      const r = spawnSync(binaryPath(), ['audit', 'verify', f, '--key', trusted[0].vkey, '--json'], { encoding: 'utf8' });
      const cliOk = r.status === 0;
      assert.equal(page.ok, name === 'untouched', `page on ${name}: ${JSON.stringify(page.checks.filter((c) => !c.ok))}`);
      assert.equal(cliOk, name === 'untouched', `CLI on ${name}: ${r.stdout}${r.stderr}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
