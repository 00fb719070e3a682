//! The booking module's SQL (portable `$n` placeholders, the same on SQLite and PostgreSQL):
//! brigades' schedules and closed dates, slot seats, bookings, cancellations and no-shows.
//! Owns the tables of migration `20261120000301_booking`; reads `citizens` and writes only its
//! phone binding columns.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use chrono_tz::Tz;
use sqlx::AnyPool;

pub use super::model::BookingRow;
use super::schedule::{Schedule, WeeklyHours};
pub use super::store_facts::{
    CitizenFacts, SlotAndFacts, begin_with_citizen_facts, brigade_and_closed,
    brigade_and_slot_facts, citizen_facts, slot_full_and_facts,
};
use crate::{
    error::AppError,
    store::{
        Backend, Tx,
        batch::{self, Stmt},
    },
};

pub const ACTIVE: &str = "('booked', 'in_hearing')";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BrigadeRow {
    pub id: String,
    pub name: String,
    pub address: String,
    pub timezone: String,
    pub seats_per_slot: i64,
    pub slot_minutes: i64,
    pub hours: String,
    pub weekdays: String,
    pub week_hours: String,
}

pub(super) const BRIGADE_COLS: &str =
    "id, name, address, timezone, seats_per_slot, slot_minutes, hours, weekdays, week_hours";

impl BrigadeRow {
    pub fn tz(&self) -> Result<Tz, AppError> {
        self.timezone
            .parse()
            .map_err(|_| AppError::internal(format!("brigade {} has a bad time zone", self.id)))
    }

    pub fn weekly(&self) -> Result<WeeklyHours, AppError> {
        let w = if self.week_hours.trim().is_empty() {
            WeeklyHours::uniform(&self.hours, &self.weekdays)
        } else {
            WeeklyHours::parse(&self.week_hours)
        };
        w.map_err(|e| AppError::internal(format!("brigade {} has a bad schedule: {e}", self.id)))
    }

    pub fn schedule(&self, closed_dates: BTreeSet<NaiveDate>) -> Result<Schedule, AppError> {
        Ok(Schedule {
            tz: self.tz()?,
            hours: self.weekly()?,
            slot_minutes: u32::try_from(self.slot_minutes.clamp(5, 24 * 60)).unwrap_or(60),
            seats: u32::try_from(self.seats_per_slot.max(0)).unwrap_or(0),
            closed_dates,
        })
    }
}

pub async fn brigades(pool: &AnyPool) -> Result<Vec<BrigadeRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {BRIGADE_COLS} FROM brigades ORDER BY name, id"
    )))
    .fetch_all(pool)
    .await
}

pub async fn brigade(pool: &AnyPool, id: &str) -> Result<Option<BrigadeRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {BRIGADE_COLS} FROM brigades WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// Closed dates of a brigade within `from..=to`.
pub async fn closed_dates(
    pool: &AnyPool,
    brigade: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<BTreeSet<NaiveDate>, sqlx::Error> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT date FROM brigade_closed_dates WHERE brigade_id = $1 AND date >= $2 AND date <= $3",
    )
    .bind(brigade)
    .bind(from.to_string())
    .bind(to.to_string())
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().filter_map(|(d,)| d.parse().ok()).collect())
}

/// (capacity, taken) of the slot rows that exist in `[from_ms, to_ms)`, by start.
pub async fn slot_seats(
    pool: &AnyPool,
    brigade: &str,
    from_ms: i64,
    to_ms: i64,
) -> Result<HashMap<i64, (i64, i64)>, sqlx::Error> {
    let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
        "SELECT start_at, capacity, taken FROM slots WHERE brigade_id = $1 AND start_at >= $2 AND start_at < $3",
    )
    .bind(brigade)
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|(s, c, t)| (s, (c, t))).collect())
}

/// Takes one seat with one conditional statement: the slot row is created with this first
/// seat taken on first use, else its `taken` grows while below `capacity`. False when the slot
/// is full.
pub async fn take_seat(
    tx: &mut Tx,
    brigade: &str,
    start_ms: i64,
    end_ms: i64,
    date: NaiveDate,
    capacity: i64,
) -> Result<bool, sqlx::Error> {
    let stmt = take_seat_stmt(brigade, start_ms, end_ms, date, capacity);
    let rows = batch::run(tx, &[stmt]).await?;
    Ok(rows.first() == Some(&1))
}

/// The conditional update of [`take_seat`] (one row affected: the seat is taken), for a batch
/// of the booking's writes (`store::batch`): a gate, a full slot sends nothing after it.
pub fn take_seat_stmt(
    brigade: &str,
    start_ms: i64,
    end_ms: i64,
    date: NaiveDate,
    capacity: i64,
) -> Stmt {
    Stmt::new(
        "INSERT INTO slots (brigade_id, start_at, end_at, date, capacity, taken) VALUES ($1, $2, $3, $4, $5, 1) \
         ON CONFLICT (brigade_id, start_at) DO UPDATE SET taken = slots.taken + 1 \
         WHERE slots.taken < slots.capacity",
    )
    .text(brigade)
    .int(start_ms)
    .int(end_ms)
    .text(date.to_string())
    .int(capacity)
    .gate()
}

