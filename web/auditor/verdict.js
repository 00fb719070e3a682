// A verification result as the auditor reads it: one verdict line (green or red, in the page's
// language), whether the record is complete, and the many check rows folded under "details" (open
// by itself when something failed). Results are kept per box and written again after the zh/en
// switch (rerenderVerdicts), so switching language never loses or re-runs a verification.
import { t } from '/shared/i18n.js';
import { h } from '/shared/ui.js';
import { verifyBundle } from '/shared/bundle.js';

/** Results on screen, by box: [result, source]. */
const shown = new Map();

/** `source`: a function giving the words for where the bundle came from (in the current language). */
export function renderResult(box, result, source) {
  shown.set(box, [result, source]);
  const ok = result.ok;
  const bad = result.checks.filter((c) => !c.ok).length;
  const wasOpen = box.querySelector('details.verify-details')?.open;
  box.replaceChildren(
    h('p', { class: 'verdict', id: 'verdict', 'data-ok': String(ok), role: 'status', tabindex: '-1' }, ok ? '✓ ' + t('a.v.ok') : '✗ ' + t('a.v.bad')),
    result.completeness
      ? h('p', { id: 'completeness', 'data-complete': String(!!result.complete), class: result.complete ? 'banner banner-ok' : 'banner banner-warn' }, t(result.complete ? 'a.v.completeShort' : 'a.v.incompleteShort'))
      : null,
    h(
      'details',
      { class: 'verify-details', open: wasOpen || !ok },
      h('summary', {}, t('a.v.details', { n: result.checks.length, bad })),
      h('p', { class: 'small muted' }, t('a.v.source', { s: typeof source === 'function' ? source() : source })),
      result.completeness ? h('p', { class: 'small mono', id: 'completeness-detail' }, result.completeness) : null,
      result.erased?.length ? h('p', { id: 'erased', class: 'small' }, t('a.v.erased', { list: result.erased.join(', ') })) : null,
      h(
        'ul',
        { class: 'checks' },
        ...result.checks.map((c) =>
          h('li', { 'data-ok': String(c.ok), 'data-check': c.name }, h('strong', {}, (c.ok ? '✓ ' : '✗ ') + t('chk.' + c.name, c.args)), h('div', { class: 'small mono' }, c.detail)),
        ),
      ),
    ),
  );
}

/** Verifies `bundle` with the pinned trust `tr` ({keys, witnesses, quorum}) and shows it in `box`. */
export async function runVerify(box, bundle, source, tr) {
  shown.delete(box);
  box.replaceChildren(h('p', { role: 'status' }, t('a.v.running')));
  let result;
  try {
    result = await verifyBundle(bundle, tr.keys, { witnesses: tr.witnesses, quorum: tr.quorum });
  } catch (e) {
    result = { ok: false, checks: [{ name: 'format', ok: false, detail: e.message, args: {} }] };
  }
  renderResult(box, result, source);
  return result;
}

/** After the zh/en switch: every result still on screen, in the new language. */
export function rerenderVerdicts() {
  for (const [box, [result, source]] of shown) if (box.isConnected && box.querySelector('#verdict')) renderResult(box, result, source);
}
