//! `[records]`: the records area's own configuration — which adapter talks to the system of
//! record (`manual`, `fake` or `http`), where it is, the shared signing secret (redacted in
//! `Debug`), the per-attempt timeout and the retry budget.

use secrecy::SecretString;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct RecordsConfig {
    /// `manual` (no connection: facts typed by the citizen), `fake` (the local
    /// `remote-hearing records-fake`) or `http` (the platform).
    #[serde(default = "defaults::provider")]
    pub provider: String,
    /// Base URL of the platform (or of the fake), e.g. `http://127.0.0.1:8090`.
    #[serde(default)]
    pub url: String,
    /// The HMAC-SHA256 key shared with the platform (docs/records-api.md).
    #[serde(default)]
    pub secret: SecretString,
    /// Each attempt is cut after this many milliseconds.
    #[serde(default = "defaults::timeout_ms")]
    pub timeout_ms: u64,
    /// Further attempts after a timeout, a lost connection or a 5xx (0: one attempt only).
    #[serde(default = "defaults::retries")]
    pub retries: u32,
}

impl Default for RecordsConfig {
    fn default() -> Self {
        RecordsConfig {
            provider: defaults::provider(),
            url: String::new(),
            secret: SecretString::from(String::new()),
            timeout_ms: defaults::timeout_ms(),
            retries: defaults::retries(),
        }
    }
}

mod defaults {
    pub fn provider() -> String {
        "manual".into()
    }
    pub fn timeout_ms() -> u64 {
        3_000
    }
    pub fn retries() -> u32 {
        2
    }
}
