//! The urgent lane as the rest of the server sees it: enqueue on booking, remove when the
//! booking leaves (cancel, no-show, hearing closed), who holds a claim, the rebuild from the
//! database (at start and on demand) and the sweeper job (expired leases, gauges, deadline
//! alerts). The Redis mechanics are in `queue`; the HTTP endpoints in `api`.

mod api;
pub mod queue;

use std::collections::HashMap;

use tokio::sync::watch;

pub use api::router;
pub use queue::{Claimed, Holder, Item, UrgentQueue};

use super::{metrics, store};
use crate::{error::ApiResult, state::AppState};

/// The lane handle under this deployment's key prefix.
pub fn lane(state: &AppState) -> UrgentQueue {
    UrgentQueue::new(state.kv.key("urgent"))
}

/// Puts an urgent booking on its brigade's lane (idempotent by booking id).
pub async fn enqueue(
    state: &AppState,
    brigade: &str,
    booking_id: &str,
    deadline_ms: i64,
) -> ApiResult<bool> {
    Ok(lane(state)
        .enqueue(&mut state.kv.conn(), brigade, booking_id, deadline_ms)
        .await?)
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

/// Makes every lane match the database's active urgent bookings. Returns items added.
#[tracing::instrument(skip_all, err)]
pub async fn rebuild_all(state: &AppState) -> ApiResult<u64> {
    let rows = store::active_urgent(&state.db.read).await?;
    let mut by_brigade: HashMap<String, Vec<(String, i64)>> = HashMap::new();
    for (brigade, id, deadline) in rows {
        by_brigade.entry(brigade).or_default().push((id, deadline));
    }
    let q = lane(state);
    let mut conn = state.kv.conn();
    for b in q.brigades(&mut conn).await? {
        by_brigade.entry(b).or_default();
    }
    let mut added = 0;
    for (brigade, items) in &by_brigade {
        added += q.rebuild(&mut conn, brigade, items).await?;
    }
    if added > 0 {
        tracing::info!(added, "urgent lanes rebuilt from the database");
    }
    Ok(added)
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

/// Background job: rebuild at start, then sweep every `sweep_interval_s`.
pub async fn sweeper(state: AppState, mut stop: watch::Receiver<bool>) {
    if let Err(e) = rebuild_all(&state).await {
        tracing::error!(error = %e.message, "urgent rebuild at start failed");
    }
    let period = std::time::Duration::from_secs(state.config.booking.sweep_interval_s.max(1));
    loop {
        if let Err(e) = sweep_once(&state).await {
            tracing::warn!(error = %e.message, "urgent sweep failed");
        }
        if !crate::jobs::tick(&mut stop, period).await {
            break;
        }
    }
}
