//! The HTTP layer: the app around the API router that `startup` composes, the JSON, path and
//! query extractors with our error shape, middleware (durable acknowledgement, request ids,
//! tracing spans on the matched route, metrics, security headers, body limits), operations
//! endpoints and the embedded web pages.

mod client_ip;
mod durable;
mod extract;
mod json;
mod middleware;
mod openapi;
mod ops;
pub mod range;
mod web;

use axum::{Router, extract::DefaultBodyLimit};

pub use client_ip::{ClientIp, ProxyNet};
pub use extract::{Path, Query};
pub use json::Json;

use crate::state::AppState;

/// The whole application: `api` (every module's routes, composed in `startup`) + operations
/// endpoints + pages + middleware.
pub fn app(state: AppState, api: utoipa_axum::router::OpenApiRouter<AppState>) -> Router {
    let limit = state.config.server.body_limit_bytes;
    let (api, spec) = api.split_for_parts();
    let spec = std::sync::Arc::new(openapi::document(&spec));
    let router = api
        .merge(ops::router(spec))
        .fallback(web::serve)
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state.clone());
    middleware::wrap(router, &state)
}

/// The operations listener's app (`ops.listen`): `/metrics`, `/healthz`, `/readyz`; anything
/// else 404.
pub fn ops_app(state: AppState) -> Router {
    ops::ops_router().with_state(state)
}
