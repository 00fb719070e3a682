// Builds the mini program for the tests and type-checks the whole project: tsc (strict,
// noEmitOnError: any type error fails the run, as `npm run check` = tsc --noEmit would) emits
// src/**/*.ts as CommonJS into .build/, and the WXML, WXSS and JSON files are copied beside them,
// so .build/ is the project as WeChat runs it.
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const root = path.join(__dirname, '..');
const src = path.join(root, 'src');
const out = path.join(root, '.build');

fs.rmSync(out, { recursive: true, force: true });
try {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.json')], { stdio: 'inherit' });
} catch {
  console.error('build: tsc found errors (above); nothing was built');
  process.exit(1);
}

(function copy(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const from = path.join(dir, e.name);
    if (e.isDirectory()) copy(from);
    else if (/\.(wxml|wxss|json|wxs)$/.test(e.name)) {
      const to = path.join(out, path.relative(src, from));
      fs.mkdirSync(path.dirname(to), { recursive: true });
      fs.copyFileSync(from, to);
    }
  }
})(src);
