//! The officer interrupts a hearing with a reason (`POST /api/v1/hearings/{id}/interrupt`,
//! issue 12 §5): an `open` or `in_call` hearing becomes `interrupted`, the `interrupted` entry
//! records `{reason, remarks, by: officer}`, and the officer may resume it later
//! (`POST /{id}/resume`). A closed or already interrupted hearing answers 409 `invalid_state`.

use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::{
    after_commit,
    error::HearingError,
    machine::{Status, Trigger},
    service::record,
    store,
    subscribers::{Change, HearingEvent},
    values::field,
    views::{self, Caller, HearingView},
};
use crate::state::AppState;

/// The reasons an officer may give.
pub const REASONS: [&str; 3] = [
    "citizen_vanished",
    "technical_failure",
    "citizen_asked_to_stop",
];

/// Remarks are at most this many characters.
pub const MAX_REMARKS: usize = 500;

/// `{reason, remarks?}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InterruptRequest {
    /// `citizen_vanished`, `technical_failure` or `citizen_asked_to_stop`.
    pub reason: String,
    /// Free text, at most 500 characters.
    pub remarks: Option<String>,
}

/// Interrupts the hearing (its officer).
pub async fn interrupt(
    state: &AppState,
    caller: &Caller,
    id: &str,
    req: InterruptRequest,
) -> Result<HearingView, HearingError> {
    if !REASONS.contains(&req.reason.as_str()) {
        return Err(field(
            "reason",
            format!("reason must be one of {}", REASONS.join(", ")),
        )
        .into());
    }
    let remarks = req
        .remarks
        .map(|r| r.trim().to_string())
        .unwrap_or_default();
    if remarks.chars().count() > MAX_REMARKS {
        return Err(field("remarks", format!("at most {MAX_REMARKS} characters")).into());
    }
    let now = state.clock.now_ms();
    let mut tx = state.db.begin().await?;
    let mut h = store::lock(&mut tx, id)
        .await?
        .ok_or(HearingError::NotFound)?;
    caller.officer_of(&h)?;
    let status = Status::parse(&h.status)
        .ok_or_else(|| HearingError::broken(format!("bad hearing status {:?}", h.status)))?;
    let next = status
        .on(Trigger::OfficerInterrupt)
        .ok_or(HearingError::NotAccepting(status))?;
    h.status = next.as_str().into();
    h.updated_at = now;
    let payload = json!({"reason": req.reason, "remarks": remarks, "by": "officer"});
    let by = h.officer_id.clone();
    record(
        state,
        &mut tx,
        &h,
        "event",
        "interrupted",
        ("officer", &by),
        now,
        payload,
        &[],
    )
    .await?;
    store::save(&mut tx, &h).await?;
    tx.commit().await?;
    metrics::counter!("hearings_interrupted_total", "reason" => req.reason).increment(1);
    let change = Change::Lifecycle("interrupted".into());
    after_commit::publish(state, HearingEvent { hearing: h, change }).await;
    Ok(views::load(state, id).await?)
}
