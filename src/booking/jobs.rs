//! The no-show job: a booking still `booked` after the end of its slot plus a grace becomes a
//! no-show (which feeds the blacklist) — except an urgent booking an officer holds a claim on.

use axum::extract::FromRef;
use tokio::sync::watch;

use super::{Booking, service, store, urgent};
use crate::error::ApiResult;

/// One pass; returns how many bookings were marked.
pub async fn mark_overdue<S>(state: &S) -> ApiResult<usize>
where
    Booking: FromRef<S>,
{
    let state = &Booking::from_ref(state);
    let grace_ms = (state.config.no_show_grace_s as i64).saturating_mul(1000);
    let before = state.clock.now_ms().saturating_sub(grace_ms);
    let mut marked = 0;
    for b in store::overdue(&state.db.read, before, 500).await? {
        if b.urgent && urgent::holder::<Booking>(state, &b.id).await?.is_some() {
            continue;
        }
        if service::mark_no_show(state, &b, "job").await? {
            marked += 1;
        }
    }
    Ok(marked)
}

pub async fn no_show_job(state: Booking, mut stop: watch::Receiver<bool>) {
    let period = std::time::Duration::from_secs(state.config.no_show_interval_s.max(1));
    while crate::jobs::tick(&mut stop, period).await {
        match mark_overdue(&state).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(marked = n, "no-shows marked"),
            Err(e) => tracing::warn!(error = %e.message, "no-show job failed"),
        }
    }
}
