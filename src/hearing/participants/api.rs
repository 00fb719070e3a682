//! The participants' routes: the officer adds, lists, sends the code and admits
//! (`/api/v1/hearings/{id}/participants…`); the participant joins with the code (no session:
//! the answer carries a participant session), reads itself, gets its call grant and leaves
//! (`/api/v1/participants/me…`).

use axum::{
    body::Bytes,
    extract::{DefaultBodyLimit, State, rejection::BytesRejection},
    http::{HeaderMap, StatusCode},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{AddParticipant, ParticipantView, service};
use crate::{
    domain::SmsCode,
    error::ApiResult,
    hearing::{Hearing, access::Caller, evidence::MAX_IMAGE_BYTES, ports::JoinGrant},
    http::{Json, Path},
    identity::{AnyAuth, Identity, OfficerAuth, ParticipantAuth, Role},
};

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Hearing: axum::extract::FromRef<S>,
    Identity: axum::extract::FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(add, list))
        .routes(routes!(sms_code))
        .routes(routes!(join))
        .routes(routes!(admit))
        .routes(routes!(me))
        .routes(routes!(join_token))
        .routes(routes!(leave))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(authority_document))
                // Read up to one byte over the limit, so that a larger body is 413.
                .layer(DefaultBodyLimit::max(MAX_IMAGE_BYTES + 1)),
        )
}

/// An agent's power of attorney or guardianship document (raw `image/jpeg` or `image/png`, at
/// most 2 MiB): the hearing's officer or the agent. Its SHA-256 is sealed
/// (`authority_document`); an agent's `statement` needs it.
#[utoipa::path(post, path = "/api/v1/hearings/{id}/participants/{pid}/authority-document",
    request_body(content = Vec<u8>, content_type = "image/jpeg", description = "JPEG or PNG (image/png), at most 2 MiB"),
    responses((status = 201, body = ParticipantView),
        (status = 409, description = "`not_an_agent`, `invalid_state`", body = crate::error::ErrorBody),
        (status = 413, body = crate::error::ErrorBody), (status = 415, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
async fn authority_document(
    State(state): State<Hearing>,
    auth: AnyAuth,
    Path((id, pid)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<ParticipantView>)> {
    let body = crate::hearing::evidence::api::image_body(body)?;
    let content_type = crate::hearing::evidence::api::content_type_of(&headers);
    let caller = Caller::from(auth);
    let p = service::authority_document(&state, &caller, &id, &pid, content_type, &body).await?;
    Ok((StatusCode::CREATED, Json(service::view(&state, &p)?)))
}

/// Adds an interpreter, agent or supervisor to the hearing (its officer; another brigade's
/// hearing is 404). Sealed as `participant_added` (name and phone masked).
#[utoipa::path(post, path = "/api/v1/hearings/{id}/participants", request_body = AddParticipant,
    responses((status = 201, body = ParticipantView),
        (status = 409, description = "`participant_limit` (one per role; supervisors: `hearing.max_supervisors`), `invalid_state` (closed)", body = crate::error::ErrorBody),
        (status = 422, description = "`role_invalid`, `name_invalid`, `phone_invalid`, `language_invalid`, `kind_invalid` (with the field)", body = crate::error::ErrorBody)))]
async fn add(
    State(state): State<Hearing>,
    officer: OfficerAuth,
    Path(id): Path<String>,
    Json(req): Json<AddParticipant>,
) -> ApiResult<(StatusCode, Json<ParticipantView>)> {
    let v = service::add(&state, &Caller::from(&officer), &id, &req).await?;
    Ok((StatusCode::CREATED, Json(v)))
}

/// The hearing's participants (whoever may read the hearing).
#[utoipa::path(get, path = "/api/v1/hearings/{id}/participants",
    responses((status = 200, body = Vec<ParticipantView>), (status = 404, body = crate::error::ErrorBody)))]
