//! The SMS provider abstraction: what a provider is asked to send (`Outgoing`), how it answers
//! (`Accepted` or a classified `SendError`), and the `Provider` trait the outbox worker drives.
//! The concrete providers live in `console.rs`, `tencent.rs` and `aliyun.rs`; retry, backoff and
//! failover policy live in the worker, which only reads the classification below.

use std::{future::Future, pin::Pin};

/// One message handed to a provider. `message_id` is the outbox id, sent to the provider as
/// `SessionContext` (Tencent) or `OutId` (Alibaba) so receipts and retries can be matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub message_id: String,
    /// Mainland number, 11 digits (no `+86`).
    pub phone: String,
    /// Template key (`login_code`, `hearing_code`, `booking_confirmation`, `booking_reminder`).
    pub template: String,
    /// Template parameters by name, in the template's order (Tencent uses the order, Alibaba the names).
    pub params: Vec<(String, String)>,
    /// The rendered text (what the console provider writes).
    pub text: String,
    /// The verification code carried by the message, if any (console outbox only).
    pub code: Option<String>,
}

/// The provider took the message; `provider_message_id` is its serial number / BizId.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub provider_message_id: String,
}

/// Why a send did not go through, classified for the worker's policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// No usable answer: connection refused, timeout, TLS, unreadable body. Retried; may fail over.
    #[error("transport error: {0}")]
    Transport(String),
    /// The provider answered 5xx (or its own internal-error code) before accepting. Retried; may fail over.
    #[error("provider unavailable: {code}: {message}")]
    Unavailable { code: String, message: String },
    /// The provider's per-number throttle (Tencent `LimitExceeded.*`, Alibaba
    /// `isv.BUSINESS_LIMIT_CONTROL`): recorded, not retried blindly, no failover.
    #[error("provider throttled the number: {code}: {message}")]
    Throttled { code: String, message: String },
    /// Our account's API request rate was exceeded: retried later on the same provider.
    #[error("provider rate limit: {code}: {message}")]
    RateLimited { code: String, message: String },
    /// Any other refusal (credentials, signature, template, number): permanent.
    #[error("provider rejected: {code}: {message}")]
    Rejected { code: String, message: String },
}

impl SendError {
    /// Transport errors and 5xx before acceptance are the only cases that go to the failover provider.
    pub fn may_fail_over(&self) -> bool {
        matches!(
            self,
            SendError::Transport(_) | SendError::Unavailable { .. }
        )
    }

    /// Whether the worker should try again later.
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            SendError::Transport(_) | SendError::Unavailable { .. } | SendError::RateLimited { .. }
        )
    }

    /// The provider's code, or `transport`.
    pub fn code(&self) -> &str {
        match self {
            SendError::Transport(_) => "transport",
            SendError::Unavailable { code, .. }
            | SendError::Throttled { code, .. }
            | SendError::RateLimited { code, .. }
            | SendError::Rejected { code, .. } => code,
        }
    }

    /// `Unavailable` for an HTTP 5xx answer (before any acceptance), else `None`.
    pub fn from_server_status(status: u16, body: &[u8]) -> Option<SendError> {
        (status >= 500).then(|| SendError::Unavailable {
            code: format!("http_{status}"),
            message: String::from_utf8_lossy(body).chars().take(200).collect(),
        })
    }

    pub(crate) fn from_reqwest(e: reqwest::Error) -> Self {
        SendError::Transport(e.without_url().to_string())
    }
}

/// A prepared HTTP request (what a provider would put on the wire), built by pure code so that
/// tests can compare it with known answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Prepared {
    /// Send it and return the status and body bytes; failures to talk are `Transport`.
    pub async fn execute(&self, client: &reqwest::Client) -> Result<(u16, Vec<u8>), SendError> {
        let method = reqwest::Method::from_bytes(self.method.as_bytes())
            .map_err(|e| SendError::Transport(e.to_string()))?;
        let mut req = client.request(method, &self.url).body(self.body.clone());
        for (k, v) in &self.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let resp = req.send().await.map_err(SendError::from_reqwest)?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await.map_err(SendError::from_reqwest)?;
        Ok((status, body.to_vec()))
    }
}

/// Unix seconds from the injectable clock (the signers put it into their requests).
pub type UnixNow = std::sync::Arc<dyn Fn() -> i64 + Send + Sync>;

/// `host[:port]` as an HTTP client sends it in the `Host` header for this URL.
pub fn host_header(url: &url::Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    }
}

pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<Accepted, SendError>> + Send + 'a>>;

/// A way to deliver an SMS.
pub trait Provider: Send + Sync {
    /// Stable name used in the outbox table and metrics labels (`console`, `tencent`, `aliyun`).
    fn name(&self) -> &'static str;
    fn send<'a>(&'a self, msg: &'a Outgoing) -> SendFuture<'a>;
}

/// Mask a phone number for logs: `138****5678` (anything that is not a phone: `****`).
pub fn mask_phone(phone: &str) -> String {
    crate::domain::PhoneNumber::parse(phone)
        .map(|p| p.masked())
        .unwrap_or_else(|_| "****".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("12345678901234"), "****");
    }

    #[test]
    fn failover_only_before_acceptance() {
        assert!(SendError::Transport("x".into()).may_fail_over());
        let t = SendError::Throttled {
            code: "LimitExceeded.PhoneNumberDailyLimit".into(),
            message: String::new(),
        };
        assert!(!t.may_fail_over());
        assert!(!t.retryable());
    }
}
