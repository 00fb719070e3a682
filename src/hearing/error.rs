//! The hearing's refusals as one typed error, [`HearingError`], mapped to HTTP in ONE place
//! (`impl From<HearingError> for AppError`, in the manner of kanidm's `https/errors.rs`): the
//! domain says what went wrong, the edge says which status and code that is. Numbers a page
//! shows to the user travel as `params` (e.g. `{"minutes": 15}`), not only inside the message.
//! Internal failures keep their cause chain (`#[source]`), which is logged when answered.

use serde_json::json;

use super::{
    machine::{Status, Step},
    values::FieldError,
};
use crate::error::AppError;

/// Why the hearing refused a request.
#[derive(Debug, thiserror::Error)]
pub enum HearingError {
    /// No such hearing or booking, or not visible to the caller (404).
    #[error("not found")]
    NotFound,
    /// The caller's role may not do this (403 `forbidden`).
    #[error("your role may not do this")]
    Forbidden,
    /// Another officer of the brigade holds this hearing (403).
    #[error("another officer holds this hearing")]
    NotYourHearing,
    /// The booking already has a live hearing (409).
    #[error("this booking already has an open hearing")]
    HearingExists,
    /// The booking is not `booked` (409 `invalid_state`).
    #[error("a booking in status {0} cannot be heard")]
    BookingNotHearable(String),
    /// Opening outside the window around the slot (409).
    #[error(
        "a hearing opens from {minutes} minutes before the slot to its end, or any time before the deadline of an urgent booking you have claimed"
    )]
    OutsideHearingWindow { minutes: u64 },
    /// A closed or interrupted hearing was asked for a step (409 `invalid_state`).
    #[error("the hearing is {} and accepts no step", .0.as_str())]
    NotAccepting(Status),
    /// A closed hearing was asked for something else (409 `invalid_state`).
    #[error("the hearing is {}", .0.as_str())]
    Closed(Status),
    /// Not the next step (409 `invalid_state`).
    #[error("out of order: the next step is {}", .0.as_str())]
    OutOfOrder(Step),
    /// Every step was taken (409 `invalid_state`).
    #[error("the procedure is over")]
    ProcedureOver,
    /// Only an interrupted hearing resumes (409 `invalid_state`).
    #[error("only an interrupted hearing resumes")]
    NotInterrupted,
    /// Only an open hearing can be a no-show (409 `invalid_state`).
    #[error("only an open hearing can be a no-show")]
    NotOpen,
    /// The citizen joined, so this is no no-show (409 `invalid_state`).
    #[error("the citizen has joined this hearing")]
    CitizenJoined,
    /// A no-show before the wait after the slot started (409 `too_early`).
    #[error("a no-show can be recorded {minutes} minutes after the slot starts")]
    TooEarly { minutes: i64 },
    /// A bad field of a step (422 `invalid_field`).
    #[error("{0}")]
    InvalidField(FieldError),
    /// The ruling is heavier than the notice (409, Art. 45).
    #[error(
        "the notice proposed at most {fine_yuan} yuan and {points} points; defending must not make the penalty heavier (Art. 45)"
    )]
    RulingExceedsNotice { fine_yuan: i64, points: i64 },
    /// Electronic service without the consent captured at confirmation (409, Art. 61).
    #[error("electronic service needs the citizen's consent, captured at confirmation (Art. 61)")]
    EServiceConsentMissing,
    /// A field the decision document needs is missing or unreadable (409 `decision_incomplete`
    /// with the field): nothing is issued, nothing defaults.
    #[error(transparent)]
    DecisionIncomplete(#[from] super::decision::Incomplete),
    /// A step while the call is not live (409 `call_not_live`; `params.missing` lists
    /// `{party, missing: connection|recording}`).
    #[error("{message}")]
    CallNotLive {
        message: String,
        missing: serde_json::Value,
    },
    /// A stored record is not what the hearing expects (500; the cause is logged).
    #[error("{context}")]
    Internal {
        context: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// An error from a layer below or beside the hearing (storage, Redis, another module),
    /// already in its HTTP form.
    #[error(transparent)]
    App(#[from] AppError),
}

impl HearingError {
    /// A 500 with `context`, keeping `source` in the chain.
    pub fn internal(
        context: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        HearingError::Internal {
            context: context.into(),
            source: Some(source.into()),
        }
    }
    /// A 500 with only a description.
    pub fn broken(context: impl Into<String>) -> Self {
        HearingError::Internal {
            context: context.into(),
            source: None,
        }
    }
}

impl From<sqlx::Error> for HearingError {
    fn from(e: sqlx::Error) -> Self {
        HearingError::App(e.into())
    }
}

impl From<FieldError> for HearingError {
    fn from(e: FieldError) -> Self {
        HearingError::InvalidField(e)
    }
}

/// The whole cause chain, `outer: inner: …`.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cur = c.source();
    }
    out
}

impl From<HearingError> for AppError {
    fn from(e: HearingError) -> Self {
        use HearingError as H;
        let message = e.to_string();
        match e {
            H::App(app) => app,
            H::Internal { .. } => AppError::internal(chain(&e)),
            H::NotFound => AppError::not_found(),
            H::Forbidden => AppError::forbidden(),
            H::NotYourHearing => AppError::new(
                axum::http::StatusCode::FORBIDDEN,
                "not_your_hearing",
                message,
            ),
            H::HearingExists => AppError::conflict("hearing_exists", message),
            H::BookingNotHearable(_)
            | H::NotAccepting(_)
            | H::Closed(_)
            | H::OutOfOrder(_)
            | H::ProcedureOver
            | H::NotInterrupted
            | H::NotOpen
            | H::CitizenJoined => AppError::conflict("invalid_state", message),
            H::OutsideHearingWindow { minutes } => {
                AppError::conflict("outside_hearing_window", message)
                    .with_params(json!({ "minutes": minutes }))
            }
            H::TooEarly { minutes } => {
                AppError::conflict("too_early", message).with_params(json!({ "minutes": minutes }))
            }
            H::InvalidField(f) => AppError::unprocessable(f.field, f.message),
            H::RulingExceedsNotice { fine_yuan, points } => {
                AppError::conflict("ruling_exceeds_notice", message)
                    .with_params(json!({ "fine_yuan": fine_yuan, "points": points }))
            }
            H::EServiceConsentMissing => AppError::conflict("e_service_consent_missing", message),
            H::DecisionIncomplete(i) => {
                AppError::conflict("decision_incomplete", message).with_field(i.field)
            }
            H::CallNotLive { missing, .. } => AppError::conflict("call_not_live", message)
                .with_params(json!({ "missing": missing })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_once() {
        let e: AppError = HearingError::OutsideHearingWindow { minutes: 15 }.into();
        assert_eq!((e.status.as_u16(), e.code), (409, "outside_hearing_window"));
        assert!(e.message.contains("15 minutes"));
        assert_eq!(e.params, Some(json!({"minutes": 15})));
        let e: AppError = HearingError::OutOfOrder(Step::Notice).into();
        assert_eq!(e.message, "out of order: the next step is notice");
        let e: AppError = HearingError::NotYourHearing.into();
        assert_eq!((e.status.as_u16(), e.code), (403, "not_your_hearing"));
    }

    #[test]
    fn internal_keeps_its_cause() {
        let cause = serde_json::from_str::<u8>("x").unwrap_err();
        let e = HearingError::internal("stored notice unreadable", cause);
        assert!(std::error::Error::source(&e).is_some());
        assert!(chain(&e).starts_with("stored notice unreadable: expected value"));
        let a: AppError = e.into();
        assert_eq!(a.status.as_u16(), 500);
    }
}
