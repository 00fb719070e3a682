//! The HTTP edge of the access log: [`record`], the layer that appends every successful staff
//! read of a route in [`READS`] to the access log before the answer leaves (a read that cannot
//! be recorded is answered 503, never served unrecorded), and `GET /api/v1/audit/access`, the
//! auditors' search.

use axum::{
    extract::{FromRequestParts, MatchedPath, RawPathParams, Request, State},
    http::Method,
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{log, store};
use crate::{
    error::{ApiResult, AppError},
    http::{ClientIp, Query},
    identity::{AnyAuth, AuditorAuth},
    state::AppState,
};

/// What a read route reads: the object's kind and which path parameter names it.
#[derive(Clone, Copy)]
enum Object {
    /// `hearing:{id}`.
    Hearing,
    /// `recording:{id}`; its hearing from the `recordings` table.
    Recording,
    /// `evidence:{evidence_id}` of hearing `{id}`.
    Evidence,
}

/// The logged reads: route template (as routed), action, object.
const READS: [(&str, &str, Object); 10] = [
    ("/api/v1/hearings/{id}", "read_hearing", Object::Hearing),
    (
        "/api/v1/hearings/{id}/decision",
        "read_decision",
        Object::Hearing,
    ),
    (
        "/api/v1/hearings/{id}/transcript",
        "read_transcript",
        Object::Hearing,
    ),
    ("/api/v1/hearings/{id}/party", "read_party", Object::Hearing),
    (
        "/api/v1/hearings/{id}/proof-of-service",
        "read_proof_of_service",
        Object::Hearing,
    ),
    (
        "/api/v1/hearings/{id}/recordings",
        "list_recordings",
        Object::Hearing,
    ),
    (
        "/api/v1/recordings/{id}",
        "read_recording",
        Object::Recording,
    ),
    (
        "/api/v1/hearings/{id}/evidence/{evidence_id}",
        "read_evidence",
        Object::Evidence,
    ),
    (
        "/api/v1/audit/hearings/{id}/bundle",
        "read_bundle",
        Object::Hearing,
    ),
    (
        "/api/v1/audit/hearings/{id}",
        "read_hearing",
        Object::Hearing,
    ),
];

/// The layer (`axum::middleware::from_fn_with_state`, put on the API router by `startup`).
pub async fn record(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let read = req
        .extensions()
        .get::<MatchedPath>()
        .and_then(|m| READS.iter().find(|r| r.0 == m.as_str()))
        .filter(|_| req.method() == Method::GET);
    let Some(&(_, action, object)) = read else {
        return next.run(req).await;
    };
    // A player reads a recording in many ranges: the read is the one that starts at byte 0
    // (every whole read needs it), later ranges continue it and are not logged again.
    if matches!(object, Object::Recording) && continues_a_read(req.headers()) {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    // The session is cached in the request, so the handler's own extractor does not look again.
    let staff = AnyAuth::from_request_parts(&mut parts, &state)
        .await
        .ok()
        .filter(|a| a.is_staff());
    let ip = match ClientIp::from_request_parts(&mut parts, &state).await {
        Ok(ip) => ip.0,
        Err(_) => "unknown".into(),
    };
    let params: Vec<(String, String)> =
        match RawPathParams::from_request_parts(&mut parts, &state).await {
            Ok(p) => p
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            Err(_) => vec![],
        };
    let resp = next.run(Request::from_parts(parts, body)).await;
    let Some(staff) = staff.filter(|_| resp.status().is_success()) else {
        return resp;
    };
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let (object, hearing_id) = match object {
        Object::Hearing => (format!("hearing:{}", param("id")), Some(param("id"))),
        Object::Evidence => (
            format!("evidence:{}", param("evidence_id")),
            Some(param("id")),
        ),
        Object::Recording => {
            let hearing: Result<Option<String>, sqlx::Error> =
                sqlx::query_scalar("SELECT hearing_id FROM recordings WHERE id = $1")
                    .bind(param("id"))
                    .fetch_optional(&state.db.read)
                    .await;
            match hearing {
                Ok(h) => (format!("recording:{}", param("id")), h),
                Err(e) => return AppError::from(e).into_response(),
            }
        }
    };
    let access = store::Access {
        at_ms: crate::clock::to_ms(state.clock.now()),
        actor_role: staff.role.as_str().to_string(),
        actor_id: staff.subject_id,
        action,
        object,
        hearing_id,
        ip,
    };
    match log::record(&state.db, &access).await {
        Ok(()) => resp,
        Err(e) => {
            tracing::error!(action, object = %access.object, "a read could not be recorded; refused");
            e.into_response()
        }
    }
}

/// A `Range` request that does not start at the first byte.
fn continues_a_read(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().strip_prefix("bytes="))
        .is_some_and(|r| {
            r.split(',')
                .all(|one| one.trim().split('-').next() != Some("0"))
        })
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(access))
}

