//! The content rules of each legal step, pure: a step request ([`StepRequest`], `{step,
//! ...fields}`) is parsed into a typed [`StepInput`] built of the domain values of
//! [`super::values`] (422 with the field on a bad one), and the rules between steps
//! (the ruling may not exceed the notice, Art. 45) are checked here. What each step does to
//! the hearing's status is [`StepInput::effect`].

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    body::StepRequest,
    machine::{Effect, ReferReason, Step},
    values::{FineYuan, Points, RightsText, StepText, field},
};

/// The rights text every notice carries (Administrative Penalty Law Arts. 44–45).
pub const RIGHTS_TEXT: &str = "根据《中华人民共和国行政处罚法》第四十四条、第四十五条的规定，你有权进行陈述和申辩。\
行政机关必须充分听取你的意见，对你提出的事实、理由和证据进行复核；你提出的事实、理由或者证据成立的，行政机关应当采纳。\
行政机关不得因你陈述、申辩而给予更重的处罚。如你对违法事实有异议或者并非本人驾驶，可以提出，本案将转至窗口办理。";

/// What the citizen agrees to when confirming with consent (Art. 61).
pub const E_SERVICE_CONSENT_TEXT: &str = "本人确认上述处罚决定，并同意采用电子方式（本程序及预约手机号码）接收《公安交通管理行政处罚决定书》，\
电子送达与直接送达具有同等法律效力（《中华人民共和国行政处罚法》第六十一条）。";

pub use super::values::{FieldError, MAX_FINE_YUAN, MAX_POINTS, MAX_TEXT};
/// Most entries of an inquiry transcript.
pub const MAX_QA: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Qa {
    pub q: StepText,
    pub a: StepText,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub facts: StepText,
    pub legal_basis: StepText,
    pub proposed_fine_yuan: FineYuan,
    pub proposed_points: Points,
    pub rights_text: RightsText,
    /// Per violation record: time, place, behaviour (checked by [`super::decision`]).
    #[serde(default)]
    pub records: Vec<super::decision::RecordFact>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Statement {
    Text { text: StepText },
    Waived,
    Disputed { text: StepText },
}

/// What the officer checked at the identity step. The server adds the still's SHA-256 and the
/// party's masked ID number to the stored entry (`service`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub id_number_matches: bool,
    pub face_matches: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remarks: Option<StepText>,
    /// The ID card's still; absent only on a refusal that says why in `no_still`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub still_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_still: Option<NoStill>,
}

/// Why an identity step has no still of the ID card. Only a refusal may lack one: the face
/// and the card cannot be checked without video, so the case goes to the window, and the
/// record says what was missing and why (the server checks the claim against the call).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoStill {
    /// The citizen's phone sends no video (no camera, camera refused, or audio-only).
    CitizenVideoOff,
}

impl NoStill {
    pub fn parse(v: &str) -> Result<NoStill, FieldError> {
        match v {
            "citizen_video_off" => Ok(NoStill::CitizenVideoOff),
            _ => Err(field("no_still", "one of: citizen_video_off")),
        }
    }
}

/// The still, or why there is none: a verified identity needs the still; a refusal has either.
fn still_or_reason(
    verified: bool,
    still_id: Option<String>,
    no_still: Option<String>,
) -> Result<(Option<String>, Option<NoStill>), FieldError> {
    match (no_still, verified) {
        (None, _) => Ok((Some(evidence_id("still_id", still_id)?), None)),
        (Some(_), true) => Err(field(
            "no_still",
            "only when a check failed: a verified identity has its still",
        )),
        (Some(_), false) if still_id.is_some() => {
            Err(field("still_id", "give either still_id or no_still"))
        }
        (Some(r), false) => Ok((None, Some(NoStill::parse(&r)?))),
    }
}

/// Longest evidence id accepted in a step body.
pub const MAX_EVIDENCE_ID: usize = 64;

/// An evidence id field: present, 1 to [`MAX_EVIDENCE_ID`] characters.
fn evidence_id(f: &str, v: Option<String>) -> Result<String, FieldError> {
    let v = v.ok_or_else(|| field(f, "required"))?;
    let t = v.trim();
    if t.is_empty() || t.len() > MAX_EVIDENCE_ID {
        return Err(field(f, format!("1 to {MAX_EVIDENCE_ID} characters")));
    }
    Ok(t.to_string())
}

