// One hearing on the auditor page: its summary and decision at the top (GET
// /api/v1/audit/hearings/{id}: date, slot, brigade, officer by name and badge, plate, outcome,
// decision number), then the bundle verified at once into one verdict line (verdict.js), the
// recordings (recordings.js) and the timeline of its audit entries with each actor by name and
// badge (staff) or masked phone (citizen). The data is kept, so the zh/en switch writes the
// words again without fetching, re-verifying or reloading a player.
import { t, has, fmtTime } from '/shared/i18n.js';
import { $, h, busy, download } from '/shared/ui.js';
import { data, outcomeText, slotText, officerNode } from './list.js';
import { runVerify } from './verdict.js';
import { loadRecordings } from './recordings.js';

/** The hearing shown now: {id, detail, bundle}. */
export const cur = { id: null, detail: null, bundle: null };

/** Words for an audit entry's actor {role, id}. */
function actorNode(actor) {
  if (!actor || typeof actor !== 'object') return String(actor ?? '');
  const role = has('a.actor.' + actor.role) ? t('a.actor.' + actor.role) : actor.role;
  const known = (cur.detail?.actors || []).find((a) => a.role === actor.role && a.id === actor.id);
  if (known?.name) return h('span', {}, `${role} `, officerNode(known));
  if (known?.phone_masked) return `${role} ${known.phone_masked}`;
  return role;
}

function renderSummary(api) {
  const hr = cur.detail?.hearing;
  const box = $('#hr-summary');
  if (!hr) return box.replaceChildren();
  const row = (k, ...v) => [h('dt', {}, t(k)), h('dd', {}, ...v)];
  const decision = hr.decision_no
    ? [
        data(hr.decision_no, { class: 'decision-no' }),
        h('span', { class: 'actions', style: 'margin-top:.4rem' },
          h('button', { type: 'button', class: 'btn', id: 'open-decision', onclick: (ev) =>
            busy(ev.currentTarget, $('#hr-err'), async () => {
              const html = await (await api.get(`hearings/${encodeURIComponent(cur.id)}/decision`, { raw: true, accept: 'text/html' })).text();
              const url = URL.createObjectURL(new Blob([html], { type: 'text/html' }));
              window.open(url, '_blank', 'noopener');
              setTimeout(() => URL.revokeObjectURL(url), 60_000);
            }) }, t('a.hr.openDecision')),
          h('button', { type: 'button', class: 'btn btn-ghost', onclick: (ev) =>
            busy(ev.currentTarget, $('#hr-err'), async () => {
              const blob = await (await api.get(`hearings/${encodeURIComponent(cur.id)}/decision?format=pdf`, { raw: true, accept: 'application/pdf' })).blob();
              download(`decision-${cur.id}.pdf`, blob);
            }) }, t('a.hr.pdf'))),
      ]
    : [t('a.hr.noDecision')];
  box.replaceChildren(
    h(
      'dl',
      { class: 'facts', id: 'hr-facts' },
      ...row('a.hr.decision', ...decision),
      ...row('a.hr.status', h('span', { class: 'pill', 'data-status': hr.status }, outcomeText(hr))),
      ...row('a.hr.date', `${hr.date} · ${slotText(hr)}`),
      ...row('a.hr.brigade', data(hr.brigade_name)),
      ...row('a.hr.officer', officerNode(hr.officer)),
      ...row('a.hr.plate', hr.plate ? data(hr.plate) : '—'),
    ),
  );
}

function renderTimeline() {
  const entries = [...(cur.bundle?.entries || [])].sort((a, b) => a.hearing_seq - b.hearing_seq);
  // A terminal entry after the first one re-states the close once later entries (the sealed
  // recordings) were added (docs/audit-format.md §9): named so, not a second "hearing closed".
  let closes = 0;
  const label = (step) => {
    const name = has('step.' + step) ? t('step.' + step) : step;
    if (step !== 'hearing_closed' || closes++ === 0) return name;
    // on a second line, so that the step column keeps its width
    return h('span', {}, name, h('br'), h('small', { class: 'muted' }, t('step.restated')));
  };
  const rows = entries.map((e) =>
    h('tr', { 'data-step': e.step, role: 'row' }, h('td', { class: 'mono', role: 'cell' }, e.hearing_seq), h('td', { class: 'step-name', role: 'cell' }, label(e.step)), h('td', { class: 'nowrap', role: 'cell' }, fmtTime(e.at)), h('td', { class: 'small', role: 'cell' }, actorNode(e.actor))),
  );
  // On a phone the rows are laid out as grids (style.css); the explicit roles keep the table's
  // semantics for screen readers that drop them once a table's display changes (WebKit).
  const head = ['a.hr.hseq', 'a.hr.step', 'a.hr.at', 'a.hr.actor'].map((k) => h('th', { scope: 'col', class: 'nowrap', role: 'columnheader' }, t(k)));
  $('#timeline').replaceChildren(
    h('table', { class: 'timeline', role: 'table' }, h('thead', { role: 'rowgroup' }, h('tr', { role: 'row' }, ...head)), h('tbody', { role: 'rowgroup' }, ...rows)),
  );
}

/** Writes the summary and the timeline again (after the zh/en switch). */
export function rerenderHearing(api) {
  renderSummary(api);
  renderTimeline();
}

/** Fetches the bundle again and verifies it into #verify-result. */
export async function verifyNow(api, trust) {
  cur.bundle = await api.get(`audit/hearings/${encodeURIComponent(cur.id)}/bundle`);
  renderTimeline();
  const tr = await trust();
  return runVerify($('#verify-result'), cur.bundle, () => t('a.v.server'), tr);
}

/** Opens hearing `id`: summary, verdict, recordings and timeline. */
export async function openHearing(api, id, trust) {
  cur.id = id;
  cur.detail = null;
  cur.bundle = null;
  $('#hr-id').textContent = id;
  $('#hr-summary').replaceChildren(h('p', { class: 'muted' }, t('common.loading')));
  $('#verify-result').replaceChildren();
  $('#timeline').replaceChildren();
  const recs = loadRecordings(api, id, $('#recordings'));
  await busy(null, $('#hr-err'), async () => {
    cur.detail = await api.get(`audit/hearings/${encodeURIComponent(id)}`);
    renderSummary(api);
    await verifyNow(api, trust);
  });
  await recs;
}
