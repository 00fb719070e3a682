//! `[auth]`: sessions, login throttles and password hashing (the identity area's own section).

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct AuthConfig {
    pub session_ttl_s: u64,
    /// Login attempts per (badge, address) per window.
    pub login_per_badge_ip: u64,
    /// Failed passwords per badge from all addresses per window (skipped by a second factor).
    pub login_per_badge: u64,
    /// Login attempts per address per window (staff and citizens).
    pub login_per_ip: u64,
    pub login_window_s: u64,
    /// argon2 hashes running at once (0 = one per CPU core).
    pub hash_concurrency: usize,
    /// Callers waiting for a hashing turn at most; more get 503.
    pub hash_queue: usize,
    /// How long a caller waits for a hashing turn at most before 503.
    pub hash_wait_ms: u64,
}

/// `[identity]`: the citizens' identity data (real name and ID number), encrypted at rest.
#[derive(Clone, Deserialize)]
pub struct IdentityConfig {
    /// AES-256-GCM key: 32 bytes as 64 hex characters or base64. Required in production; empty
    /// in development: generated once into `DATA_DIR/identity-data.key`.
    pub data_key: secrecy::SecretString,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        IdentityConfig {
            data_key: secrecy::SecretString::from(""),
        }
    }
}

impl std::fmt::Debug for IdentityConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityConfig")
            .field("data_key", &"<redacted>")
            .finish()
    }
}
