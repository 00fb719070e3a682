//! TOTP enrolment endpoints for staff (issue 15 §2): `POST /api/v1/auth/totp/enroll` (a fresh
//! secret, its `otpauth://` URI and the QR code as SVG) and `POST /api/v1/auth/totp/confirm`
//! (the first code). The rules live in `identity::second_factor`.

use axum::extract::State;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::identity::{AnyAuth, StaffAuth, second_factor, staff, totp};
use crate::{
    error::{ApiResult, AppError},
    http::Json,
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(enroll))
        .routes(routes!(confirm))
}

/// What the authenticator app needs; shown once (a new enrolment draws a new secret).
#[derive(Serialize, ToSchema)]
pub struct TotpEnrolment {
    /// The secret, base32 (RFC 4648, no padding), for typing into the app by hand.
    secret: String,
    /// `otpauth://totp/ISSUER:BADGE?secret=…&issuer=…` (SHA-1, 6 digits, 30 s: the defaults).
    otpauth_uri: String,
    /// The URI as a QR code, an SVG document.
    qr_svg: String,
    digits: u8,
    period_s: u64,
    algorithm: String,
}

#[derive(Deserialize, ToSchema)]
pub struct TotpConfirm {
    /// The app's current code.
    #[schema(min_length = 6, max_length = 6, pattern = "^[0-9]{6}$")]
    code: String,
}

#[derive(Serialize, ToSchema)]
pub struct TotpConfirmed {
    /// Always true: logins of this account need a code from now on.
    totp_enrolled: bool,
}

async fn badge(state: &AppState, id: &str) -> ApiResult<String> {
    Ok(staff::find(&state.identity, id)
        .await?
        .ok_or_else(AppError::unauthorized)?
        .badge)
}

/// Starts TOTP enrolment of the caller's staff account (again: a new secret replaces an
/// unconfirmed one). 409 `totp_already_enrolled` once confirmed (an admin can reset it).
#[utoipa::path(post, path = "/api/v1/auth/totp/enroll",
    responses((status = 200, body = TotpEnrolment), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
async fn enroll(State(state): State<AppState>, who: StaffAuth) -> ApiResult<Json<TotpEnrolment>> {
    let badge = badge(&state, &who.user_id).await?;
    let e = second_factor::begin(&state.identity, &who.user_id, &badge).await?;
    Ok(Json(TotpEnrolment {
        secret: e.secret.expose_secret().to_string(),
        otpauth_uri: e.uri,
        qr_svg: e.qr_svg,
        digits: totp::DIGITS,
        period_s: totp::STEP_S,
        algorithm: "SHA1".to_string(),
    }))
}

/// Confirms the enrolment with the app's current code: from now on the account's logins need a
/// code, and the caller's session (if enrol-only) may do everything its role may. 409
/// `totp_not_started` / `totp_already_enrolled`; 422 `totp_invalid` (field `code`).
#[utoipa::path(post, path = "/api/v1/auth/totp/confirm", request_body = TotpConfirm,
    responses((status = 200, body = TotpConfirmed), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
async fn confirm(
    State(state): State<AppState>,
    who: StaffAuth,
    session: AnyAuth,
    Json(req): Json<TotpConfirm>,
) -> ApiResult<Json<TotpConfirmed>> {
    let badge = badge(&state, &who.user_id).await?;
    second_factor::confirm(
        &state.identity,
        (&who.user_id, who.role.as_str(), &badge),
        &req.code,
        &session.token_hash,
    )
    .await?;
    Ok(Json(TotpConfirmed {
        totp_enrolled: true,
    }))
}
