//! Writing decisions back to the system of record through an outbox (issue 16), table
//! `records_outbox` (migration `…20261204300002`). The decision's transaction inserts the row
//! ([`enqueue`], idempotency key = the decision number), so a decision is never issued without
//! its write-back nor a write-back queued for a decision that rolled back. The worker
//! ([`run_worker`], woken after the decision's commit by the hearing's `records_write_back`
//! subscriber, polling every second otherwise) claims a due row with a lease and sends it with
//! the same key every time: the platform dedupes on it, so a process that dies between sending
//! and marking re-sends after the lease and the decision is still written once. Outcomes:
//! `accepted`; `rejected` with the platform's reason — final, never retried blindly (an
//! officer must sort it out); a timeout, 5xx, refused or unreadable answer stays `pending` and
//! is retried with backoff (2 s doubling, at most 5 min), the error kept in `last_error`.
//! A final answer (accepted or rejected) is marked and sealed into the hearing's audit chain
//! (a `write_back` event, through [`OutcomeSealer`], implemented by the hearing area) in one
//! transaction, and only by the worker that moves the row out of `pending`: one entry per
//! outcome, even with several workers.

use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;
use sqlx::Row;
use tokio::sync::watch;
use utoipa::ToSchema;

use super::{
    Records,
    model::{Decision, WriteBack},
};
use crate::{
    error::AppError,
    store::{Backend, Db, Tx},
};

/// A claimed row is someone's for this long (then another worker may send it again).
pub const LEASE_MS: i64 = 30_000;
const FIRST_BACKOFF_MS: i64 = 2_000;
const MAX_BACKOFF_MS: i64 = 300_000;

/// A decision's write-back as the officer and the auditor see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct WriteBackStatus {
    /// `pending`, `accepted` or `rejected`.
    pub status: String,
    /// The platform's reason for a rejection.
    pub reason: Option<String>,
    /// Sends so far.
    pub attempts: i64,
    /// Why the last send did not get an answer (timeouts, 5xx…), while pending.
    pub last_error: Option<String>,
    /// Unix milliseconds of the last change.
    pub updated_at: i64,
}

/// Seals a write-back's final outcome into the hearing's audit chain, inside the transaction
/// that marks the outbox row (implemented by `hearing::sealer::HearingSealer`; records sits
/// below the hearing area and cannot name it).
#[async_trait]
pub trait OutcomeSealer: Send + Sync {
    /// Appends the `write_back` event `payload` to `hearing_id`'s chain in `tx`.
    async fn seal_write_back(
        &self,
        tx: &mut Tx,
        hearing_id: &str,
        payload: serde_json::Value,
        at_ms: i64,
    ) -> Result<(), AppError>;
}

