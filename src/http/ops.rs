//! Operations endpoints: `/healthz`, `/readyz` and `/api/v1/openapi.json` on the public
//! listener; `/metrics` (with `/healthz`, `/readyz`) only on the operations listener
//! `ops.listen` (`[ops]`, loopback by default), so the internet never sees the metrics.

use std::sync::Arc;

use axum::{
    Router,
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
    routing::get,
};
use serde_json::json;

use crate::state::AppState;

fn health() -> Router<AppState> {
    Router::new()
        .route(
            "/healthz",
            get(|| async { axum::Json(json!({"status": "ok"})) }),
        )
        .route("/readyz", get(readyz))
}

/// The operations listener's routes: `/metrics`, `/healthz`, `/readyz`.
pub fn ops_router() -> Router<AppState> {
    health().route("/metrics", get(metrics))
}

/// `openapi`: the completed document (`super::openapi::document`).
pub fn router(openapi: Arc<serde_json::Value>) -> Router<AppState> {
    health().route(
        "/api/v1/openapi.json",
        get(move || async move { axum::Json(openapi.as_ref().clone()) }),
    )
}

/// Ready when the database takes a write (not only a read), the data directory takes a file
/// and Redis answers; otherwise 503 with `Retry-After` and what failed.
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let now = crate::clock::to_ms(state.clock.now());
    let probe = async {
        match tokio::time::timeout(PROBE_TIMEOUT, state.db.write_probe(now)).await {
            Ok(Ok(())) => "ok",
            Ok(Err(e)) if crate::store::fault::is_storage_fault(&e) => "not_writable",
            Ok(Err(_)) => "error",
            Err(_) => "timeout",
        }
    };
    let data_dir = state.config.server.data_dir.clone();
    let disk = async move {
        match tokio::task::spawn_blocking(move || crate::store::probe_dir(&data_dir)).await {
            Ok(Ok(())) => "ok",
            _ => "not_writable",
        }
    };
    let (db, dir, redis) = tokio::join!(probe, disk, state.kv.ping());
    let redis = if redis { "ok" } else { "unreachable" };
    let ready = db == "ok" && dir == "ok" && redis == "ok";
    let body = axum::Json(json!({"database": db, "data_dir": dir, "redis": redis}));
    if ready {
        (StatusCode::OK, body).into_response()
    } else {
        let retry = crate::error::RETRY_UNAVAILABLE_SECS.to_string();
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, retry)],
            body,
        )
            .into_response()
    }
}

const PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let body = state
        .metrics
        .as_ref()
        .map(|h| h.render())
        .unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}
