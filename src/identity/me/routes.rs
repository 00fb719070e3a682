//! The citizen's own identity: `PUT /api/v1/citizens/me/identity` (real name and resident ID
//! number, stored encrypted by [`super::citizens`]) and `GET` of the same, masked.

use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    domain::{IdNumber, PersonName},
    error::{ApiResult, AppError},
    http::Json,
    state::AppState,
};

use super::super::{
    CitizenAuth,
    citizens::{self, IdentityView},
};

/// Longest `name` or `id_number` read before parsing (bytes).
const MAX_FIELD_BYTES: usize = 256;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_identity, put_identity))
}

#[derive(Deserialize, ToSchema)]
pub struct IdentityRequest {
    /// The real name as on the ID card: 2 to 30 Chinese characters, parts joined by `·`.
    #[schema(min_length = 2, max_length = 30)]
    name: String,
    /// The resident ID number (GB 11643-1999, 18 characters, checksum verified).
    #[schema(min_length = 18, max_length = 18, pattern = "^[1-9][0-9]{16}[0-9Xx]$")]
    id_number: String,
}

/// Gives the caller's real name and resident ID number (until a hearing has used them).
/// The answer shows the number masked.
#[utoipa::path(put, path = "/api/v1/citizens/me/identity", request_body = IdentityRequest,
    responses((status = 200, body = IdentityView),
        (status = 409, description = "`identity_immutable`: a hearing has used the identity", body = crate::error::ErrorBody),
        (status = 422, description = "`id_number_invalid` (field `id_number`), `name_invalid` (field `name`)", body = crate::error::ErrorBody)))]
async fn put_identity(
    State(state): State<AppState>,
    auth: CitizenAuth,
    Json(req): Json<IdentityRequest>,
) -> ApiResult<Json<IdentityView>> {
    let name = (req.name.len() <= MAX_FIELD_BYTES)
        .then(|| PersonName::parse(&req.name).ok())
        .flatten()
        .ok_or_else(|| {
            AppError::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "name_invalid",
                "name must be 2 to 30 Chinese characters, parts joined by a middle dot ·",
            )
            .with_field("name")
        })?;
    let id_number = if req.id_number.len() <= MAX_FIELD_BYTES {
        IdNumber::parse(&req.id_number)
    } else {
        Err("id_number is too long".into())
    };
    let id_number = id_number.map_err(|msg| {
        AppError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "id_number_invalid",
            msg,
        )
        .with_field("id_number")
    })?;
    let view = citizens::set_identity(
        &state.db,
        &state.identity_key,
        &auth.citizen_id,
        &name,
        &id_number,
        state.clock.now_ms(),
    )
    .await?;
    Ok(Json(view))
}

/// The caller's identity, masked; 404 `not_found` when none was given.
#[utoipa::path(get, path = "/api/v1/citizens/me/identity",
    responses((status = 200, body = IdentityView), (status = 404, body = crate::error::ErrorBody)))]
async fn get_identity(
    State(state): State<AppState>,
    auth: CitizenAuth,
) -> ApiResult<Json<IdentityView>> {
    citizens::identity(&state.db, &state.identity_key, &auth.citizen_id)
        .await?
        .map(Json)
        .ok_or_else(AppError::not_found)
}
