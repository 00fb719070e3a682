//! The pacing of background jobs: each job is a task that waits with [`tick`] and stops when
//! the shutdown flag flips. Which jobs run is composed in `startup`.

use tokio::sync::watch;

/// Waits `period` or until stop; returns false when the job should end.
pub async fn tick(stop: &mut watch::Receiver<bool>, period: std::time::Duration) -> bool {
    if *stop.borrow() {
        return false;
    }
    tokio::select! {
        _ = tokio::time::sleep(period) => !*stop.borrow(),
        _ = stop.changed() => false,
    }
}
