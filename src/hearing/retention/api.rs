//! HTTP for retention: the evidence hold of a hearing (read, set, lift) and an administrator's
//! sweep on demand (the same sweep the job runs).

use axum::{extract::State, http::StatusCode};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{Report, holds, holds::HoldView, run_once};
use crate::{
    error::{ApiResult, AppError},
    hearing::{Hearing, access::Caller},
    http::{Json, Path},
    identity::{AdminAuth, AnyAuth, CitizenAuth},
};

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Hearing: axum::extract::FromRef<S>,
    crate::identity::Identity: axum::extract::FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(get_hold, put_hold))
        .routes(routes!(release_hold))
        .routes(routes!(run))
        .routes(routes!(my_data))
}

/// What the server keeps about the signed-in citizen and until when: each hearing's recordings
/// and personal data (kept until a date, held as evidence, or deleted) and their identity.
#[utoipa::path(get, path = "/api/v1/citizens/me/data",
    responses((status = 200, body = super::mine::MyData), (status = 401, body = crate::error::ErrorBody)))]
async fn my_data(State(h): State<Hearing>, c: CitizenAuth) -> ApiResult<Json<super::mine::MyData>> {
    Ok(Json(
        super::mine::of(&h, &h.retention, &c.citizen_id).await?,
    ))
}

/// A reason for a hold or its release (1–500 characters).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldReason {
    reason: String,
}

/// The hearing's evidence hold (whoever may read the hearing); 404 `not_held` when none.
#[utoipa::path(get, path = "/api/v1/hearings/{id}/hold", params(("id" = String, Path)),
    responses((status = 200, body = HoldView), (status = 404, body = crate::error::ErrorBody)))]
async fn get_hold(
    State(h): State<Hearing>,
    auth: AnyAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<HoldView>> {
    holds::get(&h, &Caller::from(auth), &id)
        .await?
        .map(Json)
        .ok_or_else(|| {
            AppError::new(
                StatusCode::NOT_FOUND,
                "not_held",
                "this hearing is not held as evidence",
            )
        })
}

/// Marks the hearing as evidence in a case: its recordings and personal data are kept until an
/// auditor lifts the mark (officers of its brigade, auditors; a second mark keeps the first).
#[utoipa::path(put, path = "/api/v1/hearings/{id}/hold", params(("id" = String, Path)),
    request_body = HoldReason,
    responses((status = 200, body = HoldView), (status = 403, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
async fn put_hold(
    State(h): State<Hearing>,
    auth: AnyAuth,
    Path(id): Path<String>,
    Json(req): Json<HoldReason>,
) -> ApiResult<Json<HoldView>> {
    Ok(Json(
        holds::hold(&h, &Caller::from(auth), &id, &req.reason).await?,
    ))
}

/// Lifts the hold (auditors, with a reason): the next sweep takes what is due.
#[utoipa::path(post, path = "/api/v1/hearings/{id}/hold/release", params(("id" = String, Path)),
    request_body = HoldReason,
    responses((status = 204), (status = 403, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
async fn release_hold(
    State(h): State<Hearing>,
    auth: AnyAuth,
    Path(id): Path<String>,
    Json(req): Json<HoldReason>,
) -> ApiResult<StatusCode> {
    holds::release(&h, &Caller::from(auth), &id, &req.reason).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Runs the retention sweep now (administrators); what it did.
#[utoipa::path(post, path = "/api/v1/admin/retention/run",
    responses((status = 200, body = Report), (status = 403, body = crate::error::ErrorBody)))]
async fn run(State(h): State<Hearing>, _admin: AdminAuth) -> ApiResult<Json<Report>> {
    Ok(Json(run_once(&h, &h.retention).await?))
}
