//! The HTTP layer: the one router (assembled in `routes`), the JSON extractor with our error
//! shape, middleware (request ids, tracing spans on the matched route, metrics, security
//! headers, body limits), operations endpoints and the embedded web pages.

mod client_ip;
mod json;
mod middleware;
mod ops;
pub mod routes;
mod web;

use axum::{Router, extract::DefaultBodyLimit};

pub use client_ip::ClientIp;
pub use json::Json;

use crate::state::AppState;

/// The whole application: API + pages + middleware.
pub fn app(state: AppState) -> Router {
    let limit = state.config.server.body_limit_bytes;
    let (api, openapi) = routes::api().split_for_parts();
    let openapi = std::sync::Arc::new(openapi);
    let router = api
        .merge(ops::router(openapi))
        .fallback(web::serve)
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state.clone());
    middleware::wrap(router, &state)
}
