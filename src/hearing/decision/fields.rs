//! What the decision document says, pure: [`build`] turns the gathered [`Inputs`] into
//! [`DecisionFields`], refusing ([`Incomplete`]) any empty or unreadable field instead of
//! filling in a default.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::{LITIGATION_MONTHS, PAY_DAYS, REVIEW_DAYS};
use crate::hearing::values::{FieldError, field};

/// A field the document needs is missing or unreadable (409 `decision_incomplete`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the decision document cannot be issued: {field}: {message}")]
pub struct Incomplete {
    pub field: String,
    pub message: String,
}

impl Incomplete {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Incomplete {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Most records in one notice.
pub const MAX_RECORDS: usize = 20;
/// Longest time, place or behaviour of a record.
pub const MAX_FACT: usize = 200;

/// The facts of one violation record, stated in the notice (number, time, place, behaviour).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecordFact {
    /// The violation record number, as booked.
    #[schema(min_length = 1, max_length = 32)]
    pub record_no: String,
    /// When it happened, e.g. `2026-11-02 08:31`.
    #[schema(min_length = 1, max_length = 200)]
    pub time: String,
    #[schema(min_length = 1, max_length = 200)]
    pub place: String,
    /// The behaviour, e.g. 机动车违反禁令标志指示.
    #[schema(min_length = 1, max_length = 200)]
    pub behaviour: String,
}

impl RecordFact {
    /// Checks the notice's `records` (absent: none).
    pub fn parse_all(v: Option<Vec<RecordFact>>) -> Result<Vec<RecordFact>, FieldError> {
        let list = v.unwrap_or_default();
        if list.len() > MAX_RECORDS {
            return Err(field("records", format!("at most {MAX_RECORDS} records")));
        }
        let text = |f: String, s: &str| -> Result<String, FieldError> {
            let f = f.as_str();
            let t = s.trim();
            if t.is_empty() || t.chars().count() > MAX_FACT || t.chars().any(char::is_control) {
                return Err(field(
                    f,
                    format!("1 to {MAX_FACT} characters, no control characters"),
                ));
            }
            Ok(t.to_string())
        };
        let mut out: Vec<RecordFact> = Vec::with_capacity(list.len());
        for (i, r) in list.into_iter().enumerate() {
            let record_no = crate::domain::RecordNo::parse(&r.record_no)
                .map_err(|m| field(&format!("records[{i}].record_no"), m))?;
            if out.iter().any(|o| o.record_no == record_no.as_str()) {
                return Err(field(
                    &format!("records[{i}].record_no"),
                    "a record is stated twice",
                ));
            }
            out.push(RecordFact {
                record_no: record_no.as_str().to_string(),
                time: text(format!("records[{i}].time"), &r.time)?,
                place: text(format!("records[{i}].place"), &r.place)?,
                behaviour: text(format!("records[{i}].behaviour"), &r.behaviour)?,
            });
        }
        Ok(out)
    }
}

/// The party (当事人) as the decision names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Party {
    pub name: String,
    pub id_number: String,
    /// The driving licence number (for a resident: the ID number).
    pub licence_no: String,
}

/// One violation record on the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ViolationFact {
    pub record_no: String,
    pub time: String,
    pub place: String,
    pub behaviour: String,
    pub fine_yuan: i64,
    pub points: i64,
}

/// One recorded file of the hearing's call named as evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecordingRef {
    pub id: String,
    pub kind: String,
    pub participant: Option<String>,
    pub sha256: String,
}

/// An officer who handled the case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OfficerRef {
    pub name: String,
    pub badge: String,
}

/// Someone else in the hearing (issue 19 §2): an interpreter, an agent or guardian, a legal
/// supervisor, as the decision names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ParticipantRef {
    /// `interpreter`, `agent` or `supervisor`.
    pub role: String,
    /// `sign`/`verbal`, `agent`/`guardian`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// An interpreter's language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    pub name: String,
}

