//! The HTTP layer: the one router (assembled in `routes`), the JSON, path and query extractors
//! with our error shape, middleware (request ids, tracing spans on the matched route, metrics, security
//! headers, body limits), operations endpoints and the embedded web pages.

mod client_ip;
mod extract;
mod json;
mod middleware;
mod openapi;
mod ops;
pub mod routes;
mod web;

use axum::{Router, extract::DefaultBodyLimit};

pub use client_ip::ClientIp;
pub use extract::{Path, Query};
pub use json::Json;

use crate::state::AppState;

/// The whole application: API + pages + middleware.
pub fn app(state: AppState) -> Router {
    let limit = state.config.server.body_limit_bytes;
    let (api, spec) = routes::api().split_for_parts();
    let spec = std::sync::Arc::new(openapi::document(&spec));
    let router = api
        .merge(ops::router(spec))
        .fallback(web::serve)
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state.clone());
    middleware::wrap(router, &state)
}
