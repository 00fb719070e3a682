//! Login and logout endpoints (API.md, Identity).

use axum::{extract::State, http::StatusCode};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    domain::{PhoneNumber, SmsCode},
    error::{ApiResult, AppError},
    http::{ClientIp, Json, Path},
    sms::{Budget, Purpose},
    state::AppState,
};

use super::{AnyAuth, Role, citizens, login_throttle, session_list, sessions, staff};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(send_login_code))
        .routes(routes!(citizen_login))
        .routes(routes!(officer_login))
        .routes(routes!(logout))
        .routes(routes!(my_sessions))
        .routes(routes!(revoke_my_session))
        .routes(routes!(me))
        .merge(super::admin::router())
        .merge(super::me::router())
        .merge(super::totp::routes::router())
}

#[derive(Deserialize, ToSchema)]
pub struct SmsCodeRequest {
    phone: PhoneNumber,
}

#[derive(Serialize, ToSchema)]
pub struct SmsCodeSent {
    resend_after_s: u64,
}

/// Sends a login code to a phone.
#[utoipa::path(post, path = "/api/v1/auth/sms-code", request_body = SmsCodeRequest,
    responses((status = 202, body = SmsCodeSent), (status = 429, body = crate::error::ErrorBody)))]
async fn send_login_code(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(req): Json<SmsCodeRequest>,
) -> ApiResult<(StatusCode, Json<SmsCodeSent>)> {
    let resend_after_s = state
        .sms
        .send_code(Budget::Login { ip: &ip }, &req.phone)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(SmsCodeSent { resend_after_s })))
}

#[derive(Deserialize, ToSchema)]
pub struct CitizenLogin {
    phone: Option<PhoneNumber>,
    code: Option<SmsCode>,
    wx_code: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CitizenView {
    pub id: String,
    pub phone_masked: Option<String>,
    pub phone_bound: bool,
}

#[derive(Serialize, ToSchema)]
pub struct CitizenSession {
    token: String,
    citizen: CitizenView,
}

/// Logs a citizen in with phone + SMS code.
#[utoipa::path(post, path = "/api/v1/auth/citizen", request_body = CitizenLogin,
    responses((status = 200, body = CitizenSession), (status = 422, body = crate::error::ErrorBody)))]
async fn citizen_login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(req): Json<CitizenLogin>,
) -> ApiResult<Json<CitizenSession>> {
    throttle_login_ip(&state, &ip).await?;
    if let Some(wx_code) = req.wx_code {
        let session = crate::sms::wx::session(&state, &wx_code).await?;
        let now = state.clock.now_ms();
        let c = citizens::by_openid(&state.db, &session.openid, session.unionid.as_deref(), now)
            .await?;
        let (id, phone, phone_bound) = (c.id, c.phone, c.phone_bound);
        let phone_masked = phone
            .as_deref()
            .and_then(|p| PhoneNumber::parse(p).ok())
            .map(|p| p.masked());
        let token = sessions::create(&state, Role::Citizen, &id).await?;
        let citizen = CitizenView {
            id,
            phone_masked,
            phone_bound,
        };
        return Ok(Json(CitizenSession { token, citizen }));
    }
    let phone = req
        .phone
        .ok_or_else(|| AppError::unprocessable("phone", "phone is required"))?;
    let code = req
        .code
        .ok_or_else(|| AppError::unprocessable("code", "code is required"))?;
    state
        .sms
        .verify_code(Purpose::Login, phone.as_str(), &code)
        .await?;
    let citizen = upsert_citizen(&state, &phone).await?;
    let token = sessions::create(&state, Role::Citizen, &citizen.id).await?;
    Ok(Json(CitizenSession { token, citizen }))
}

async fn upsert_citizen(state: &AppState, phone: &PhoneNumber) -> ApiResult<CitizenView> {
    let c = citizens::by_phone(&state.db, phone.as_str(), state.clock.now_ms()).await?;
    Ok(CitizenView {
        id: c.id,
        phone_masked: Some(phone.masked()),
        phone_bound: c.phone_bound,
    })
}

#[derive(Deserialize, ToSchema)]
pub struct OfficerLogin {
    badge: String,
    #[schema(value_type = String)]
    password: SecretString,
    /// The authenticator app's current 6-digit code; required once the account enrolled TOTP
    /// (401 `totp_required` without it, `totp_invalid` when wrong, stale or used before).
    #[schema(min_length = 6, max_length = 6, pattern = "^[0-9]{6}$")]
    totp: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct StaffView {
    id: String,
    name: String,
    role: Role,
    brigade_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct StaffSession {
    token: String,
    officer: StaffView,
    /// True when TOTP is required and the account has none yet: the session may only enrol
    /// (`/api/v1/auth/totp/enroll`, `…/confirm`), read `/auth/me`, list its sessions and log out.
    totp_enrolment_required: bool,
}

/// Logs an officer, auditor or admin in with badge + password (+ `totp` once enrolled).
/// Throttled per (badge, IP), per IP and per badge (failed passwords and codes from all IPs; a
/// right code skips this one); 503 with `Retry-After` while too many passwords are being
/// checked at once.
#[utoipa::path(post, path = "/api/v1/auth/officer", request_body = OfficerLogin,
    responses((status = 200, body = StaffSession), (status = 401, body = crate::error::ErrorBody),
        (status = 429, body = crate::error::ErrorBody), (status = 503, body = crate::error::ErrorBody)))]
