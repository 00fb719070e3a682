//! The citizen's proof file (issue 13 §4, docs/audit-format.md §13): `GET
//! /api/v1/hearings/{id}/proof` serves the hearing's audit bundle proving to a witnessed
//! checkpoint, for the citizen who owns the hearing to keep and to check on `/verify/`.
//! Handler only: the bundle is the audit area's (`Audit::witnessed_bundle`); it takes the whole
//! `AppState` (hearing and audit together), so `startup` merges its router beside the hearing's.

use axum::{
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::store;
use crate::{
    clock::to_ms,
    error::{ApiResult, AppError},
    http::Path,
    identity::CitizenAuth,
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(proof))
}

/// The hearing's proof file: its audit bundle (docs/audit-format.md §7) proving to the
/// checkpoint covering it that most witnesses cosigned, cosignatures included, as a download.
/// The hearing's citizen only; another citizen's hearing (or none) is 404.
#[utoipa::path(get, path = "/api/v1/hearings/{id}/proof",
    params(("id" = String, Path)),
    responses((status = 200, body = Object, content_type = "application/json"),
        (status = 404, body = crate::error::ErrorBody)))]
async fn proof(
    State(state): State<AppState>,
    citizen: CitizenAuth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    if id.is_empty() || id.len() > 128 {
        return Err(AppError::not_found());
    }
    let h = store::get(&state.db.read, &id)
        .await?
        .ok_or_else(AppError::not_found)?;
    if h.citizen_id != citizen.citizen_id {
        return Err(AppError::not_found());
    }
    let bundle = state
        .audit
        .witnessed_bundle(&state.db, &id, to_ms(state.clock.now()))
        .await?;
    let body = serde_json::to_vec_pretty(&bundle).map_err(AppError::internal)?;
    let name = format!("attachment; filename=\"proof-{id}.json\"");
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (header::CACHE_CONTROL, "no-store".to_string()),
            (header::CONTENT_DISPOSITION, name),
        ],
        body,
    )
        .into_response())
}