async fn list(
    State(state): State<Hearing>,
    auth: AnyAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<ParticipantView>>> {
    Ok(Json(service::list(&state, &Caller::from(auth), &id).await?))
}

#[derive(Serialize, ToSchema)]
pub struct CodeSent {
    resend_after_s: u64,
}

/// Sends the participant their own join code (the hearing's officer; the citizen's budget
/// rules, counted per participant).
#[utoipa::path(post, path = "/api/v1/hearings/{id}/participants/{pid}/sms-code",
    responses((status = 202, body = CodeSent), (status = 429, body = crate::error::ErrorBody)))]
async fn sms_code(
    State(state): State<Hearing>,
    officer: OfficerAuth,
    Path((id, pid)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<CodeSent>)> {
    let resend_after_s = service::send_code(&state, &Caller::from(&officer), &id, &pid).await?;
    Ok((StatusCode::ACCEPTED, Json(CodeSent { resend_after_s })))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParticipantJoin {
    /// The 6-digit code of the participant's SMS.
    #[schema(value_type = String, min_length = 6, max_length = 6, pattern = "^[0-9]{6}$")]
    code: SmsCode,
}

#[derive(Serialize, ToSchema)]
pub struct ParticipantSession {
    /// A participant session (Bearer) for `/api/v1/participants/me…`.
    token: String,
    participant: ParticipantView,
}

/// The participant exchanges their SMS code (no login): sealed `participant_joined`; they
/// wait until the officer admits them.
#[utoipa::path(post, path = "/api/v1/hearings/{id}/participants/{pid}/join", request_body = ParticipantJoin,
    responses((status = 200, body = ParticipantSession), (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
async fn join(
    State(state): State<Hearing>,
    State(identity): State<Identity>,
    Path((id, pid)): Path<(String, String)>,
    Json(req): Json<ParticipantJoin>,
) -> ApiResult<Json<ParticipantSession>> {
    let p = service::join(&state, &id, &pid, &req.code).await?;
    let token = crate::identity::sessions::create(&identity, Role::Participant, &p.id).await?;
    Ok(Json(ParticipantSession {
        token,
        participant: service::view(&state, &p)?,
    }))
}

/// The hearing's officer admits a waiting participant (sealed `participant_admitted`).
#[utoipa::path(post, path = "/api/v1/hearings/{id}/participants/{pid}/admit",
    responses((status = 200, body = ParticipantView),
        (status = 409, description = "`participant_not_waiting`", body = crate::error::ErrorBody)))]
async fn admit(
    State(state): State<Hearing>,
    officer: OfficerAuth,
    Path((id, pid)): Path<(String, String)>,
) -> ApiResult<Json<ParticipantView>> {
    let p = service::admit(&state, &Caller::from(&officer), &id, &pid).await?;
    Ok(Json(service::view(&state, &p)?))
}

#[derive(Serialize, ToSchema)]
pub struct ParticipantMe {
    participant: ParticipantView,
    /// The hearing's status.
    hearing_status: String,
}

/// The participant's own view (waiting / admitted / left) and the hearing's status.
#[utoipa::path(get, path = "/api/v1/participants/me", responses((status = 200, body = ParticipantMe)))]
async fn me(State(state): State<Hearing>, p: ParticipantAuth) -> ApiResult<Json<ParticipantMe>> {
    let (participant, hearing_status) = service::me(&state, &p.participant_id).await?;
    Ok(Json(ParticipantMe {
        participant,
        hearing_status,
    }))
}

/// An admitted participant's grant for the call (409 `participant_not_admitted`).
#[utoipa::path(post, path = "/api/v1/participants/me/join-token",
    responses((status = 200, body = JoinGrant), (status = 409, body = crate::error::ErrorBody)))]
async fn join_token(
    State(state): State<Hearing>,
    p: ParticipantAuth,
) -> ApiResult<Json<JoinGrant>> {
    Ok(Json(service::join_token(&state, &p.participant_id).await?))
}

/// The participant leaves the hearing (sealed `participant_left`).
#[utoipa::path(post, path = "/api/v1/participants/me/leave", responses((status = 200, body = ParticipantView)))]
async fn leave(
    State(state): State<Hearing>,
    p: ParticipantAuth,
) -> ApiResult<Json<ParticipantView>> {
    let row = service::leave(&state, &p.participant_id).await?;
    Ok(Json(service::view(&state, &row)?))
}
