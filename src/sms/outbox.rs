//! The SMS outbox table (`sms_outbox`): every message with its template, provider, provider
//! message id, status (`queued`, `sent`, `delivered`, `failed`, `cancelled`) and attempts. Rows are
//! claimed with a lease so that one sender (the request's first attempt or a worker of any
//! process) works a message at a time; the row id is the idempotency key sent to providers.
//! Verification codes are never stored: a code message keeps a reference to the live code
//! (`code_ref`), and the code is re-derived from Redis when the message is sent.

use std::collections::BTreeMap;

use sqlx::Row;

use crate::{
    domain::PhoneNumber,
    error::AppError,
    ids,
    store::{Backend, Db, batch::Stmt},
};

use super::templates::Template;

/// How long a claimed row is reserved for its sender.
pub const LEASE_MS: i64 = 30_000;

/// A message to put in the outbox.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub phone: PhoneNumber,
    pub template: Template,
    /// Parameters other than the code.
    pub params: BTreeMap<String, String>,
    /// `<purpose tag>|<subject>` of the code this message carries.
    pub code_ref: Option<String>,
    /// What the message is about (a booking id, a hearing id), to cancel scheduled ones.
    pub ref_id: Option<String>,
    /// Not before this time (unix ms); `None` is now.
    pub not_before_ms: Option<i64>,
}

/// A claimed row.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: String,
    pub phone: String,
    pub template: String,
    pub params: BTreeMap<String, String>,
    pub code_ref: Option<String>,
    /// What the message is about (a booking, a hearing), when it is about something.
    pub ref_id: Option<String>,
    pub attempts: i64,
}

/// Inserts a message; when `claim` the caller holds the lease and will try it at once.
pub async fn enqueue(db: &Db, now: i64, msg: &NewMessage, claim: bool) -> Result<String, AppError> {
    let id = ids::new_id();
    let params = serde_json::to_string(&msg.params).map_err(AppError::internal)?;
    let lease = claim.then_some(now + LEASE_MS);
    sqlx::query(
        "INSERT INTO sms_outbox (id, phone, template, params, code_ref, ref_id, status, attempts, \
         next_attempt_at, locked_until, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7, $8, $9, $10, $10)",
    )
    .bind(&id)
    .bind(msg.phone.as_str())
    .bind(msg.template.key())
    .bind(params)
    .bind(msg.code_ref.as_deref())
    .bind(msg.ref_id.as_deref())
    .bind(if claim { 1i64 } else { 0 })
    .bind(msg.not_before_ms.unwrap_or(now))
    .bind(lease)
    .bind(now)
    .execute(&db.write)
    .await?;
    Ok(id)
}

/// The one insert of `msgs` (`None` when there is none; none claimed: the worker sends them),
/// for the caller's transaction with its other writes in one round trip (`store::batch`): they
/// commit or roll back with the caller's own rows (a booking and its messages). The caller
/// wakes the worker after its commit (`super::wake`).
pub fn enqueue_stmt(now: i64, msgs: &[NewMessage]) -> Result<Option<Stmt>, AppError> {
    if msgs.is_empty() {
        return Ok(None);
    }
    // id, phone, template, params, code_ref, ref_id, next_attempt_at, created_at = updated_at
    const COLS: usize = 8;
    let rows: Vec<String> = (0..msgs.len())
        .map(|r| {
            let p = |c: usize| format!("${}", r * COLS + c);
            format!(
                "({}, {}, {}, {}, {}, {}, 'queued', 0, {}, NULL, {}, {})",
                p(1),
                p(2),
                p(3),
                p(4),
                p(5),
                p(6),
                p(7),
                p(8),
                p(8)
            )
        })
        .collect();
    let mut stmt = Stmt::new(format!(
        "INSERT INTO sms_outbox (id, phone, template, params, code_ref, ref_id, status, attempts, \
         next_attempt_at, locked_until, created_at, updated_at) VALUES {}",
        rows.join(", ")
    ));
    for msg in msgs {
        let params = serde_json::to_string(&msg.params).map_err(AppError::internal)?;
        stmt = stmt
            .text(ids::new_id())
            .text(msg.phone.as_str())
            .text(msg.template.key())
            .text(params)
            .opt_text(msg.code_ref.clone())
            .opt_text(msg.ref_id.clone())
            .int(msg.not_before_ms.unwrap_or(now))
            .int(now);
    }
    Ok(Some(stmt))
}

const CLAIM_SQLITE: &str = "UPDATE sms_outbox SET locked_until = $1, attempts = attempts + 1, updated_at = $2 \
     WHERE id IN (SELECT id FROM sms_outbox WHERE status = 'queued' AND next_attempt_at <= $2 \
       AND (locked_until IS NULL OR locked_until < $2) ORDER BY next_attempt_at, id LIMIT $3) \
     AND status = 'queued' AND (locked_until IS NULL OR locked_until < $2) \
     RETURNING id, phone, template, params, code_ref, ref_id, attempts";