/// The `write_back` entry's payload: `{decision_no, records, answer, reason?, attempts, at}`
/// (`answer`: `accepted` or `rejected`; the entry's `status` is the hearing's, as in every entry).
pub fn outcome_payload(
    decision: &Decision,
    outcome: &WriteBack,
    attempts: i64,
    at_ms: i64,
) -> serde_json::Value {
    let at = chrono::DateTime::from_timestamp_millis(at_ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default();
    let mut p = serde_json::json!({
        "decision_no": decision.decision_no,
        "records": decision.record_nos,
        "attempts": attempts,
        "at": at,
    });
    match outcome {
        WriteBack::Accepted => p["answer"] = "accepted".into(),
        WriteBack::Rejected { reason } => {
            p["answer"] = "rejected".into();
            p["reason"] = reason.chars().take(500).collect::<String>().into();
        }
    }
    p
}

/// Queues `decision` for the platform inside the decision's transaction.
pub async fn enqueue(
    tx: &mut Tx,
    hearing_id: &str,
    decision: &Decision,
    now_ms: i64,
) -> Result<(), AppError> {
    let payload = serde_json::to_string(decision).map_err(AppError::internal)?;
    sqlx::query(
        "INSERT INTO records_outbox (decision_no, hearing_id, payload, status, attempts, \
         next_attempt_at, created_at, updated_at) VALUES ($1, $2, $3, 'pending', 0, $4, $4, $4)",
    )
    .bind(&decision.decision_no)
    .bind(hearing_id)
    .bind(payload)
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The write-back of a hearing's decision, if one was queued.
pub async fn status_of(db: &Db, hearing_id: &str) -> Result<Option<WriteBackStatus>, AppError> {
    let row = sqlx::query(
        "SELECT status, reason, attempts, last_error, updated_at FROM records_outbox \
         WHERE hearing_id = $1",
    )
    .bind(hearing_id)
    .fetch_optional(&db.read)
    .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(WriteBackStatus {
        status: r.try_get("status")?,
        reason: r.try_get("reason")?,
        attempts: r.try_get("attempts")?,
        last_error: r.try_get("last_error")?,
        updated_at: r.try_get("updated_at")?,
    }))
}

const CLAIM: &str = "UPDATE records_outbox SET lease_until = $1, attempts = attempts + 1, updated_at = $2 \
     WHERE decision_no = (SELECT decision_no FROM records_outbox WHERE status = 'pending' \
       AND next_attempt_at <= $2 AND (lease_until IS NULL OR lease_until <= $2) \
       ORDER BY next_attempt_at, decision_no LIMIT 1{LOCK}) \
     AND status = 'pending' AND (lease_until IS NULL OR lease_until <= $2) \
     RETURNING decision_no, hearing_id, payload, attempts";

/// A row taken by this worker: the decision and how many sends it has had (this one included).
#[derive(Debug, Clone)]
pub struct Claimed {
    pub hearing_id: String,
    pub decision: Decision,
    pub attempts: i64,
}

/// Claims the oldest due pending row (takes the lease, counts the attempt). SQLite's one write
/// connection serialises claims; on PostgreSQL `SKIP LOCKED` keeps workers apart, and the
/// outer conditions are checked again on the locked row.
pub async fn claim_due(db: &Db, now_ms: i64) -> Result<Option<Claimed>, AppError> {
    let lock = match db.backend {
        Backend::Sqlite => "",
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
    };
    let sql = CLAIM.replace("{LOCK}", lock);
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(now_ms + LEASE_MS)
        .bind(now_ms)
        .fetch_optional(&db.write)
        .await?;
    let Some(r) = row else { return Ok(None) };
    let payload: String = r.try_get("payload")?;
    let decision = serde_json::from_str(&payload).map_err(AppError::internal)?;
    Ok(Some(Claimed {
        hearing_id: r.try_get("hearing_id")?,
        decision,
        attempts: r.try_get("attempts")?,
    }))
}

/// Records the platform's answer (or the failure to get one) for a claimed row. A final
/// answer moves the row out of `pending` and, when this call is the one that did, is sealed
/// into the hearing's chain by `sealer` in the same transaction. Returns whether it sealed.
pub async fn mark(
    db: &Db,
    sealer: &dyn OutcomeSealer,
    claimed: &Claimed,
    outcome: &Result<WriteBack, super::RecordsError>,
    now_ms: i64,
) -> Result<bool, AppError> {
    let decision_no = claimed.decision.decision_no.as_str();
    let mut tx = db.begin().await?;
    let (q, fin) = match outcome {
        Ok(WriteBack::Accepted) => (
            sqlx::query(
                "UPDATE records_outbox SET status = 'accepted', reason = NULL, last_error = NULL, \
                 lease_until = NULL, updated_at = $2 WHERE decision_no = $1 AND status = 'pending'",
            )
            .bind(decision_no)
            .bind(now_ms),
            true,
        ),
        Ok(WriteBack::Rejected { reason }) => (
            sqlx::query(
                "UPDATE records_outbox SET status = 'rejected', reason = $3, last_error = NULL, \
                 lease_until = NULL, updated_at = $2 WHERE decision_no = $1 AND status = 'pending'",
            )
            .bind(decision_no)
            .bind(now_ms)
            .bind(reason.chars().take(500).collect::<String>()),
            true,
        ),
        Err(e) => {
            let shift = u32::try_from(claimed.attempts.clamp(1, 20) - 1).unwrap_or(0);
            let backoff = FIRST_BACKOFF_MS
                .saturating_mul(1_i64 << shift)
                .min(MAX_BACKOFF_MS);
            (
                sqlx::query(
                    "UPDATE records_outbox SET last_error = $3, next_attempt_at = $4, \
                     lease_until = NULL, updated_at = $2 WHERE decision_no = $1 AND status = 'pending'",
                )
                .bind(decision_no)
                .bind(now_ms)
                .bind(e.to_string().chars().take(500).collect::<String>())
                .bind(now_ms + backoff),
                false,
            )
        }
    };
    let moved = q.execute(&mut *tx).await?.rows_affected() == 1;
    let sealed = match outcome {
        Ok(answer) if fin && moved => {
            let payload = outcome_payload(&claimed.decision, answer, claimed.attempts, now_ms);
            sealer
                .seal_write_back(&mut tx, &claimed.hearing_id, payload, now_ms)
                .await?;
            true
        }
        _ => false,
    };
    tx.commit().await?;
    Ok(sealed)
}

/// Sends every due row once; returns how many were sent (accepted, rejected or failed).
pub async fn drain_once(r: &Records, sealer: &dyn OutcomeSealer) -> Result<usize, AppError> {
    let mut sent = 0;
    while let Some(c) = claim_due(&r.db, r.clock.now_ms()).await? {
        let outcome = r.adapter.write_back(&c.decision).await;
        match &outcome {
            Ok(WriteBack::Accepted) => {
                tracing::info!(decision = %c.decision.decision_no, "decision written back")
            }
            Ok(WriteBack::Rejected { reason }) => {
                tracing::error!(decision = %c.decision.decision_no, %reason,
                    "the platform rejected the decision's write-back; an officer must act")
            }
            Err(e) => {
                tracing::warn!(decision = %c.decision.decision_no, attempt = c.attempts, error = %e,
                    "decision write-back failed; retrying later")
            }
        }
        let label = match &outcome {
            Ok(WriteBack::Accepted) => "accepted",
            Ok(WriteBack::Rejected { .. }) => "rejected",
            Err(_) => "failed",
        };
        metrics::counter!("records_write_back_total", "outcome" => label).increment(1);
        mark(&r.db, sealer, &c, &outcome, r.clock.now_ms()).await?;
        sent += 1;
    }
    Ok(sent)
}

/// The background sender: at start, when woken, and every second.
pub async fn run_worker(
    r: Records,
    sealer: std::sync::Arc<dyn OutcomeSealer>,
    mut stop: watch::Receiver<bool>,
) {
    if r.adapter.provider() == "manual" {
        return;
    }
    loop {
        if let Err(e) = drain_once(&r, sealer.as_ref()).await {
            tracing::warn!(error = %e, "records outbox drain failed");
        }
        if *stop.borrow() {
            return;
        }
        tokio::select! {
            _ = r.wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = stop.changed() => return,
        }
    }
}
