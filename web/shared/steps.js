// The legal steps of a hearing (API.md "Hearings"), in order, and helpers to read a hearing.
import { h } from './ui.js';
import { t, fmtTime, addStrings } from './i18n.js';

export const ORDER = ['identity', 'inquiry', 'transcript_ack', 'notice', 'notice_ack', 'statement', 'ruling', 'confirmation', 'service', 'receipt'];
export const CITIZEN_STEPS = new Set(['transcript_ack', 'notice_ack', 'statement', 'confirmation', 'receipt']);
export const CLOSED = new Set(['completed', 'referred', 'no_show', 'interrupted']);

export function doneSteps(hearing) {
  return new Set((hearing?.steps || []).map((s) => s.step));
}

/** The next step the hearing expects, or null when closed or all done. */
export function nextStep(hearing) {
  if (!hearing || CLOSED.has(hearing.status)) return null;
  if ('next_step' in hearing) return hearing.next_step || null;
  const done = doneSteps(hearing);
  return ORDER.find((s) => !done.has(s)) || null;
}

/**
 * The fields recorded with a step, wherever the server puts them: the step entry's
 * fields/payload/data, or a top-level object named after the step (hearing.notice, hearing.ruling).
 */
export function stepFields(hearing, step) {
  const entry = (hearing?.steps || []).filter((s) => s.step === step).pop();
  const fromEntry = entry && (entry.fields || entry.payload || entry.data || entry.details);
  if (fromEntry && typeof fromEntry === 'object') return fromEntry;
  const top = hearing?.[step];
  if (top && typeof top === 'object') return top;
  if (entry) {
    const { step: _s, at: _a, by: _b, audit_seq: _q, ...rest } = entry;
    if (Object.keys(rest).length) return rest;
  }
  return {};
}

/** <ol class="steps"> of the procedure with done / current marks and audit sequence numbers. */
export function renderStepList(list, hearing, { showSeq = false } = {}) {
  const byStep = new Map((hearing?.steps || []).map((s) => [s.step, s]));
  const next = nextStep(hearing);
  list.replaceChildren(
    ...ORDER.map((step) => {
      const e = byStep.get(step);
      return h(
        'li',
        { 'data-step': step, 'data-done': String(!!e), 'data-current': String(step === next) },
        h('span', {}, t('step.' + step)),
        e ? h('span', { class: 'muted small' }, fmtTime(e.at, { date: false })) : null,
        e && showSeq && e.audit_seq != null ? h('span', { class: 'muted small mono' }, `#${e.audit_seq}`) : null,
      );
    }),
  );
}

/** The seven stages a citizen sees (the step bar), each covering its steps of ORDER. */
export const STAGES = [
  ['identity', ['identity']],
  ['inquiry', ['inquiry', 'transcript_ack']],
  ['notice', ['notice', 'notice_ack']],
  ['statement', ['statement']],
  ['ruling', ['ruling']],
  ['confirmation', ['confirmation']],
  ['service', ['service', 'receipt']],
];

/**
 * <ol class="stepbar">: the numbered stages (身份核验 → … → 送达), done / current marks, the
 * current stage's name written out ("3/7 告知") and aria-current on it.
 */
export function renderStepBar(list, hearing) {
  const done = doneSteps(hearing);
  const next = nextStep(hearing);
  const closed = CLOSED.has(hearing?.status);
  list.replaceChildren(
    ...STAGES.map(([name, steps], i) => {
      const current = !closed && steps.includes(next);
      const finished = steps.every((s) => done.has(s));
      return h(
        'li',
        { 'data-stage': name, 'data-done': String(finished && !current), 'data-current': String(current), 'aria-current': current ? 'step' : null },
        h('span', { class: 'stage-no', 'aria-hidden': 'true' }, String(i + 1)),
        h('span', { class: 'stage-name' }, t('stage.' + name)),
        current ? h('span', { class: 'sr-only' }, t('stage.of', { n: i + 1, total: STAGES.length })) : null,
      );
    }),
  );
}

addStrings({
  'stage.identity': ['身份核验', 'Identity'],
  'stage.inquiry': ['询问', 'Inquiry'],
  'stage.notice': ['告知', 'Notice'],
  'stage.statement': ['陈述申辩', 'Statement'],
  'stage.ruling': ['裁决', 'Ruling'],
  'stage.confirmation': ['确认', 'Confirm'],
  'stage.service': ['送达', 'Service'],
  'stage.of': ['（第 {n} 步，共 {total} 步）', ' (step {n} of {total})'],
  'live.off': ['测试模式：本次听证未强制要求全程录音录像（hearing.require_live_call = false），记录不具法律效力。',
    'Test mode: this hearing does not enforce a live, recorded call (hearing.require_live_call = false); its record has no legal effect.'],
});

// Shows (or removes) the banner of a hearing taken without the live-call requirement, just
// before `anchor` (issue 12: when it is off, the pages say so).
export function liveCallBanner(anchor, hearing) {
  const off = hearing?.call && hearing.call.live_call_required === false;
  let el = document.getElementById('live-off');
  if (!off) { el?.remove(); return; }
  if (!el) {
    el = h('div', { id: 'live-off', class: 'banner banner-warn', role: 'alert' }, t('live.off'));
    anchor.parentNode.insertBefore(el, anchor);
  }
}
