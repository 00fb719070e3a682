// The known-answer vector files the unit tests read (audit/tests/data/…): every .json below a
// folder, in a stable order.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export function* jsonFiles(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* jsonFiles(p);
    else if (name.endsWith('.json')) yield p;
  }
}
