//! The checkpointer job: signs a checkpoint once `every` entries are unsigned or the oldest
//! unsigned one has waited `interval`, and keeps the log's gauges current
//! (`audit_log_size`, `audit_checkpoint_size`, `audit_checkpoint_age_seconds`).

use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::{Audit, store};
use crate::{
    clock::{SharedClock, to_ms},
    store::Db,
};

/// What the job uses: the log's signer and policy, the database, the clock.
pub struct Checkpointer {
    pub audit: Audit,
    pub db: Db,
    pub clock: SharedClock,
}

pub async fn run(state: Checkpointer, mut stop: watch::Receiver<bool>) {
    let audit = &state.audit;
    let poll = audit
        .interval
        .clamp(Duration::from_millis(20), Duration::from_millis(250));
    let mut pending_since: Option<Instant> = None;
    loop {
        if let Err(e) = step(&state, &mut pending_since).await {
            tracing::warn!(error = %e, "audit checkpointer");
        }
        if !crate::jobs::tick(&mut stop, poll).await {
            break;
        }
    }
    // A last checkpoint over what is committed, so a clean shutdown leaves nothing unsigned.
    let now = to_ms(state.clock.now());
    if let Err(e) = audit.sign_checkpoint(&state.db, now).await {
        tracing::warn!(error = %e, "audit checkpoint at shutdown");
    }
}

async fn step(
    state: &Checkpointer,
    pending_since: &mut Option<Instant>,
) -> Result<(), store::AuditError> {
    let audit = &state.audit;
    let mut conn = state.db.read.acquire().await?;
    let (size, _) = store::current_head(&mut conn).await?;
    let cp = store::latest_checkpoint(&mut conn).await?;
    drop(conn);
    let now = to_ms(state.clock.now());
    let signed = cp.as_ref().map(|c| c.size);
    let due = match signed {
        None => true,
        Some(s) if s >= size => {
            *pending_since = None;
            false
        }
        Some(s) => {
            let since = *pending_since.get_or_insert_with(Instant::now);
            size - s >= audit.every || since.elapsed() >= audit.interval
        }
    };
    let cp = if due {
        *pending_since = None;
        Some(audit.sign_checkpoint(&state.db, now).await?)
    } else {
        cp
    };
    metrics::gauge!("audit_log_size").set(size as f64);
    if let Some(c) = cp {
        metrics::gauge!("audit_checkpoint_size").set(c.size as f64);
        metrics::gauge!("audit_checkpoint_age_seconds")
            .set((now - c.created_at_ms).max(0) as f64 / 1000.0);
    }
    Ok(())
}
