//! What the brigade changes of a citizen's booking (issue 12 §5): an officer of the booking's
//! brigade cancels it (`cancelled_by_brigade`, its seat freed, not the citizen's cancellation so
//! no rebooking rule applies) or moves it to another slot of the brigade (the seat rules of a
//! booking apply to the new slot); each with a reason and an SMS to the citizen. Closing a date
//! that still has active bookings is refused with the list of them ([`check_date_free`]).

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::{
    Booking, fate, metrics,
    model::BookingView,
    rules::{self, DateLimits, Refusal},
    store::{self, BookingRow, BrigadeRow},
    urgent,
};
use crate::{
    clock::{from_ms, to_ms},
    domain::PhoneNumber,
    error::{ApiResult, AppError},
    sms::notices::{self, BookingNotice},
};

/// `POST /api/v1/bookings/{id}/cancel-by-brigade`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelByBrigade {
    /// Shown to the citizen and sent by SMS: 1 to 500 characters.
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

/// `POST /api/v1/bookings/{id}/move-by-brigade`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveByBrigade {
    /// RFC 3339, a slot start of the brigade's grid, open, not past.
    #[schema(max_length = 64)]
    pub slot_start: String,
    /// Shown to the citizen and sent by SMS: 1 to 500 characters.
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

/// The booking when it is of the officer's brigade (404 otherwise, as for any other booking).
async fn of_brigade(state: &Booking, brigade: Option<&str>, id: &str) -> ApiResult<BookingRow> {
    match store::booking(&state.db.read, id).await? {
        Some(b) if Some(b.brigade_id.as_str()) == brigade => Ok(b),
        _ => Err(AppError::not_found()),
    }
}

fn not_booked(b: &BookingRow, what: &str) -> AppError {
    AppError::conflict(
        "invalid_state",
        format!("a booking in status {} cannot be {what}", b.status),
    )
}

