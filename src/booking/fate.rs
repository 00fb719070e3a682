//! A booking's fate when its hearing does not run its course (issue 12 §5; docs/booking-rules.md
//! "When the hearing does not run its course"), written here because booking is the only writer
//! of `bookings`:
//! - the hearing was interrupted → `interrupted` (the booking is freed: not active, so the
//!   citizen may book again; never a no-show), [`follow_interrupt`];
//! - the officer resumed it the same brigade-local day → `in_hearing` again, [`follow_resume`]
//!   (409 `resume_day_passed` on a later day, 409 `citizen_rebooked` once the citizen holds
//!   another active booking, 409 `record_already_booked` once another booking claimed one of its
//!   records from the system of record meanwhile — the claim is taken back in the same
//!   transaction, so two bookings never hold one record);
//! - the brigade never opened the hearing by the end of the slot (plus `no_show_grace_s`) →
//!   `missed_by_brigade` and an SMS apology with the link to book again, [`mark_missed`].

use axum::extract::FromRef;
use chrono_tz::Tz;

use super::{Booking, metrics, store, urgent};
use crate::{
    clock::from_ms,
    domain::PhoneNumber,
    error::{ApiResult, AppError},
    sms::notices::{self, BookingNotice},
    store::Tx,
};

/// The reason recorded on a booking the brigade never opened.
pub const NOT_OPENED: &str = "hearing_not_opened";

/// A reason an officer gives: trimmed, 1 to 500 characters, no control characters (422
/// `invalid_field` on `reason` otherwise).
pub fn reason(raw: &str) -> ApiResult<String> {
    let r = raw.trim();
    let n = r.chars().count();
    if n == 0 || n > 500 {
        return Err(AppError::unprocessable("reason", "1 to 500 characters"));
    }
    if r.chars().any(char::is_control) {
        return Err(AppError::unprocessable(
            "reason",
            "no control characters (line breaks included)",
        ));
    }
    Ok(r.to_string())
}

/// The hearing of `booking_id` was interrupted for `reason`: the booking becomes `interrupted`
/// (from `booked` or `in_hearing`) in the caller's transaction. 409 `invalid_state` otherwise.
pub async fn follow_interrupt(
    tx: &mut Tx,
    booking_id: &str,
    reason: &str,
    now_ms: i64,
) -> ApiResult<()> {
    let done = sqlx::query(
        "UPDATE bookings SET status = 'interrupted', status_reason = $1, updated_at = $2 \
         WHERE id = $3 AND status IN ('booked', 'in_hearing')",
    )
    .bind(reason)
    .bind(now_ms)
    .bind(booking_id)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() != 1 {
        return Err(AppError::conflict(
            "invalid_state",
            "the booking is neither booked nor in a hearing",
        ));
    }
    metrics::outcome("interrupted");
    Ok(())
}

