//! The wire form of `POST /api/v1/hearings/{id}/steps`: [`StepRequest`], one variant per legal
//! step, tagged by `step` (`{"step": "ruling", "fine_yuan": 200, ...}`). Its OpenAPI schema is a
//! `oneOf` with a `step` discriminator whose members (`IdentityStep`, `NoticeStep`, …) each
//! list their fields. Fields are read as sent (a wrong JSON type → 422 naming the field); the
//! rules on their values (not empty, at most 4000 characters, 0..=1000 yuan, …) are applied by
//! [`super::content`], which turns a request into a typed `StepInput`.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{
    PartialSchema, ToSchema,
    openapi::{
        RefOr, Schema,
        schema::{AllOfBuilder, Discriminator, ObjectBuilder, OneOfBuilder, Ref, SchemaType, Type},
    },
};

use super::{
    machine::Step,
    values::{FieldError, field},
};

/// One question and its answer of the inquiry transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct QaFields {
    /// The question (not empty, at most 4000 characters).
    #[schema(min_length = 1, max_length = 4000)]
    pub q: String,
    /// The answer (not empty, at most 4000 characters).
    #[schema(min_length = 1, max_length = 4000)]
    pub a: String,
}

/// `identity` (officer): what the officer checked against the ID card shown to the camera. Both
/// checks `true`: the hearing goes on; either `false` (with `remarks`): the case goes to the
/// window (`identity_not_verified`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IdentityFields {
    /// The ID number on the card shown matches the party's (`GET /hearings/{id}/party`).
    #[schema(required = true, value_type = bool)]
    pub id_number_matches: Option<bool>,
    /// The face matches the card's photo (the officer's judgement).
    #[schema(required = true, value_type = bool)]
    pub face_matches: Option<bool>,
    /// Required when a check is `false` (1 to 4000 characters).
    #[schema(value_type = String, min_length = 1, max_length = 4000)]
    pub remarks: Option<String>,
    /// The `id_still` evidence of this hearing (`POST /hearings/{id}/evidence?kind=id_still`).
    /// Required unless `no_still` says why there is none.
    #[schema(value_type = String, max_length = 64)]
    pub still_id: Option<String>,
    /// Only with a check `false`, instead of `still_id`: why there is no still.
    /// `citizen_video_off`: the citizen's phone sends no video (no camera, camera refused,
    /// audio-only), which the call's record must show (else 409 `citizen_video_on`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String, pattern = "^citizen_video_off$")]
    pub no_still: Option<String>,
}

/// `inquiry` (officer): the transcript of questions and answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct InquiryFields {
    /// 1 to 200 entries.
    #[schema(required = true, value_type = Vec<QaFields>, min_items = 1, max_items = 200)]
    pub transcript: Option<Vec<QaFields>>,
}

/// `notice` (officer): the facts and the proposed penalty, with the rights text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NoticeFields {
    #[schema(required = true, value_type = String, min_length = 1, max_length = 4000)]
    pub facts: Option<String>,
    #[schema(required = true, value_type = String, min_length = 1, max_length = 4000)]
    pub legal_basis: Option<String>,
    /// 0 to 1000 yuan.
    #[schema(required = true, value_type = i64, minimum = 0, maximum = 1000)]
    pub proposed_fine_yuan: Option<i64>,
    /// 0 to 12 points.
    #[schema(required = true, value_type = i64, minimum = 0, maximum = 12)]
    pub proposed_points: Option<i64>,
    /// Defaults to the statutory text; a custom one must state 陈述 and 申辩.
    #[schema(value_type = String, min_length = 1, max_length = 4000)]
    pub rights_text: Option<String>,
    /// The facts of each violation record (the decision document states them per record).
    #[schema(value_type = Vec<crate::hearing::decision::RecordFact>, max_items = 20)]
    pub records: Option<Vec<crate::hearing::decision::RecordFact>>,
}

/// `statement` (citizen): a statement (`text`), a waiver (`waived`), or a dispute
/// (`disputed` with `text`; the case goes to the window).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StatementFields {
    /// Required unless `waived`.
    #[schema(value_type = String, min_length = 1, max_length = 4000)]
    pub text: Option<String>,
    #[serde(default)]
    pub waived: bool,
    #[serde(default)]
    pub disputed: bool,
}

