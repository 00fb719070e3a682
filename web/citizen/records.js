// The booking form's case from the system of record (issue 16): the citizen's own unhandled
// violations as checkboxes, an ineligible one disabled with its reason; with the `manual`
// provider (the route answers 409 records_manual) the typed form stays.
import { t, has, fmtTime, dataLang } from '/shared/i18n.js';
import { $, h, showError } from '/shared/ui.js';

// With a system of record (provider not manual) the case is picked from the citizen's own
// violations; `citizens/me/violations` answering 409 records_manual means the typed form.
let recordsMode = false;

/** Whether the case is picked from the record (not typed). */
export function inRecordsMode() {
  return recordsMode;
}

/** The record numbers the citizen ticked. */
export function pickedRecords() {
  return [...document.querySelectorAll('#bk-record-list input[name=record]:checked')].map((i) => i.value);
}

function setRecordsMode(on) {
  recordsMode = on;
  // Nothing is typed in records mode: the heading says where the case comes from, and the plate
  // is the picked record's vehicle (the server refuses any other: plate_mismatch).
  const head = $('#bk-case-h');
  head.dataset.i18n = on ? 'c.book.caseRecords' : 'c.book.case';
  head.textContent = t(head.dataset.i18n);
  const hint = $('#bk-plate-hint-text');
  hint.dataset.i18n = on ? 'c.book.plateFromRecord' : 'c.book.plateHint';
  hint.textContent = t(hint.dataset.i18n);
  $('#bk-plate-example').hidden = on;
  $('#bk-plate').readOnly = on;
  $('#bk-records').hidden = !on;
  $('#bk-manual').hidden = on;
  for (const el of $('#bk-manual').querySelectorAll('input, button')) el.disabled = on;
  $('#bk-regdate-box').hidden = on;
  $('#bk-licence-box').hidden = !on;
}

/** The plate field follows the first picked record's vehicle. */
function plateFromPicked() {
  const first = document.querySelector('#bk-record-list input[name=record]:checked');
  $('#bk-plate').value = first?.dataset.plate || '';
}

function recordRow(v) {
  const id = `bk-rec-${v.record_no}`;
  const why = v.eligible ? null : has('c.book.why.' + v.ineligible_reason) ? t('c.book.why.' + v.ineligible_reason) : t('c.book.why.other');
  return h(
    'div',
    { class: 'check record', dataset: { recordNo: v.record_no, eligible: String(!!v.eligible) } },
    h('input', { type: 'checkbox', id, name: 'record', value: v.record_no, disabled: !v.eligible, 'aria-describedby': `${id}-d`, dataset: { plate: v.plate || '' }, onchange: plateFromPicked }),
    h(
      'label',
      { for: id, style: 'display:block' },
      h('b', { lang: dataLang(v.behaviour), style: 'display:block' }, v.behaviour),
      h('span', { class: 'hint', id: `${id}-d`, style: 'display:block' },
        h('span', { class: 'rec-facts', lang: dataLang(v.place) }, t('c.book.recordFacts', { time: fmtTime(v.time), place: v.place })),
        ' · ',
        h('span', { class: 'rec-money' }, t('c.book.recordMoney', { f: v.fine_yuan, p: v.points })),
        ' · ',
        h('span', { class: 'mono' }, v.record_no),
        why ? [h('br'), h('span', { class: 'rec-why alert-text', style: 'color:#a4262c' }, why)] : null),
    ),
  );
}

/** Lists the citizen's violations from the record, or switches the form to typing (manual). */
export async function loadRecords(api) {
  const list = $('#bk-record-list');
  try {
    const r = await api.get('citizens/me/violations');
    setRecordsMode(true);
    const vs = r?.violations || [];
    list.replaceChildren(...(vs.length ? vs.map(recordRow) : [h('p', { class: 'muted' }, t('c.book.recordsNone'))]));
  } catch (e) {
    if (e.code === 'records_manual') return setRecordsMode(false);
    setRecordsMode(true);
    if (e.code === 'identity_missing') list.replaceChildren(h('p', { class: 'alert' }, t('c.book.recordsNeedIdentity')));
    else {
      list.replaceChildren();
      showError($('#book-err'), e);
    }
  }
}