async fn officer_login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: axum::http::HeaderMap,
    Json(req): Json<OfficerLogin>,
) -> ApiResult<Json<StaffSession>> {
    let user_agent = headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    if req.badge.is_empty() || req.badge.chars().count() > 32 {
        return Err(AppError::unprocessable(
            "badge",
            "badge must be 1 to 32 characters",
        ));
    }
    let done = super::staff_login::login(
        &state.identity,
        &ip,
        &req.badge,
        req.password,
        (req.totp.as_deref(), user_agent),
    )
    .await?;
    Ok(Json(StaffSession {
        token: done.token,
        officer: StaffView {
            id: done.row.id,
            name: done.row.name,
            role: done.role,
            brigade_id: done.row.brigade_id,
        },
        totp_enrolment_required: done.enrol_only,
    }))
}

/// Ends the caller's session.
#[utoipa::path(post, path = "/api/v1/auth/logout", responses((status = 204)))]
async fn logout(State(state): State<AppState>, auth: AnyAuth) -> ApiResult<StatusCode> {
    sessions::delete(&state, &auth.token_hash).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's sessions (not expired), newest first; `current` marks this request's.
#[utoipa::path(get, path = "/api/v1/auth/sessions",
    responses((status = 200, body = [session_list::SessionView]), (status = 401, body = crate::error::ErrorBody)))]
async fn my_sessions(
    State(state): State<AppState>,
    auth: AnyAuth,
) -> ApiResult<Json<Vec<session_list::SessionView>>> {
    let all = session_list::list(&state.identity, &auth.subject_id, Some(&auth.token_hash)).await?;
    Ok(Json(all))
}

/// Ends one of the caller's sessions (the current one too: that is a logout). Another
/// account's session, or an unknown id, is 404.
#[utoipa::path(delete, path = "/api/v1/auth/sessions/{id}", params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
async fn revoke_my_session(
    State(state): State<AppState>,
    auth: AnyAuth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    session_list::revoke(&state.identity, &auth.subject_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    role: Role,
    id: String,
    name: Option<String>,
    brigade_id: Option<String>,
    phone_masked: Option<String>,
    phone_bound: Option<bool>,
    /// A citizen's ID number, masked (`3701**********1234`), once given.
    id_number_masked: Option<String>,
    /// Staff: whether the account has a confirmed TOTP second factor.
    totp_enrolled: Option<bool>,
    /// Staff: this session may only enrol TOTP (required, none yet).
    totp_enrolment_required: Option<bool>,
}

/// Who the caller is.
#[utoipa::path(get, path = "/api/v1/auth/me", responses((status = 200, body = Me)))]
async fn me(State(state): State<AppState>, auth: AnyAuth) -> ApiResult<Json<Me>> {
    if auth.role == Role::Citizen {
        let (phone, bound): (Option<String>, i64) =
            sqlx::query_as("SELECT phone, phone_bound FROM citizens WHERE id = $1")
                .bind(&auth.subject_id)
                .fetch_one(&state.db.read)
                .await?;
        let masked = phone
            .as_deref()
            .and_then(|p| PhoneNumber::parse(p).ok())
            .map(|p| p.masked());
        let identity = citizens::identity(&state.db, &state.identity_key, &auth.subject_id).await?;
        let (name, id_number_masked) = identity.map(|i| (i.name, i.id_number_masked)).unzip();
        return Ok(Json(Me {
            role: auth.role,
            id: auth.subject_id,
            name,
            brigade_id: None,
            phone_masked: masked,
            phone_bound: Some(bound != 0),
            id_number_masked,
            totp_enrolled: None,
            totp_enrolment_required: None,
        }));
    }
    let row = staff::find(&state, &auth.subject_id)
        .await?
        .ok_or_else(AppError::unauthorized)?;
    let enrolled = super::second_factor::is_enrolled(&state.identity, &row.id).await?;
    Ok(Json(Me {
        role: auth.role,
        id: row.id,
        name: Some(row.name),
        brigade_id: row.brigade_id,
        phone_masked: None,
        phone_bound: None,
        id_number_masked: None,
        totp_enrolled: Some(enrolled),
        totp_enrolment_required: Some(auth.enrol_only),
    }))
}

/// Counts a login attempt from `ip` against the per-address window.
async fn throttle_login_ip(state: &AppState, ip: &str) -> ApiResult<()> {
    login_throttle::per_ip(windows(state), &state.config.auth, ip).await
}

/// The login throttles' windows: this server's Redis keyspace on its clock.
fn windows(state: &AppState) -> crate::throttle::Windows<'_> {
    crate::throttle::Windows::new(&state.kv, state.clock.as_ref())
}
