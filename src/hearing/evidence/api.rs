//! The evidence endpoints (`POST /api/v1/hearings/{id}/evidence?kind=…` with a raw image body,
//! `GET /api/v1/hearings/{id}/evidence/{evidence_id}`) and the party as the hearing's officer
//! sees it during the hearing (`GET /api/v1/hearings/{id}/party`), and the violations' evidence
//! photos fetched at the notice (`GET /api/v1/hearings/{id}/photos/{record_no}/{index}`). The upload route has its own
//! body limit (2 MiB) instead of the server's JSON one.

use axum::{
    body::Bytes,
    extract::{DefaultBodyLimit, State, rejection::BytesRejection},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    super::{HearingError, Status, store, views::Caller},
    EvidenceKind, EvidenceView, MAX_IMAGE_BYTES,
};
use crate::hearing::Hearing;
use crate::{
    error::{ApiResult, AppError},
    http::{Json, Path, Query},
    identity::{AnyAuth, Role, citizens},
};

/// An uploaded image's body: over the route's limit → 413 `body_too_large`, unreadable → 400.
pub(crate) fn image_body(body: Result<Bytes, BytesRejection>) -> ApiResult<Bytes> {
    body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "an image may be at most 2 MiB",
            )
        } else {
            AppError::bad_request("bad_body", "could not read the request body")
        }
    })
}

/// The request's `Content-Type`, when it is readable.
pub(crate) fn content_type_of(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
}

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Hearing: axum::extract::FromRef<S>,
    crate::identity::Identity: axum::extract::FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(upload))
        // The body is read up to one byte over the limit, so that a larger one is 413.
        .layer(DefaultBodyLimit::max(MAX_IMAGE_BYTES + 1))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(image))
                .routes(routes!(photo))
                .routes(routes!(party)),
        )
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct UploadQuery {
    /// `id_still` (the hearing's officer) or `signature` (the hearing's citizen).
    kind: EvidenceKind,
}

/// Stores an image of the hearing: the raw `image/jpeg` or `image/png` body, at most 2 MiB.
#[utoipa::path(post, path = "/api/v1/hearings/{id}/evidence", params(UploadQuery),
    request_body(content = Vec<u8>, content_type = "image/jpeg", description = "JPEG or PNG (image/png), at most 2 MiB"),
    responses((status = 201, body = EvidenceView),
        (status = 409, description = "`invalid_state` (closed hearing), `evidence_limit`", body = crate::error::ErrorBody),
        (status = 413, description = "`body_too_large`: over 2 MiB", body = crate::error::ErrorBody),
        (status = 415, description = "`unsupported_media_type`", body = crate::error::ErrorBody),
        (status = 422, description = "`not_an_image`: not a whole JPEG/PNG of the declared type", body = crate::error::ErrorBody)))]
async fn upload(
    State(state): State<Hearing>,
    auth: AnyAuth,
    Path(id): Path<String>,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<EvidenceView>)> {
    let body = image_body(body)?;
    let content_type = content_type_of(&headers);
    let v = super::upload(
        &state,
        &Caller::from(auth),
        &id,
        q.kind,
        content_type,
        &body,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(v)))
}

/// An evidence image (the hearing's officer, its citizen, auditors), with `X-Content-SHA256`.
#[utoipa::path(get, path = "/api/v1/hearings/{id}/evidence/{evidence_id}",
    responses((status = 200, content_type = "image/jpeg", description = "the image as uploaded (image/jpeg or image/png)"),
        (status = 404, body = crate::error::ErrorBody)))]
async fn image(
    State(state): State<Hearing>,
    auth: AnyAuth,
    Path((id, evidence_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let (content_type, bytes, sha256) = super::read(
        &state.db,
        &state.call.vault,
        &Caller::from(auth),
        &id,
        &evidence_id,
    )
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-store".to_string()),
            (header::HeaderName::from_static("x-content-sha256"), sha256),
        ],
        bytes,
    )
        .into_response())
}

/// An evidence photo of a violation, fetched from the system of record at the notice (its
/// SHA-256 is sealed in the notice's entry, `notice.photos`). The hearing's officer (brigade),
/// its citizen and auditors; anyone else 404.
#[utoipa::path(get, path = "/api/v1/hearings/{id}/photos/{record_no}/{index}",
    params(("id" = String, Path), ("record_no" = String, Path), ("index" = i64, Path)),
    responses((status = 200, content_type = "image/jpeg", description = "the photo as fetched (image/jpeg or image/png)"),
        (status = 404, body = crate::error::ErrorBody)))]
async fn photo(
    State(state): State<Hearing>,
    auth: AnyAuth,
    Path((id, record_no, index)): Path<(String, String, i64)>,
) -> ApiResult<Response> {
    let (content_type, bytes, sha256) = super::photos::read(
        &state.db,
        &state.call.vault,
        &Caller::from(auth),
        &id,
        &record_no,
        index,
    )
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-store".to_string()),
            (header::HeaderName::from_static("x-content-sha256"), sha256),
        ],
        bytes,
    )
        .into_response())
}

/// The party of a hearing as its officer sees it while the hearing is not closed: the clear
/// ID number, to compare with the card shown to the camera.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartyView {
    name: String,
    /// The clear ID number (GB 11643-1999).
    id_number: String,
    id_number_masked: String,
    phone_masked: Option<String>,
}

/// The named party (the hearing's officer, until the hearing closes); 409 `identity_missing`
/// when the citizen has given no name and ID number yet.
#[utoipa::path(get, path = "/api/v1/hearings/{id}/party",
    responses((status = 200, body = PartyView), (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "`invalid_state`: the hearing is closed; `identity_missing`", body = crate::error::ErrorBody)))]
async fn party(
    State(state): State<Hearing>,
    auth: AnyAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<PartyView>> {
    let caller = Caller::from(auth);
    let h = store::get(&state.db.read, &id)
        .await?
        .ok_or(HearingError::NotFound)?;
    if caller.role == Role::Auditor {
        return Err(HearingError::Forbidden.into());
    }
    caller.officer_of(&h)?;
    let status = Status::parse(&h.status)
        .ok_or_else(|| HearingError::broken(format!("bad hearing status {:?}", h.status)))?;
    if status.is_closed() {
        return Err(HearingError::Closed(status).into());
    }
    let p = citizens::party(&state.db, &state.identity_key, &h.citizen_id)
        .await?
        .ok_or_else(super::identity_missing)?;
    Ok(Json(PartyView {
        name: p.name,
        id_number: p.id_number,
        id_number_masked: p.id_number_masked,
        phone_masked: p.phone_masked,
    }))
}
