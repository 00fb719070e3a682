//! The system of record (公安交通管理综合应用平台, the back end of 交管12123) behind one trait,
//! [`RecordsAdapter`] (issue 16): driver and vehicle look-ups, a plate's or driver's unhandled
//! violations, and writing a decision back. Implementations: [`http::HttpRecords`] (signed
//! requests, timeout, retry budget, validated answers; `records.provider = "http"`, or `"fake"`
//! pointed at `remote-hearing records-fake`, [`fake`]) and [`Manual`] (no connection: today's
//! typed-in facts). Owns `[records]` ([`RecordsConfig`]), the eligibility of the platform's
//! facts ([`eligibility`]) and the citizen's violations route ([`routes`]). Composed only in
//! `startup`. The HTTP contract: docs/records-api.md.

pub mod config;
pub mod eligibility;
pub mod fake;
pub mod fake_photo;
pub mod http;
pub mod model;
pub mod outbox;
pub mod routes;
pub mod signing;

use std::sync::Arc;

use async_trait::async_trait;

pub use config::RecordsConfig;
pub use routes::router;

use crate::{clock::SharedClock, error::AppError, identity::DataKey, store::Db};
use model::{Decision, Driver, Photo, Subject, Vehicle, Violations, WriteBack};

/// Why the system of record gave no usable answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordsError {
    /// `records.provider = "manual"`: there is no connection.
    #[error("no connection to the system of record (manual facts)")]
    Manual,
    /// Timeouts, lost connections or 5xx past the retry budget.
    #[error("the system of record is unavailable: {0}")]
    Unavailable(String),
    /// The platform does not know the driver, vehicle or record.
    #[error("unknown to the system of record: {0}")]
    NotFound(String),
    /// The platform refused our request (signature, 4xx).
    #[error("the system of record refused the request: {0}")]
    Refused(String),
    /// Malformed or inconsistent answer (bad JSON, negative fine, unknown record, …).
    #[error("the system of record answered something invalid: {0}")]
    Invalid(String),
}

impl From<RecordsError> for AppError {
    fn from(e: RecordsError) -> AppError {
        use axum::http::StatusCode;
        match e {
            RecordsError::Manual => AppError::conflict(
                "records_manual",
                "this brigade has no connection to the system of record; type the facts in",
            ),
            RecordsError::Unavailable(why) => {
                tracing::warn!(error = %why, "records unavailable");
                let mut err = AppError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "records_unavailable",
                    "the traffic management system is unavailable; nothing was changed, try again later",
                );
                err.retry_after = Some(crate::error::RETRY_UNAVAILABLE_SECS);
                err
            }
            RecordsError::NotFound(what) => AppError::new(
                StatusCode::NOT_FOUND,
                "records_not_found",
                format!("the traffic management system has no {what}"),
            ),
            RecordsError::Refused(why) | RecordsError::Invalid(why) => {
                tracing::error!(error = %why, "records answer refused");
                AppError::new(
                    StatusCode::BAD_GATEWAY,
                    "records_invalid",
                    "the traffic management system gave an answer that cannot be used",
                )
            }
        }
    }
}

/// What this server needs from the system of record.
#[async_trait]
pub trait RecordsAdapter: Send + Sync + std::fmt::Debug {
    /// `manual`, `fake` or `http`.
    fn provider(&self) -> &'static str;
    /// A driving licence by resident ID number and licence file number (档案编号).
    async fn driver(&self, id_number: &str, licence_file_no: &str) -> Result<Driver, RecordsError>;
    /// A vehicle by plate and plate type.
    async fn vehicle(&self, plate: &str, plate_type: &str) -> Result<Vehicle, RecordsError>;
    /// The unhandled violations of a driver or vehicle.
    async fn violations(&self, subject: &Subject) -> Result<Violations, RecordsError>;
    /// Writes a decision back (idempotent on `decision_no`).
    async fn write_back(&self, decision: &Decision) -> Result<WriteBack, RecordsError>;
    /// One evidence photo by a URL of a violation's `photos` (on the platform's origin only).
    async fn photo(&self, url: &str) -> Result<Photo, RecordsError>;
}

