//! The content rules of each legal step, pure: a step request `{step, ...fields}` is parsed
//! into a typed [`StepInput`] (422 with the field on a bad one), and the rules between steps
//! (the ruling may not exceed the notice, Art. 45) are checked here. What each step does to
//! the hearing's status is [`StepInput::effect`].

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::machine::{Effect, ReferReason, Step};

/// The rights text every notice carries (Administrative Penalty Law Arts. 44–45).
pub const RIGHTS_TEXT: &str = "根据《中华人民共和国行政处罚法》第四十四条、第四十五条的规定，你有权进行陈述和申辩。\
行政机关必须充分听取你的意见，对你提出的事实、理由和证据进行复核；你提出的事实、理由或者证据成立的，行政机关应当采纳。\
行政机关不得因你陈述、申辩而给予更重的处罚。如你对违法事实有异议或者并非本人驾驶，可以提出，本案将转至窗口办理。";

/// What the citizen agrees to when confirming with consent (Art. 61).
pub const E_SERVICE_CONSENT_TEXT: &str = "本人确认上述处罚决定，并同意采用电子方式（本程序及预约手机号码）接收《公安交通管理行政处罚决定书》，\
电子送达与直接送达具有同等法律效力（《中华人民共和国行政处罚法》第六十一条）。";

pub const MAX_TEXT: usize = 4000;
pub const MAX_QA: usize = 200;
pub const MAX_FINE_YUAN: i64 = 1000;
pub const MAX_POINTS: i64 = 12;

/// A refused field: (field, message) → 422.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

