//! Configuration: the embedded `config/default.toml`, an optional file, then the environment
//! (`RH_<SECTION>__<KEY>`, plus `DATABASE_URL` and `REDIS_URL`). Owns no runtime state.

use std::path::{Path, PathBuf};

use figment::{
    Figment,
    providers::{Env, Format, Toml},
};
use secrecy::SecretString;
use serde::Deserialize;

/// The defaults compiled into the binary.
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

/// The whole configuration; one section per module.
#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub redis: RedisConfig,
    pub auth: AuthConfig,
    pub sms: SmsConfig,
    #[serde(default)]
    pub audit: AuditConfig,
    #[serde(default)]
    pub hearing: crate::hearing::HearingConfig,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Development,
    Production,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerConfig {
    pub listen: String,
    pub data_dir: PathBuf,
    pub mode: Mode,
    pub public_url: String,
    pub body_limit_bytes: usize,
    pub log_format: String,
    pub trust_forwarded_for: bool,
    /// Serve pages from this directory instead of the embedded copy (page development).
    #[serde(default)]
    pub web_dir: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseConfig {
    /// A database URL may carry a password: kept secret.
    pub url: SecretString,
    pub max_connections: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RedisConfig {
    pub url: SecretString,
    pub prefix: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AuthConfig {
    pub session_ttl_s: u64,
    pub login_per_subject: u64,
    pub login_per_ip: u64,
    pub login_window_s: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SmsConfig {
    pub provider: String,
    pub code_ttl_s: u64,
    pub max_attempts: u32,
    pub code_key: SecretString,
    pub resend_after_s: u64,
}

/// The signed audit log (src/audit).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct AuditConfig {
    /// The log's origin: checkpoint first line and signing key name.
    pub origin: String,
    /// PKCS#8 Ed25519 key file (`remote-hearing keygen`); required in production.
    pub key_file: PathBuf,
    /// Sign a checkpoint once this many entries are unsigned…
    pub checkpoint_every: u64,
    /// …or once the oldest unsigned entry has waited this long.
    pub checkpoint_interval_ms: u64,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            origin: "remote-hearing.localhost/audit".into(),
            key_file: PathBuf::new(),
            checkpoint_every: 256,
            checkpoint_interval_ms: 1000,
        }
    }
}

impl Config {
    /// Loads defaults, then `file` if given, then the environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Config> {
        let mut fig = Figment::from(Toml::string(DEFAULT_TOML));
        if let Some(path) = file {
            if !path.exists() {
                anyhow::bail!("config file {} does not exist", path.display());
            }
            fig = fig.merge(Toml::file(path));
        }
        fig = fig
            .merge(Env::prefixed("RH_").split("__"))
            .merge(
                Env::raw()
                    .only(&["DATABASE_URL"])
                    .map(|_| "database.url".into()),
            )
            .merge(Env::raw().only(&["REDIS_URL"]).map(|_| "redis.url".into()));
        fig.extract()
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))
    }

    /// The defaults alone (tests start from these).
    pub fn defaults() -> anyhow::Result<Config> {
        Figment::from(Toml::string(DEFAULT_TOML))
            .extract()
            .map_err(|e| anyhow::anyhow!("invalid default configuration: {e}"))
    }

    pub fn is_production(&self) -> bool {
        self.server.mode == Mode::Production
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse_and_debug_redacts_secrets() {
        let mut c = Config::defaults().unwrap();
        c.database.url = SecretString::from("postgres://u:hunter2@h/db");
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("hunter2"), "{dbg}");
        assert_eq!(c.sms.code_ttl_s, 300);
    }
}
