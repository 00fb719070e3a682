//! The booking endpoints (API.md, Booking): brigades, slots, bookings with ownership (another
//! citizen's booking is 404; an officer sees only the own brigade's), the officer's no-show
//! (refused: only a hearing records one), and the officer's cancel and move (issue 12 §5,
//! `brigade_changes`).

use axum::extract::FromRef;
use axum::{extract::State, http::StatusCode};
use chrono::{Duration, NaiveDate};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    Booking,
    brigade_changes::{self, CancelByBrigade, MoveByBrigade},
    model::{BookingView, BrigadeView, CreateBooking, SlotView},
    reminder, service, store,
};
use crate::{
    error::{ApiResult, AppError},
    http::{Json, Path, Query},
    identity::{
        Role,
        auth::{AnyAuth, CitizenAuth, OfficerAuth},
    },
};

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Booking: FromRef<S>,
    crate::identity::Identity: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(list_brigades))
        .routes(routes!(list_slots))
        .routes(routes!(create_booking, list_bookings))
        .routes(routes!(get_booking, cancel_booking))
        .routes(routes!(no_show))
        .routes(routes!(cancel_by_brigade))
        .routes(routes!(move_by_brigade))
        .routes(routes!(wechat_reminder))
}

fn parse_date(field: &'static str, s: Option<&str>) -> ApiResult<Option<NaiveDate>> {
    s.map(|s| {
        s.parse::<NaiveDate>()
            .map_err(|_| AppError::unprocessable(field, "a date YYYY-MM-DD"))
    })
    .transpose()
}

/// Brigades that hold hearings.
#[utoipa::path(get, path = "/api/v1/brigades", responses((status = 200, body = [BrigadeView])))]
async fn list_brigades(State(state): State<Booking>) -> ApiResult<Json<Vec<BrigadeView>>> {
    let rows = store::brigades(&state.db.read).await?;
    Ok(Json(
        rows.into_iter()
            .map(|b| BrigadeView {
                id: b.id,
                name: b.name,
                address: b.address,
                timezone: b.timezone,
            })
            .collect(),
    ))
}

#[derive(Deserialize, IntoParams)]
pub struct SlotsQuery {
    /// First local date (default today).
    from: Option<String>,
    /// Last local date, inclusive (default today + max_days_ahead).
    to: Option<String>,
}

/// A brigade's slots with the seats that remain (today's included: urgent bookings may use them).
#[utoipa::path(get, path = "/api/v1/brigades/{id}/slots", params(("id" = String, Path), SlotsQuery),
    responses((status = 200, body = [SlotView]), (status = 404, body = crate::error::ErrorBody)))]
async fn list_slots(
    State(state): State<Booking>,
    Path(id): Path<String>,
    Query(q): Query<SlotsQuery>,
) -> ApiResult<Json<Vec<SlotView>>> {
    let brigade = store::brigade(&state.db.read, &id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let cfg = &state.config;
    let (today, last) = service::today_plus(&state, brigade.tz()?, cfg.max_days_ahead);
    let from = parse_date("from", q.from.as_deref())?.unwrap_or(today);
    let to = parse_date("to", q.to.as_deref())?.unwrap_or(last.max(from));
    if to < from {
        return Err(AppError::unprocessable("to", "`to` is before `from`"));
    }
    if to - from >= Duration::days(i64::from(cfg.max_listing_days)) {
        return Err(AppError::unprocessable(
            "to",
            format!("at most {} days at once", cfg.max_listing_days),
        ));
    }
    Ok(Json(service::slots(&state, &brigade, from, to).await?))
}

/// Books a slot (citizen). Refusals: 409 with the rule's code; nothing is written. With the
/// system of record (`records.provider` `fake`/`http`) the body picks `record_nos` and the facts
/// are read from the platform; with `manual` the citizen types them (`violations`).
#[utoipa::path(post, path = "/api/v1/bookings", request_body = CreateBooking,
    responses((status = 201, body = BookingView),
        (status = 404, description = "`records_not_found`: the platform has no driver, licence or vehicle by what was given", body = crate::error::ErrorBody),
        (status = 409, description = "a booking rule's code; `record_already_booked`; `identity_missing` (records); `records_manual`: `record_nos` sent without a connection to the system of record", body = crate::error::ErrorBody),
        (status = 422, description = "`invalid_field` naming the field; `plate_mismatch` (records; field `plate`, `params.record_no`, `params.record_plate`): a picked record was recorded on another vehicle than `plate`", body = crate::error::ErrorBody),
        (status = 502, description = "`records_invalid`: the platform's answer was malformed or inconsistent", body = crate::error::ErrorBody),
        (status = 503, description = "`records_unavailable`: the platform is down or slow; nothing was written", body = crate::error::ErrorBody)))]
async fn create_booking(
    State(state): State<Booking>,
    auth: CitizenAuth,
    Json(req): Json<CreateBooking>,
) -> ApiResult<(StatusCode, Json<BookingView>)> {
    let view = service::create(&state, &auth.citizen_id, req).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// Officers: the local date (default today).
    date: Option<String>,
}