/// No connection: every call is [`RecordsError::Manual`].
#[derive(Debug, Clone, Copy)]
pub struct Manual;

#[async_trait]
impl RecordsAdapter for Manual {
    fn provider(&self) -> &'static str {
        "manual"
    }
    async fn driver(&self, _: &str, _: &str) -> Result<Driver, RecordsError> {
        Err(RecordsError::Manual)
    }
    async fn vehicle(&self, _: &str, _: &str) -> Result<Vehicle, RecordsError> {
        Err(RecordsError::Manual)
    }
    async fn violations(&self, _: &Subject) -> Result<Violations, RecordsError> {
        Err(RecordsError::Manual)
    }
    async fn write_back(&self, _: &Decision) -> Result<WriteBack, RecordsError> {
        Err(RecordsError::Manual)
    }
    async fn photo(&self, _: &str) -> Result<Photo, RecordsError> {
        Err(RecordsError::Manual)
    }
}

/// The adapter `config` names (`manual`, `fake`, `http`); `fake` is refused in production.
pub fn adapter(
    config: &RecordsConfig,
    production: bool,
) -> anyhow::Result<Arc<dyn RecordsAdapter>> {
    Ok(match config.provider.as_str() {
        "manual" => Arc::new(Manual),
        "fake" if production => {
            anyhow::bail!("records.provider = \"fake\" is refused in production")
        }
        "fake" => Arc::new(http::HttpRecords::new(config, "fake")?),
        "http" => Arc::new(http::HttpRecords::new(config, "http")?),
        other => anyhow::bail!(
            "records.provider must be \"manual\", \"fake\" or \"http\", not {other:?}"
        ),
    })
}

/// The records area's sub-state: the adapter, the eligibility limits, what the citizen's
/// route reads (the store and the identity key, for the citizen's ID number), and the
/// write-back outbox's clock and wake-up ([`outbox`]).
#[derive(Clone, Debug)]
pub struct Records {
    pub adapter: Arc<dyn RecordsAdapter>,
    pub limits: eligibility::Limits,
    pub db: Db,
    pub identity_key: Arc<DataKey>,
    pub clock: SharedClock,
    /// Wakes the outbox worker (after a decision's commit).
    pub wake: Arc<tokio::sync::Notify>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(provider: &str, url: &str, secret: &str) -> RecordsConfig {
        RecordsConfig {
            provider: provider.into(),
            url: url.into(),
            secret: secrecy::SecretString::from(secret),
            ..RecordsConfig::default()
        }
    }

    #[test]
    fn the_provider_is_chosen_and_checked_at_start() {
        assert_eq!(RecordsConfig::default().provider, "manual");
        let a = adapter(&RecordsConfig::default(), true).unwrap();
        assert_eq!(a.provider(), "manual");
        let fake = config("fake", "http://127.0.0.1:8090", "s3cret-value");
        assert_eq!(adapter(&fake, false).unwrap().provider(), "fake");
        assert!(adapter(&fake, true).is_err(), "fake in production");
        assert!(
            adapter(&config("http", "http://h", ""), true).is_err(),
            "no secret"
        );
        assert!(adapter(&config("http", "ftp://h", "s"), true).is_err());
        assert!(adapter(&config("soap", "http://h", "s"), false).is_err());
        // The secret never shows in Debug.
        assert!(!format!("{fake:?} {:?}", adapter(&fake, false).unwrap()).contains("s3cret"));
    }

    #[test]
    fn errors_map_to_stable_codes() {
        let code = |e: RecordsError| {
            let a = AppError::from(e);
            (a.status.as_u16(), a.code)
        };
        assert_eq!(code(RecordsError::Manual), (409, "records_manual"));
        assert_eq!(
            code(RecordsError::Unavailable("x".into())),
            (503, "records_unavailable")
        );
        assert_eq!(
            code(RecordsError::Invalid("x".into())),
            (502, "records_invalid")
        );
        assert_eq!(
            code(RecordsError::Refused("x".into())),
            (502, "records_invalid")
        );
        assert_eq!(
            code(RecordsError::NotFound("driver".into())),
            (404, "records_not_found")
        );
    }
}