impl ParticipantRef {
    /// `翻译人员（语言：维吾尔语）李四`, `手语翻译人员 李四`, `监护人 王五`, `法制员 赵六`.
    pub fn label(&self) -> String {
        let role = match (self.role.as_str(), self.kind.as_deref()) {
            ("interpreter", Some("sign")) => "手语翻译人员".to_string(),
            ("interpreter", _) => "翻译人员".to_string(),
            ("agent", Some("guardian")) => "监护人".to_string(),
            ("agent", _) => "委托代理人".to_string(),
            ("supervisor", _) => "法制员".to_string(),
            (other, _) => other.to_string(),
        };
        match self.language.as_deref() {
            Some(l) if l != "sign" => format!("{role}（语言：{l}）{}", self.name),
            _ => format!("{role} {}", self.name),
        }
    }
}

/// Every field of the document (`GET …/decision?format=json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DecisionFields {
    pub decision_no: String,
    pub hearing_id: String,
    /// RFC 3339 in the brigade's time zone.
    pub issued_at: String,
    /// `YYYY年MM月DD日`.
    pub issued_date: String,
    pub authority: String,
    pub authority_address: String,
    pub party: Party,
    pub party_phone_masked: String,
    pub plate: String,
    pub violations: Vec<ViolationFact>,
    pub facts: String,
    pub statement: String,
    /// The hearing's whole-call recording: its id, what it covers, how to obtain it, and the
    /// digests of the files sealed so far.
    pub recording_id: String,
    pub recording_scope: String,
    pub recording_access: String,
    pub recordings: Vec<RecordingRef>,
    /// SHA-256 of the still of the ID card the officer took from the citizen's video at the
    /// identity step (sealed in its entry).
    pub id_still_sha256: String,
    pub legal_basis: String,
    pub fine_yuan: i64,
    pub points: i64,
    pub pay_by: String,
    pub pay_where: String,
    pub late_fee: String,
    pub review_days: i64,
    pub review_body: String,
    pub litigation_months: u32,
    pub court: String,
    pub service: String,
    pub officers: Vec<OfficerRef>,
    /// Everyone else admitted to the call, with their role (issue 19 §2; absent in documents
    /// issued before).
    #[serde(default)]
    pub participants: Vec<ParticipantRef>,
    /// `size` and root hash (hex) of the audit log when the document was issued.
    pub audit_checkpoint: String,
}

/// What [`build`] needs; strings are checked, not trusted.
pub struct Inputs<'a> {
    pub decision_no: String,
    pub hearing_id: &'a str,
    pub issued_at: DateTime<Utc>,
    pub tz: Tz,
    pub authority: String,
    pub authority_address: String,
    pub review_body: String,
    pub court: String,
    pub pay_place: String,
    pub officer: OfficerRef,
    pub party: Party,
    pub phone: &'a str,
    pub plate: &'a str,
    /// The booking's stored violations (JSON text: `[{record_no, fine_yuan, points}]`).
    pub violations: &'a str,
    pub records: &'a [RecordFact],
    pub facts: String,
    pub statement: String,
    pub legal_basis: String,
    pub fine_yuan: i64,
    pub points: i64,
    pub recordings: Vec<RecordingRef>,
    /// The identity entry's `still_sha256`.
    pub id_still_sha256: Option<String>,
    pub audit_head: Option<(u64, String)>,
    /// Everyone else admitted to the call.
    pub participants: Vec<ParticipantRef>,
}

/// The brigade's time zone; empty or unknown is an error, never a default.
pub fn timezone(name: &str) -> Result<Tz, Incomplete> {
    if name.trim().is_empty() {
        return Err(Incomplete::new(
            "brigade.timezone",
            "the brigade has no time zone",
        ));
    }
    name.parse()
        .map_err(|_| Incomplete::new("brigade.timezone", format!("unknown time zone {name:?}")))
}