/// The officer resumes the interrupted hearing of `booking_id`: the booking follows it again
/// (`in_hearing`), in the caller's transaction, when it is the same local day of the brigade as
/// the interruption and the citizen has not booked again meanwhile.
pub async fn follow_resume(tx: &mut Tx, booking_id: &str, now_ms: i64) -> ApiResult<()> {
    let b = store::booking_tx(tx, booking_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    if b.status != "interrupted" {
        return Err(AppError::conflict(
            "invalid_state",
            format!("the booking is {}, not interrupted", b.status),
        ));
    }
    let tz: Tz = b.timezone.parse().map_err(AppError::internal)?;
    let day = |ms: i64| from_ms(ms).with_timezone(&tz).date_naive();
    let interrupted_on = day(b.updated_at);
    if day(now_ms) != interrupted_on {
        return Err(AppError::conflict(
            "resume_day_passed",
            format!(
                "an interrupted hearing may be resumed only on the day it was interrupted \
                 ({interrupted_on}, {}); the citizen books again",
                tz.name()
            ),
        )
        .with_params(serde_json::json!({"interrupted_on": interrupted_on.to_string()})));
    }
    let other: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT id FROM bookings WHERE citizen_id = $1 AND id <> $2 AND status IN {} LIMIT 1",
        store::ACTIVE
    )))
    .bind(&b.citizen_id)
    .bind(booking_id)
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(other) = other {
        return Err(AppError::conflict(
            "citizen_rebooked",
            "the citizen has booked again since the interruption: hear the new booking",
        )
        .with_params(serde_json::json!({"booking_id": other})));
    }
    // An interrupted booking freed its records: take them back through the same claim as a new
    // booking (the upsert's row lock orders this against a concurrent booking of the record).
    if b.facts_source == super::from_record::RECORDS {
        super::claims::claim(tx, &record_nos(&b.violations)?, booking_id, now_ms).await?;
    }
    sqlx::query(
        "UPDATE bookings SET status = 'in_hearing', status_reason = NULL, updated_at = $1 \
         WHERE id = $2 AND status = 'interrupted'",
    )
    .bind(now_ms)
    .bind(booking_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The record numbers of a booking's stored `violations`.
fn record_nos(violations: &str) -> ApiResult<Vec<String>> {
    #[derive(serde::Deserialize)]
    struct Stored {
        record_no: String,
    }
    let list: Vec<Stored> = serde_json::from_str(violations).map_err(AppError::internal)?;
    Ok(list.into_iter().map(|v| v.record_no).collect())
}

/// Bookings still `booked` (the brigade never opened the hearing) whose slot ended more than the
/// grace ago become `missed_by_brigade` (never a no-show); each citizen gets an SMS apology with
/// the link to book again. An urgent booking an officer holds a claim on waits. Returns how many.
pub async fn mark_missed<S>(state: &S) -> ApiResult<usize>
where
    Booking: FromRef<S>,
{
    let state = &Booking::from_ref(state);
    let grace_ms = i64::try_from(state.config.no_show_grace_s)
        .unwrap_or(i64::MAX / 1000)
        .saturating_mul(1000);
    let now = state.clock.now_ms();
    let mut n = 0;
    for b in store::overdue(&state.db.read, now.saturating_sub(grace_ms), 500).await? {
        if b.urgent && urgent::holder::<Booking>(state, &b.id).await?.is_some() {
            continue;
        }
        let mut tx = state.db.begin().await?;
        let done = sqlx::query(
            "UPDATE bookings SET status = 'missed_by_brigade', status_reason = $1, updated_at = $2 \
             WHERE id = $3 AND status = 'booked'",
        )
        .bind(NOT_OPENED)
        .bind(now)
        .bind(&b.id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        if done.rows_affected() != 1 {
            continue;
        }
        n += 1;
        metrics::outcome("missed_by_brigade");
        if b.urgent {
            urgent::remove_quietly(state, &b.id).await;
        }
        if let Err(e) = apologise(state, &b, &state.config.rebook_url).await {
            tracing::warn!(error = %e, booking = %b.id, "the missed booking's apology was not queued");
        }
    }
    Ok(n)
}

/// The SMS apology with the link to book again, for booking `id` whose hearing the brigade
/// opened but never sent the join code for (the hearing's `code_not_sent` interruption).
pub async fn apologise_for_missed(state: &Booking, id: &str) -> ApiResult<()> {
    let b = store::booking(&state.db.read, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    apologise(state, &b, &state.config.rebook_url).await
}

async fn apologise(state: &Booking, b: &store::BookingRow, link: &str) -> ApiResult<()> {
    let brigade = store::brigade(&state.db.read, &b.brigade_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let phone = PhoneNumber::parse(&b.phone).map_err(AppError::internal)?;
    let notice = BookingNotice {
        booking_id: &b.id,
        phone: &phone,
        brigade_name: &brigade.name,
        slot_start: from_ms(b.slot_start),
        tz: brigade.tz()?,
    };
    notices::booking_missed(&state.sms, &notice, link).await
}
