//! The reads of a booking request in as few statements as they can be: the brigade with its
//! closed dates around the slot ([`brigade_and_closed`]), and the citizen's facts that the
//! store-backed booking rules (7–10 of docs/booking-rules.md) read, in one statement: on a write
//! transaction before the seat, or — for a slot this process has seen full — together with the
//! slot's seats ([`slot_full_and_facts`]) and, as the request's first read, with the brigade too
//! ([`brigade_and_slot_facts`]). One statement is one snapshot on SQLite and PostgreSQL alike,
//! so the many refusals of a morning release cost one read each (issue 18 §2).

use std::collections::BTreeSet;

use chrono::NaiveDate;
use sqlx::{AnyPool, FromRow, Row};

use super::store::{ACTIVE, BRIGADE_COLS, BrigadeRow};
use crate::store::{Db, Tx, batch::Arg};

/// What the store-backed rules need to know of the citizen, in one round trip.
#[derive(Debug, Clone)]
pub struct CitizenFacts {
    pub phone: Option<String>,
    pub phone_bound: bool,
    /// Has a booking in `booked` or `in_hearing`.
    pub active: bool,
    /// Cancelled a booking at `brigade` on `date` before.
    pub cancelled_here: bool,
    /// Has no-shows on or after `since` (the blacklist's look-back): only then are they read.
    pub recent_no_shows: bool,
}

/// The columns of the facts ($1 citizen, $2 brigade, $3 date, $4 no-shows since), `extra` first.
fn facts_sql(extra: &str) -> String {
    format!(
        "SELECT {extra}c.phone AS f_phone, c.phone_bound AS f_bound, \
         CASE WHEN EXISTS (SELECT 1 FROM bookings b WHERE b.citizen_id = c.id AND b.status IN {ACTIVE}) THEN 1 ELSE 0 END AS f_active, \
         CASE WHEN EXISTS (SELECT 1 FROM booking_cancellations x WHERE x.citizen_id = c.id AND x.brigade_id = $2 \
         AND x.slot_date = $3) THEN 1 ELSE 0 END AS f_cancelled, \
         CASE WHEN EXISTS (SELECT 1 FROM booking_no_shows n WHERE n.citizen_id = c.id \
         AND n.slot_date >= $4) THEN 1 ELSE 0 END AS f_no_shows \
         FROM citizens c WHERE c.id = $1"
    )
}

/// Whether the slot (`$2` brigade, `$5` start) is full, as the first column of [`facts_sql`].
const SLOT_FULL: &str = "COALESCE((SELECT CASE WHEN taken >= capacity THEN 1 ELSE 0 END FROM slots \
                WHERE brigade_id = $2 AND start_at = $5), 0) AS f_full, ";

type FactsRow = (Option<String>, i64, i64, i64, i64);

fn facts((phone, bound, active, cancelled, no_shows): FactsRow) -> CitizenFacts {
    CitizenFacts {
        phone,
        phone_bound: bound != 0,
        active: active != 0,
        cancelled_here: cancelled != 0,
        recent_no_shows: no_shows != 0,
    }
}

/// The citizen's facts on `tx`; `None` when there is no such citizen.
pub async fn citizen_facts(
    tx: &mut Tx,
    citizen: &str,
    brigade: &str,
    date: NaiveDate,
    no_shows_since: NaiveDate,
) -> Result<Option<CitizenFacts>, sqlx::Error> {
    let row: Option<FactsRow> = sqlx::query_as(sqlx::AssertSqlSafe(facts_sql("")))
        .bind(citizen)
        .bind(brigade)
        .bind(date.to_string())
        .bind(no_shows_since.to_string())
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row.map(facts))
}

/// A write transaction begun with the citizen's facts as its first read (on SQLite in the same
/// round trip as its `BEGIN`: `Db::begin_reading`); `None` facts when there is no such citizen.
pub async fn begin_with_citizen_facts(
    db: &Db,
    citizen: &str,
    brigade: &str,
    date: NaiveDate,
    no_shows_since: NaiveDate,
) -> Result<(Tx, Option<CitizenFacts>), sqlx::Error> {
    let args = [
        Arg::Text(citizen.to_string()),
        Arg::Text(brigade.to_string()),
        Arg::Text(date.to_string()),
        Arg::Text(no_shows_since.to_string()),
    ];
    let (tx, row) = db.begin_reading(&facts_sql(""), &args).await?;
    let facts = row.as_ref().map(FactsRow::from_row).transpose()?.map(facts);
    Ok((tx, facts))
}

