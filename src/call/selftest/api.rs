//! The self-test's endpoints: the setup and the echo peer for any signed-in user (the citizen,
//! a hearing's participants, staff), the result for the booking's citizen, read by the citizen
//! and the officers of the booking's brigade (another's booking is 404).

use axum::extract::{DefaultBodyLimit, FromRef, State};
use axum::http::StatusCode;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{EchoAnswer, EchoOffer, SelfTestReport, SelfTestSetup, SelfTestView, service};
use crate::booking::Booking;
use crate::call::{Call, tokens};
use crate::error::{ApiResult, AppError, ErrorBody};
use crate::http::{Json, Path};
use crate::identity::{
    Identity, Role,
    auth::{AnyAuth, CitizenAuth},
};

/// Bodies: an offer (≤ 32 KiB of SDP in JSON), a result (small).
const OFFER_BODY_MAX: usize = 40 * 1024;
const RESULT_BODY_MAX: usize = 4 * 1024;

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Call: FromRef<S>,
    Booking: FromRef<S>,
    Identity: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(setup))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(echo))
                .layer(DefaultBodyLimit::max(OFFER_BODY_MAX)),
        )
        .merge(
            OpenApiRouter::new()
                .routes(routes!(post_result, list_results))
                .layer(DefaultBodyLimit::max(RESULT_BODY_MAX)),
        )
}

/// The call's ICE servers (fresh TURN credentials) and the echo's limits, before offering.
#[utoipa::path(get, path = "/api/v1/selftest",
    responses((status = 200, body = SelfTestSetup), (status = 401, body = ErrorBody)))]
async fn setup(State(call): State<Call>, auth: AnyAuth) -> ApiResult<Json<SelfTestSetup>> {
    let cfg = &call.config.selftest;
    Ok(Json(SelfTestSetup {
        ice_servers: tokens::ice_servers(&call, &auth.subject_id),
        echo_seconds: cfg.echo_s.clamp(1, 60),
        max_sdp_bytes: cfg.max_sdp_bytes,
    }))
}

/// Answers a complete offer (candidates included) with a short-lived peer that sends the
/// caller's audio and video back, then closes (`echo_seconds`). One at a time per user
/// (429 `selftest_busy`), a few a minute (429 `selftest_throttled`); `bad_sdp` 400,
/// `sdp_too_large` 413, `media_unavailable` 503.
#[utoipa::path(post, path = "/api/v1/selftest/echo", request_body = EchoOffer,
    responses((status = 200, body = EchoAnswer), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
async fn echo(
    State(call): State<Call>,
    auth: AnyAuth,
    Json(offer): Json<EchoOffer>,
) -> ApiResult<Json<EchoAnswer>> {
    let user = format!("{}:{}", auth.role.as_str(), auth.subject_id);
    Ok(Json(service::start_echo(&call, &user, offer.sdp).await?))
}

/// The citizen's self-test result for their booking: scored (Good / Okay / Bad with advice
/// codes), kept with the booking, announced to the brigade's officers (`selftest` event).
#[utoipa::path(post, path = "/api/v1/bookings/{id}/selftest", params(("id" = String, Path)),
    request_body = SelfTestReport,
    responses((status = 201, body = SelfTestView), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn post_result(
    State(call): State<Call>,
    State(booking): State<Booking>,
    auth: CitizenAuth,
    Path(id): Path<String>,
    Json(report): Json<SelfTestReport>,
) -> ApiResult<(StatusCode, Json<SelfTestView>)> {
    let v = service::record(&call, &booking, &auth.citizen_id, &id, report).await?;
    Ok((StatusCode::CREATED, Json(v)))
}

/// The booking's newest self-test results (at most 5, newest first): its citizen, or an officer
/// of its brigade.
#[utoipa::path(get, path = "/api/v1/bookings/{id}/selftest", params(("id" = String, Path)),
    responses((status = 200, body = [SelfTestView]), (status = 404, body = ErrorBody)))]
async fn list_results(
    State(call): State<Call>,
    State(booking): State<Booking>,
    auth: AnyAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<SelfTestView>>> {
    let b = match auth.role {
        Role::Citizen => {
            crate::booking::service::get_for_citizen(&booking, &auth.subject_id, &id).await?
        }
        Role::Officer => {
            crate::booking::get_booking_for_officer(&booking, auth.brigade_id.as_deref(), &id)
                .await?
        }
        _ => return Err(AppError::forbidden()),
    };
    Ok(Json(service::latest(&call, &b).await?))
}
