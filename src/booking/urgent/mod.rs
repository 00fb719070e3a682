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
pub use rebuild::{OpenHearings, RebuildReport, rebuild_all, sweeper};

use axum::extract::FromRef;

use super::{Booking, metrics};
use crate::{error::ApiResult, kv::Kv};

/// The lane handle under this deployment's key prefix.
pub fn lane(kv: &Kv) -> UrgentQueue {
    UrgentQueue::new(kv.key("urgent"))
}

/// Puts an urgent booking on its brigade's lane (idempotent by booking id). On failure the
/// sweeper job's next check rebuilds the lane from the database.
pub async fn enqueue(
    kv: &Kv,
    brigade: &str,
    booking_id: &str,
    deadline_ms: i64,
) -> ApiResult<bool> {
    let r = lane(kv)
        .enqueue(&mut kv.conn(), brigade, booking_id, deadline_ms)
        .await;
    if r.is_err() {
        rebuild::note_enqueue_failed(kv);
    }
    Ok(r?)
}

/// Takes a booking off the lane (waiting or claimed). For the hearing module when a hearing
/// closes; booking calls it on cancel and no-show.
pub async fn remove<S>(state: &S, booking_id: &str) -> ApiResult<bool>
where
    Booking: FromRef<S>,
{
    let kv = Booking::from_ref(state).kv;
    Ok(lane(&kv).remove(&mut kv.conn(), booking_id).await?)
}

/// `remove`, logging instead of failing (the database already says the booking left).
pub async fn remove_quietly(state: &Booking, booking_id: &str) {
    if let Err(e) = remove(state, booking_id).await {
        tracing::warn!(error = %e.message, booking = booking_id, "urgent remove failed; the rebuild will drop it");
    }
}

/// Who holds a live claim on `booking_id` (officer id, lease end), if anyone.
pub async fn holder<S>(state: &S, booking_id: &str) -> ApiResult<Option<Holder>>
where
    Booking: FromRef<S>,
{
    let b = Booking::from_ref(state);
    Ok(lane(&b.kv)
        .holder(&mut b.kv.conn(), booking_id, b.clock.now_ms())
        .await?)
}

/// One sweep of every lane: expired leases return, gauges are set, and unclaimed items whose
/// deadline is within `alert_before_s` raise one alert each (log, metric, Redis event).
pub async fn sweep_once<S>(state: &S) -> ApiResult<()>
where
    Booking: FromRef<S>,
{
    let b = Booking::from_ref(state);
    let q = lane(&b.kv);
    let mut conn = b.kv.conn();
    let now = b.clock.now_ms();
    let horizon = now.saturating_add((b.config.alert_before_s as i64).saturating_mul(1000));
    for brigade in q.brigades(&mut conn).await? {
        let s = q.sweep(&mut conn, &brigade, now, horizon).await?;
        metrics::lane(&brigade, s.waiting, s.claimed, s.oldest_deadline_ms);
        for id in s.newly_alerted {
            metrics::alert(&brigade);
            tracing::warn!(brigade = %brigade, booking = %id, "urgent booking near its deadline and unclaimed");
            let event = serde_json::json!({"type": "urgent_deadline_near", "brigade_id": brigade, "booking_id": id});
            let _: Result<i64, _> = redis::cmd("PUBLISH")
                .arg(b.kv.key(&format!("events:brigade:{brigade}")))
                .arg(event.to_string())
                .query_async(&mut conn)
                .await;
        }
    }
    Ok(())
}
