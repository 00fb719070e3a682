/**
 * The served decision in words, as the H5 page shows it (web/citizen/decision.js): what the
 * citizen acts on first, identifiers and digests behind 核验信息; and the paths of the three
 * downloads (the decision PDF, the hearing proof file, the proof of service PDF).
 */
import { fmtTime } from './format';
import { getLang } from './i18n';

/** The decision's fields (`GET …/decision?format=json`) with their labels, in the H5 page's order. */
const DOC_LABELS: Record<string, [string, string]> = {
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
/** Behind the 核验信息 fold: for checking, not for reading. */
const VERIFY_ONLY = ['recording_id', 'recordings', 'id_still_sha256', 'hearing_id', 'audit_checkpoint', 'sha256'];

export interface DocRow {
  key: string;
  label: string;
  value: string;
}

type Any = Record<string, unknown>;

function docText(key: string, v: unknown, tz: string): string {
  if (key === 'party' && v && typeof v === 'object') {
    const p = v as Any;
    return [p.name, p.id_number, p.licence_no && `驾驶证 ${p.licence_no}`].filter(Boolean).join('，');
  }
  if (key === 'officers' && Array.isArray(v)) return v.map((o: Any) => `${o.name}（警号 ${o.badge}）`).join('、');
  if (key === 'violations' && Array.isArray(v)) return v.map((r: Any) => `${r.record_no}：${r.time}，${r.place}，${r.behaviour}`).join('；');
  if (key === 'recordings' && Array.isArray(v)) return v.length ? v.map((r: Any) => `${r.id}（${r.participant || r.kind}）SHA-256 ${r.sha256}`).join('；') : '—';
  if (v && typeof v === 'object') return JSON.stringify(v);
  return /^\d{4}-\d\d-\d\dT/.test(String(v)) ? fmtTime(String(v), tz) : String(v);
}

/** The decision's rows: `main` first, `verify` behind the fold. */
export function decisionRows(doc: Any, tz: string): { main: DocRow[]; verify: DocRow[] } {
  const i = getLang() === 'en' ? 1 : 0;
  const rows = Object.keys(DOC_LABELS)
    .filter((k) => doc[k] !== undefined && doc[k] !== null)
    .map((k) => ({ key: k, label: DOC_LABELS[k][i], value: docText(k, doc[k], tz) }));
  return { main: rows.filter((r) => VERIFY_ONLY.indexOf(r.key) < 0), verify: rows.filter((r) => VERIFY_ONLY.indexOf(r.key) >= 0) };
}

export const paths = {
  decisionJson: (id: string) => `hearings/${encodeURIComponent(id)}/decision?format=json`,
  decisionPdf: (id: string) => `hearings/${encodeURIComponent(id)}/decision?format=pdf`,
  proof: (id: string) => `hearings/${encodeURIComponent(id)}/proof`,
  serviceProofPdf: (id: string) => `hearings/${encodeURIComponent(id)}/proof-of-service?format=pdf`,
};
