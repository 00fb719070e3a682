// Test harness: a DOM (jsdom) for miniprogram-simulate, the built pages of .build/ (test/build.js)
// loaded through the official WXML compiler, a mocked `wx` (storage, login, request, files,
// modals, navigation, font size) and a fake server behind wx.request that records every call.
'use strict';
const path = require('path');
const { JSDOM } = require('jsdom');

const dom = new JSDOM('<!doctype html><html><body></body></html>');
global.window = dom.window;
global.document = dom.window.document;
// j-component builds its events with the globals: they must be the DOM's own classes.
global.Event = dom.window.Event;
global.CustomEvent = dom.window.CustomEvent;

const simulate = require('miniprogram-simulate');

const BUILD = path.join(__dirname, '..', '.build');
const lib = (name) => require(path.join(BUILD, 'lib', name));
const { API_BASE, SERVER } = lib('config');

/**
 * Routes are 'METHOD path' (path under /api/v1; with its query, or without it to match any query)
 * → handler(req) → {status, data, header}, or 'network' for a failed request.
 */
function fakeServer() {
  const server = { routes: {}, calls: [] };
  server.on = (route, handler) => {
    server.routes[route] = typeof handler === 'function' ? handler : () => handler;
    return server;
  };
  server.find = (route) => server.calls.filter((c) => `${c.method} ${c.path}` === route);
  return server;
}

/** Installs a fresh mocked wx; returns {server, storage, toasts, navigations, modals, ...}. */
function mockWx(opts = {}) {
  const server = fakeServer();
  const storage = new Map(Object.entries(opts.storage || {}));
  const env = {
    server,
    storage,
    toasts: [],
    navigations: [],
    titles: [],
    downloads: [],
    opened: [],
    shared: [],
    logins: 0,
    loginCodes: opts.loginCodes || ['wx-code-1', 'wx-code-2', 'wx-code-3'],
    modalAnswer: opts.modalAnswer !== undefined ? opts.modalAnswer : true,
    modals: [],
    // what the citizen answers to the subscription message prompt ('accept' / 'reject')
    subscribeAnswer: opts.subscribeAnswer || 'reject',
    subscribeAsked: [],
    fontSizeSetting: opts.fontSizeSetting || 17,
    downloadStatus: 200,
  };
  Object.assign(global.wx, {
    getStorageSync: (k) => (storage.has(k) ? storage.get(k) : ''),
    setStorageSync: (k, v) => storage.set(k, v),
    removeStorageSync: (k) => storage.delete(k),
    login: (o) => {
      const code = env.loginCodes[env.logins++];
      setTimeout(() => (code ? o.success({ code, errMsg: 'login:ok' }) : o.fail({ errMsg: 'login:fail' })), 0);
    },
    request: (o) => {
      if (!o.url.startsWith(API_BASE + '/')) throw new Error(`request outside the API: ${o.url}`);
      const p = o.url.slice(API_BASE.length + 1);
      const call = { method: o.method || 'GET', path: p, body: o.data, header: o.header || {} };
      server.calls.push(call);
      const handler = server.routes[`${call.method} ${p}`] || server.routes[`${call.method} ${p.split('?')[0]}`];
      setTimeout(() => {
        if (!handler) return o.success({ statusCode: 404, data: { error: { code: 'not_found', message: 'no route in the fake' } }, header: {} });
        const r = handler(call);
        if (r === 'network') return o.fail({ errMsg: 'request:fail timeout' });
        o.success({ statusCode: r.status || 200, data: r.data, header: r.header || {} });
      }, 0);
      return { abort() {} };
    },
    downloadFile: (o) => {
      env.downloads.push({ url: o.url, header: o.header || {}, filePath: o.filePath });
      setTimeout(() => o.success({ statusCode: env.downloadStatus, tempFilePath: 'wxfile://tmp/file', filePath: o.filePath }), 0);
      return { abort() {} };
    },
    openDocument: (o) => {
      env.opened.push(o);
      setTimeout(() => o.success({ errMsg: 'openDocument:ok' }), 0);
    },
    shareFileMessage: (o) => {
      env.shared.push(o);
      setTimeout(() => o.success({ errMsg: 'shareFileMessage:ok' }), 0);
    },
    showModal: (o) => {
      env.modals.push(o.content);
      setTimeout(() => o.success({ confirm: env.modalAnswer, cancel: !env.modalAnswer }), 0);
    },
    requestSubscribeMessage: (o) => {
      env.subscribeAsked.push(o.tmplIds);
      const r = { errMsg: 'requestSubscribeMessage:ok' };
      for (const id of o.tmplIds) r[id] = env.subscribeAnswer;
      setTimeout(() => o.success(r), 0);
    },
    showToast: (o) => env.toasts.push(o.title),
    navigateTo: (o) => env.navigations.push(o.url),
    navigateBack: () => env.navigations.push('back'),
    redirectTo: (o) => env.navigations.push(o.url),
    setNavigationBarTitle: (o) => env.titles.push(o.title),
    getAppBaseInfo: () => ({ fontSizeSetting: env.fontSizeSetting, fontSizeScaleFactor: env.fontSizeSetting / 17 }),
    getSystemInfoSync: () => ({ fontSizeSetting: env.fontSizeSetting }),
    env: { USER_DATA_PATH: 'wxfile://usr' },
  });
  lib('brigades').forgetBrigades();
  return env;
}

/** Renders a page of .build/pages/<name>/<name> and attaches it. */
function loadPage(name) {
  const id = simulate.load(path.join(BUILD, 'pages', name, name), { rootPath: BUILD });
  const comp = simulate.render(id);
  comp.attach(document.createElement('parent-wrapper'));
  return comp;
}

/** Lets the mocked callbacks (setTimeout 0) and the promises after them run. */
async function settle(rounds = 8) {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setTimeout(r, 0));
}

/** The text of the first element matching `sel` ('' when absent). */
function text(comp, sel) {
  const el = comp.querySelector(sel);
  return el ? el.dom.textContent.trim() : '';
}

/** Taps `sel` (a selector, or an element of comp.querySelectorAll). */
async function tap(comp, sel, detail) {
  const el = typeof sel === 'string' ? comp.querySelector(sel) : sel;
  if (!el) throw new Error(`nothing matches ${sel}`);
  el.dispatchEvent('tap', detail ? { detail } : undefined);
  await settle();
}

const BRIGADES = [{ id: 'br-1', name: '朝阳交警大队', address: '朝阳路 1 号', timezone: 'Asia/Shanghai' }];

/** A booking as the API answers it. */
function booking(over = {}) {
  return {
    id: 'bk-1',
    status: 'booked',
    brigade_id: 'br-1',
    slot_start: '2026-12-07T09:00:00+08:00',
    slot_end: '2026-12-07T09:30:00+08:00',
    timezone: 'Asia/Shanghai',
    urgent: false,
    plate: '京A12345',
    owner: true,
    phone_masked: '138****8000',
    violations: [{ record_no: 'R1', fine_yuan: 100, points: 3 }],
    unhandled_count: 1,
    current_points: 0,
    created_at: '2026-12-04T08:00:00+08:00',
    ...over,
  };
}

/** A signed-in citizen (token and citizen in storage). */
const SIGNED_IN = {
  'rh.token.citizen': 'session-token-abc',
  'rh.citizen': { id: 'cz-1', phone_masked: '138****8000', phone_bound: true },
};

module.exports = { simulate, BUILD, lib, API_BASE, SERVER, mockWx, loadPage, settle, text, tap, BRIGADES, booking, SIGNED_IN };
