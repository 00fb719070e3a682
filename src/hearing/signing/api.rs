//! The signing endpoints: `GET /api/v1/hearings/{id}/transcript` (the latest inquiry version,
//! the corrections asked for; the citizen reads it before `transcript_ack`) and
//! `GET /api/v1/hearings/{id}/proof-of-service?format=pdf|html|json` (the sealed 送达回证).
//! The hearing's citizen, its brigade's officers and auditors; anyone else 404.

use axum::{
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    error::{ApiResult, AppError},
    hearing::{Hearing, HearingError, store, views::Caller},
    http::{Json, Path, Query},
    identity::AnyAuth,
};

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Hearing: axum::extract::FromRef<S>,
    crate::identity::Identity: axum::extract::FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(transcript))
        .routes(routes!(proof_of_service))
}

/// A correction the citizen asked for (`transcript_ack` with `accept: false`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Correction {
    /// The inquiry version it was asked about.
    pub version: i64,
    pub correction: String,
    pub at: String,
}

/// The inquiry transcript as the citizen reads it.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct TranscriptView {
    /// The latest version (1 the first; each correction request brings a new one); 0: none yet.
    pub version: i64,
    /// `[{q, a}]` of the latest version (`null` before the inquiry).
    #[schema(value_type = Option<Vec<crate::hearing::body::QaFields>>)]
    pub transcript: Value,
    /// The corrections asked for, oldest first.
    pub corrections: Vec<Correction>,
    /// The citizen accepted the latest version.
    pub accepted: bool,
}

/// The caller may read the hearing; any refusal is 404 (nothing is revealed).
async fn readable(state: &Hearing, auth: AnyAuth, id: &str) -> ApiResult<()> {
    let h = store::get(&state.db.read, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    Caller::from(auth)
        .can_read(&h)
        .map_err(|_| AppError::not_found())
}

/// The inquiry transcript's latest version and the corrections asked for (the hearing's citizen,
/// its brigade's officers, auditors; others 404).
#[utoipa::path(get, path = "/api/v1/hearings/{id}/transcript",
    responses((status = 200, body = TranscriptView), (status = 404, body = crate::error::ErrorBody)))]
async fn transcript(
    State(state): State<Hearing>,
    auth: AnyAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<TranscriptView>> {
    readable(&state, auth, &id).await?;
    Ok(Json(super::transcript(&state.db.write, &id).await?))
}

#[derive(Deserialize)]
pub struct ProofQuery {
    format: Option<String>,
}

/// The proof of service (送达回证) issued with the `receipt` step: print-ready A4 HTML
/// (default), `?format=pdf` (sealed PDF) or `?format=json` (its fields). The hearing's citizen,
/// its brigade's officers and auditors; others, or no receipt yet, 404.
#[utoipa::path(get, path = "/api/v1/hearings/{id}/proof-of-service",
    params(("format" = Option<String>, Query, description = "`html` (default), `pdf` or `json`")),
    responses((status = 200, content(("text/html"), ("application/pdf"), (super::proof::ProofFields = "application/json"))),
        (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn proof_of_service(
    State(state): State<Hearing>,
    auth: AnyAuth,
    Path(id): Path<String>,
    Query(q): Query<ProofQuery>,
) -> ApiResult<Response> {
    readable(&state, auth, &id).await?;
    let format = q.format.as_deref().unwrap_or("html");
    if !matches!(format, "html" | "pdf" | "json") {
        return Err(AppError::unprocessable("format", "html, pdf or json"));
    }
    let (fields, html, pdf) = super::proof::stored(&state.db.read, &id)
        .await?
        .ok_or(HearingError::NotFound)?;
    Ok(match format {
        "pdf" => (
            [
                (header::CONTENT_TYPE, "application/pdf".to_string()),
                (header::CACHE_CONTROL, "no-store".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"proof-of-service-{id}.pdf\""),
                ),
            ],
            pdf,
        )
            .into_response(),
        "json" => {
            let v: Value = serde_json::from_str(&fields).map_err(AppError::internal)?;
            Json(v).into_response()
        }
        _ => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            html,
        )
            .into_response(),
    })
}