/// Citizens: their own bookings. Officers: their brigade's bookings on `date`.
#[utoipa::path(get, path = "/api/v1/bookings", params(ListQuery), responses((status = 200, body = [BookingView])))]
async fn list_bookings(
    State(state): State<Booking>,
    auth: AnyAuth,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Vec<BookingView>>> {
    // Checked for every caller, even where it is not used: a bad value is never accepted.
    let date = parse_date("date", q.date.as_deref())?;
    let rows = match auth.role {
        Role::Citizen => store::citizen_bookings(&state.db.read, &auth.subject_id).await?,
        Role::Officer => {
            let Some(brigade_id) = auth.brigade_id.as_deref() else {
                return Ok(Json(Vec::new()));
            };
            let brigade = store::brigade(&state.db.read, brigade_id)
                .await?
                .ok_or_else(AppError::forbidden)?;
            let (today, _) = service::today_plus(&state, brigade.tz()?, 0);
            store::brigade_bookings_on(&state.db.read, brigade_id, date.unwrap_or(today)).await?
        }
        _ => return Err(AppError::forbidden()),
    };
    Ok(Json(rows.iter().map(BookingView::from).collect()))
}

/// One booking: its owner, or an officer of its brigade.
#[utoipa::path(get, path = "/api/v1/bookings/{id}", params(("id" = String, Path)),
    responses((status = 200, body = BookingView), (status = 404, body = crate::error::ErrorBody)))]
async fn get_booking(
    State(state): State<Booking>,
    auth: AnyAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<BookingView>> {
    let row = match auth.role {
        Role::Citizen => service::get_for_citizen(&state, &auth.subject_id, &id).await?,
        Role::Officer => {
            service::get_booking_for_officer(&state, auth.brigade_id.as_deref(), &id).await?
        }
        _ => return Err(AppError::forbidden()),
    };
    Ok(Json(BookingView::from(&row)))
}

/// Cancels the caller's booking and frees its seat.
#[utoipa::path(delete, path = "/api/v1/bookings/{id}", params(("id" = String, Path)),
    responses((status = 200, body = BookingView), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
async fn cancel_booking(
    State(state): State<Booking>,
    auth: CitizenAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<BookingView>> {
    Ok(Json(service::cancel(&state, &auth.citizen_id, &id).await?))
}

/// A booking's no-show is never recorded here: only on its hearing
/// (`POST /api/v1/hearings/{id}/no-show`), once the officer opened it and the join code went out
/// at least 10 minutes before. A booking of the officer's brigade answers 409
/// `hearing_not_opened` (still `booked`: open the hearing and send the code; its slot over, it
/// becomes `missed_by_brigade`) or `invalid_state`.
#[utoipa::path(post, path = "/api/v1/bookings/{id}/no-show", params(("id" = String, Path)),
    responses((status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
async fn no_show(
    State(state): State<Booking>,
    auth: OfficerAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<BookingView>> {
    let row = service::get_booking_for_officer(&state, auth.brigade_id.as_deref(), &id).await?;
    if row.status == "booked" {
        return Err(AppError::conflict(
            "hearing_not_opened",
            "a no-show is recorded only on a hearing the officer opened and whose code was sent \
             at least 10 minutes before: open the hearing and send the code",
        ));
    }
    Err(AppError::conflict(
        "invalid_state",
        format!(
            "a booking in status {} cannot become a no-show here; use its hearing",
            row.status
        ),
    ))
}

/// Cancels a booked booking of the officer's brigade with a reason (`cancelled_by_brigade`; the
/// seat is freed; never held against the citizen); the citizen gets an SMS with the reason and
/// the link to book again.
#[utoipa::path(post, path = "/api/v1/bookings/{id}/cancel-by-brigade", params(("id" = String, Path)),
    request_body = CancelByBrigade,
    responses((status = 200, body = BookingView), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn cancel_by_brigade(
    State(state): State<Booking>,
    auth: OfficerAuth,
    Path(id): Path<String>,
    Json(req): Json<CancelByBrigade>,
) -> ApiResult<Json<BookingView>> {
    let b = auth.brigade_id.as_deref();
    Ok(Json(
        brigade_changes::cancel_by_brigade(&state, b, &id, req).await?,
    ))
}

/// Moves a booked booking of the officer's brigade to another slot of it with a reason; the
/// citizen gets an SMS (from, to, reason) and a new reminder.
#[utoipa::path(post, path = "/api/v1/bookings/{id}/move-by-brigade", params(("id" = String, Path)),
    request_body = MoveByBrigade,
    responses((status = 200, body = BookingView), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn move_by_brigade(
    State(state): State<Booking>,
    auth: OfficerAuth,
    Path(id): Path<String>,
    Json(req): Json<MoveByBrigade>,
) -> ApiResult<Json<BookingView>> {
    let b = auth.brigade_id.as_deref();
    Ok(Json(
        brigade_changes::move_by_brigade(&state, b, &id, req).await?,
    ))
}

/// The booking's reminder goes through WeChat: the citizen allowed it as a one-time
/// subscription message in the mini program (`sms::wx_notify`).
#[utoipa::path(post, path = "/api/v1/bookings/{id}/wechat-reminder", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
async fn wechat_reminder(
    State(state): State<Booking>,
    auth: CitizenAuth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    reminder::subscribe(&state, &auth.citizen_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