/// `ruling` (officer): not heavier than the notice (Art. 45, else 409 `ruling_exceeds_notice`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RulingFields {
    #[schema(required = true, value_type = i64, minimum = 0, maximum = 1000)]
    pub fine_yuan: Option<i64>,
    #[schema(required = true, value_type = i64, minimum = 0, maximum = 12)]
    pub points: Option<i64>,
    #[schema(required = true, value_type = String, min_length = 1, max_length = 4000)]
    pub legal_basis: Option<String>,
}

/// `transcript_ack` (citizen): the citizen has read the inquiry transcript. `accept: true` with
/// a `signature_id` (以上笔录我已看过，与我所说相符) moves on to `notice`; `accept: false` with a
/// `correction` sends it back to the officer for a new `inquiry` version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TranscriptAckFields {
    #[schema(required = true, value_type = bool)]
    pub accept: Option<bool>,
    /// Required with `accept: true`: a `signature` evidence of this hearing uploaded by its
    /// citizen (`POST /hearings/{id}/evidence?kind=signature`), not used by another step.
    #[schema(value_type = String, max_length = 64)]
    pub signature_id: Option<String>,
    /// Required with `accept: false`: what is wrong in the transcript (1 to 4000 characters).
    #[schema(value_type = String, min_length = 1, max_length = 4000)]
    pub correction: Option<String>,
}

/// `confirmation` (citizen): accepts the ruling (or not), and says explicitly whether the
/// citizen consents to electronic service (Art. 61; `false`: the case goes to the window), signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ConfirmationFields {
    #[schema(required = true, value_type = bool)]
    pub accept: Option<bool>,
    /// Required, no default: consent is given explicitly, never by an omitted field.
    #[schema(required = true, value_type = bool)]
    pub e_service_consent: Option<bool>,
    /// A `signature` evidence of this hearing uploaded by its citizen, not used by another step.
    #[schema(required = true, value_type = String, max_length = 64)]
    pub signature_id: Option<String>,
}

/// `receipt` (citizen): the citizen signs for the served decision; the server issues the proof
/// of service (送达回证) with this signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReceiptFields {
    /// A `signature` evidence of this hearing uploaded by its citizen, not used by another step.
    #[schema(required = true, value_type = String, max_length = 64)]
    pub signature_id: Option<String>,
}

/// A step request as sent: the `step` tag and that step's fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum StepRequest {
    Identity(IdentityFields),
    Inquiry(InquiryFields),
    TranscriptAck(TranscriptAckFields),
    Notice(NoticeFields),
    NoticeAck,
    Statement(StatementFields),
    Ruling(RulingFields),
    Confirmation(ConfirmationFields),
    /// The server fills in the decision document.
    Service,
    Receipt(ReceiptFields),
}

/// Deserializes `body` into `T`, naming the offending field (`body` for the whole object).
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

impl StepRequest {
    /// Reads the fields of `step` from `body` (which also carries the tag). Each variant is
    /// read on its own so that a bad field is named by its path.
    pub fn from_value(step: Step, body: &Value) -> Result<StepRequest, FieldError> {
        Ok(match step {
            Step::Identity => StepRequest::Identity(de(body)?),
            Step::Inquiry => StepRequest::Inquiry(de(body)?),
            Step::TranscriptAck => StepRequest::TranscriptAck(de(body)?),
            Step::Notice => StepRequest::Notice(de(body)?),
            Step::NoticeAck => StepRequest::NoticeAck,
            Step::Statement => StepRequest::Statement(de(body)?),
            Step::Ruling => StepRequest::Ruling(de(body)?),
            Step::Confirmation => StepRequest::Confirmation(de(body)?),
            Step::Service => StepRequest::Service,
            Step::Receipt => StepRequest::Receipt(de(body)?),
        })
    }

