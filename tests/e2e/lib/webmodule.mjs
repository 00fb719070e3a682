// Import a browser ES module from web/ into node. web/ has no package.json (the files are plain
// .js served to browsers), so node would read them as CommonJS; we load them as data: URLs instead,
// rewriting their relative imports of other web/ modules the same way.
import { readFileSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const webRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../web');

function toDataUrl(rel, seen = new Map()) {
  if (seen.has(rel)) return seen.get(rel);
  let src = readFileSync(join(webRoot, rel), 'utf8');
  // relative specifiers and the site-absolute ones the pages use ('/shared/i18n.js')
  src = src.replace(/(from\s+|import\s+)'(\.{1,2}\/[^']+|\/[^']+)'/g, (_m, kw, spec) => {
    const dep = spec.startsWith('/') ? spec.slice(1) : join(dirname(rel), spec);
    return `${kw}'${toDataUrl(dep, seen)}'`;
  });
  const url = 'data:text/javascript;base64,' + Buffer.from(src).toString('base64');
  seen.set(rel, url);
  return url;
}

export function importWeb(rel) {
  return import(toDataUrl(rel));
}