async fn notice_parts(state: &Booking, b: &BookingRow) -> ApiResult<(BrigadeRow, PhoneNumber)> {
    let brigade = store::brigade(&state.db.read, &b.brigade_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let phone = PhoneNumber::parse(&b.phone).map_err(AppError::internal)?;
    Ok((brigade, phone))
}

/// The officer cancels a `booked` booking of the brigade with a reason.
pub async fn cancel_by_brigade(
    state: &Booking,
    brigade: Option<&str>,
    id: &str,
    req: CancelByBrigade,
) -> ApiResult<BookingView> {
    let b = of_brigade(state, brigade, id).await?;
    let reason = fate::reason(&req.reason)?;
    let now = state.clock.now_ms();
    let mut tx = state.db.begin().await?;
    store::lock(&mut tx, id).await?;
    let done = sqlx::query(
        "UPDATE bookings SET status = 'cancelled_by_brigade', status_reason = $1, updated_at = $2 \
         WHERE id = $3 AND status = 'booked'",
    )
    .bind(&reason)
    .bind(now)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() != 1 {
        return Err(not_booked(&b, "cancelled by the brigade"));
    }
    store::free_seat(&mut tx, &b.brigade_id, b.slot_start).await?;
    tx.commit().await?;
    metrics::outcome("cancelled_by_brigade");
    if b.urgent {
        urgent::remove_quietly(state, id).await;
    }
    let (brigade, phone) = notice_parts(state, &b).await?;
    let notice = BookingNotice {
        booking_id: id,
        phone: &phone,
        brigade_name: &brigade.name,
        slot_start: from_ms(b.slot_start),
        tz: brigade.tz()?,
    };
    let link = &state.config.rebook_url;
    if let Err(e) = notices::booking_cancelled_by_brigade(&state.sms, &notice, &reason, link).await
    {
        tracing::warn!(error = %e, booking = %id, "the cancellation's SMS was not queued");
    }
    reload(state, id).await
}

async fn reload(state: &Booking, id: &str) -> ApiResult<BookingView> {
    let row = store::booking(&state.db.read, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(BookingView::from(&row))
}

/// The officer moves a `booked` booking of the brigade to another slot of it with a reason. The
/// new slot follows the booking's date rules (not past; today only for an urgent booking; at
/// most `max_days_ahead`; open) and, for an urgent booking, ends before its deadline; it needs a
/// free seat (409 `slot_full`). The old seat is freed.
pub async fn move_by_brigade(
    state: &Booking,
    brigade: Option<&str>,
    id: &str,
    req: MoveByBrigade,
) -> ApiResult<BookingView> {
    let b = of_brigade(state, brigade, id).await?;
    let reason = fate::reason(&req.reason)?;
    if req.slot_start.len() > 64 {
        return Err(AppError::unprocessable(
            "slot_start",
            "at most 64 characters",
        ));
    }
    let start: DateTime<Utc> = DateTime::parse_from_rfc3339(req.slot_start.trim())
        .map_err(|_| AppError::unprocessable("slot_start", "an RFC 3339 time with offset"))?
        .with_timezone(&Utc);
    let (brigade, phone) = notice_parts(state, &b).await?;
    let tz = brigade.tz()?;
    let local_date = start.with_timezone(&tz).date_naive();
    let closed = store::closed_dates(&state.db.read, &brigade.id, local_date, local_date).await?;
    let sched = brigade.schedule(closed)?;
    let (slot, open) = sched.lookup(start).slot().ok_or_else(|| {
        AppError::unprocessable("slot_start", "not a slot start of this brigade's schedule")
    })?;
    let (start_ms, end_ms) = (to_ms(slot.start), to_ms(slot.end));
    if start_ms == b.slot_start {
        return Err(AppError::unprocessable(
            "slot_start",
            "the booking is already in this slot",
        ));
    }
    let limits = DateLimits {
        max_days_ahead: state.config.max_days_ahead,
    };
    rules::check_dates(&sched, state.clock.now(), &slot, open, b.urgent, limits)?;
    if let Some(deadline) = b.deadline
        && end_ms > deadline
    {
        return Err(AppError::conflict(
            "after_deadline",
            "the new slot ends after the urgent booking's deadline",
        ));
    }
    let now = state.clock.now_ms();
    let mut tx = state.db.begin().await?;
    store::lock(&mut tx, id).await?;
    let current = store::booking_tx(&mut tx, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    if current.status != "booked" {
        return Err(not_booked(&current, "moved"));
    }
    let seats = i64::from(sched.seats);
    if !store::take_seat(&mut tx, &brigade.id, start_ms, end_ms, slot.date, seats).await? {
        return Err(Refusal::SlotFull.into());
    }
    store::free_seat(&mut tx, &brigade.id, current.slot_start).await?;
    sqlx::query(
        "UPDATE bookings SET slot_start = $1, slot_end = $2, slot_date = $3, status_reason = $4, \
         moved_from = $5, updated_at = $6 WHERE id = $7 AND status = 'booked'",
    )
    .bind(start_ms)
    .bind(end_ms)
    .bind(slot.date.to_string())
    .bind(&reason)
    .bind(current.slot_start)
    .bind(now)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    metrics::outcome("moved_by_brigade");
    let notice = BookingNotice {
        booking_id: id,
        phone: &phone,
        brigade_name: &brigade.name,
        slot_start: slot.start,
        tz,
    };
    let from = from_ms(current.slot_start);
    if let Err(e) = notices::booking_moved(&state.sms, &notice, from, &reason).await {
        tracing::warn!(error = %e, booking = %id, "the move's SMS was not queued");
    }
    reload(state, id).await
}

/// Refuses (409 `date_has_bookings`, nothing written) to close `dates` of `brigade` while they
/// hold active bookings (`booked`, `in_hearing`); the error's params list them
/// (`{bookings: [{id, date, slot_start, status}]}`, at most 200) so that each can be moved or
/// cancelled first.
pub async fn check_date_free(state: &Booking, brigade: &str, dates: &[NaiveDate]) -> ApiResult<()> {
    let tz = match store::brigade(&state.db.read, brigade).await? {
        Some(b) => b.tz()?,
        None => return Ok(()),
    };
    let mut found = Vec::new();
    for d in dates {
        let rows: Vec<(String, i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT id, slot_start, status FROM bookings WHERE brigade_id = $1 AND slot_date = $2 \
             AND status IN {} ORDER BY slot_start, id LIMIT 200",
            store::ACTIVE
        )))
        .bind(brigade)
        .bind(d.to_string())
        .fetch_all(&state.db.read)
        .await?;
        for (id, start, status) in rows {
            let slot_start = from_ms(start).with_timezone(&tz).to_rfc3339();
            found.push(json!({"id": id, "date": d.to_string(), "slot_start": slot_start, "status": status}));
        }
    }
    if found.is_empty() {
        return Ok(());
    }
    found.truncate(200);
    Err(AppError::conflict(
        "date_has_bookings",
        format!(
            "{} active booking(s) on the date: move or cancel each first",
            found.len()
        ),
    )
    .with_params(json!({"bookings": found})))
}