    pub fn step(&self) -> Step {
        match self {
            StepRequest::Identity(_) => Step::Identity,
            StepRequest::Inquiry(_) => Step::Inquiry,
            StepRequest::TranscriptAck(_) => Step::TranscriptAck,
            StepRequest::Notice(_) => Step::Notice,
            StepRequest::NoticeAck => Step::NoticeAck,
            StepRequest::Statement(_) => Step::Statement,
            StepRequest::Ruling(_) => Step::Ruling,
            StepRequest::Confirmation(_) => Step::Confirmation,
            StepRequest::Service => Step::Service,
            StepRequest::Receipt(_) => Step::Receipt,
        }
    }
}

/// The component name of a step's request schema: `notice_ack` → `NoticeAckStep`.
pub fn component_name(step: Step) -> String {
    let mut out = String::new();
    for part in step.as_str().split('_') {
        let mut c = part.chars();
        if let Some(first) = c.next() {
            out.extend(first.to_uppercase());
            out.push_str(c.as_str());
        }
    }
    out.push_str("Step");
    out
}

/// The fields component of a step, if it has fields.
fn fields_component(step: Step) -> Option<(String, RefOr<Schema>)> {
    fn named<T: ToSchema>() -> Option<(String, RefOr<Schema>)> {
        Some((T::name().into_owned(), T::schema()))
    }
    match step {
        Step::Identity => named::<IdentityFields>(),
        Step::Inquiry => named::<InquiryFields>(),
        Step::TranscriptAck => named::<TranscriptAckFields>(),
        Step::Notice => named::<NoticeFields>(),
        Step::Statement => named::<StatementFields>(),
        Step::Ruling => named::<RulingFields>(),
        Step::Confirmation => named::<ConfirmationFields>(),
        Step::Receipt => named::<ReceiptFields>(),
        Step::NoticeAck | Step::Service => None,
    }
}

/// `{step: "<name>"}` and, for a step with fields, its fields: `allOf`.
fn step_schema(step: Step) -> Schema {
    let tag = ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::Object))
        .property(
            "step",
            ObjectBuilder::new()
                .schema_type(SchemaType::new(Type::String))
                .enum_values(Some([step.as_str()])),
        )
        .required("step")
        .description(Some(format!(
            "`{}`, submitted by the {}",
            step.as_str(),
            step.party().as_str()
        )));
    match fields_component(step) {
        None => tag.build().into(),
        Some((name, _)) => AllOfBuilder::new()
            .item(tag.build())
            .item(Ref::from_schema_name(name))
            .build()
            .into(),
    }
}

impl PartialSchema for StepRequest {
    fn schema() -> RefOr<Schema> {
        let mapping = Step::ALL.map(|s| {
            (
                s.as_str().to_string(),
                format!("#/components/schemas/{}", component_name(s)),
            )
        });
        let mut one_of =
            OneOfBuilder::new().discriminator(Some(Discriminator::with_mapping("step", mapping)));
        for s in Step::ALL {
            one_of = one_of.item(Ref::from_schema_name(component_name(s)));
        }
        RefOr::T(Schema::OneOf(one_of.build()))
    }
}

impl ToSchema for StepRequest {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("StepRequest")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push(("QaFields".into(), QaFields::schema()));
        schemas.push((
            "RecordFact".into(),
            crate::hearing::decision::RecordFact::schema(),
        ));
        for s in Step::ALL {
            if let Some(c) = fields_component(s) {
                schemas.push(c);
            }
            schemas.push((component_name(s), step_schema(s).into()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_and_round_trip() {
        assert_eq!(component_name(Step::NoticeAck), "NoticeAckStep");
        for s in Step::ALL {
            let body = json!({"step": s.as_str(), "accept": true, "id_number_matches": true,
                "face_matches": true, "still_id": "e1", "signature_id": "s1", "e_service_consent": true,
                "transcript": [{"q": "q", "a": "a"}], "text": "t"});
            let r = StepRequest::from_value(s, &body).unwrap();
            assert_eq!(r.step(), s);
            let wire = serde_json::to_value(&r).unwrap();
            assert_eq!(wire["step"], s.as_str());
            assert_eq!(serde_json::from_value::<StepRequest>(wire).unwrap(), r);
        }
    }

    #[test]
    fn a_bad_type_names_its_field() {
        let e =
            StepRequest::from_value(Step::Inquiry, &json!({"transcript": [{"q": "q", "a": 1}]}))
                .unwrap_err();
        assert_eq!(e.field, "transcript[0].a");
    }
}
