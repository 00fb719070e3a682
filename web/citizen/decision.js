// Citizen: the decision document after a hearing, laid out for a phone. What the citizen acts on
// (party, violation, penalty, pay-by, review and litigation) is in front; what a verifier needs
// (digests, recording ids, hearing id, audit checkpoint) sits behind a 核验信息 fold. Also the
// downloads: the decision, the hearing proof and the proof of service.
import { t, has, fmtTime } from '/shared/i18n.js';
import { $, h, showView, busy, download } from '/shared/ui.js';
import { returnToMiniProgram } from '/shared/miniprogram.js';

/** The decision's fields (GET …/decision?format=json), what the citizen must know first, with their labels. */
const DOC_LABELS = {
  party: ['当事人', 'Party'], party_phone_masked: ['当事人手机', 'Phone'], plate: ['号牌', 'Plate'],
  violations: ['违法记录', 'Violation records'], facts: ['违法事实', 'Facts'],
  fine_yuan: ['罚款（元）', 'Fine (yuan)'], points: ['记分', 'Points'],
  pay_by: ['缴款期限', 'Pay by'], pay_where: ['缴款方式', 'Where to pay'], late_fee: ['加处罚款', 'Late fee'],
  review_days: ['申请复议期限（日）', 'Review within (days)'], review_body: ['复议机关', 'Review body'],
  litigation_months: ['提起诉讼期限（月）', 'Litigation within (months)'], court: ['管辖法院', 'Court'],
  decision_no: ['决定书编号', 'Decision number'], authority: ['处罚机关', 'Authority'], authority_address: ['机关地址', 'Address'],
  legal_basis: ['法律依据', 'Legal basis'], statement: ['陈述申辩', 'Statement'],
  service: ['送达方式', 'Service'], officers: ['执法民警', 'Officers'], issued_at: ['作出时间', 'Issued'],
  recording_scope: ['录音录像范围', 'What is recorded'], recording_access: ['查阅方式', 'How to obtain it'],
  recording_id: ['录音录像编号', 'Recording'], recordings: ['录像文件', 'Recorded files'], id_still_sha256: ['身份证影像 SHA-256', 'ID-card still SHA-256'],
  hearing_id: ['办理编号', 'Hearing'], audit_checkpoint: ['审计检查点', 'Audit checkpoint'], sha256: ['文书 SHA-256', 'Document SHA-256'],
};
/** Behind the 核验信息 fold: identifiers and digests, for checking, not for reading. */
const VERIFY_ONLY = new Set(['recording_id', 'recordings', 'id_still_sha256', 'hearing_id', 'audit_checkpoint', 'sha256']);

/** One field's value as text: the lists and the party in the words of the document. */
function docText(key, v) {
  if (key === 'party') return [v.name, v.id_number, v.licence_no && `驾驶证 ${v.licence_no}`].filter(Boolean).join('，');
  if (key === 'officers') return v.map((o) => `${o.name}（警号 ${o.badge}）`).join('、');
  if (key === 'violations') return v.map((r) => `${r.record_no}：${r.time}，${r.place}，${r.behaviour}`).join('；');
  if (key === 'recordings') return v.length ? v.map((r) => `${r.id}（${r.participant || r.kind}）SHA-256 ${r.sha256}`).join('；') : '—';
  return /^\d{4}-\d\d-\d\dT/.test(String(v)) ? fmtTime(v) : String(v);
}

let ctx = null; // {api}
let current = () => null; // the hearing id shown

/** Wires the decision view's buttons; `hearingId()` names the hearing shown. */
export function initDecision(c, hearingId, onHome) {
  ctx = c;
  current = hearingId;
  $('#doc-home').addEventListener('click', onHome);
  $('#doc-save').addEventListener('click', saver('decision', '处罚决定书', 'pdf', 'application/pdf'));
  $('#doc-proof').addEventListener('click', saver('proof', '办理证明', 'json', 'application/json'));
  $('#doc-service-proof').addEventListener('click', saver('proof-of-service?format=pdf', '送达回证', 'pdf', 'application/pdf'));
}

/** The outcome banner and, when served, the decision's fields. */
export async function showOutcome(hearing) {
  showView('decision');
  $('#logout').hidden = false;
  const status = hearing?.status;
  const out = $('#doc-outcome');
  const reason = hearing?.outcome && has('c.why.' + hearing.outcome) ? t('c.why.' + hearing.outcome) : '';
  out.textContent = `${t('c.done.' + (status || 'completed'))} ${reason}`.trim();
  out.className = status === 'completed' ? 'banner banner-ok' : 'banner banner-warn';
  // In the mini program's web-view the call is over: back to its hearing page.
  if (hearing?.id) returnToMiniProgram(hearing.id);
  const hasDoc = (hearing?.steps || []).some((s) => s.step === 'service');
  $('#doc-save').hidden = !hasDoc;
  $('#doc-service-proof').hidden = !(hearing?.steps || []).some((s) => s.step === 'receipt');
  $('#doc-body').hidden = !hasDoc;
  if (!hasDoc) return;
  await busy(null, $('#doc-err'), async () => {
    const doc = await ctx.api.get(`hearings/${encodeURIComponent(current())}/decision?format=json`);
    const lang = document.documentElement.lang === 'en' ? 1 : 0;
    const rows = Object.keys(DOC_LABELS).filter((k) => doc?.[k] !== undefined && doc[k] !== null);
    const field = (k) => [h('dt', {}, DOC_LABELS[k][lang]), h('dd', { 'data-field': k }, docText(k, doc[k]))];
    const fold = rows.filter((k) => VERIFY_ONLY.has(k));
    const open = !!$('#doc-verify')?.open; // kept open across the zh/en switch
    $('#doc-body').replaceChildren(
      h('dl', { id: 'decision-fields' }, ...rows.filter((k) => !VERIFY_ONLY.has(k)).map(field)),
      fold.length
        ? h('details', { id: 'doc-verify', class: 'fold', open }, h('summary', {}, t('c.doc.verifyInfo')), h('dl', { id: 'decision-verify' }, ...fold.map(field)))
        : null,
    );
  });
}

/**
 * A click handler saving what `hearings/{id}/<path>` serves, exactly as served, as
 * `<name>-<id>.<ext>`: the decision (HTML), the hearing's proof file (its audit bundle to a
 * witnessed checkpoint) and the proof of service (送达回证, PDF, issued with the receipt).
 */
function saver(path, name, ext, accept) {
  return (ev) =>
    busy(ev.currentTarget, $('#doc-err'), async () => {
      const id = current();
      const r = await ctx.api.get(`hearings/${encodeURIComponent(id)}/${path}`, { raw: true, accept });
      download(`${name}-${id}.${ext}`, await r.blob(), accept);
    });
}
