// The hearing's status, the call's one-time ticket in the web-view URL (never the session
// token), and the served decision with its proof files downloaded with the header.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { lib, mockWx, loadPage, settle, text, tap, SERVER, SIGNED_IN } = require('./helpers');

const TOKEN = SIGNED_IN['rh.token.citizen'];
const hearing = (over = {}) => ({
  id: 'hr-1',
  booking_id: 'bk-1',
  status: 'in_call',
  steps: [{ step: 'identity', at: '2026-12-07T09:05:00+08:00', by: 'officer' }],
  next_step: 'inquiry',
  next_by: 'officer',
  ...over,
});

test('hearing: not opened yet, then open with its steps and the way into the call', async (t) => {
  const env = mockWx({ storage: SIGNED_IN });
  let list = [];
  env.server.on('GET hearings', () => ({ data: list }));
  const page = loadPage('hearing');
  t.after(() => page.instance.onUnload());
  page.instance.onLoad({ booking: 'bk-1' });
  await page.instance.onShow();
  await settle();
  assert.equal(env.server.calls[0].path, 'hearings?booking_id=bk-1');
  assert.ok(page.querySelector('#not-opened'));
  list = [hearing()];
  await tap(page, '#refresh');
  assert.equal(text(page, '#hearing-status'), '办理状态：通话中');
  assert.equal(text(page, '#hearing-next'), '下一步：询问');
  assert.equal(page.querySelectorAll('.step').length, 1);
  await tap(page, '#join');
  assert.deepEqual(env.navigations, ['/pages/call/call?hearing=hr-1']);
  assert.equal(page.querySelector('#decision'), undefined);
});

test('hearing: a closed hearing shows its outcome and the decision, and stops polling', async (t) => {
  const env = mockWx({ storage: SIGNED_IN });
  const done = hearing({ status: 'completed', next_step: null, steps: [{ step: 'service', at: 'x', by: 'officer' }, { step: 'receipt', at: 'x', by: 'citizen' }] });
  env.server.on('GET hearings/hr-1', { data: done });
  const page = loadPage('hearing');
  t.after(() => page.instance.onUnload());
  page.instance.onLoad({ hearing: 'hr-1' });
  await page.instance.onShow();
  await settle();
  assert.equal(text(page, '#hearing-outcome'), '办理完成。');
  assert.equal(page.querySelector('#join'), undefined);
  await tap(page, '#decision');
  assert.deepEqual(env.navigations, ['/pages/decision/decision?hearing=hr-1']);
});

test('ticket: the call page asks for a one-time ticket and opens the H5 page with it, never with the token', async () => {
  const env = mockWx({ storage: SIGNED_IN });
  let n = 0;
  env.server.on('POST hearings/hr-1/web-ticket', () => ({ data: { ticket: `tk-${++n}`, hearing_id: 'hr-1', expires_at: '2026-12-07T09:06:00Z' } }));
  const page = loadPage('call');
  await page.instance.onLoad({ hearing: 'hr-1' });
  await settle();
  const call = env.server.find('POST hearings/hr-1/web-ticket');
  assert.equal(call.length, 1);
  assert.equal(call[0].header.Authorization, `Bearer ${TOKEN}`, 'the token travels in the header');
  assert.equal(page.data.src, `${SERVER}/?ticket=tk-1`);
  assert.ok(!page.data.src.includes(TOKEN));
  const view = page.querySelector('#call-view');
  assert.ok(view, 'the web-view is shown');
  // The web-view fails (a spent or expired ticket): the retry asks for a fresh ticket.
  view.dispatchEvent('error', { detail: { url: `${SERVER}/?ticket=tk-1` } });
  await settle();
  assert.equal(page.data.src, '');
  assert.equal(text(page, '#call-err'), `无法打开视频页面 (${SERVER}/)`);
  await tap(page, '#call-retry');
  assert.equal(env.server.find('POST hearings/hr-1/web-ticket').length, 2);
  assert.equal(page.data.src, `${SERVER}/?ticket=tk-2`);
});

