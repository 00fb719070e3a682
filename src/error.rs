//! The one error type of the HTTP layer. Client errors carry a stable `code`, a readable
//! message and optionally the offending `field`; internal errors are logged with context and
//! answered with a generic 500. Database constraint names map to stable codes here.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;

/// Unique/check constraint (or SQLite "table.column" / index name) → (status, code, message).
/// Modules add their rows here.
pub const CONSTRAINT_CODES: &[(&str, u16, &str, &str)] = &[
    (
        "hearings_one_live_per_booking",
        409,
        "hearing_exists",
        "this booking already has an open hearing",
    ),
    (
        "hearings.booking_id",
        409,
        "hearing_exists",
        "this booking already has an open hearing",
    ),
    (
        "staff_badge_key",
        409,
        "badge_taken",
        "this badge is already registered",
    ),
    (
        "staff.badge",
        409,
        "badge_taken",
        "this badge is already registered",
    ),
    (
        "bookings_one_active_per_citizen",
        409,
        "active_booking_exists",
        "the citizen already has an active booking",
    ),
    (
        "bookings.citizen_id",
        409,
        "active_booking_exists",
        "the citizen already has an active booking",
    ),
];

/// `Retry-After` of a 503 for an unreachable service (Redis, WeChat).
pub const RETRY_UNAVAILABLE_SECS: u64 = 5;
/// `Retry-After` of a 503 `storage_unavailable`: an operator has to free space or repair.
pub const RETRY_STORAGE_SECS: u64 = 30;

#[derive(Debug)]
pub struct AppError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    /// The numbers (and other values) the message speaks of, for pages to interpolate into
    /// their own text, e.g. `{"days": 7}`. Additive: absent when there are none.
    pub params: Option<serde_json::Value>,
    pub retry_after: Option<u64>,
}

pub type ApiResult<T> = Result<T, AppError>;

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The values the message speaks of (e.g. `{"days": 7}`), for pages to interpolate.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub params: Option<serde_json::Value>,
}

impl AppError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        AppError {
            status,
            code,
            message: message.into(),
            field: None,
            params: None,
            retry_after: None,
        }
    }
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
    /// Adds `params` (an object) to the error body.
    pub fn with_params(mut self, params: serde_json::Value) -> Self {
        self.params = Some(params);
        self
    }
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }
    pub fn unprocessable(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", message).with_field(field)
    }
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "not found")
    }
    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "your role may not do this",
        )
    }
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "log in first (missing or expired token)",
        )
    }
    pub fn throttled(code: &'static str, retry_after_secs: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            code,
            format!("too many requests; try again in {retry_after_secs} s"),
        );
        e.retry_after = Some(retry_after_secs.max(1));
        e
    }
    /// 503 `unavailable`: a backing service is down; try again in a few seconds.
    pub fn unavailable(message: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message);
        e.retry_after = Some(RETRY_UNAVAILABLE_SECS);
        e
    }
    /// 503 `storage_unavailable`: the database could not durably take the request (full disk,
    /// I/O error, read-only file system, lost connection). Nothing of it was kept.
    pub fn storage_unavailable(err: impl std::fmt::Display) -> Self {
        tracing::error!(error = %err, "storage unavailable");
        metrics::counter!("storage_unavailable_total").increment(1);
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage_unavailable",
            "the record could not be stored; nothing was saved, try again later",
        );
        e.retry_after = Some(RETRY_STORAGE_SECS);
        e
    }
    /// Logs the cause and answers a generic 500.
    pub fn internal(err: impl std::fmt::Display) -> Self {
        tracing::error!(error = %err, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        )
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for AppError {}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::warn!(code = self.code, "answering {}", self.status);
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message,
                field: self.field,
                params: self.params,
            },
        };
        let mut resp = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}

/// Maps a database error to a constraint code when one is known.
fn constraint_error(db: &dyn sqlx::error::DatabaseError) -> Option<AppError> {
    let name = db
        .constraint()
        .map(str::to_owned)
        .unwrap_or_else(|| db.message().to_owned());
    CONSTRAINT_CODES
        .iter()
        .find(|(c, ..)| name.contains(c))
        .map(|(_, status, code, msg)| {
            AppError::new(
                StatusCode::from_u16(*status).unwrap_or(StatusCode::CONFLICT),
                code,
                *msg,
            )
        })
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        if crate::store::fault::is_storage_fault(&e) {
            return AppError::storage_unavailable(format!("database: {e}"));
        }
        match &e {
            sqlx::Error::RowNotFound => AppError::not_found(),
            sqlx::Error::Database(db) => match constraint_error(db.as_ref()) {
                Some(mapped) => mapped,
                None => AppError::internal(format!("database: {e}")),
            },
            _ => AppError::internal(format!("database: {e}")),
        }
    }
}

impl From<redis::RedisError> for AppError {
    fn from(e: redis::RedisError) -> Self {
        if e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() {
            tracing::error!(error = %e, "redis unreachable");
            return AppError::unavailable("a backing service is unreachable, try again");
        }
        AppError::internal(format!("redis: {e}"))
    }
}

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        match e.downcast::<AppError>() {
            Ok(app) => app,
            Err(e) => {
                let storage = e.chain().any(|c| {
                    c.downcast_ref::<sqlx::Error>()
                        .is_some_and(crate::store::fault::is_storage_fault)
                });
                if storage {
                    AppError::storage_unavailable(format!("{e:#}"))
                } else {
                    AppError::internal(format!("{e:#}"))
                }
            }
        }
    }
}