/// PostgreSQL: concurrent workers skip each other's rows instead of colliding on the first. The
/// batch is picked in a CTE: with the `LIMIT` inside `IN (…)` the batch test saw 5 rows claimed
/// with a limit of 3 on PostgreSQL.
const CLAIM_POSTGRES: &str = "WITH picked AS (SELECT id FROM sms_outbox WHERE status = 'queued' \
       AND next_attempt_at <= $2 AND (locked_until IS NULL OR locked_until < $2) \
       ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) \
     UPDATE sms_outbox o SET locked_until = $1, attempts = o.attempts + 1, updated_at = $2 \
     FROM picked WHERE o.id = picked.id \
     RETURNING o.id, o.phone, o.template, o.params, o.code_ref, o.ref_id, o.attempts";

/// Claims up to `limit` due messages, oldest first (takes each lease and counts each attempt):
/// one write for a batch, so a burst of confirmations costs the writer one statement per batch
/// instead of one per message. On SQLite the one write connection serialises claims; on
/// PostgreSQL `SKIP LOCKED` keeps workers of several processes apart.
pub async fn claim_due(db: &Db, now: i64, limit: usize) -> Result<Vec<Claimed>, AppError> {
    let sql = match db.backend {
        Backend::Sqlite => CLAIM_SQLITE,
        Backend::Postgres => CLAIM_POSTGRES,
    };
    let rows = sqlx::query(sql)
        .bind(now + LEASE_MS)
        .bind(now)
        .bind(i64::try_from(limit.max(1)).unwrap_or(1))
        .fetch_all(&db.write)
        .await?;
    rows.iter().map(claimed_from).collect()
}

/// Loads a row the caller claimed at enqueue.
pub async fn load(db: &Db, id: &str) -> Result<Claimed, AppError> {
    let r = sqlx::query(
        "SELECT id, phone, template, params, code_ref, ref_id, attempts FROM sms_outbox WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&db.write)
    .await?;
    claimed_from(&r)
}

fn claimed_from(r: &sqlx::any::AnyRow) -> Result<Claimed, AppError> {
    let params: String = r.try_get("params")?;
    Ok(Claimed {
        id: r.try_get("id")?,
        phone: r.try_get("phone")?,
        template: r.try_get("template")?,
        params: serde_json::from_str(&params).unwrap_or_default(),
        code_ref: r.try_get("code_ref")?,
        ref_id: r.try_get("ref_id")?,
        attempts: r.try_get("attempts")?,
    })
}

/// Applies a delivery receipt; returns whether a sent message matched.
pub async fn apply_receipt(
    db: &Db,
    now: i64,
    r: &super::receipts::Receipt,
) -> Result<bool, AppError> {
    let (status, delivered_at) = if r.delivered {
        ("delivered", Some(now))
    } else {
        ("failed", None)
    };
    let done = sqlx::query(
        "UPDATE sms_outbox SET status = $1, delivered_at = $2, last_error = $3, updated_at = $4 \
         WHERE provider = $5 AND provider_message_id = $6 AND status = 'sent'",
    )
    .bind(status)
    .bind(delivered_at)
    .bind(if r.delivered {
        None
    } else {
        Some(r.code.as_str())
    })
    .bind(now)
    .bind(r.provider)
    .bind(&r.provider_message_id)
    .execute(&db.write)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Cancels queued messages about `ref_id` of `template` (a cancelled booking's reminder).
pub async fn cancel(db: &Db, now: i64, ref_id: &str, template: Template) -> Result<u64, AppError> {
    let done = sqlx::query(
        "UPDATE sms_outbox SET status = 'cancelled', updated_at = $1 \
         WHERE ref_id = $2 AND template = $3 AND status = 'queued'",
    )
    .bind(now)
    .bind(ref_id)
    .bind(template.key())
    .execute(&db.write)
    .await?;
    Ok(done.rows_affected())
}

/// When the first join code of `hearing_id` went out (the provider accepted it), if one did:
/// the no-show rule counts the citizen's wait from here.
pub async fn hearing_code_first_sent(db: &Db, hearing_id: &str) -> Result<Option<i64>, AppError> {
    hearing_code_sent(db, hearing_id, "MIN").await
}

/// When the hearing's join code last went out (the provider took it), if it did.
pub async fn hearing_code_last_sent(db: &Db, hearing_id: &str) -> Result<Option<i64>, AppError> {
    hearing_code_sent(db, hearing_id, "MAX").await
}

async fn hearing_code_sent(
    db: &Db,
    hearing_id: &str,
    which: &'static str,
) -> Result<Option<i64>, AppError> {
    let at: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT {which}(sent_at) FROM sms_outbox WHERE ref_id = $1 AND template = $2 \
         AND status IN ('sent', 'delivered') AND sent_at IS NOT NULL"
    )))
    .bind(hearing_id)
    .bind(Template::HearingCode.key())
    .fetch_one(&db.read)
    .await?;
    Ok(at)
}