/// Whether the slot's row exists with every seat taken (on the caller's connection: the
/// pre-check's read snapshot).
pub async fn slot_is_full(tx: &mut Tx, brigade: &str, start_ms: i64) -> Result<bool, sqlx::Error> {
    let full: Option<i64> = sqlx::query_scalar(
        "SELECT CASE WHEN taken >= capacity THEN 1 ELSE 0 END FROM slots \
         WHERE brigade_id = $1 AND start_at = $2",
    )
    .bind(brigade)
    .bind(start_ms)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(full == Some(1))
}

pub async fn free_seat(tx: &mut Tx, brigade: &str, start_ms: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE slots SET taken = taken - 1 WHERE brigade_id = $1 AND start_at = $2 AND taken > 0",
    )
    .bind(brigade)
    .bind(start_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Locks the booking's row until the caller's transaction ends (a no-op write: the row lock
/// on PostgreSQL, the write lock on SQLite): concurrent hearing opens of one booking queue.
pub async fn lock(tx: &mut Tx, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE bookings SET updated_at = updated_at WHERE id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Local dates of the citizen's no-shows since `since`.
pub async fn no_show_dates(
    tx: &mut Tx,
    citizen: &str,
    since: NaiveDate,
) -> Result<Vec<NaiveDate>, sqlx::Error> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT slot_date FROM booking_no_shows WHERE citizen_id = $1 AND slot_date >= $2",
    )
    .bind(citizen)
    .bind(since.to_string())
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows.into_iter().filter_map(|(d,)| d.parse().ok()).collect())
}

/// On PostgreSQL a transaction-scoped advisory lock on the plate, taken before counting its
/// drivers in a write transaction, serialises concurrent non-owner bookings of one vehicle, so
/// two of them cannot both pass the limit (SQLite serialises all writers: nothing to do).
pub async fn lock_plate(tx: &mut Tx, backend: Backend, plate: &str) -> Result<(), sqlx::Error> {
    if backend == Backend::Postgres {
        sqlx::query(
            "SELECT 1 FROM (SELECT pg_advisory_xact_lock(hashtextextended($1, 7041))) AS l",
        )
        .bind(plate)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Distinct other citizens holding active non-owner bookings on `plate`.
pub async fn other_non_owner_drivers(
    tx: &mut Tx,
    plate: &str,
    citizen: &str,
) -> Result<u32, sqlx::Error> {
    let q = format!(
        "SELECT COUNT(DISTINCT citizen_id) FROM bookings WHERE plate = $1 AND status IN {ACTIVE} \
         AND owner = 0 AND citizen_id <> $2"
    );
    let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(q))
        .bind(plate)
        .bind(citizen)
        .fetch_one(&mut **tx)
        .await?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

pub const BOOKING_SELECT: &str = "SELECT b.id, b.citizen_id, b.brigade_id, b.slot_start, b.slot_end, b.slot_date, \
    b.status, b.phone, b.plate, b.owner, b.violations, b.unhandled_count, b.current_points, b.urgent, b.urgent_kind, \
    b.registration_date, b.deadline, b.created_at, b.updated_at, br.timezone, b.status_reason, b.moved_from, \
    b.facts_source \
    FROM bookings b JOIN brigades br ON br.id = b.brigade_id";

impl<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> for BookingRow {
    fn from_row(r: &'r sqlx::any::AnyRow) -> Result<Self, sqlx::Error> {
        use sqlx::Row;
        Ok(BookingRow {
            id: r.try_get("id")?,
            citizen_id: r.try_get("citizen_id")?,
            brigade_id: r.try_get("brigade_id")?,
            slot_start: r.try_get("slot_start")?,
            slot_end: r.try_get("slot_end")?,
            slot_date: r.try_get("slot_date")?,
            status: r.try_get("status")?,
            phone: r.try_get("phone")?,
            plate: r.try_get("plate")?,
            owner: r.try_get::<i64, _>("owner")? != 0,
            violations: r.try_get("violations")?,
            unhandled_count: r.try_get("unhandled_count")?,
            current_points: r.try_get("current_points")?,
            urgent: r.try_get::<i64, _>("urgent")? != 0,
            urgent_kind: r.try_get("urgent_kind")?,
            registration_date: r.try_get("registration_date")?,
            deadline: r.try_get("deadline")?,
            created_at: r.try_get("created_at")?,
            updated_at: r.try_get("updated_at")?,
            timezone: r.try_get("timezone")?,
            status_reason: r.try_get("status_reason")?,
            moved_from: r.try_get("moved_from")?,
            facts_source: r.try_get("facts_source")?,
        })
    }
}

/// The insert of a booking row, for the booking's batch of writes (`store::batch`,
/// `service::write_booking`).
pub fn insert_booking_stmt(b: &BookingRow) -> Stmt {
    Stmt::new(
        "INSERT INTO bookings (id, citizen_id, brigade_id, slot_start, slot_end, slot_date, status, phone, plate, owner, \
         violations, unhandled_count, current_points, urgent, urgent_kind, registration_date, deadline, created_at, updated_at, facts_source) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)",
    )
    .text(&b.id)
    .text(&b.citizen_id)
    .text(&b.brigade_id)
    .int(b.slot_start)
    .int(b.slot_end)
    .text(&b.slot_date)
    .text(&b.status)
    .text(&b.phone)
    .text(&b.plate)
    .int(i64::from(b.owner))
    .text(&b.violations)
    .int(b.unhandled_count)
    .int(b.current_points)
    .int(i64::from(b.urgent))
    .opt_text(b.urgent_kind.clone())
    .opt_text(b.registration_date.clone())
    .opt_int(b.deadline)
    .int(b.created_at)
    .int(b.updated_at)
    .text(&b.facts_source)
}

pub async fn booking(pool: &AnyPool, id: &str) -> Result<Option<BookingRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{BOOKING_SELECT} WHERE b.id = $1"
    )))
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// The bookings among `ids` that exist, in one read (at most a page of ids: one placeholder
/// each).
pub async fn bookings_in(pool: &AnyPool, ids: &[String]) -> Result<Vec<BookingRow>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!("{BOOKING_SELECT} WHERE b.id IN ({})", marks.join(", "));
    let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
    for id in ids {
        q = q.bind(id);
    }
    q.fetch_all(pool).await
}

