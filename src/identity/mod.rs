//! Identity: citizens (phone + SMS code; WeChat when configured), staff (officers, auditors,
//! admins: badge + argon2id password, bounded hashing, login throttles), sessions (random opaque tokens stored hashed, with an
//! expiry), and the per-role extractors every route uses to say who may call it.

pub mod auth;
pub mod citizens;
mod config;
pub mod data_key;
pub mod login_throttle;
mod me;
pub mod passwords;
mod routes;
pub mod sessions;
pub mod staff;

pub use auth::{AdminAuth, AnyAuth, AuditorAuth, CitizenAuth, OfficerAuth, Role, StaffAuth};
pub use config::{AuthConfig, IdentityConfig};
pub use data_key::DataKey;
pub use routes::router;
