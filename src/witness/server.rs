//! The witness's HTTP server (c2sp.org/tlog-witness): `POST /add-checkpoint` and the
//! monitoring read `GET /<hex SHA-256 of origin>/checkpoint`. Bodies over 64 KiB get 413.

use std::{future::Future, sync::Arc};

use axum::{
    Router,
    body::Bytes,
    extract::{DefaultBodyLimit, Path, State as AxState},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use ring::digest::{SHA256, digest};

use super::{
    request::{self, Logs, Reject},
    state::{Latest, State},
};
use crate::audit::cosign::Cosigner;

/// Largest request body accepted.
pub const MAX_BODY: usize = 64 * 1024;

/// A running witness's parts.
pub struct Witness {
    pub cosigner: Cosigner,
    pub logs: Logs,
    pub state: State,
}

type Shared = Arc<Witness>;

/// The router (exposed for in-process tests).
pub fn router(w: Shared) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .route("/{origin_hash}/checkpoint", get(latest_checkpoint))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(w)
}

/// Serves until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    w: Witness,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    axum::serve(listener, router(Arc::new(w)))
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

fn text(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

fn reject(r: Reject) -> Response {
    match r {
        Reject::Conflict(size) => (
            StatusCode::CONFLICT,
            [(header::CONTENT_TYPE, "text/x.tlog.size")],
            format!("{size}\n"),
        )
            .into_response(),
        Reject::BadRequest(_) => text(StatusCode::BAD_REQUEST, format!("{r}\n")),
        Reject::Forbidden(_) => text(StatusCode::FORBIDDEN, format!("{r}\n")),
        Reject::UnknownLog => text(StatusCode::NOT_FOUND, format!("{r}\n")),
        Reject::Unprocessable(_) => text(StatusCode::UNPROCESSABLE_ENTITY, format!("{r}\n")),
    }
}

fn internal(e: anyhow::Error) -> Response {
    tracing::error!(error = %e, "witness state");
    text(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal error\n".to_string(),
    )
}

async fn add_checkpoint(AxState(w): AxState<Shared>, body: Bytes) -> Response {
    let req = match request::parse(&body) {
        Ok(r) => r,
        Err(r) => return reject(r),
    };
    let signed = match request::check_signed(&req, &w.logs) {
        Ok(s) => s,
        Err(r) => return reject(r),
    };
    let origin = signed.checkpoint.origin.clone();
    let mut locked = w.state.lock().await;
    let stored = match locked.get(&origin).await {
        Ok(s) => s,
        Err(e) => return internal(e),
    };
    if let Err(r) =
        request::check_consistency(&req, &signed, stored.as_ref().map(|l| (l.size, l.root)))
    {
        if matches!(r, Reject::Unprocessable(_)) {
            // A validly signed checkpoint that does not follow from ours: evidence.
            tracing::warn!(origin, size = signed.checkpoint.size, reason = %r, note = %req.note, "witness: inconsistent checkpoint refused");
        }
        return reject(r);
    }
    let now = chrono::Utc::now().timestamp().max(1);
    let line = match w.cosigner.cosign(&signed.body, now as u64) {
        Ok(l) => l,
        Err(e) => return internal(anyhow::anyhow!("{e}")),
    };
    let latest = Latest {
        size: signed.checkpoint.size,
        root: signed.checkpoint.root,
        note: format!("{}{line}\n", req.note),
    };
    if let Err(e) = locked.put(&origin, &latest, now).await {
        return internal(e);
    }
    drop(locked);
    tracing::info!(origin, size = latest.size, "witness: cosigned");
    text(StatusCode::OK, format!("{line}\n"))
}

async fn latest_checkpoint(
    AxState(w): AxState<Shared>,
    Path(origin_hash): Path<String>,
) -> Response {
    let Some(origin) = w
        .logs
        .origins()
        .find(|o| hex::encode(digest(&SHA256, o.as_bytes())) == origin_hash)
    else {
        return text(StatusCode::NOT_FOUND, "unknown log\n".into());
    };
    match w.state.lock().await.get(origin).await {
        Ok(Some(l)) => text(StatusCode::OK, l.note),
        Ok(None) => text(StatusCode::NOT_FOUND, "never cosigned\n".into()),
        Err(e) => internal(e),
    }
}

#[cfg(test)]
#[path = "server_tests.rs"]
mod tests;
