// The steps of a hearing through the real pages, shared by the tests that each run their own
// server and browser: a fresh world (server, brigade, officer, citizen phone, two pages), logins,
// an urgent booking in the form, the officer claiming and opening it, the SMS-code join and the
// legal steps up to the citizen's statement.
import { startServer } from './server.mjs';
import { launch, phoneContext, desktopContext, watch, staffHeaders } from './browser.mjs';
import { tlsFront } from './tls-front.mjs';

export const TZ = 'Asia/Shanghai';
export const localDate = (ms) => new Intl.DateTimeFormat('en-CA', { timeZone: TZ }).format(new Date(ms));
/** The start (ms) of tomorrow in the brigade's zone (Asia/Shanghai: +08:00, no DST), whatever the UTC hour. */
export const localTomorrow = () => Date.parse(`${localDate(Date.now() + 86400000)}T00:00:00+08:00`);
/** "HH:MM" in the brigade's zone. */
export const localTime = (ms) =>
  new Intl.DateTimeFormat('en-GB', { timeZone: TZ, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(ms));

let seq = 0;
/**
 * Its own server (extra `env`, extra command `args`), a brigade (`brigade`: create-brigade arguments replacing the
 * defaults: open around the clock every day; `seats` per slot, 4), an officer of it, a citizen phone, Chromium with the
 * citizen on a phone and the officer on a desktop. `close()` stops all of it. `https`: two server
 * processes behind nginx with TLS (lib/tls-front.mjs); the pages then load from `w.front.url`.
 */
export async function world({ env = {}, args = [], brigade = ['--hours', '00:00-24:00'], seats = 4, https = false } = {}) {
  seq += 1;
  const front = https ? await tlsFront() : null;
  let server;
  try {
    server = await startServer({
      log: !!process.env.E2E_LOG,
      env,
      serveEnv: front?.env('hearing-1'),
      args,
      peerEnv: front?.env('hearing-2'),
    });
    await front?.start(server.url, server.peer.url);
  } catch (e) {
    await server?.stop();
    await front?.stop();
    throw e;
  }
  const base = front ? front.url : server.url;
  const w = {
    server,
    front,
    errors: [],
    phone: `138${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`,
    officer: { badge: `OUT${seq}${Date.now() % 1e5}`, password: 'officer-pass-1' },
  };
  w.close = async () => {
    await w.browser?.close();
    await server.stop();
    await front?.stop();
    if (w.errors.length) console.log('browser errors seen:\n' + w.errors.join('\n'));
  };
  try {
    w.brigade = server.admin(['create-brigade', '--name', '结果测试大队', '--address', '测试市测试路1号', '--seats', String(seats), '--weekdays', 'mon-sun', ...brigade]);
    server.decisionFacts(w.brigade);
    server.admin(['create-user', '--role', 'officer', '--badge', w.officer.badge, '--name', '测试民警', '--brigade', w.brigade, '--password-stdin'], w.officer.password + '\n');
    w.browser = await launch({ home: front?.home });
    w.citizen = await (await phoneContext(w.browser, base)).newPage();
    w.officerPage = await (await desktopContext(w.browser, base)).newPage();
  } catch (e) {
    await w.close();
    throw e;
  }
  watch(w.citizen, 'citizen', w.errors);
  watch(w.officerPage, 'officer', w.errors);
  w.citizen.on('dialog', (d) => d.accept());
  w.officerPage.on('dialog', (d) => d.accept());
  return w;
}

export async function api(server, path, opts = {}) {
  const r = await fetch(server.url + path, opts);
  const body = r.headers.get('content-type')?.includes('json') ? await r.json() : await r.text();
  return { status: r.status, body };
}

/** The citizen logs in with the SMS code (the `nth` code sent to the phone). */
export async function loginCitizen(w, nth = 1) {
  const c = w.citizen;
  await c.goto('/');
  await c.waitForSelector('[data-view=login]:not([hidden])');
  await c.fill('#login-phone', w.phone);
  await c.click('#login-send');
  const { code } = await w.server.waitForCode(w.phone, nth);
  await c.fill('#login-code', code);
  await c.click('#login-form button[type=submit]');
  await c.waitForSelector('[data-view=home]:not([hidden])');
}

export async function loginOfficer(w) {
  const o = w.officerPage;
  await o.goto('/officer/');
  await o.waitForSelector('[data-view=login]:not([hidden])');
  await o.fill('#login-badge', w.officer.badge);
  await o.fill('#login-password', w.officer.password);
  await o.click('#login-form button[type=submit]');
  await o.waitForSelector('[data-view=dash]:not([hidden])');
}

/** The first free slot starting after `after` (ms) from today to today + 3. */
export async function freeSlot(w, after = Date.now() + 60_000) {
  const from = localDate(Date.now());
  const to = localDate(Date.now() + 3 * 86400000);
  const slots = await api(w.server, `/api/v1/brigades/${w.brigade}/slots?from=${from}&to=${to}`);
  if (slots.status !== 200) throw new Error(`slots: ${slots.status} ${JSON.stringify(slots.body)}`);
  return slots.body.find((x) => x.remaining > 0 && new Date(x.start).getTime() > after) || null;
}

/**
 * The booking's steps (选大队 → 选日期时段 → 填案件 → 确认): `onStep(page, n)` runs on each step as it
 * is shown (screenshots, layout checks); `next` moves on with the step's one primary action.
 */
export async function bookingStep(c, n) {
  await c.waitForSelector(`[data-view=book]:not([hidden]) .bk-step[data-step="${n}"]:not([hidden])`);
  await c.waitForSelector(`#bk-progress li[data-step="${n}"][aria-current=step]`);
}
async function nextStep(c, n) {
  await c.click('#bk-next');
  await c.waitForSelector(`.bk-step[data-step="${n + 1}"]:not([hidden])`, { timeout: 10_000 }).catch(async (e) => {
    throw new Error(`booking step ${n} did not move on: ${await c.textContent('#book-err')} (${e.message})`);
  });
}

/** Step 2: the day of `slot` and the slot itself. */
export async function pickSlot(c, slot) {
  const slotDate = localDate(new Date(slot.start).getTime());
  await c.waitForSelector(`#bk-dates input[name=bkdate][value="${slotDate}"]`, { state: 'attached' });
  await c.click(`#bk-dates input[name=bkdate][value="${slotDate}"] + label`);
  await c.waitForSelector(`input[name=slot][value="${slot.start}"]`, { state: 'attached' });
  await c.click(`input[name=slot][value="${slot.start}"] + label`);
}

/**
 * Books an urgent booking of `slot` through the four steps (the registration anniversary falls
 * on its day) and submits it; the answer is not awaited. `w`: {citizen, brigade, phone};
 * `onStep(page, n)` runs on steps 1–4 as they are shown, `beforeSubmit(page)` on the last.
 */
export async function fillUrgentBooking(w, slot, { plate = '鲁B54321', recordNo = '3701029876543210', beforeSubmit, onStep } = {}) {
  const c = w.citizen;
  const slotDate = localDate(new Date(slot.start).getTime());
  const [y, m, d] = slotDate.split('-');
  const reg = m === '02' && d === '29' ? `${Number(y) - 4}-02-29` : `${Number(y) - 3}-${m}-${d}`;
  await c.click('#go-book');
  await bookingStep(c, 1);
  await c.selectOption('#bk-brigade', w.brigade);
  await c.check('#bk-urgent');
  await c.fill('#bk-regdate', reg);
  await c.waitForFunction(() => document.querySelector('#bk-expiry').textContent.length > 0);
  await onStep?.(c, 1);
  await nextStep(c, 1);
  await bookingStep(c, 2);
  await pickSlot(c, slot);
  await onStep?.(c, 2);
  await nextStep(c, 2);
  await bookingStep(c, 3);
  if (await c.isVisible('#bk-phone')) await c.fill('#bk-phone', w.phone);
  await c.fill('#bk-plate', plate);
  await c.fill('.violation .v-no', recordNo);
  await c.fill('.violation .v-fine', '100');
  await c.fill('.violation .v-pts', '3');
  await c.fill('#bk-unhandled', '1');
  await c.fill('#bk-points', '0');
  await onStep?.(c, 3);
  await nextStep(c, 3);
  await bookingStep(c, 4);
  await onStep?.(c, 4);
  await beforeSubmit?.(c);
  await c.click('#bk-submit');
}

/** An urgent booking through the form; returns its id. */
export async function bookUrgent(w, slot) {
  const c = w.citizen;
  await fillUrgentBooking(w, slot);
  await c.waitForSelector('[data-view=home]:not([hidden]) #booking-status', { timeout: 15_000 }).catch(async (e) => {
    throw new Error(`booking not shown: ${await c.textContent('#book-err')} (${e.message})`);
  });
  return c.getAttribute('[data-booking-id]', 'data-booking-id');
}

/** The officer claims the booking from the urgent lane and opens its hearing; returns the hearing id. */
export async function claimAndOpen(w, bookingId) {
  const o = w.officerPage;
  await o.click('#dash-refresh');
  await o.waitForSelector(`#urgent-list li[data-booking-id="${bookingId}"]`);
  await o.click('#urgent-claim');
  const open = `#urgent-list li[data-booking-id="${bookingId}"] button.btn:not(.btn-ghost)`;
  await o.waitForSelector(open);
  await o.click(open);
  await o.waitForSelector('[data-view=hearing]:not([hidden])');
  await o.waitForSelector('#step-card[data-step=identity]');
  return decodeURIComponent(/hearing=([^&]+)/.exec(await o.evaluate(() => location.hash))[1]);
}

/** The officer sends the code (the `nth` SMS code of the phone); the citizen joins with it. */
export async function joinWithCode(w, nth) {
  const c = w.citizen;
  await w.officerPage.click('#send-code');
  const { code } = await w.server.waitForCode(w.phone, nth);
  await c.click('#go-wait');
  await c.waitForSelector('[data-view=wait]:not([hidden])');
  // The code went out before the citizen came here: the page says so.
  await c.waitForSelector('#wait-next[data-state=sent]', { timeout: 10_000 });
  await c.fill('#join-code', code);
  await c.click('#join-submit');
  await c.waitForSelector('[data-view=call]:not([hidden])');
}

/**
 * The identity step (issue 12 §2): the citizen gives the name and ID number on the phone (when
 * not given yet), the officer sees the named party, captures a still of the citizen's video
 * (canvas → JPEG → evidence upload) and records both checks.
 */
export async function identityStep(o, c) {
  await c.waitForSelector('#identity-given, #id-name', { timeout: 15_000 });
  if (await c.$('#id-name')) {
    await c.fill('#id-name', '张三');
    await c.fill('#id-number', '370102199003181234');
    await c.click('#id-save');
    await c.waitForSelector('#identity-given');
  }
  await o.waitForSelector('#party, #party-reload');
  if (await o.$('#party-reload')) {
    await o.click('#party-reload');
    await o.waitForSelector('#party');
  }
  // The still is taken from the citizen's video: the officer joins the call if not in it yet.
  if (!(await o.$('.peer-video'))) await o.click('#join-call');
  await o.waitForFunction(() => document.querySelector('.peer-video')?.videoWidth > 0, null, { timeout: 20_000 });
  // Joining turns the hearing `in_call`, which draws the step form again: wait for that first.
  await o.waitForSelector('#hr-status[data-status=in_call]', { timeout: 20_000 });
  await o.waitForSelector('#step-card[data-step=identity] #id-capture');
  await o.click('#id-capture');
  await o.waitForSelector('#still-info[data-id]');
  await o.check('#id-number-matches');
  await o.check('#face-matches');
  await o.click('#id-submit');
}

/**
 * The citizen's network goes away mid-way (issue 12 §1): the officer's next step is refused
 * with `call_not_live` on the page (which says who is missing) and on the API (409, nothing
 * written: `apiBody` is posted as the officer); back on the network the citizen's page rejoins
 * by itself and the officer's step (`tryStep(o)` clicks its submit) goes through. `onRefused(o)`
 * runs while the officer's page shows the refusal (a screenshot). Returns the API's refusal.
 */
export async function awayAndBack(o, c, url, hearingId, tryStep, apiBody, onRefused = async () => {}) {
  const net = c.context();
  const staff = await staffFetch(url, o);
  const steps = async () => (await (await staff(`hearings/${hearingId}`)).json()).steps.length;
  const before = await steps();
  await net.setOffline(true);
  await c.evaluate(() => window.__rhCall.ws.close());
  await o.waitForSelector('#citizen-state[data-key="o.hr.citizenDropped"]', { timeout: 15_000 });
  // The citizen's phone says one thing: reconnecting, for how long; no quality badge beside it.
  await c.waitForFunction(() => /正在重新连接（\d+ 秒）/.test(document.querySelector('#call-box > .banner:not([hidden])')?.textContent || ''), null, { timeout: 10_000 });
  if (await c.isVisible('#call-box .quality')) throw new Error('the quality badge shows while reconnecting');
  await tryStep(o);
  await o.waitForSelector('#step-err:not([hidden])', { timeout: 15_000 });
  const shown = await o.textContent('#step-err');
  if (!/当事人不在通话中/.test(shown)) throw new Error(`the officer's page does not say the citizen is missing: ${shown}`);
  await onRefused(o);
  const r = await staff(`hearings/${hearingId}/steps`, { method: 'POST', body: JSON.stringify(apiBody) });
  const refusal = { status: r.status, body: await r.json() };
  if ((await steps()) !== before) throw new Error('a refused step was written');
  await net.setOffline(false);
  await o.waitForSelector('#citizen-state[data-key="o.hr.citizenJoined"]', { timeout: 30_000 });
  await c.waitForSelector('#call-box > .banner', { state: 'hidden', timeout: 15_000 });
  if (await c.isVisible('#step-err')) throw new Error(`an error stays on the phone after the call is back: ${await c.textContent('#step-err')}`);
  // Back: the recording restarts with the new connection; the officer tries again until the
  // server sees the call live (as an officer would, watching the banner).
  for (let i = 0; i < 40 && (await steps()) === before; i++) {
    await tryStep(o);
    await new Promise((res) => setTimeout(res, 500));
  }
  return refusal;
}

/**
 * Clicks a download button and returns the download; when the page shows an error in `errSel`
 * instead, fails with its text (a bare timeout says nothing).
 */
export async function clickDownload(page, selector, errSel = '#doc-err') {
  const dl = page.waitForEvent('download', { timeout: 20_000 });
  await page.click(selector);
  const err = page.waitForSelector(`${errSel}:not([hidden])`, { timeout: 20_000 }).then(async () => {
    throw new Error(`${selector}: the page shows ${JSON.stringify(await page.textContent(errSel))}`);
  });
  err.catch(() => {});
  return Promise.race([dl, err]);
}

/** `fetch` of /api/v1 with the officer page's session. */
async function staffFetch(url, o) {
  const headers = { ...(await staffHeaders(o)), 'Content-Type': 'application/json' };
  return (path, opts = {}) => fetch(`${url}/api/v1/${path}`, { headers, ...opts });
}

/**
 * Signs by hand on a signature canvas (`#<id>`): a few strokes with the mouse, as a finger or pen
 * would draw them (the page takes pointer events).
 */
export async function drawSignature(page, selector) {
  const el = await page.waitForSelector(selector, { timeout: 15_000 });
  await el.scrollIntoViewIfNeeded();
  const b = await el.boundingBox();
  const at = (fx, fy) => [b.x + b.width * fx, b.y + b.height * fy];
  for (const stroke of [
    [[0.1, 0.6], [0.2, 0.3], [0.3, 0.7], [0.4, 0.35]],
    [[0.5, 0.5], [0.65, 0.4], [0.8, 0.65], [0.9, 0.45]],
  ]) {
    await page.mouse.move(...at(...stroke[0]));
    await page.mouse.down();
    for (const p of stroke.slice(1)) await page.mouse.move(...at(...p), { steps: 6 });
    await page.mouse.up();
  }
}

/**
 * The citizen reads the transcript and signs it (`transcript_ack`); the upload of the signature
 * (evidence kind=signature) must answer 201 before the step is sent.
 */
export async function signTranscript(c) {
  await c.waitForSelector('#tr-list dt', { timeout: 15_000 });
  await drawSignature(c, '#tr-sig');
  const uploaded = c.waitForResponse((r) => r.url().includes('/evidence?kind=signature') && r.request().method() === 'POST');
  await c.click('#tr-accept');
  const r = await uploaded;
  if (r.status() !== 201) throw new Error(`signature upload: ${r.status()}`);
}

/** identity, inquiry (officer), transcript_ack (citizen signs), notice (officer), notice_ack (citizen): the citizen is asked for a statement. */
export async function stepsToStatement(w) {
  await identityStep(w.officerPage, w.citizen);
  await inquiryToStatement(w);
}

/** From the inquiry (identity taken) to the citizen's statement form. */
export async function inquiryToStatement(w) {
  const o = w.officerPage;
  const c = w.citizen;
  await o.waitForSelector('#step-card[data-step=inquiry]');
  await o.fill('#qa-a1', '是本人驾驶。');
  await o.fill('#qa-a2', '无异议。');
  await o.click('#inq-submit');
  await o.waitForSelector('#step-card[data-step=transcript_ack]');
  await signTranscript(c);
  await o.waitForSelector('#step-card[data-step=notice]', { timeout: 15_000 });
  await o.fill('#not-rec-0-time', '2026-11-01 08:31');
  await o.fill('#not-rec-0-place', '经十路与舜耕路路口');
  await o.fill('#not-rec-0-behaviour', '机动车违反信号灯通行');
  await o.click('#not-submit');
  await o.waitForSelector('#step-card[data-step=notice_ack]');
  await c.waitForSelector('#ack-notice', { timeout: 15_000 });
  await c.click('#ack-notice');
  await c.waitForSelector('#st-waive');
}

/** From the statement prompt to the served decision: the citizen waives the statement, the
 * officer rules, the citizen confirms and signs, the officer serves, the citizen signs the
 * receipt; waits for the decision view to show `until` (a selector inside it). */
export async function waiveToDecision(w, until = '#decision-fields') {
  const o = w.officerPage;
  const c = w.citizen;
  await c.click('#st-waive');
  await o.waitForSelector('#rul-submit', { timeout: 15_000 });
  await o.click('#rul-submit');
  await c.waitForSelector('#conf-accept', { timeout: 15_000 });
  await c.check('#conf-consent');
  await drawSignature(c, '#conf-sig');
  await c.click('#conf-accept');
  await o.waitForSelector('#srv-submit', { timeout: 15_000 });
  await o.click('#srv-submit');
  await c.waitForSelector('#receipt-ack', { timeout: 15_000 });
  await drawSignature(c, '#rc-sig');
  await c.click('#receipt-ack');
  await c.waitForSelector(`[data-view=decision]:not([hidden]) ${until}`, { timeout: 15_000 });
}

/** Up to a hearing the citizen has joined, with the statement prompt on the phone. */
export async function toStatement(w) {
  await loginCitizen(w);
  await loginOfficer(w);
  const slot = await freeSlot(w);
  if (!slot) throw new Error('no free slot in the next days');
  const bookingId = await bookUrgent(w, slot);
  const hearingId = await claimAndOpen(w, bookingId);
  await joinWithCode(w, 2);
  await stepsToStatement(w);
  return { bookingId, hearingId };
}
