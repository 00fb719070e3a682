// Small DOM helpers shared by the pages: element builder, views, live announcements, busy buttons,
// error boxes and resend countdowns.
import { t, stampLang, getZone } from './i18n.js';
import { errorText } from './api.js';

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

/** h('button', {class: 'x', onclick}, 'text', child) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Show one <section data-view="name"> and hide the others; focus its heading. */
export function showView(name, { focus = true } = {}) {
  for (const v of $$('[data-view]')) v.hidden = v.dataset.view !== name;
  document.body.dataset.currentView = name;
  const view = $(`[data-view="${name}"]`);
  if (focus && view) {
    const heading = view.querySelector('h1, h2');
    if (heading) {
      heading.setAttribute('tabindex', '-1');
      heading.focus({ preventScroll: false });
    }
  }
  return view;
}

/**
 * Polite screen-reader + visible status message. A shown view with a `[data-toast-home]` (the
 * citizen's call: its action bar) takes it as a line there, so that it never covers the text
 * being read; elsewhere it floats at the bottom of the screen.
 */
export function announce(text, kind = 'info') {
  let box = $('#toast');
  if (!box) box = h('div', { id: 'toast', role: 'status', 'aria-live': 'polite' });
  const home = $('[data-view]:not([hidden]) [data-toast-home]');
  if (home) {
    if (box.parentNode !== home) home.prepend(box);
    box.className = 'toast-inline';
  } else {
    if (box.parentNode !== document.body) document.body.append(box);
    box.className = 'toast';
  }
  box.textContent = text;
  stampLang(box);
  box.dataset.kind = kind;
  box.hidden = false;
  clearTimeout(box._timer);
  // In care mode a message stays until the next one (no timer hurries the reader).
  if (!document.documentElement.classList.contains('care')) box._timer = setTimeout(() => (box.hidden = true), 6000);
}

// A status message was said in the language of its moment: after the zh/en switch it is stale.
globalThis.document?.addEventListener('langchange', () => {
  const box = $('#toast');
  if (box) box.hidden = true;
});

/** Put an error (in plain words) into a form's alert box. */
export function showError(box, err) {
  if (!box) return announce(errorText(err), 'error');
  box.textContent = !err ? '' : typeof err === 'string' ? err : errorText(err);
  stampLang(box);
  box.hidden = !err;
  if (err && err.code) box.dataset.code = err.code;
  else delete box.dataset.code;
}

/** Run fn with the button disabled and aria-busy; errors go to errBox. */
export async function busy(button, errBox, fn) {
  if (button) {
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
  }
  if (errBox) showError(errBox, null);
  try {
    return await fn();
  } catch (e) {
    showError(errBox, e);
    return undefined;
  } finally {
    if (button) {
      button.disabled = false;
      button.removeAttribute('aria-busy');
    }
  }
}

/** Disable a send-code button for `secs`, showing the countdown. */
export function countdown(button, secs, labelKey = 'common.sendCode') {
  clearInterval(button._cd);
  let left = Math.max(0, Math.ceil(secs));
  const tick = () => {
    if (left <= 0) {
      clearInterval(button._cd);
      button.disabled = false;
      button.textContent = t(labelKey === 'common.sendCode' && button.dataset.sent ? 'common.resend' : labelKey);
      return;
    }
    button.disabled = true;
    button.textContent = t('common.resendIn', { s: left });
    left -= 1;
  };
  button.dataset.sent = '1';
  tick();
  button._cd = setInterval(tick, 1000);
}

/** Save text/blob as a file. */
export function download(name, data, type = 'application/octet-stream') {
  const blob = data instanceof Blob ? data : new Blob([data], { type });
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** Today (YYYY-MM-DD) in `tz`, by default the brigade's zone (i18n setZone). */
export function todayIn(tz = getZone(), plusDays = 0) {
  const d = new Date(Date.now() + plusDays * 86400000);
  return new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
}
