//! The urgent lane as the rest of the server sees it: enqueue on booking, remove when the
//! booking leaves (cancel, no-show, hearing closed), who holds a claim, and one sweep (expired
//! leases, gauges, deadline alerts). The rebuild from the database and the job that detects a
//! lost lane are in `rebuild`; the Redis mechanics in `queue` (scripts in `scripts`); the HTTP
//! endpoints in `api`.

mod api;
pub mod queue;
mod rebuild;
mod scripts;

pub use api::router;
pub use queue::{Claimed, Holder, Item, UrgentQueue};
pub use rebuild::{RebuildReport, rebuild_all, sweeper};

use super::metrics;
use crate::{error::ApiResult, state::AppState};

/// The lane handle under this deployment's key prefix.
pub fn lane(state: &AppState) -> UrgentQueue {
    UrgentQueue::new(state.kv.key("urgent"))
}

/// Puts an urgent booking on its brigade's lane (idempotent by booking id). On failure the
/// sweeper job's next check rebuilds the lane from the database.
pub async fn enqueue(
    state: &AppState,
    brigade: &str,
    booking_id: &str,
    deadline_ms: i64,
) -> ApiResult<bool> {
    let r = lane(state)
        .enqueue(&mut state.kv.conn(), brigade, booking_id, deadline_ms)
        .await;
    if r.is_err() {
        rebuild::note_enqueue_failed(state);
    }
    Ok(r?)
}

/// Takes a booking off the lane (waiting or claimed). For the hearing module when a hearing
/// closes; booking calls it on cancel and no-show.
pub async fn remove(state: &AppState, booking_id: &str) -> ApiResult<bool> {
    Ok(lane(state).remove(&mut state.kv.conn(), booking_id).await?)
}

/// `remove`, logging instead of failing (the database already says the booking left).
pub async fn remove_quietly(state: &AppState, booking_id: &str) {
    if let Err(e) = remove(state, booking_id).await {
        tracing::warn!(error = %e.message, booking = booking_id, "urgent remove failed; the rebuild will drop it");
    }
}

/// Who holds a live claim on `booking_id` (officer id, lease end), if anyone.
pub async fn holder(state: &AppState, booking_id: &str) -> ApiResult<Option<Holder>> {
    Ok(lane(state)
        .holder(&mut state.kv.conn(), booking_id, state.clock.now_ms())
        .await?)
}

/// One sweep of every lane: expired leases return, gauges are set, and unclaimed items whose
/// deadline is within `alert_before_s` raise one alert each (log, metric, Redis event).
pub async fn sweep_once(state: &AppState) -> ApiResult<()> {
    let q = lane(state);
    let mut conn = state.kv.conn();
    let now = state.clock.now_ms();
    let horizon =
        now.saturating_add((state.config.booking.alert_before_s as i64).saturating_mul(1000));
    for brigade in q.brigades(&mut conn).await? {
        let s = q.sweep(&mut conn, &brigade, now, horizon).await?;
        metrics::lane(&brigade, s.waiting, s.claimed, s.oldest_deadline_ms);
        for id in s.newly_alerted {
            metrics::alert(&brigade);
            tracing::warn!(brigade = %brigade, booking = %id, "urgent booking near its deadline and unclaimed");
            let event = serde_json::json!({"type": "urgent_deadline_near", "brigade_id": brigade, "booking_id": id});
            let _: Result<i64, _> = redis::cmd("PUBLISH")
                .arg(state.kv.key(&format!("events:brigade:{brigade}")))
                .arg(event.to_string())
                .query_async(&mut conn)
                .await;
        }
    }
    Ok(())
}
