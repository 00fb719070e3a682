//! Middleware: durable acknowledgement (`durable`), request ids, a tracing span per request
//! keyed on the matched route, request metrics, security headers and redaction of credentials
//! from logs.

use std::time::Instant;

use axum::{
    Router,
    extract::{MatchedPath, Request},
    http::{HeaderName, HeaderValue, header},
    middleware::{self, Next},
    response::Response,
};
use tower_http::{
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    sensitive_headers::SetSensitiveRequestHeadersLayer,
    set_header::SetResponseHeaderLayer,
    trace::TraceLayer,
};

use crate::state::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const CSP: &str = "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob: mediastream:; \
connect-src 'self' ws: wss:; style-src 'self' 'unsafe-inline'; script-src 'self' https://res.wx.qq.com; frame-ancestors 'none'; \
base-uri 'none'; form-action 'self'";

fn route_of(req: &Request) -> String {
    req.extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into())
}

async fn record_metrics(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = route_of(&req);
    let method = req.method().to_string();
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method, "route" => route)
        .record(start.elapsed().as_secs_f64());
    resp
}

/// The pages' cookie mode (`identity::cookie`): a login or logout asked for with
/// `X-Session-Mode: cookie` gets its session cookies (`Secure` in production).
async fn cookie_sessions(
    axum::extract::State(secure): axum::extract::State<bool>,
    req: Request,
    next: middleware::Next,
) -> axum::response::Response {
    if !req.headers().contains_key("x-session-mode") {
        return next.run(req).await;
    }
    let (headers, path) = (req.headers().clone(), req.uri().path().to_string());
    let res = next.run(req).await;
    crate::identity::cookie::issue(&headers, &path, res, secure).await
}

fn header_layer(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

pub fn wrap(router: Router, state: &AppState) -> Router {
    let trace = TraceLayer::new_for_http().make_span_with(|req: &Request| {
        let rid = req.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
        tracing::info_span!("request", method = %req.method(), route = %route_of(req), request_id = %rid)
    });
    // Innermost: the fsync wait is part of the request's latency in the metrics and the span.
    let mut router = router
        .layer(middleware::from_fn_with_state(
            state.db.clone(),
            super::durable::acknowledge,
        ))
        .layer(middleware::from_fn(record_metrics))
        .layer(middleware::from_fn_with_state(
            state.config.is_production(),
            cookie_sessions,
        ))
        .layer(trace)
        .layer(SetSensitiveRequestHeadersLayer::new([
            header::AUTHORIZATION,
            header::COOKIE,
            HeaderName::from_static("x-receipt-secret"),
        ]))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(header_layer(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header_layer(header::X_FRAME_OPTIONS, "DENY"))
        .layer(header_layer(header::REFERRER_POLICY, "no-referrer"))
        .layer(header_layer(header::CONTENT_SECURITY_POLICY, CSP))
        .layer(header_layer(
            HeaderName::from_static("permissions-policy"),
            "camera=(self), microphone=(self), geolocation=()",
        ))
        .layer(header_layer(header::CACHE_CONTROL, "no-store"));
    if state.config.is_production() {
        router = router.layer(header_layer(
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000",
        ));
    }
    router
}