/// Whether the slot starting at `start_ms` is full, and the citizen's facts, in one read of
/// `pool`; `None` when there is no such citizen.
pub async fn slot_full_and_facts(
    pool: &AnyPool,
    citizen: &str,
    brigade: &str,
    date: NaiveDate,
    no_shows_since: NaiveDate,
    start_ms: i64,
) -> Result<Option<(bool, CitizenFacts)>, sqlx::Error> {
    let row: Option<(i64, Option<String>, i64, i64, i64, i64)> =
        sqlx::query_as(sqlx::AssertSqlSafe(facts_sql(SLOT_FULL)))
            .bind(citizen)
            .bind(brigade)
            .bind(date.to_string())
            .bind(no_shows_since.to_string())
            .bind(start_ms)
            .fetch_optional(pool)
            .await?;
    Ok(row.map(|(full, p, b, a, c, n)| (full == 1, facts((p, b, a, c, n)))))
}

/// The brigade and its closed dates within `from..=to`, in one read (a booking request reads
/// both before anything else: one round trip instead of two); `None` when there is no such
/// brigade.
pub async fn brigade_and_closed(
    pool: &AnyPool,
    id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Option<(BrigadeRow, BTreeSet<NaiveDate>)>, sqlx::Error> {
    let sql = brigade_sql("$1", ("$2", "$3"), ("", ""));
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(from.to_string())
        .bind(to.to_string())
        .fetch_all(pool)
        .await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    Ok(Some((BrigadeRow::from_row(first)?, closed_of(&rows)?)))
}

/// The brigade (`id`) with its closed dates within `from..=to` (one row per date, or one row),
/// each row with the columns and join of `extra`.
fn brigade_sql(id: &str, (from, to): (&str, &str), (cols, join): (&str, &str)) -> String {
    let b: Vec<String> = BRIGADE_COLS.split(", ").map(|c| format!("b.{c}")).collect();
    format!(
        "SELECT {}, c.date AS closed_date{cols} FROM brigades b \
         LEFT JOIN brigade_closed_dates c ON c.brigade_id = b.id AND c.date >= {from} AND c.date <= {to}{join} \
         WHERE b.id = {id}",
        b.join(", ")
    )
}

fn closed_of(rows: &[sqlx::any::AnyRow]) -> Result<BTreeSet<NaiveDate>, sqlx::Error> {
    let mut closed = BTreeSet::new();
    for r in rows {
        let d: Option<String> = r.try_get("closed_date")?;
        closed.extend(d.and_then(|d| d.parse::<NaiveDate>().ok()));
    }
    Ok(closed)
}

/// A slot seen full, read with the brigade: whether it is full and the citizen's facts on the
/// slot's `date` (`None`: no such citizen).
pub type SlotAndFacts = Option<(bool, CitizenFacts)>;

/// [`brigade_and_closed`] and [`slot_full_and_facts`] in one statement (one snapshot): for a
/// request on a slot this process has seen full, whose local `date` and the blacklist's
/// `no_shows_since` are known before the brigade is read (the caller checks them against the
/// brigade's schedule before using the facts).
#[allow(clippy::too_many_arguments)]
pub async fn brigade_and_slot_facts(
    pool: &AnyPool,
    citizen: &str,
    id: &str,
    (from, to): (NaiveDate, NaiveDate),
    date: NaiveDate,
    no_shows_since: NaiveDate,
    start_ms: i64,
) -> Result<Option<(BrigadeRow, BTreeSet<NaiveDate>, SlotAndFacts)>, sqlx::Error> {
    let join = format!(" LEFT JOIN ({}) f ON 1 = 1", facts_sql(SLOT_FULL));
    let sql = brigade_sql("$2", ("$6", "$7"), (", f.*", &join));
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(citizen)
        .bind(id)
        .bind(date.to_string())
        .bind(no_shows_since.to_string())
        .bind(start_ms)
        .bind(from.to_string())
        .bind(to.to_string())
        .fetch_all(pool)
        .await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let full: Option<i64> = first.try_get("f_full")?;
    let found = match full {
        None => None,
        Some(full) => Some((
            full == 1,
            facts((
                first.try_get("f_phone")?,
                first.try_get("f_bound")?,
                first.try_get("f_active")?,
                first.try_get("f_cancelled")?,
                first.try_get("f_no_shows")?,
            )),
        )),
    };
    Ok(Some((
        BrigadeRow::from_row(first)?,
        closed_of(&rows)?,
        found,
    )))
}
