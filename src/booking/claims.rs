//! Which booking holds a violation record of the system of record (`record_claims`, migration
//! `…20261204300001`): a record picked by a booking that is booked, in a hearing or completed is
//! not free for another booking (409 `record_already_booked`). Race-free on both backends: the
//! claim is an upsert, whose row lock orders two bookings of the same record (PostgreSQL) or the
//! one write connection does (SQLite); the holder's status is read after the lock.

use super::rules::Refusal;
use crate::{error::AppError, store::Tx};

/// Booking statuses that keep their records: the record is being (or has been) handled.
const HOLDING: [&str; 3] = ["booked", "in_hearing", "completed"];

/// Claims every record of `records` for `booking_id`, inside the booking's transaction.
pub async fn claim(
    tx: &mut Tx,
    records: &[String],
    booking_id: &str,
    now_ms: i64,
) -> Result<(), AppError> {
    for record in records {
        let holder: String = sqlx::query_scalar(
            "INSERT INTO record_claims (record_no, booking_id, claimed_at) VALUES ($1, $2, $3) \
             ON CONFLICT (record_no) DO UPDATE SET claimed_at = record_claims.claimed_at \
             RETURNING booking_id",
        )
        .bind(record)
        .bind(booking_id)
        .bind(now_ms)
        .fetch_one(&mut **tx)
        .await?;
        if holder == booking_id {
            continue;
        }
        let status: Option<String> =
            sqlx::query_scalar("SELECT status FROM bookings WHERE id = $1")
                .bind(&holder)
                .fetch_optional(&mut **tx)
                .await?;
        if status.is_some_and(|s| HOLDING.contains(&s.as_str())) {
            return Err(Refusal::RecordAlreadyBooked(record.clone()).into());
        }
        sqlx::query(
            "UPDATE record_claims SET booking_id = $2, claimed_at = $3 WHERE record_no = $1",
        )
        .bind(record)
        .bind(booking_id)
        .bind(now_ms)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// The read-only form of [`claim`] (the pre-check's snapshot): refuses the first record of
/// `records` that a holding booking has claimed; writes nothing.
pub async fn check_free(conn: &mut Tx, records: &[String]) -> Result<(), AppError> {
    for record in records {
        let status: Option<String> = sqlx::query_scalar(
            "SELECT b.status FROM record_claims c JOIN bookings b ON b.id = c.booking_id \
             WHERE c.record_no = $1",
        )
        .bind(record)
        .fetch_optional(&mut **conn)
        .await?;
        if status.is_some_and(|s| HOLDING.contains(&s.as_str())) {
            return Err(Refusal::RecordAlreadyBooked(record.clone()).into());
        }
    }
    Ok(())
}
