//! `[auth]`: sessions, login throttles, password hashing and rules, the staff second factor (the
//! identity area's own section).

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
    /// The breached-password list (one per line); empty = the list shipped in
    /// `config/breached-passwords.txt` (src/identity/password_policy.rs).
    #[serde(default)]
    pub breached_passwords_file: String,
    /// A staff session unused for longer than this answers 401 `session_expired`.
    pub staff_idle_timeout_s: u64,
    /// The issuer shown in the authenticator app (no `:`).
    pub totp_issuer: String,
    /// Staff must enrol TOTP (always so in `production` mode).
    pub totp_required: bool,
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