/// The booking, read on `conn` (the caller's transaction, or a pooled connection).
pub async fn booking_tx(
    conn: &mut sqlx::AnyConnection,
    id: &str,
) -> Result<Option<BookingRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{BOOKING_SELECT} WHERE b.id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub async fn citizen_bookings(
    pool: &AnyPool,
    citizen: &str,
) -> Result<Vec<BookingRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{BOOKING_SELECT} WHERE b.citizen_id = $1 ORDER BY b.created_at DESC LIMIT 200"
    )))
    .bind(citizen)
    .fetch_all(pool)
    .await
}

pub async fn brigade_bookings_on(
    pool: &AnyPool,
    brigade: &str,
    date: NaiveDate,
) -> Result<Vec<BookingRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{BOOKING_SELECT} WHERE b.brigade_id = $1 AND b.slot_date = $2 ORDER BY b.slot_start, b.created_at LIMIT 2000"
    )))
    .bind(brigade)
    .bind(date.to_string())
    .fetch_all(pool)
    .await
}

/// Sets the status when it is currently one of `from`; false when it was not.
pub async fn set_status_from(
    tx: &mut Tx,
    id: &str,
    status: &str,
    from: &[&str],
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    let list = from
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let q = format!(
        "UPDATE bookings SET status = $1, updated_at = $2 WHERE id = $3 AND status IN ({list})"
    );
    let r = sqlx::query(sqlx::AssertSqlSafe(q))
        .bind(status)
        .bind(now_ms)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn record_cancel(tx: &mut Tx, b: &BookingRow, now_ms: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO booking_cancellations (booking_id, citizen_id, brigade_id, slot_date, cancelled_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (booking_id) DO NOTHING",
    )
    .bind(&b.id)
    .bind(&b.citizen_id)
    .bind(&b.brigade_id)
    .bind(&b.slot_date)
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn record_no_show(
    tx: &mut Tx,
    b: &BookingRow,
    by: &str,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO booking_no_shows (booking_id, citizen_id, slot_date, marked_by, marked_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (booking_id) DO NOTHING",
    )
    .bind(&b.id)
    .bind(&b.citizen_id)
    .bind(&b.slot_date)
    .bind(by)
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Booked (not heard) bookings whose slot ended at or before `before_ms`.
pub async fn overdue(
    pool: &AnyPool,
    before_ms: i64,
    limit: i64,
) -> Result<Vec<BookingRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{BOOKING_SELECT} WHERE b.status = 'booked' AND b.slot_end <= $1 ORDER BY b.slot_end LIMIT $2"
    )))
    .bind(before_ms)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Active urgent bookings of every brigade: (brigade, booking, deadline).
pub async fn active_urgent(pool: &AnyPool) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT brigade_id, id, deadline FROM bookings WHERE urgent = 1 AND deadline IS NOT NULL AND status IN {ACTIVE}"
    )))
    .fetch_all(pool)
    .await
}