/// The citizen's answer to the transcript: accepted and signed, or a correction request. The
/// server adds the transcript's version, and for a signature its SHA-256 (`signing`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranscriptAck {
    pub accept: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correction: Option<StepText>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ruling {
    pub fine_yuan: FineYuan,
    pub points: Points,
    pub legal_basis: StepText,
}

/// A parsed, valid step request. Its JSON form is what the step stores and audits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum StepInput {
    Identity(Identity),
    Inquiry {
        transcript: Vec<Qa>,
    },
    TranscriptAck(TranscriptAck),
    Notice(Notice),
    NoticeAck,
    Statement(Statement),
    Ruling(Ruling),
    Confirmation {
        accept: bool,
        e_service_consent: bool,
        consent_text: Option<String>,
        signature_id: String,
    },
    /// The server fills in the document fields.
    Service,
    /// The server adds the proof of service (送达回证).
    Receipt {
        signature_id: String,
    },
}

/// Parses the fields of `step` from the request body (which also carries `step`).
pub fn parse(step: Step, body: &Value) -> Result<StepInput, FieldError> {
    StepInput::try_from(StepRequest::from_value(step, body)?)
}

impl TryFrom<StepRequest> for StepInput {
    type Error = FieldError;

    /// Applies the content rules, in a fixed order (the first refused field is reported).
    fn try_from(req: StepRequest) -> Result<StepInput, FieldError> {
        Ok(match req {
            StepRequest::Identity(b) => {
                let id_number_matches = b
                    .id_number_matches
                    .ok_or_else(|| field("id_number_matches", "required"))?;
                let face_matches = b
                    .face_matches
                    .ok_or_else(|| field("face_matches", "required"))?;
                let verified = id_number_matches && face_matches;
                let remarks = match b.remarks {
                    None if verified => None,
                    r => Some(StepText::parse("remarks", r)?),
                };
                let (still_id, no_still) = still_or_reason(verified, b.still_id, b.no_still)?;
                StepInput::Identity(Identity {
                    id_number_matches,
                    face_matches,
                    remarks,
                    still_id,
                    no_still,
                })
            }
            StepRequest::Inquiry(b) => {
                let list = b
                    .transcript
                    .ok_or_else(|| field("transcript", "required"))?;
                if list.is_empty() {
                    return Err(field("transcript", "the transcript must not be empty"));
                }
                if list.len() > MAX_QA {
                    return Err(field("transcript", format!("at most {MAX_QA} entries")));
                }
                let mut out = Vec::with_capacity(list.len());
                for (i, qa) in list.into_iter().enumerate() {
                    out.push(Qa {
                        q: StepText::parse(&format!("transcript[{i}].q"), Some(qa.q))?,
                        a: StepText::parse(&format!("transcript[{i}].a"), Some(qa.a))?,
                    });
                }
                StepInput::Inquiry { transcript: out }
            }
            StepRequest::Notice(b) => {
                let rights_text = RightsText::parse("rights_text", b.rights_text, RIGHTS_TEXT)?;
                StepInput::Notice(Notice {
                    facts: StepText::parse("facts", b.facts)?,
                    legal_basis: StepText::parse("legal_basis", b.legal_basis)?,
                    proposed_fine_yuan: FineYuan::parse(
                        "proposed_fine_yuan",
                        b.proposed_fine_yuan,
                    )?,
                    proposed_points: Points::parse("proposed_points", b.proposed_points)?,
                    rights_text,
                    records: super::decision::RecordFact::parse_all(b.records)?,
                })
            }
            StepRequest::TranscriptAck(b) => {
                let accept = b.accept.ok_or_else(|| field("accept", "required"))?;
                if accept {
                    if b.correction.is_some() {
                        return Err(field(
                            "correction",
                            "only when asking for a correction (accept: false)",
                        ));
                    }
                    StepInput::TranscriptAck(TranscriptAck {
                        accept,
                        signature_id: Some(evidence_id("signature_id", b.signature_id)?),
                        correction: None,
                    })
                } else {
                    if b.signature_id.is_some() {
                        return Err(field("signature_id", "only when accepting the transcript"));
                    }
                    StepInput::TranscriptAck(TranscriptAck {
                        accept,
                        signature_id: None,
                        correction: Some(StepText::parse("correction", b.correction)?),
                    })
                }
            }
            StepRequest::NoticeAck => StepInput::NoticeAck,
            StepRequest::Statement(b) => {
                let s = match (b.disputed, b.waived) {
                    (true, true) => {
                        return Err(field("waived", "a disputed statement is not waived"));
                    }
                    (true, false) => Statement::Disputed {
                        text: StepText::parse("text", b.text)?,
                    },
                    (false, true) => Statement::Waived,
                    (false, false) => Statement::Text {
                        text: StepText::parse("text", b.text)?,
                    },
                };
                StepInput::Statement(s)
            }
            StepRequest::Ruling(b) => StepInput::Ruling(Ruling {
                fine_yuan: FineYuan::parse("fine_yuan", b.fine_yuan)?,
                points: Points::parse("points", b.points)?,
                legal_basis: StepText::parse("legal_basis", b.legal_basis)?,
            }),
            StepRequest::Confirmation(b) => {
                let accept = b.accept.ok_or_else(|| field("accept", "required"))?;
                // Consent is given explicitly (Art. 61): an omitted field is refused, never
                // read as a yes.
                let given = b.e_service_consent.ok_or_else(|| {
                    field(
                        "e_service_consent",
                        "required: say explicitly whether you consent to electronic service",
                    )
                })?;
                let consent = accept && given;
                StepInput::Confirmation {
                    accept,
                    e_service_consent: consent,
                    consent_text: consent.then(|| E_SERVICE_CONSENT_TEXT.to_string()),
                    signature_id: evidence_id("signature_id", b.signature_id)?,
                }
            }
            StepRequest::Service => StepInput::Service,
            StepRequest::Receipt(b) => StepInput::Receipt {
                signature_id: evidence_id("signature_id", b.signature_id)?,
            },
        })
    }
}

