//! Booking service: applies the rules of `rules`/`expiry` in the documented order
//! (docs/booking-rules.md) and writes a booking in one transaction that takes a seat with a
//! conditional update and queues its SMS messages. A refusal rolls the transaction back:
//! nothing is written. A slot already seen full is first answered from a read snapshot
//! (`precheck`).

use axum::extract::FromRef;
use chrono::{DateTime, Duration, Utc};

use super::{
    Booking, claims, from_record, metrics,
    model::{BookingStatus, BookingView, CreateBooking},
    precheck, rules,
    rules::{CaseLimits, DateLimits, PhoneDecision, Refusal},
    store::{self, BookingRow},
    urgent,
};
use crate::{
    clock::to_ms,
    error::{ApiResult, AppError},
    identity::citizens,
    ids,
    store::{
        Tx,
        batch::{self, Stmt},
    },
};

impl From<Refusal> for AppError {
    fn from(r: Refusal) -> Self {
        let params = r.params();
        let e = AppError::conflict(r.code(), r.to_string());
        match params {
            Some(p) => e.with_params(p),
            None => e,
        }
    }
}

impl From<rules::FieldError> for AppError {
    fn from(e: rules::FieldError) -> Self {
        AppError::unprocessable(e.field, e.message)
    }
}

/// Creates a booking for `citizen` (POST /api/v1/bookings).
#[tracing::instrument(skip_all, err(level = "info"))]
pub async fn create(state: &Booking, citizen: &str, req: CreateBooking) -> ApiResult<BookingView> {
    let r = create_inner(state, citizen, req).await;
    match &r {
        Ok(_) => metrics::booked(),
        Err(e) if e.status == axum::http::StatusCode::CONFLICT => metrics::refused(e.code),
        Err(e) if e.status.is_client_error() => metrics::outcome("invalid"),
        Err(_) => metrics::outcome("error"),
    }
    r
}

async fn create_inner(
    state: &Booking,
    citizen: &str,
    req: CreateBooking,
) -> ApiResult<BookingView> {
    let cfg = &state.config;
    let now = state.clock.now();

    // Input (422), before any rule.
    if req.brigade_id.is_empty() || req.brigade_id.len() > 64 {
        return Err(AppError::unprocessable("brigade_id", "unknown brigade"));
    }
    let start: DateTime<Utc> = DateTime::parse_from_rfc3339(req.slot_start.trim())
        .map_err(|_| {
            AppError::unprocessable(
                "slot_start",
                "slot_start must be an RFC 3339 time with offset",
            )
        })?
        .with_timezone(&Utc);
    // The facts: typed (manual), or read from the system of record before anything is written.
    let case = from_record::case(state, citizen, &req).await?;
    let facts = case.facts();
    let (unhandled, current_points) = (case.unhandled, case.current_points);
    rules::validate_case(&facts, unhandled, current_points)?;
    let (brigade, around, early) =
        precheck::brigade_for(state, citizen, &req.brigade_id, start, now)
            .await?
            .ok_or_else(|| AppError::unprocessable("brigade_id", "unknown brigade"))?;
    let tz = brigade.tz()?;
    let local_date = start.with_timezone(&tz).date_naive();
    let closed = around.into_iter().filter(|d| *d == local_date).collect();
    let sched = brigade.schedule(closed)?;
    let today = sched.today(now);
    if let Some(u) = &case.urgent
        && case.facts_source == from_record::CITIZEN
        && u.date() > today
    {
        return Err(AppError::unprocessable(
            "urgent.registration_date",
            "the registration date is after today",
        ));
    }
    let (slot, open) = sched.lookup(start).slot().ok_or_else(|| {
        AppError::unprocessable("slot_start", "not a slot start of this brigade's schedule")
    })?;

    // Rules 1-6: pure.
    let limits = DateLimits {
        max_days_ahead: cfg.max_days_ahead,
    };
    rules::check_dates(&sched, now, &slot, open, case.urgent.is_some(), limits)?;
    let grant = match &case.urgent {
        Some(u) => Some(u.grant(tz, today, cfg.urgent_window_days, slot.start)?),
        None => None,
    };
    let limits_case = CaseLimits {
        max_fine_per_violation: cfg.max_fine_per_violation,
        max_unhandled: cfg.max_unhandled,
        points_ceiling: cfg.points_ceiling,
    };
    if let Some(refusal) = case.refusal.clone() {
        return Err(refusal.into());
    }
    rules::check_case(&facts, unhandled, current_points, limits_case)?;

    // Rules 7-12: in the write transaction, after a read-only pass for a slot seen full.
    let asked = precheck::Asked {
        citizen,
        brigade: &brigade.id,
        date: slot.date,
        today,
        phone: req.phone.as_ref().map(|p| p.as_str()),
        owner: req.owner,
        plate: req.plate.as_str(),
    };
    let (start_ms, end_ms) = (to_ms(slot.start), to_ms(slot.end));
    let claimed = case.claimed();
    precheck::refuse_early(state, &asked, start_ms, &claimed, early).await?;
    let (mut tx, phone) = precheck::begin_before_seat(state, &asked).await?;
    let id = ids::new_id();
    let now_ms = to_ms(now);
    claims::claim(&mut tx, &claimed, &id, now_ms).await?;
    let (phone, bind) = match phone {
        PhoneDecision::UseBound(p) => (p, false),
        PhoneDecision::Bind(p) => (p, true),
    };
    let violations = serde_json::to_string(&case.violations).map_err(AppError::internal)?;
    let row = BookingRow {
        id,
        citizen_id: citizen.to_string(),
        brigade_id: brigade.id.clone(),
        slot_start: start_ms,
        slot_end: end_ms,
        slot_date: slot.date.to_string(),
        status: BookingStatus::Booked.as_str().to_string(),
        phone,
        plate: req.plate.as_str().to_string(),
        owner: req.owner,
        violations,
        unhandled_count: unhandled,
        current_points,
        urgent: grant.is_some(),
        urgent_kind: case.urgent.map(|u| u.kind.as_str().to_string()),
        registration_date: case.urgent.map(|u| u.date().to_string()),
        deadline: grant.map(|g| to_ms(g.deadline)),
        created_at: now_ms,
        updated_at: now_ms,
        timezone: brigade.timezone.clone(),
        status_reason: None,
        moved_from: None,
        facts_source: case.facts_source.to_string(),
    };
    // The seat, the phone's binding, the booking and its messages (the confirmation now and
    // the reminder the day before) in one batch of the transaction: the messages exist exactly
    // when the booking does, and the writer is held for one round trip instead of four.
    let messages = match crate::domain::PhoneNumber::parse(&row.phone) {
        Ok(phone) => Some(crate::sms::booking_booked_stmt(
            &state.sms,
            &row.id,
            &phone,
            &brigade.name,
            start,
            tz,
        )?),
        Err(_) => None,
    };
    let has_messages = messages.is_some();
    let seats = i64::from(sched.seats);
    let seat = store::take_seat_stmt(&brigade.id, start_ms, end_ms, slot.date, seats);
    if !write_booking(&mut tx, seat, citizen, bind, &row, messages).await? {
        state
            .full_slots
            .remember(&brigade.id, start_ms, tz, slot.date);
        return Err(Refusal::SlotFull.into());
    }
    tx.commit().await?;
    if has_messages {
        crate::sms::wake(&state.sms);
    }

    if let Some(deadline) = row.deadline {
        // The database is the truth: a Redis failure here is repaired by the next rebuild.
        if let Err(e) = urgent::enqueue(&state.kv, &row.brigade_id, &row.id, deadline).await {
            tracing::warn!(error = %e, booking = %row.id, "urgent enqueue failed; the rebuild will add it");
        }
    }
    Ok(BookingView::from(&row))
}