test('ticket: a refused ticket is shown in words; a URL holding the session token is refused', async () => {
  const env = mockWx({ storage: SIGNED_IN });
  env.server.on('POST hearings/hr-1/web-ticket', { status: 409, data: { error: { code: 'invalid_state', message: 'closed' } } });
  const page = loadPage('call');
  await page.instance.onLoad({ hearing: 'hr-1' });
  await settle();
  assert.equal(page.data.src, '');
  assert.match(text(page, '#call-err'), /当前不能进行此操作/);
  // A server that answered the session token as the "ticket" would leak it into the URL.
  env.server.on('POST hearings/hr-1/web-ticket', { data: { ticket: TOKEN, expires_at: 'x' } });
  await tap(page, '#call-retry');
  assert.equal(page.data.src, '');
  assert.match(text(page, '#call-err'), /web-view URL refused/);
  const { webViewUrl } = lib('hearing');
  assert.throws(() => webViewUrl(`a${TOKEN}b`), /refused/);
  assert.throws(() => webViewUrl(''), /refused/);
  assert.equal(webViewUrl('a b&c'), `${SERVER}/?ticket=a%20b%26c`);
  // In 关怀模式 the H5 page opens in its large-text mode too.
  lib('care').setCare(true);
  assert.equal(webViewUrl('t1'), `${SERVER}/?ticket=t1&care=1`);
  lib('care').setCare(false);
  assert.equal(webViewUrl('t1'), `${SERVER}/?ticket=t1`);
});

test('decision: the fields, the PDFs opened and the proof file shared, each downloaded with the header', async () => {
  const env = mockWx({ storage: SIGNED_IN });
  env.server
    .on('GET hearings/hr-1', { data: hearing({ status: 'completed', steps: [{ step: 'service' }, { step: 'receipt' }] }) })
    .on('GET hearings/hr-1/decision?format=json', {
      data: { decision_no: '京公交决字〔2026〕1号', fine_yuan: 100, points: 3, officers: [{ name: '王警官', badge: '010001' }], sha256: 'ab'.repeat(32) },
    });
  const page = loadPage('decision');
  await page.instance.onLoad({ hearing: 'hr-1' });
  await settle();
  assert.equal(text(page, '#doc-outcome'), '办理完成。');
  const fields = page.querySelectorAll('.doc-row').map((r) => [...r.dom.children].map((c) => c.textContent.trim()).join(' '));
  assert.deepEqual(fields, ['罚款（元） 100', '记分 3', '决定书编号 京公交决字〔2026〕1号', '执法民警 王警官（警号 010001）', `文书 SHA-256 ${'ab'.repeat(32)}`]);
  const base = `${SERVER}/api/v1/hearings/hr-1`;
  assert.deepEqual(env.downloads.map((d) => [d.url, d.filePath]), [[`${base}/proof`, 'wxfile://usr/proof-hr-1.json']], 'the proof file is saved when the page opens');
  assert.ok(page.querySelector('#doc-proof-saved'));
  await tap(page, '#doc-proof');
  assert.equal(env.downloads.length, 1, 'the tap only shares (wx.shareFileMessage works straight from a tap)');
  await tap(page, '#doc-pdf');
  await tap(page, '#doc-service-proof');
  assert.deepEqual(env.downloads.map((d) => d.url), [`${base}/proof`, `${base}/decision?format=pdf`, `${base}/proof-of-service?format=pdf`]);
  for (const d of env.downloads) {
    assert.equal(d.header.Authorization, `Bearer ${TOKEN}`);
    assert.ok(!d.url.includes(TOKEN));
  }
  assert.deepEqual(env.opened.map((o) => o.fileType), ['pdf', 'pdf']);
  assert.deepEqual(env.shared.map((s) => [s.filePath, s.fileName]), [['wxfile://usr/proof-hr-1.json', 'proof-hr-1.json']]);
});

test('decision: none served yet; a failed download is shown', async () => {
  const env = mockWx({ storage: SIGNED_IN });
  env.server.on('GET hearings/hr-1', { data: hearing({ status: 'referred', steps: [] }) });
  const page = loadPage('decision');
  await page.instance.onLoad({ hearing: 'hr-1' });
  await settle();
  assert.equal(text(page, '#doc-outcome'), '本次无法远程处理，请携带相关证件到窗口办理。');
  assert.equal(text(page, '#doc-none'), '处罚决定书尚未送达。');
  assert.equal(page.querySelector('#doc-pdf'), undefined);
  env.downloadStatus = 404;
  await page.instance.openDecision();
  assert.equal(text(page, '#doc-err'), '未找到相关记录。');
});