impl StepInput {
    /// What this step does to the hearing.
    pub fn effect(&self) -> Effect {
        match self {
            StepInput::Statement(Statement::Disputed { .. }) => {
                Effect::Refer(ReferReason::Disputed)
            }
            StepInput::Confirmation { accept: false, .. } => {
                Effect::Refer(ReferReason::ConfirmationRefused)
            }
            StepInput::Confirmation {
                e_service_consent: false,
                ..
            } => Effect::Refer(ReferReason::NoElectronicServiceConsent),
            StepInput::Identity(i) if !(i.id_number_matches && i.face_matches) => {
                Effect::Refer(ReferReason::IdentityNotVerified)
            }
            StepInput::Receipt { .. } => Effect::Complete,
            StepInput::TranscriptAck(TranscriptAck { accept: false, .. }) => Effect::Redo,
            _ => Effect::Continue,
        }
    }

    /// The citizen's signature this step carries, if any.
    pub fn signature_id(&self) -> Option<&str> {
        match self {
            StepInput::TranscriptAck(a) => a.signature_id.as_deref(),
            StepInput::Confirmation { signature_id, .. } | StepInput::Receipt { signature_id } => {
                Some(signature_id)
            }
            _ => None,
        }
    }

    /// The stored (and audited) JSON of this step, without the `step` tag.
    pub fn payload(&self) -> Value {
        let mut v = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Value::Object(m) = &mut v {
            m.remove("step");
        }
        if v.is_null() {
            v = Value::Object(Default::default());
        }
        v
    }
}

/// Art. 45: defending must not make the penalty heavier than the notice proposed.
pub fn ruling_within_notice(notice: &Notice, ruling: &Ruling) -> bool {
    ruling.fine_yuan.get() <= notice.proposed_fine_yuan.get()
        && ruling.points.get() <= notice.proposed_points.get()
}

#[cfg(test)]
#[path = "content_tests.rs"]
mod tests;