fn field(f: &str, m: impl Into<String>) -> FieldError {
    FieldError {
        field: f.into(),
        message: m.into(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Qa {
    pub q: String,
    pub a: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub facts: String,
    pub legal_basis: String,
    pub proposed_fine_yuan: i64,
    pub proposed_points: i64,
    pub rights_text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Statement {
    Text { text: String },
    Waived,
    Disputed { text: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ruling {
    pub fine_yuan: i64,
    pub points: i64,
    pub legal_basis: String,
}

/// A parsed, valid step request. Its JSON form is what the step stores and audits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum StepInput {
    Identity {
        id_checked: bool,
    },
    Inquiry {
        transcript: Vec<Qa>,
    },
    Notice(Notice),
    NoticeAck,
    Statement(Statement),
    Ruling(Ruling),
    Confirmation {
        accept: bool,
        e_service_consent: bool,
        consent_text: Option<String>,
    },
    /// The server fills in the document fields.
    Service,
    Receipt,
}

#[derive(Deserialize)]
struct IdentityIn {
    id_checked: Option<bool>,
}
#[derive(Deserialize)]
struct InquiryIn {
    transcript: Option<Vec<Qa>>,
}
#[derive(Deserialize)]
struct NoticeIn {
    facts: Option<String>,
    legal_basis: Option<String>,
    proposed_fine_yuan: Option<i64>,
    proposed_points: Option<i64>,
    rights_text: Option<String>,
}
#[derive(Deserialize)]
struct StatementIn {
    text: Option<String>,
    #[serde(default)]
    waived: bool,
    #[serde(default)]
    disputed: bool,
}
#[derive(Deserialize)]
struct RulingIn {
    fine_yuan: Option<i64>,
    points: Option<i64>,
    legal_basis: Option<String>,
}
#[derive(Deserialize)]
struct ConfirmationIn {
    accept: Option<bool>,
    e_service_consent: Option<bool>,
}

fn de<T: for<'a> Deserialize<'a>>(body: &Value) -> Result<T, FieldError> {
    serde_path_to_error::deserialize(body).map_err(|e| {
        let path = e.path().to_string();
        let f = if path.is_empty() || path == "." {
            "body".to_string()
        } else {
            path
        };
        field(&f, e.into_inner().to_string())
    })
}

fn text(f: &str, v: Option<String>, max: usize) -> Result<String, FieldError> {
    let v = v.ok_or_else(|| field(f, "required"))?;
    let t = v.trim();
    if t.is_empty() {
        return Err(field(f, "must not be empty"));
    }
    if t.chars().count() > max {
        return Err(field(f, format!("at most {max} characters")));
    }
    Ok(t.to_string())
}

fn amount(f: &str, v: Option<i64>, max: i64) -> Result<i64, FieldError> {
    let v = v.ok_or_else(|| field(f, "required"))?;
    if !(0..=max).contains(&v) {
        return Err(field(f, format!("must be between 0 and {max}")));
    }
    Ok(v)
}

/// Parses the fields of `step` from the request body (which also carries `step`).
pub fn parse(step: Step, body: &Value) -> Result<StepInput, FieldError> {
    Ok(match step {
        Step::Identity => {
            let b: IdentityIn = de(body)?;
            if b.id_checked != Some(true) {
                return Err(field(
                    "id_checked",
                    "the officer must confirm the ID card was checked (true)",
                ));
            }
            StepInput::Identity { id_checked: true }
        }
        Step::Inquiry => {
            let b: InquiryIn = de(body)?;
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
                    q: text(&format!("transcript[{i}].q"), Some(qa.q), MAX_TEXT)?,
                    a: text(&format!("transcript[{i}].a"), Some(qa.a), MAX_TEXT)?,
                });
            }
            StepInput::Inquiry { transcript: out }
        }
        Step::Notice => {
            let b: NoticeIn = de(body)?;
            let rights_text = match b.rights_text {
                None => RIGHTS_TEXT.to_string(),
                Some(t) => {
                    let t = text("rights_text", Some(t), MAX_TEXT)?;
                    if !(t.contains("陈述") && t.contains("申辩")) {
                        return Err(field(
                            "rights_text",
                            "must state the right to state a case and defend (陈述、申辩)",
                        ));
                    }
                    t
                }
            };
            StepInput::Notice(Notice {
                facts: text("facts", b.facts, MAX_TEXT)?,
                legal_basis: text("legal_basis", b.legal_basis, MAX_TEXT)?,
                proposed_fine_yuan: amount(
                    "proposed_fine_yuan",
                    b.proposed_fine_yuan,
                    MAX_FINE_YUAN,
                )?,
                proposed_points: amount("proposed_points", b.proposed_points, MAX_POINTS)?,
                rights_text,
            })
        }
        Step::NoticeAck => StepInput::NoticeAck,
        Step::Statement => {
            let b: StatementIn = de(body)?;
            let s = match (b.disputed, b.waived) {
                (true, true) => return Err(field("waived", "a disputed statement is not waived")),
                (true, false) => Statement::Disputed {
                    text: text("text", b.text, MAX_TEXT)?,
                },
                (false, true) => Statement::Waived,
                (false, false) => Statement::Text {
                    text: text("text", b.text, MAX_TEXT)?,
                },
            };
            StepInput::Statement(s)
        }
        Step::Ruling => {
            let b: RulingIn = de(body)?;
            StepInput::Ruling(Ruling {
                fine_yuan: amount("fine_yuan", b.fine_yuan, MAX_FINE_YUAN)?,
                points: amount("points", b.points, MAX_POINTS)?,
                legal_basis: text("legal_basis", b.legal_basis, MAX_TEXT)?,
            })
        }
        Step::Confirmation => {
            let b: ConfirmationIn = de(body)?;
            let accept = b.accept.ok_or_else(|| field("accept", "required"))?;
            // Confirming is done on a page that shows the consent text: `accept: true` alone
            // consents; `e_service_consent: false` declines electronic service explicitly.
            let consent = accept && b.e_service_consent.unwrap_or(true);
            StepInput::Confirmation {
                accept,
                e_service_consent: consent,
                consent_text: consent.then(|| E_SERVICE_CONSENT_TEXT.to_string()),
            }
        }
        Step::Service => StepInput::Service,
        Step::Receipt => StepInput::Receipt,
    })
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
            StepInput::Receipt => Effect::Complete,
            _ => Effect::Continue,
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
    ruling.fine_yuan <= notice.proposed_fine_yuan && ruling.points <= notice.proposed_points
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(step: Step, body: Value) -> String {
        parse(step, &body).unwrap_err().field
    }

    #[test]
    fn identity_must_be_checked() {
        assert_eq!(err(Step::Identity, json!({})), "id_checked");
        assert_eq!(
            err(Step::Identity, json!({"id_checked": false})),
            "id_checked"
        );
        assert!(
            parse(
                Step::Identity,
                &json!({"step": "identity", "id_checked": true})
            )
            .is_ok()
        );
    }

    #[test]
    fn transcript_not_empty() {
        assert_eq!(err(Step::Inquiry, json!({"transcript": []})), "transcript");
        assert_eq!(err(Step::Inquiry, json!({})), "transcript");
        assert_eq!(
            err(
                Step::Inquiry,
                json!({"transcript": [{"q": "谁驾驶？", "a": "  "}]})
            ),
            "transcript[0].a"
        );
        let ok = parse(
            Step::Inquiry,
            &json!({"transcript": [{"q": "谁驾驶？", "a": "本人"}]}),
        )
        .unwrap();
        assert_eq!(ok.payload()["transcript"][0]["a"], "本人");
    }

    #[test]
    fn notice_carries_everything_and_the_rights_text() {
        let good = json!({"facts": "2026年11月1日驾驶鲁A12345闯红灯", "legal_basis": "《道路交通安全法》第九十条",
            "proposed_fine_yuan": 200, "proposed_points": 6});
        let StepInput::Notice(n) = parse(Step::Notice, &good).unwrap() else {
            panic!()
        };
        assert_eq!(n.rights_text, RIGHTS_TEXT);
        assert!(n.rights_text.contains("第四十四条") && n.rights_text.contains("第四十五条"));
        for f in [
            "facts",
            "legal_basis",
            "proposed_fine_yuan",
            "proposed_points",
        ] {
            let mut b = good.clone();
            b.as_object_mut().unwrap().remove(f);
            assert_eq!(err(Step::Notice, b), f);
        }
        let mut b = good.clone();
        b["proposed_fine_yuan"] = json!(-1);
        assert_eq!(err(Step::Notice, b), "proposed_fine_yuan");
        let mut b = good.clone();
        b["rights_text"] = json!("你可以走了");
        assert_eq!(err(Step::Notice, b), "rights_text");
        let mut b = good;
        b["facts"] = json!("   ");
        assert_eq!(err(Step::Notice, b), "facts");
    }

    #[test]
    fn statements() {
        let d = parse(
            Step::Statement,
            &json!({"disputed": true, "text": "不是我开的"}),
        )
        .unwrap();
        assert_eq!(d.effect(), Effect::Refer(ReferReason::Disputed));
        assert_eq!(err(Step::Statement, json!({"disputed": true})), "text");
        let w = parse(Step::Statement, &json!({"waived": true})).unwrap();
        assert_eq!(w.effect(), Effect::Continue);
        assert_eq!(w.payload(), json!({"kind": "waived"}));
        assert_eq!(err(Step::Statement, json!({})), "text");
        let t = parse(Step::Statement, &json!({"text": "认可"})).unwrap();
        assert_eq!(t.effect(), Effect::Continue);
    }

    #[test]
    fn ruling_may_not_exceed_the_notice() {
        let n = Notice {
            facts: "f".into(),
            legal_basis: "l".into(),
            proposed_fine_yuan: 200,
            proposed_points: 6,
            rights_text: RIGHTS_TEXT.into(),
        };
        let r = |fine, points| Ruling {
            fine_yuan: fine,
            points,
            legal_basis: "l".into(),
        };
        assert!(ruling_within_notice(&n, &r(200, 6)));
        assert!(ruling_within_notice(&n, &r(100, 3)));
        assert!(!ruling_within_notice(&n, &r(201, 6)));
        assert!(!ruling_within_notice(&n, &r(200, 7)));
    }

    #[test]
    fn confirmation_and_consent() {
        let yes = parse(Step::Confirmation, &json!({"accept": true})).unwrap();
        assert_eq!(yes.effect(), Effect::Continue);
        assert_eq!(yes.payload()["e_service_consent"], true);
        let no = parse(Step::Confirmation, &json!({"accept": false})).unwrap();
        assert_eq!(no.effect(), Effect::Refer(ReferReason::ConfirmationRefused));
        let paper = parse(
            Step::Confirmation,
            &json!({"accept": true, "e_service_consent": false}),
        )
        .unwrap();
        assert_eq!(
            paper.effect(),
            Effect::Refer(ReferReason::NoElectronicServiceConsent)
        );
        assert_eq!(err(Step::Confirmation, json!({})), "accept");
        assert_eq!(err(Step::Confirmation, json!({"accept": "yes"})), "accept");
    }

    #[test]
    fn receipt_completes() {
        assert_eq!(
            parse(Step::Receipt, &json!({})).unwrap().effect(),
            Effect::Complete
        );
        assert_eq!(
            parse(Step::NoticeAck, &json!({})).unwrap().payload(),
            json!({})
        );
    }
}