/// `138****1234`.
pub fn mask_phone(p: &str) -> String {
    let c: Vec<char> = p.chars().collect();
    if c.len() < 7 {
        return "****".into();
    }
    let head: String = c[..3].iter().collect();
    let tail: String = c[c.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

fn cn_date(d: NaiveDate) -> String {
    d.format("%Y年%m月%d日").to_string()
}

/// The decision number: `<doc code>〔YYYY〕第NNNNNN号`, unique per brigade (its doc code) and year.
pub fn decision_no(doc_code: &str, year: i32, serial: i64) -> String {
    format!("{doc_code}〔{year}〕第{serial:06}号")
}

/// `s` itself, or [`Incomplete`] naming `name` when it is empty.
pub fn required(name: &str, s: String) -> Result<String, Incomplete> {
    if s.trim().is_empty() {
        Err(Incomplete::new(name, "missing"))
    } else {
        Ok(s)
    }
}

#[derive(Deserialize)]
struct StoredViolation {
    record_no: String,
    fine_yuan: i64,
    points: i64,
}

fn violations(stored: &str, records: &[RecordFact]) -> Result<Vec<ViolationFact>, Incomplete> {
    let list: Vec<StoredViolation> = serde_json::from_str(stored).map_err(|e| {
        Incomplete::new(
            "booking.violations",
            format!("the stored records are unreadable: {e}"),
        )
    })?;
    if list.is_empty() {
        return Err(Incomplete::new("booking.violations", "no violation record"));
    }
    list.into_iter()
        .map(|v| {
            let r = records
                .iter()
                .find(|r| r.record_no == v.record_no)
                .ok_or_else(|| {
                    Incomplete::new(
                        "notice.records",
                        format!(
                            "the notice states no time, place and behaviour of record {}",
                            v.record_no
                        ),
                    )
                })?;
            Ok(ViolationFact {
                record_no: v.record_no,
                time: r.time.clone(),
                place: r.place.clone(),
                behaviour: r.behaviour.clone(),
                fine_yuan: v.fine_yuan,
                points: v.points,
            })
        })
        .collect()
}

/// The document's fields, or the first missing one.
pub fn build(i: Inputs<'_>) -> Result<DecisionFields, Incomplete> {
    let local = i.issued_at.with_timezone(&i.tz);
    let day = local.date_naive();
    let authority = required("brigade.name", i.authority)?;
    let authority_address = required("brigade.address", i.authority_address)?;
    let review_body = required("brigade.review_body", i.review_body)?;
    let court = required("brigade.court", i.court)?;
    let pay_place = required("brigade.pay_place", i.pay_place)?;
    let officer = OfficerRef {
        name: required("officer.name", i.officer.name)?,
        badge: required("officer.badge", i.officer.badge)?,
    };
    let phone = required("party.phone", i.phone.to_string())?;
    let plate = required("booking.plate", i.plate.to_string())?;
    let violations = violations(i.violations, i.records)?;
    let party = Party {
        name: required("party.name", i.party.name)?,
        id_number: required("party.id_number", i.party.id_number)?,
        licence_no: required("party.licence_no", i.party.licence_no)?,
    };
    let (size, root) = i
        .audit_head
        .ok_or_else(|| Incomplete::new("audit_checkpoint", "the audit log has no entry"))?;
    Ok(DecisionFields {
        decision_no: i.decision_no,
        hearing_id: i.hearing_id.to_string(),
        issued_at: local.to_rfc3339(),
        issued_date: cn_date(day),
        recording_id: i.hearing_id.to_string(),
        recording_scope: "本案远程处理视频通话全程同步录音录像（民警与当事人双方音视频），\
自通话开始至结束；中断时段均有审计记录（call_gap）"
            .into(),
        recording_access: format!(
            "录音录像各文件的SHA-256摘要封存于审计日志；当事人可凭本决定书编号向{authority}（{authority_address}）申请查阅、复制"
        ),
        authority,
        authority_address,
        party,
        party_phone_masked: mask_phone(&phone),
        plate,
        violations,
        facts: required("notice.facts", i.facts)?,
        statement: required("statement", i.statement)?,
        recordings: i.recordings,
        id_still_sha256: required("identity.still_sha256", i.id_still_sha256.unwrap_or_default())?,
        legal_basis: required("ruling.legal_basis", i.legal_basis)?,
        fine_yuan: i.fine_yuan,
        points: i.points,
        pay_by: cn_date(day + TimeDelta::days(PAY_DAYS)),
        pay_where: pay_place,
        late_fee: "到期不缴纳罚款的，每日按罚款数额的百分之三加处罚款（《中华人民共和国行政处罚法》第七十二条）"
            .into(),
        review_days: REVIEW_DAYS,
        review_body,
        litigation_months: LITIGATION_MONTHS,
        court,
        service: "电子送达（当事人已同意，《中华人民共和国行政处罚法》第六十一条）".into(),
        officers: vec![officer],
        participants: i.participants,
        audit_checkpoint: format!("审计日志 size={size} root={root}"),
    })
}

#[cfg(test)]
#[path = "fields_tests.rs"]
mod tests;
