//! Keeping the lane equal to the database: the rebuild (at start, on demand, and on its own when
//! Redis lost the lane) and the sweeper job that watches for the loss.
//!
//! Loss is seen three ways, each checked every `booking.lane_check_ms`: the marker key
//! `<prefix>:urgent:built` is gone (a flush, a fresh or restarted Redis without its data); a
//! Redis call of the job failed and Redis answers again (an outage: bookings may have been
//! accepted meanwhile); an enqueue failed in this process. Every `booking.reconcile_interval_s`
//! the rebuild runs anyway (an outage seen only by another process).

use std::{
    collections::{HashMap, HashSet},
    sync::{LazyLock, Mutex},
    time::{Duration, Instant},
};

use async_trait::async_trait;
use serde::Serialize;
use tokio::sync::watch;
use utoipa::ToSchema;

use super::{
    lane,
    queue::{Rebuilt, Wanted},
    sweep_once,
};
use crate::{
    booking::{Booking, store},
    error::ApiResult,
    kv::Kv,
};

/// The open hearings as the rebuild needs them: booking sits below hearing, so the hearing
/// area's answer comes through this trait, implemented where the server is composed (`startup`).
#[async_trait]
pub trait OpenHearings: Send + Sync + std::fmt::Debug {
    /// `(booking id, officer id)` of every urgent booking whose hearing is open.
    async fn urgent_officers(&self) -> ApiResult<Vec<(String, String)>>;
}

/// What a rebuild of every lane did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct RebuildReport {
    /// Active urgent bookings that were missing from the lane and were put on it.
    pub added: u64,
    /// Claims given (back) to the officer of the booking's open hearing.
    pub restored: u64,
    /// Items whose booking is no longer active, taken off the lane.
    pub dropped: u64,
}

/// Key prefixes (one per server state) whose enqueue failed since their last rebuild.
static ENQUEUE_FAILED: LazyLock<Mutex<HashSet<String>>> = LazyLock::new(Mutex::default);

/// Records that an enqueue failed: the next check rebuilds.
pub(super) fn note_enqueue_failed(kv: &Kv) {
    if let Ok(mut set) = ENQUEUE_FAILED.lock() {
        set.insert(kv.prefix().to_string());
    }
}

fn take_enqueue_failed(kv: &Kv) -> bool {
    ENQUEUE_FAILED
        .lock()
        .map(|mut set| set.remove(kv.prefix()))
        .unwrap_or(false)
}

/// Active urgent bookings by brigade, each with its hearing's officer when it has an open one.
async fn wanted(state: &Booking) -> ApiResult<HashMap<String, Vec<Wanted>>> {
    let rows = store::active_urgent(&state.db.read).await?;
    let officers: HashMap<String, String> = state
        .hearings
        .urgent_officers()
        .await?
        .into_iter()
        .collect();
    let mut by_brigade: HashMap<String, Vec<Wanted>> = HashMap::new();
    for (brigade, id, deadline) in rows {
        let held_by = officers.get(&id).cloned();
        by_brigade.entry(brigade).or_default().push(Wanted {
            booking_id: id,
            deadline_ms: deadline,
            held_by,
        });
    }
    Ok(by_brigade)
}

