//! The SQL of hearings (tables of migration `…000501_hearing`), portable across SQLite and
//! PostgreSQL. Writers first [`lock`] the hearing row (an `UPDATE`, which takes the row lock on
//! PostgreSQL and the write lock on SQLite) so that steps of one hearing are totally ordered.

use sqlx::{AnyPool, Row, any::AnyRow};

use crate::store::Tx;

#[derive(Debug, Clone)]
pub struct HearingRow {
    pub id: String,
    pub booking_id: String,
    pub brigade_id: String,
    pub citizen_id: String,
    pub officer_id: String,
    pub phone: String,
    pub status: String,
    pub last_step: Option<String>,
    pub outcome: Option<String>,
    pub citizen_joined_at: Option<i64>,
    pub slot_start: i64,
    pub slot_end: i64,
    pub opened_at: i64,
    pub closed_at: Option<i64>,
    pub updated_at: i64,
}

const COLS: &str = "id, booking_id, brigade_id, citizen_id, officer_id, phone, status, last_step, outcome, \
    citizen_joined_at, slot_start, slot_end, opened_at, closed_at, updated_at";

fn hearing_from(r: &AnyRow) -> Result<HearingRow, sqlx::Error> {
    Ok(HearingRow {
        id: r.try_get("id")?,
        booking_id: r.try_get("booking_id")?,
        brigade_id: r.try_get("brigade_id")?,
        citizen_id: r.try_get("citizen_id")?,
        officer_id: r.try_get("officer_id")?,
        phone: r.try_get("phone")?,
        status: r.try_get("status")?,
        last_step: r.try_get("last_step")?,
        outcome: r.try_get("outcome")?,
        citizen_joined_at: r.try_get("citizen_joined_at")?,
        slot_start: r.try_get("slot_start")?,
        slot_end: r.try_get("slot_end")?,
        opened_at: r.try_get("opened_at")?,
        closed_at: r.try_get("closed_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

pub async fn insert(tx: &mut Tx, h: &HearingRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO hearings (id, booking_id, brigade_id, citizen_id, officer_id, phone, status, last_step, \
         outcome, citizen_joined_at, slot_start, slot_end, opened_at, closed_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(&h.id)
    .bind(&h.booking_id)
    .bind(&h.brigade_id)
    .bind(&h.citizen_id)
    .bind(&h.officer_id)
    .bind(&h.phone)
    .bind(&h.status)
    .bind(&h.last_step)
    .bind(&h.outcome)
    .bind(h.citizen_joined_at)
    .bind(h.slot_start)
    .bind(h.slot_end)
    .bind(h.opened_at)
    .bind(h.closed_at)
    .bind(h.updated_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn get(pool: &AnyPool, id: &str) -> Result<Option<HearingRow>, sqlx::Error> {
    let q = format!("SELECT {COLS} FROM hearings WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(q))
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(hearing_from).transpose()
}

/// A booking's hearings, newest first.
pub async fn for_booking(pool: &AnyPool, booking_id: &str) -> Result<Vec<HearingRow>, sqlx::Error> {
    let q = format!(
        "SELECT {COLS} FROM hearings WHERE booking_id = $1 ORDER BY opened_at DESC, id DESC"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(q))
        .bind(booking_id)
        .fetch_all(pool)
        .await?;
    rows.iter().map(hearing_from).collect()
}

/// Locks the hearing row for the rest of the transaction and reads it.
pub async fn lock(tx: &mut Tx, id: &str) -> Result<Option<HearingRow>, sqlx::Error> {
    let r = sqlx::query("UPDATE hearings SET updated_at = updated_at WHERE id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    if r.rows_affected() == 0 {
        return Ok(None);
    }
    let q = format!("SELECT {COLS} FROM hearings WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(q))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(hearing_from).transpose()
}

/// Writes the mutable fields of `h` back.
pub async fn save(tx: &mut Tx, h: &HearingRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE hearings SET status = $1, last_step = $2, outcome = $3, citizen_joined_at = $4, closed_at = $5, \
         updated_at = $6 WHERE id = $7",
    )
    .bind(&h.status)
    .bind(&h.last_step)
    .bind(&h.outcome)
    .bind(h.citizen_joined_at)
    .bind(h.closed_at)
    .bind(h.updated_at)
    .bind(&h.id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The live (open, in call or interrupted) hearing of a booking.
pub async fn live_for_booking(
    tx: &mut Tx,
    booking_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM hearings WHERE booking_id = $1 AND status IN ('open', 'in_call', 'interrupted')",
    )
    .bind(booking_id)
    .fetch_optional(&mut **tx)
    .await
}

/// The officers of the live hearings of urgent bookings: (booking id, officer id). For the
/// urgent lane's rebuild (the claim of a booking in a hearing is its officer's).
pub async fn live_urgent_officers(pool: &AnyPool) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT h.booking_id, h.officer_id FROM hearings h JOIN bookings b ON b.id = h.booking_id \
         WHERE h.status IN ('open', 'in_call', 'interrupted') AND b.urgent = 1",
    )
    .fetch_all(pool)
    .await
}

/// The officer of the booking's live hearing, if it has one.
pub async fn live_officer(pool: &AnyPool, booking_id: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT officer_id FROM hearings WHERE booking_id = $1 AND status IN ('open', 'in_call', 'interrupted')",
    )
    .bind(booking_id)
    .fetch_optional(pool)
    .await
}

/// Open hearings the citizen never joined (for the no-show sweep).
pub async fn unjoined_open(pool: &AnyPool) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM hearings WHERE status = 'open' AND citizen_joined_at IS NULL",
    )
    .fetch_all(pool)
    .await
}

/// Live hearings of urgent bookings whose deadline falls before `horizon_ms`:
/// (hearing id, deadline).
pub async fn urgent_near_deadline(
    pool: &AnyPool,
    horizon_ms: i64,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT h.id, b.deadline FROM hearings h JOIN bookings b ON b.id = h.booking_id \
         WHERE h.status IN ('open', 'in_call', 'interrupted') AND b.urgent = 1 AND b.deadline IS NOT NULL AND b.deadline <= $1",
    )
    .bind(horizon_ms)
    .fetch_all(pool)
    .await
}

/// Live hearings (for the presence watcher).
/// The live hearings (open or in the call) with their status.
pub async fn live_statuses(pool: &AnyPool) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as("SELECT id, status FROM hearings WHERE status IN ('open', 'in_call')")
        .fetch_all(pool)
        .await
}

#[derive(Debug, Clone)]
pub struct StepRow {
    pub idx: i64,
    pub kind: String,
    pub step: String,
    pub at: i64,
    pub by_role: String,
    pub by_id: String,
    pub payload: String,
    pub both_connected: bool,
    pub audit_seq: Option<i64>,
}

fn step_from(r: &AnyRow) -> Result<StepRow, sqlx::Error> {
    Ok(StepRow {
        idx: r.try_get("idx")?,
        kind: r.try_get("kind")?,
        step: r.try_get("step")?,
        at: r.try_get("at")?,
        by_role: r.try_get("by_role")?,
        by_id: r.try_get("by_id")?,
        payload: r.try_get("payload")?,
        both_connected: r.try_get::<i64, _>("both_connected")? != 0,
        audit_seq: r.try_get("audit_seq")?,
    })
}

const STEP_COLS: &str =
    "idx, kind, step, at, by_role, by_id, payload, both_connected, audit_seq FROM hearing_steps";

pub async fn steps(pool: &AnyPool, hearing_id: &str) -> Result<Vec<StepRow>, sqlx::Error> {
    let q = format!("SELECT {STEP_COLS} WHERE hearing_id = $1 ORDER BY idx");
    let rows = sqlx::query(sqlx::AssertSqlSafe(q))
        .bind(hearing_id)
        .fetch_all(pool)
        .await?;
    rows.iter().map(step_from).collect()
}

/// The stored payload of an accepted step of this hearing.
pub async fn step_payload(
    tx: &mut Tx,
    hearing_id: &str,
    step: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT payload FROM hearing_steps WHERE hearing_id = $1 AND step = $2 AND kind = 'step' \
         ORDER BY idx DESC LIMIT 1",
    )
    .bind(hearing_id)
    .bind(step)
    .fetch_optional(&mut **tx)
    .await
}

/// Appends a step or event; returns its index.
pub async fn insert_step(tx: &mut Tx, hearing_id: &str, s: &StepRow) -> Result<i64, sqlx::Error> {
    let idx: i64 = sqlx::query_scalar(
        "SELECT COALESCE(MAX(idx) + 1, 0) FROM hearing_steps WHERE hearing_id = $1",
    )
    .bind(hearing_id)
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO hearing_steps (hearing_id, idx, kind, step, at, by_role, by_id, payload, both_connected, audit_seq) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(hearing_id)
    .bind(idx)
    .bind(&s.kind)
    .bind(&s.step)
    .bind(s.at)
    .bind(&s.by_role)
    .bind(&s.by_id)
    .bind(&s.payload)
    .bind(i64::from(s.both_connected))
    .bind(s.audit_seq)
    .execute(&mut **tx)
    .await?;
    Ok(idx)
}

#[derive(Debug, Clone)]
pub struct DecisionRow {
    pub hearing_id: String,
    pub decision_no: String,
    pub year: i64,
    pub fields: String,
    pub html: String,
    pub sha256: String,
    pub issued_at: i64,
    /// The booking's: `citizen` (typed-in facts) or `records` (the system of record).
    pub facts_source: String,
}

pub async fn decision(
    pool: &AnyPool,
    hearing_id: &str,
) -> Result<Option<DecisionRow>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT hearing_id, decision_no, year, fields, html, sha256, issued_at, facts_source \
         FROM hearing_decisions WHERE hearing_id = $1",
    )
    .bind(hearing_id)
    .fetch_optional(pool)
    .await?;
    row.map(|r| {
        Ok(DecisionRow {
            hearing_id: r.try_get("hearing_id")?,
            decision_no: r.try_get("decision_no")?,
            year: r.try_get("year")?,
            fields: r.try_get("fields")?,
            html: r.try_get("html")?,
            sha256: r.try_get("sha256")?,
            issued_at: r.try_get("issued_at")?,
            facts_source: r.try_get("facts_source")?,
        })
    })
    .transpose()
}

/// Names for the decision document: (brigade name, brigade address, timezone, officer name,
/// officer badge).
pub async fn parties(
    tx: &mut Tx,
    brigade_id: &str,
    officer_id: &str,
) -> Result<(String, String, String, String, String), sqlx::Error> {
    let b = sqlx::query("SELECT name, address, timezone FROM brigades WHERE id = $1")
        .bind(brigade_id)
        .fetch_one(&mut **tx)
        .await?;
    let o = sqlx::query("SELECT name, badge FROM staff WHERE id = $1")
        .bind(officer_id)
        .fetch_one(&mut **tx)
        .await?;
    Ok((
        b.try_get("name")?,
        b.try_get("address")?,
        b.try_get("timezone")?,
        o.try_get("name")?,
        o.try_get("badge")?,
    ))
}
