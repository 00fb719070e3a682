//! Identity: citizens (phone + SMS code; WeChat when configured), staff (officers, auditors,
//! admins: badge + argon2id password, bounded hashing, login throttles), sessions (random opaque tokens stored hashed, with an
//! expiry), and the per-role extractors every route uses to say who may call it.

mod admin;
pub mod auth;
pub mod citizens;
mod config;
pub mod cookie;
pub mod data_key;
pub mod login_throttle;
mod me;
pub mod password_policy;
pub mod passwords;
mod routes;
pub mod second_factor;
pub mod session_list;
pub mod sessions;
pub mod staff;
pub mod staff_admin;
mod staff_login;
pub mod totp;

use std::sync::Arc;

pub use auth::{
    AdminAuth, AnyAuth, AuditorAuth, CitizenAuth, OfficerAuth, ParticipantAuth, Role, StaffAuth,
};
pub use config::{AuthConfig, IdentityConfig};
pub use data_key::DataKey;
pub use routes::router;

use crate::{clock::SharedClock, kv::Kv, store::Db};

/// The identity area's sub-state: what its services and extractors use (the store, Redis for
/// the login throttles, the clock, `[auth]`, the password hasher). Cheap to clone; extractors
/// and entry points take any state it can be taken from (`AppState` implements `FromRef`).
#[derive(Debug, Clone)]
pub struct Identity {
    pub db: Db,
    pub kv: Kv,
    pub clock: SharedClock,
    pub config: Arc<AuthConfig>,
    /// The bounded argon2 password hasher.
    pub passwords: passwords::Hasher,
    /// The staff password rule with its breached list (loaded once at start).
    pub policy: password_policy::PasswordPolicy,
    /// Seals the staff TOTP secrets at rest (the key of the citizens' identity data).
    pub data_key: Arc<DataKey>,
    /// Staff must use TOTP (`production` mode, or `auth.totp_required`): an account without it
    /// gets an enrol-only session.
    pub totp_required: bool,
}

impl Identity {
    /// The sub-state; fails when `auth.breached_passwords_file` cannot be read.
    pub fn new(
        (db, kv, clock): (Db, Kv, SharedClock),
        config: &AuthConfig,
        data_key: Arc<DataKey>,
        production: bool,
    ) -> anyhow::Result<Identity> {
        Ok(Identity {
            db,
            kv,
            clock,
            config: Arc::new(config.clone()),
            passwords: passwords::Hasher::from_config(config),
            policy: password_policy::PasswordPolicy::from_config(config)?,
            data_key,
            totp_required: production || config.totp_required,
        })
    }
}
