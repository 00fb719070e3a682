// 关怀模式 (elder mode, MIIT 适老化 rules; issue 19 §3): larger text (body 18 px, headings 30 px),
// tap targets of at least 60 × 60 px, higher contrast, and no message that leaves before it is
// read. A switch in the top bar turns it on and off; the choice is kept on this device
// (localStorage), and `?care=1` in the address (the mini program's web-view in its own care
// mode) turns it on. The sizes live in style.css under `html.care`.
import { t } from './i18n.js';

const KEY = 'rh.care';

/** True while the page is in care mode. */
export function careOn() {
  return document.documentElement.classList.contains('care');
}

function apply(on) {
  document.documentElement.classList.toggle('care', on);
  document.dispatchEvent(new CustomEvent('carechange', { detail: on }));
}

/** Applies the remembered choice (or `?care=1`) and wires `button` as the switch. */
export function mountCareSwitch(button) {
  const asked = new URLSearchParams(location.search).get('care');
  if (asked === '1') localStorage.setItem(KEY, '1');
  apply(localStorage.getItem(KEY) === '1');
  const label = () => {
    button.textContent = t(careOn() ? 'care.off' : 'care.on');
    button.setAttribute('aria-pressed', String(careOn()));
  };
  button.addEventListener('click', () => {
    const on = !careOn();
    localStorage.setItem(KEY, on ? '1' : '0');
    apply(on);
    label();
  });
  document.addEventListener('langchange', label);
  label();
}
