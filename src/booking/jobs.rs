//! The missed-booking job: a booking still `booked` after the end of its slot plus a grace (the
//! brigade never opened its hearing) becomes `missed_by_brigade` — never a no-show — and the
//! citizen gets an SMS apology (`fate::mark_missed`); an urgent booking an officer holds a claim
//! on waits.

use axum::extract::FromRef;
use tokio::sync::watch;

use super::{Booking, fate};
use crate::error::ApiResult;

/// One pass; returns how many bookings became `missed_by_brigade`.
pub async fn mark_overdue<S>(state: &S) -> ApiResult<usize>
where
    Booking: FromRef<S>,
{
    fate::mark_missed(state).await
}

pub async fn no_show_job(state: Booking, mut stop: watch::Receiver<bool>) {
    let period = std::time::Duration::from_secs(state.config.no_show_interval_s.max(1));
    while crate::jobs::tick(&mut stop, period).await {
        match mark_overdue(&state).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(marked = n, "bookings missed by the brigade"),
            Err(e) => tracing::warn!(error = %e.message, "missed-booking job failed"),
        }
    }
}