/// Makes every lane match the database's active urgent bookings: adds the missing, gives the
/// claim of a booking in an open hearing to that hearing's officer, drops what left. Sets the
/// marker first, so a loss during the rebuild deletes it and is seen by the next check.
///
/// Races with bookings and cancellations are settled by reading the database again: an item
/// the lane has but the first read did not (a booking made meanwhile) is dropped only when the
/// second read does not have it either, and an item put on the lane whose booking left
/// meanwhile is taken off again.
#[tracing::instrument(skip_all, err)]
pub async fn rebuild_all(state: &Booking) -> ApiResult<RebuildReport> {
    let q = lane(&state.kv);
    let mut conn = state.kv.conn();
    q.mark_built(&mut conn, state.clock.now_ms()).await?;
    let mut by_brigade = wanted(state).await?;
    for b in q.brigades(&mut conn).await? {
        by_brigade.entry(b).or_default();
    }
    let now = state.clock.now_ms();
    let lease_until = now.saturating_add((state.config.lease_s as i64).saturating_mul(1000));
    let mut changed = Rebuilt::default();
    for (brigade, items) in &by_brigade {
        let r = q
            .rebuild(&mut conn, brigade, items, now, lease_until)
            .await?;
        changed.added.extend(r.added);
        changed.restored.extend(r.restored);
        changed.extra.extend(r.extra);
    }
    let mut report = RebuildReport {
        added: changed.added.len() as u64,
        restored: changed.restored.len() as u64,
        dropped: 0,
    };
    if changed == Rebuilt::default() {
        return Ok(report);
    }
    let active: HashSet<String> = store::active_urgent(&state.db.read)
        .await?
        .into_iter()
        .map(|(_, id, _)| id)
        .collect();
    let touched = changed.added.iter().chain(&changed.restored);
    for id in changed.extra.iter().chain(touched) {
        if !active.contains(id) && q.remove(&mut conn, id).await? {
            report.dropped += 1;
        }
    }
    tracing::info!(
        added = report.added,
        restored = report.restored,
        dropped = report.dropped,
        "urgent lanes rebuilt from the database"
    );
    Ok(report)
}

/// Why the next check rebuilds, if it must.
#[derive(Debug)]
struct Guard {
    /// A rebuild is owed (start, or an earlier one failed) with this reason.
    owed: Option<&'static str>,
    last_full: Instant,
}

impl Guard {
    /// One check: rebuilds when the marker is gone, Redis came back, an enqueue failed or the
    /// reconcile is due.
    async fn check(&mut self, state: &Booking, reconcile: Duration) {
        let reason = match self.owed {
            Some(r) => Some(r),
            None => match lane(&state.kv).is_built(&mut state.kv.conn()).await {
                Err(e) => {
                    tracing::warn!(error = %e, "urgent lane check failed; rebuilding once Redis answers");
                    self.owed = Some("reconnect");
                    return;
                }
                Ok(false) => Some("lost"),
                Ok(true) if take_enqueue_failed(&state.kv) => Some("enqueue_failed"),
                Ok(true) if self.last_full.elapsed() >= reconcile => Some("reconcile"),
                Ok(true) => None,
            },
        };
        let Some(reason) = reason else { return };
        match rebuild_all(state).await {
            Ok(r) => {
                self.owed = None;
                self.last_full = Instant::now();
                super::metrics::rebuilt(reason);
                if reason != "reconcile" {
                    tracing::warn!(
                        reason,
                        added = r.added,
                        restored = r.restored,
                        dropped = r.dropped,
                        "urgent lane rebuilt after a loss"
                    );
                }
            }
            Err(e) => {
                tracing::warn!(error = %e.message, reason, "urgent rebuild failed; retrying");
                self.owed = Some(reason);
            }
        }
    }
}

/// Background job: every `lane_check_ms` checks the lane (rebuilding when needed, first at
/// start); every `sweep_interval_s` sweeps it.
pub async fn sweeper(state: Booking, mut stop: watch::Receiver<bool>) {
    let cfg = &state.config;
    let check = Duration::from_millis(cfg.lane_check_ms.clamp(10, 60_000));
    let sweep_every = Duration::from_secs(cfg.sweep_interval_s.max(1));
    let reconcile = Duration::from_secs(cfg.reconcile_interval_s.max(1));
    let mut guard = Guard {
        owed: Some("start"),
        last_full: Instant::now(),
    };
    let mut last_sweep: Option<Instant> = None;
    loop {
        guard.check(&state, reconcile).await;
        if last_sweep.is_none_or(|t| t.elapsed() >= sweep_every) {
            last_sweep = Some(Instant::now());
            if let Err(e) = sweep_once(&state).await {
                tracing::warn!(error = %e.message, "urgent sweep failed");
            }
        }
        if !crate::jobs::tick(&mut stop, check).await {
            break;
        }
    }
}