/// A new booking's writes in one batch (`store::batch`): the `seat` (`store::take_seat_stmt`),
/// the phone's binding when `bind`, the row, its `messages`. False when the slot was full (the
/// caller refuses and nothing is committed). Judged in rule order whatever failed later in the
/// batch: the seat first, then the binding (`citizens::bound`), then any other error.
pub async fn write_booking(
    tx: &mut Tx,
    seat: Stmt,
    citizen: &str,
    bind: bool,
    row: &BookingRow,
    messages: Option<Stmt>,
) -> ApiResult<bool> {
    let mut stmts = vec![seat];
    if bind {
        stmts.push(citizens::bind_phone_stmt(citizen, &row.phone));
    }
    stmts.push(store::insert_booking_stmt(row));
    stmts.extend(messages);
    let (done, failed) = match batch::run(tx, &stmts).await {
        Ok(rows) => (rows, None),
        Err(f) => (f.done, Some((f.index, f.error))),
    };
    if done.first() == Some(&0) {
        return Ok(false);
    }
    // the binding: its own error, or no row matched (`bound` says which refusal)
    if bind {
        match failed {
            Some((1, e)) => return citizens::bound(tx, citizen, Err(e)).await.map(|()| true),
            _ if done.get(1) == Some(&0) => {
                return citizens::bound(tx, citizen, Ok(0)).await.map(|()| true);
            }
            _ => {}
        }
    }
    match failed {
        Some((_, e)) => Err(e.into()),
        None => Ok(true),
    }
}

/// The citizen's own booking; another citizen's is 404.
pub async fn get_for_citizen(state: &Booking, citizen: &str, id: &str) -> ApiResult<BookingRow> {
    match store::booking(&state.db.read, id).await? {
        Some(b) if b.citizen_id == citizen => Ok(b),
        _ => Err(AppError::not_found()),
    }
}

