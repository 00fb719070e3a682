//! The officer interrupts a hearing with a reason (`POST /api/v1/hearings/{id}/interrupt`,
//! issue 12 §5): an `open` or `in_call` hearing becomes `interrupted`, the `interrupted` entry
//! records `{reason, remarks, by: officer}`, and the officer may resume it later
//! (`POST /{id}/resume`). A closed or already interrupted hearing answers 409 `invalid_state`.
//! [`sweep_idle`] (the hearing's minute job) interrupts hearings idle for `hearing.idle_ms`, and
//! [`interrupt_without_code`] opened ones whose slot ended without a join code (issue 12 §5).

use super::Hearing;
use axum::extract::FromRef;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::{
    access::Caller,
    after_commit,
    error::HearingError,
    machine::{Status, Trigger},
    service::{SYSTEM, record},
    store,
    subscribers::{Change, HearingEvent},
    values::field,
};

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
    #[schema(pattern = "^(citizen_vanished|technical_failure|citizen_asked_to_stop)$")]
    pub reason: String,
    /// Free text, at most 500 characters.
    #[schema(max_length = 500)]
    pub remarks: Option<String>,
}

/// Interrupts the hearing (its officer).
pub async fn interrupt(
    state: &Hearing,
    caller: &Caller,
    id: &str,
    req: InterruptRequest,
) -> Result<(), HearingError> {
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
    let payload = json!({"reason": req.reason, "remarks": remarks, "by": "officer"});
    let by = ("officer", caller.id.as_str());
    apply(state, id, by, &req.reason, payload, |h| {
        caller.officer_of(h)
    })
    .await
}

/// Interrupts `id` in one transaction when `check` passes (the booking is freed,
/// `fate::booking_follows`); `NotAccepting` when its status does not allow it.
async fn apply(
    state: &Hearing,
    id: &str,
    by: (&str, &str),
    reason: &str,
    payload: serde_json::Value,
    check: impl FnOnce(&store::HearingRow) -> Result<(), HearingError>,
) -> Result<(), HearingError> {
    let now = state.clock.now_ms();
    let mut tx = state.db.begin().await?;
    let mut h = store::lock(&mut tx, id)
        .await?
        .ok_or(HearingError::NotFound)?;
    check(&h)?;
    let status = Status::parse(&h.status)
        .ok_or_else(|| HearingError::broken(format!("bad hearing status {:?}", h.status)))?;
    let next = status
        .on(Trigger::OfficerInterrupt)
        .ok_or(HearingError::NotAccepting(status))?;
    let trigger = Trigger::OfficerInterrupt;
    super::fate::booking_follows(&mut tx, &h, (status, next), trigger, reason, now).await?;
    h.status = next.as_str().into();
    h.updated_at = now;
    record(
        state,
        &mut tx,
        &h,
        "event",
        "interrupted",
        by,
        now,
        payload,
        &[],
    )
    .await?;
    store::save(&mut tx, &h).await?;
    tx.commit().await?;
    metrics::counter!("hearings_interrupted_total", "reason" => reason.to_string()).increment(1);
    let change = Change::Interrupted {
        reason: reason.to_string(),
    };
    after_commit::publish(state, HearingEvent { hearing: h, change }).await;
    Ok(())
}

/// Interrupts (actor `system`, reason `idle`) the hearings nothing happened in for
/// `hearing.idle_ms` while their call is not live: `in_call` ones, and `open` ones the citizen
/// joined (an `open` hearing the citizen never joined is the no-show rules' case). Returns how
/// many.
pub async fn sweep_idle<S>(state: &S) -> Result<usize, HearingError>
where
    Hearing: FromRef<S>,
{
    let state = &Hearing::from_ref(state);
    let idle = i64::try_from(state.config.idle_ms).unwrap_or(i64::MAX);
    if idle == 0 {
        return Ok(0);
    }
    let cutoff = state.clock.now_ms().saturating_sub(idle);
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM hearings WHERE updated_at < $1 AND (status = 'in_call' \
         OR (status = 'open' AND citizen_joined_at IS NOT NULL))",
    )
    .bind(cutoff)
    .fetch_all(&state.db.read)
    .await?;
    let mut n = 0;
    for id in ids {
        if super::live::observe(state, &id).await.is_live() {
            continue;
        }
        let payload = json!({"reason": "idle", "idle_ms": idle, "by": "system"});
        let r = apply(state, &id, SYSTEM, "idle", payload, |h| {
            if h.updated_at < cutoff {
                Ok(())
            } else {
                Err(HearingError::NotAccepting(Status::Open))
            }
        })
        .await;
        match r {
            Ok(()) => n += 1,
            Err(HearingError::NotAccepting(_)) => {}
            Err(e) => {
                tracing::warn!(hearing = %id, error = %e, "interrupting an idle hearing failed")
            }
        }
    }
    Ok(n)
}

/// Interrupts (actor `system`, reason `code_not_sent`) an open hearing nobody joined whose
/// slot is over but whose code never made a no-show possible: the brigade's failing, so the
/// booking is freed, never a no-show. True when it did.
pub async fn interrupt_without_code(state: &Hearing, id: &str) -> Result<bool, HearingError> {
    let payload = json!({"reason": super::fate::CODE_NOT_SENT, "by": "system"});
    let r = apply(
        state,
        id,
        SYSTEM,
        super::fate::CODE_NOT_SENT,
        payload,
        |h| match h.citizen_joined_at.is_none() && h.last_step.is_none() {
            true => Ok(()),
            false => Err(HearingError::CitizenJoined),
        },
    )
    .await;
    match r {
        Ok(()) => Ok(true),
        Err(HearingError::NotAccepting(_) | HearingError::CitizenJoined) => Ok(false),
        Err(e) => Err(e),
    }
}
