//! The officer's changes of a booking (issue 12 §5): cancel or move it with a reason
//! (`brigade_changes`). An officer of another brigade gets 404, as for any booking not theirs.

use axum::extract::{FromRef, State};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    Booking,
    brigade_changes::{self, CancelByBrigade, MoveByBrigade},
    model::BookingView,
};
use crate::{
    error::ApiResult,
    http::{Json, Path},
    identity::auth::OfficerAuth,
};

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Booking: FromRef<S>,
    crate::identity::Identity: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(cancel_by_brigade))
        .routes(routes!(move_by_brigade))
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
