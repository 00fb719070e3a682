//! Gaps in the call (Art. 47: the record shows every second that is missing and why). The
//! call's rooms note when a party drops or leaves and when it is back, when its grace period
//! runs out, or when the call ends without it (`signaling::room::gaps`); the presence watcher
//! takes the finished gaps on every poll and seals each as a `call_gap` entry — `{who, from,
//! to, duration_ms, reason, ended}` (`reason`: `connection_lost`, `left`,
//! `not_back_within_grace`; `ended`: `returned`, `grace_expired`, `call_ended`) — of a hearing
//! whose call had started (a party coming and going before the other joined is no gap in a
//! call). Gaps in progress live in the holding process's memory: a process that dies loses
//! them (its recordings end there too, and the recovery is logged).

use serde_json::json;

use super::Hearing;
use super::{
    after_commit,
    machine::Status,
    service::{SYSTEM, record},
    store,
    subscribers::{Change, HearingEvent},
};
use crate::error::ApiResult;

/// Seals every finished gap of this process's calls. Returns how many were sealed. A gap that
/// fails to seal (a database error) is put back and tried again on the next poll: the record
/// must show it (Art. 47), so a passing failure may delay it but not lose it.
pub async fn seal_finished(state: &Hearing) -> usize {
    let mut n = 0;
    let mut failed = vec![];
    for g in state.call.hub.take_gaps() {
        match seal(state, &g).await {
            Ok(true) => n += 1,
            Ok(false) => {}
            Err(e) => {
                tracing::error!(hearing = %g.hearing_id, who = g.role.as_str(), error = %e, "sealing a call gap failed; it is tried again on the next poll");
                failed.push(g);
            }
        }
    }
    state.call.hub.requeue_gaps(failed);
    n
}

/// The wall-clock time (ms) of an instant in the past.
fn ms_of(state: &Hearing, at: std::time::Instant) -> i64 {
    let ago = i64::try_from(at.elapsed().as_millis()).unwrap_or(i64::MAX);
    state.clock.now_ms().saturating_sub(ago)
}

/// Appends the `call_gap` entry in its own transaction; `false` when the hearing is unknown or
/// its call had not started.
async fn seal(state: &Hearing, g: &signaling::SeatGap) -> ApiResult<bool> {
    let (from, to) = (ms_of(state, g.from), ms_of(state, g.to));
    let now = state.clock.now_ms();
    let mut tx = state.db.begin().await?;
    let Some(h) = store::lock(&mut tx, &g.hearing_id).await? else {
        return Ok(false);
    };
    if Status::parse(&h.status) == Some(Status::Open) {
        return Ok(false);
    }
    let payload = json!({
        "who": g.role.as_str(),
        "from": crate::clock::from_ms(from).to_rfc3339(),
        "to": crate::clock::from_ms(to).to_rfc3339(),
        "duration_ms": to - from,
        "reason": g.cause,
        "ended": g.ended,
    });
    record(
        state,
        &mut tx,
        &h,
        "event",
        "call_gap",
        SYSTEM,
        now,
        payload,
        &[],
    )
    .await?;
    tx.commit().await?;
    metrics::counter!("hearing_call_gaps_total").increment(1);
    let change = Change::Lifecycle("call_gap".into());
    after_commit::publish(state, HearingEvent { hearing: h, change }).await;
    Ok(true)
}