/// A booking of the officer's brigade; another brigade's is 404. For the hearing module.
pub async fn get_booking_for_officer<S>(
    state: &S,
    officer_brigade: Option<&str>,
    id: &str,
) -> ApiResult<BookingRow>
where
    Booking: FromRef<S>,
{
    let db = Booking::from_ref(state).db;
    match store::booking(&db.read, id).await? {
        Some(b) if Some(b.brigade_id.as_str()) == officer_brigade => Ok(b),
        _ => Err(AppError::not_found()),
    }
}

/// Cancels the citizen's booked booking and frees its seat (DELETE /api/v1/bookings/{id}).
#[tracing::instrument(skip_all, err(level = "info"))]
pub async fn cancel(state: &Booking, citizen: &str, id: &str) -> ApiResult<BookingView> {
    let now_ms = state.clock.now_ms();
    let mut tx = state.db.begin().await?;
    let mut b = match store::booking_tx(&mut tx, id).await? {
        Some(b) if b.citizen_id == citizen => b,
        _ => return Err(AppError::not_found()),
    };
    if !store::set_status_from(&mut tx, id, "cancelled", &["booked"], now_ms).await? {
        return Err(AppError::conflict(
            "invalid_state",
            format!("a booking in status {} cannot be cancelled", b.status),
        ));
    }
    store::free_seat(&mut tx, &b.brigade_id, b.slot_start).await?;
    store::record_cancel(&mut tx, &b, now_ms).await?;
    tx.commit().await?;
    b.status = "cancelled".into();
    b.updated_at = now_ms;
    if let Err(e) = crate::sms::booking_cancelled(&state.sms, id).await {
        tracing::warn!(error = %e, booking = %id, "the booking's reminder was not cancelled");
    }
    if b.urgent {
        urgent::remove_quietly(state, id).await;
    }
    metrics::outcome("cancelled");
    Ok(BookingView::from(&b))
}

/// Sets a booking's status inside the caller's transaction (for the hearing module):
/// `in_hearing` from `booked`; `completed`/`referred`/`no_show` from `in_hearing` or `booked`.
/// A no-show is recorded for the blacklist (the hearing has checked the no-show rule: opened,
/// code sent at least 10 minutes before). The fates have their own entry points
/// (`fate::follow_interrupt`, `fate::follow_resume`); the caller removes an urgent item from the
/// queue after commit (`booking::urgent::remove`).
pub async fn set_status(
    tx: &mut Tx,
    booking_id: &str,
    status: BookingStatus,
    now_ms: i64,
) -> ApiResult<()> {
    let b = store::booking_tx(tx, booking_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let from: &[&str] = match status {
        BookingStatus::InHearing => &["booked"],
        BookingStatus::Completed | BookingStatus::Referred | BookingStatus::NoShow => {
            &["booked", "in_hearing"]
        }
        other => {
            return Err(AppError::internal(format!(
                "set_status cannot set {}",
                other.as_str()
            )));
        }
    };
    if !store::set_status_from(tx, booking_id, status.as_str(), from, now_ms).await? {
        return Err(AppError::conflict(
            "invalid_state",
            format!("booking is {}, cannot become {}", b.status, status.as_str()),
        ));
    }
    if status == BookingStatus::NoShow {
        store::record_no_show(tx, &b, "officer", now_ms).await?;
    }
    if status != BookingStatus::InHearing {
        metrics::outcome(status.as_str());
    }
    Ok(())
}

/// Slots of a brigade in local dates `from..=to` with remaining seats.
pub async fn slots(
    state: &Booking,
    brigade: &store::BrigadeRow,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
) -> ApiResult<Vec<super::model::SlotView>> {
    let closed = store::closed_dates(&state.db.read, &brigade.id, from, to).await?;
    let sched = brigade.schedule(closed)?;
    let list = sched.slots_between(from, to, state.config.max_listing_days);
    let (Some(first), Some(last)) = (list.first(), list.last()) else {
        return Ok(Vec::new());
    };
    let seats = store::slot_seats(
        &state.db.read,
        &brigade.id,
        to_ms(first.start),
        to_ms(last.start) + 1,
    )
    .await?;
    Ok(list
        .iter()
        .map(|s| {
            let (capacity, taken) = seats
                .get(&to_ms(s.start))
                .copied()
                .unwrap_or((i64::from(sched.seats), 0));
            super::model::SlotView {
                start: s.start.with_timezone(&sched.tz).to_rfc3339(),
                end: s.end.with_timezone(&sched.tz).to_rfc3339(),
                capacity,
                remaining: (capacity - taken).max(0),
            }
        })
        .collect())
}

/// `today + days` in the brigade's zone.
pub fn today_plus(
    state: &Booking,
    tz: chrono_tz::Tz,
    days: u32,
) -> (chrono::NaiveDate, chrono::NaiveDate) {
    let today = state.clock.now().with_timezone(&tz).date_naive();
    (today, today + Duration::days(i64::from(days)))
}
