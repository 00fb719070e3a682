// The officer's "发送验证码" (issue 21): the send itself (with the resend countdown) and, under the
// button, in plain words when the citizen can receive the code and why not — to which masked
// phone it goes and what the citizen does with it; sent at what time; not needed because the
// citizen is in; not now because the hearing is interrupted or the hearing's/phone's code budget
// says wait (the server's `sms_throttled` with its Retry-After).
import { t, fmtTime } from '/shared/i18n.js';
import { $, busy, announce, countdown } from '/shared/ui.js';
import { CLOSED } from '/shared/steps.js';

let view = { hearing: null, booking: null };
let throttledUntil = 0;
// `recent`: within the resend interval of the last code; `limit`: the hearing's or phone's budget.
let throttleKind = 'recent';
let throttleTimer = null;

const sentKey = (id) => `rh.officer.codeSent.${id}`;
const sentAt = () => (view.hearing ? Number(sessionStorage.getItem(sentKey(view.hearing.id))) || 0 : 0);

/** Sends the join code of the hearing in view; `api` from the page. */
export async function sendCode(api, button) {
  if (!view.hearing) return;
  const id = view.hearing.id;
  let refused = null;
  await busy(button, $('#hr-err'), async () => {
    try {
      const r = await api.post(`hearings/${encodeURIComponent(id)}/sms-code`);
      sessionStorage.setItem(sentKey(id), String(Date.now()));
      announce(t('o.hr.codeSent'));
      countdown(button, r?.resend_after_s ?? 60, 'o.hr.sendCode');
    } catch (e) {
      if (e.code !== 'sms_throttled') throw e;
      refused = e;
    }
  });
  if (refused) {
    // Said once, under the button, in words (not also as a red error).
    throttledUntil = Date.now() + (refused.retryAfter || 60) * 1000;
    throttleKind = (refused.retryAfter || 60) <= 60 ? 'recent' : 'limit';
    countdown(button, refused.retryAfter || 60, 'o.hr.sendCode');
    clearTimeout(throttleTimer);
    throttleTimer = setTimeout(renderCodeInfo, (refused.retryAfter || 60) * 1000 + 500);
  }
  renderCodeInfo();
}

/** The hearing (and its booking) the words are about; draws them. */
export function setCodeView(hearing, booking) {
  if (view.hearing?.id !== hearing?.id) throttledUntil = 0;
  view = { hearing, booking };
  renderCodeInfo();
}

/** Why the code can or cannot reach the citizen now (`#code-info`, `data-state`). */
export function renderCodeInfo() {
  const box = $('#code-info');
  const hr = view.hearing;
  if (!box || !hr) return;
  const p = view.booking?.phone_masked || t('o.code.boundPhone');
  const sent = sentAt();
  let state;
  if (CLOSED.has(hr.status) && hr.status !== 'interrupted') state = 'closed';
  else if (hr.status === 'interrupted') state = 'interrupted';
  else if (hr.citizen_joined) state = 'joined';
  else if (throttledUntil > Date.now()) state = 'throttled';
  else if (sent) state = 'sent';
  else state = 'ready';
  box.dataset.state = state;
  box.hidden = state === 'closed';
  box.className = `small ${state === 'throttled' || state === 'interrupted' ? 'banner banner-warn' : 'note'}`;
  const left = Math.max(1, Math.ceil((throttledUntil - Date.now()) / 1000));
  box.textContent = {
    ready: t('o.code.ready', { p }),
    sent: t('o.code.sent', { p, at: fmtTime(new Date(sent).toISOString(), { date: false }) }),
    joined: t('o.code.joined'),
    interrupted: t('o.code.interrupted'),
    throttled: t(throttleKind === 'recent' ? 'o.code.tooSoon' : 'o.code.throttled', { s: left >= 120 ? t('o.code.minutes', { m: Math.ceil(left / 60) }) : t('o.code.seconds', { s: left }) }),
    closed: '',
  }[state];
}
