// The project as WeChat compiles it: every page of app.json has its .ts, .wxml and .json
// (a Component-built page), and the official WXML and WXSS compilers (wcc/wcsc from the
// miniprogram-compiler npm package, run offline) accept every file.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const compiler = require('miniprogram-compiler');

const SRC = path.join(__dirname, '..', 'src');
const app = JSON.parse(fs.readFileSync(path.join(SRC, 'app.json'), 'utf8'));

test('compile: every page in app.json exists and is a component page', () => {
  assert.ok(app.pages.length >= 6);
  for (const p of app.pages) {
    for (const ext of ['ts', 'wxml', 'json']) assert.ok(fs.existsSync(path.join(SRC, `${p}.${ext}`)), `${p}.${ext}`);
    const json = JSON.parse(fs.readFileSync(path.join(SRC, `${p}.json`), 'utf8'));
    assert.equal(json.component, true, `${p}.json: built with Component()`);
  }
  assert.ok(fs.existsSync(path.join(SRC, app.sitemapLocation)));
});

test('compile: wcc compiles every WXML file, every page among them', () => {
  const js = compiler.wxmlToJs(SRC);
  for (const p of app.pages) assert.ok(js.includes(`${p}.wxml`), p);
  // The page tests render these templates through the same compiler (helpers.js loadPage).
});

test('compile: wcsc compiles every WXSS file', () => {
  const js = compiler.wxssToJs(SRC);
  assert.ok(js.includes("'app.wxss'"));
});

test('compile: the WXML check is a real one (a broken file is refused)', (t) => {
  const dir = fs.mkdtempSync(path.join(require('os').tmpdir(), 'wxml-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'bad.wxml'), '<view><text>{{a}</view>');
  assert.throws(() => compiler.wxmlToJs(dir), /bad\.wxml/);
});