/// Most characters of `hearing_id` and `actor`.
const MAX_ID_CHARS: usize = 64;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccessQuery {
    /// Only reads of this hearing (its recordings, evidence, bundle… included).
    #[param(min_length = 1, max_length = 64)]
    hearing_id: Option<String>,
    /// Only reads by this staff member (their id).
    #[param(min_length = 1, max_length = 64)]
    actor: Option<String>,
    /// At most this many reads, newest first (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct AccessActor {
    role: String,
    id: String,
}

#[derive(Serialize, ToSchema)]
pub struct AccessRead {
    at: chrono::DateTime<chrono::Utc>,
    actor: AccessActor,
    /// `read_hearing`, `read_decision`, `read_transcript`, `read_party`,
    /// `read_proof_of_service`, `list_recordings`, `read_recording`, `read_evidence`,
    /// `read_bundle`.
    action: String,
    /// `hearing:ID`, `recording:ID` or `evidence:ID`.
    object: String,
    ip: String,
}

fn check_id(field: &str, v: Option<&str>) -> ApiResult<()> {
    match v.map(|s| s.chars().count()) {
        Some(n) if !(1..=MAX_ID_CHARS).contains(&n) => Err(AppError::unprocessable(
            field,
            format!("{field} must be 1 to {MAX_ID_CHARS} characters"),
        )),
        _ => Ok(()),
    }
}

/// Who read what (issue 15 §4): staff reads of hearings, recordings, evidence and bundles,
/// newest first. Auditors only.
#[utoipa::path(get, path = "/api/v1/audit/access", params(AccessQuery), responses((status = 200, body = Vec<AccessRead>)))]
async fn access(
    State(state): State<AppState>,
    _auth: AuditorAuth,
    Query(q): Query<AccessQuery>,
) -> ApiResult<axum::Json<Vec<AccessRead>>> {
    check_id("hearing_id", q.hearing_id.as_deref())?;
    check_id("actor", q.actor.as_deref())?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(AppError::unprocessable("limit", "limit must be 1 to 1000"));
    }
    // No stored id holds a NUL (PostgreSQL text cannot even bind one): nothing matches.
    if [&q.hearing_id, &q.actor]
        .iter()
        .any(|v| v.as_deref().is_some_and(|s| s.contains('\0')))
    {
        return Ok(axum::Json(vec![]));
    }
    let rows = store::list(
        &state.db,
        q.hearing_id.as_deref(),
        q.actor.as_deref(),
        limit,
    )
    .await?;
    Ok(axum::Json(
        rows.into_iter()
            .map(|r| AccessRead {
                at: crate::clock::from_ms(r.at_ms),
                actor: AccessActor {
                    role: r.actor_role,
                    id: r.actor_id,
                },
                action: r.action,
                object: r.object,
                ip: r.ip,
            })
            .collect(),
    ))
}
