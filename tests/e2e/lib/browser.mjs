// Debian's Chromium driven by playwright-core (never a downloaded browser), with a fake camera
// and microphone; contexts for a phone (citizen) and a desktop (officer, auditor); screenshots.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './server.mjs';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const shotsDir = join(repoRoot, 'artifacts', 'screenshots');

/** `home`: a HOME for the browser (its NSS database: the HTTPS test trusts its own CA there). */
export async function launch({ home } = {}) {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    ...(home ? { env: { ...process.env, HOME: home } } : {}),
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

export async function phoneContext(browser, baseURL, extra = {}) {
  return browser.newContext({
    ...extra,
    baseURL,
    viewport: { width: 375, height: 667 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    permissions: ['camera', 'microphone'],
    acceptDownloads: true,
  });
}

export async function desktopContext(browser, baseURL) {
  return browser.newContext({
    baseURL,
    viewport: { width: 1440, height: 900 },
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    permissions: ['camera', 'microphone'],
    acceptDownloads: true,
  });
}

let n = 0;
/** Full-page screenshot under artifacts/screenshots/, numbered in the order taken. */
export async function shot(page, name) {
  mkdirSync(shotsDir, { recursive: true });
  n += 1;
  const file = join(shotsDir, `${String(n).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Collects page errors and failed requests so that a failing test can show them. */
export function watch(page, label, sink) {
  page.on('pageerror', (e) => sink.push(`${label} pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') sink.push(`${label} console: ${m.text()}`);
  });
  // The console's "Failed to load resource" names no URL: the responses do.
  page.on('response', (r) => {
    if (r.status() >= 400) sink.push(`${label} ${r.request().method()} ${new URL(r.url()).pathname} → ${r.status()}`);
  });
}

/** Video frames decoded from the peer, from the page's RTCPeerConnection stats. */
export function framesDecoded(page) {
  return page.evaluate(async () => {
    const pc = window.__rhCall?.pc;
    if (!pc) return 0;
    const stats = await pc.getStats();
    let n = 0;
    stats.forEach((r) => {
      if (r.type === 'inbound-rtp' && r.kind === 'video') n += r.framesDecoded || 0;
    });
    return n;
  });
}

/**
 * The headers that carry a staff page's session (the officer, auditor and admin pages keep it
 * in HttpOnly cookies, src/identity/cookie.rs) for a request made outside the page: the
 * cookies from the page's context, the scope header and the CSRF token (double submit).
 */
export async function staffHeaders(page) {
  const jar = await page.context().cookies();
  const get = (n) => jar.find((c) => c.name === n)?.value;
  const [session, csrf] = [get('rh_s_staff'), get('rh_c_staff')];
  if (!session || !csrf) throw new Error('the page has no staff session cookie');
  return { Cookie: `rh_s_staff=${session}; rh_c_staff=${csrf}`, 'X-Session': 'staff', 'X-CSRF-Token': csrf };
}
