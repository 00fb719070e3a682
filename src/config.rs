//! Configuration: the embedded `config/default.toml`, an optional file, then the environment
//! (`RH_<SECTION>__<KEY>`, plus `DATABASE_URL` and `REDIS_URL`). Owns no runtime state.

use std::path::{Path, PathBuf};

use figment::{
    Figment,
    providers::{Env, Format, Toml},
};
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
    /// The citizens' identity data, encrypted at rest (src/identity/data_key.rs).
    #[serde(default)]
    pub identity: crate::identity::IdentityConfig,
    pub sms: SmsConfig,
    #[serde(default)]
    pub audit: AuditConfig,
    #[serde(default)]
    pub hearing: crate::hearing::HearingConfig,
    #[serde(default)]
    pub booking: BookingConfig,
    /// The decision document: seal keys, the PDF's font.
    #[serde(default)]
    pub decision: crate::hearing::decision::DecisionConfig,
    /// WeChat mini-program login (enabled when `appid` is set).
    #[serde(default)]
    pub wechat: crate::sms::wechat::WechatSettings,
    pub call: crate::call::CallConfig,
    /// The system of record (src/records/): `manual`, `fake` or `http`.
    #[serde(default)]
    pub records: crate::records::RecordsConfig,
    /// The operations listener (`/metrics`), apart from the public one.
    #[serde(default)]
    pub ops: OpsConfig,
    /// How long closed hearings keep recordings and personal data (src/hearing/retention/).
    #[serde(default)]
    pub retention: crate::hearing::retention::RetentionConfig,
    /// The master key of the files at rest (src/store/vault.rs).
    #[serde(default)]
    pub storage: crate::store::vault::StorageConfig,
}

/// `[ops]`: the operations listener (`http::ops_app`: `/metrics`, `/healthz`, `/readyz`).
#[derive(Debug, Clone, Deserialize)]
pub struct OpsConfig {
    /// `HOST:PORT` of the listener serving `/metrics`; empty: no such listener (and no
    /// metrics endpoint at all).
    pub listen: String,
}

impl Default for OpsConfig {
    fn default() -> Self {
        OpsConfig {
            listen: DEFAULT_OPS_LISTEN.into(),
        }
    }
}

/// Loopback only: Prometheus on the same host, or an SSH tunnel.
pub const DEFAULT_OPS_LISTEN: &str = "127.0.0.1:9464";

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
    /// The proxies whose `X-Forwarded-For` is believed (addresses or networks); the client is
    /// the nearest hop that is not one of them (`http::client_ip`).
    #[serde(default = "loopback_proxies")]
    pub trusted_proxies: Vec<crate::http::ProxyNet>,
    /// Serve pages from this directory instead of the embedded copy (page development).
    #[serde(default)]
    pub web_dir: PathBuf,
    /// This process's id in the hearing → process map (empty: random at start).
    #[serde(default)]
    pub node_id: String,
    /// This process's own base URL, handed to clients sent here by another process (empty:
    /// `public_url`, else `http://` + the listener's address).
    #[serde(default)]
    pub node_url: String,
}

fn loopback_proxies() -> Vec<crate::http::ProxyNet> {
    ["127.0.0.1", "::1"]
        .iter()
        .filter_map(|s| crate::http::ProxyNet::parse(s))
        .collect()
}

pub use crate::{
    audit::AuditConfig, booking::BookingConfig, identity::AuthConfig, kv::RedisConfig,
    sms::SmsConfig, store::DatabaseConfig,
};

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
    use secrecy::SecretString;

    #[test]
    fn defaults_parse_and_debug_redacts_secrets() {
        let mut c = Config::defaults().unwrap();
        c.database.url = SecretString::from("postgres://u:hunter2@h/db");
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("hunter2"), "{dbg}");
        assert_eq!(c.sms.code_ttl_s, 300);
    }

    fn keys(prefix: &str, v: &serde_json::Value, out: &mut Vec<String>) {
        if let Some(map) = v.as_object() {
            for (k, v) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                if v.is_object() {
                    keys(&path, v, out)
                } else {
                    out.push(path)
                }
            }
        }
    }

    #[test]
    fn production_example_documents_every_key() {
        let load = |text: &str| -> serde_json::Value {
            Figment::from(Toml::string(text)).extract().unwrap()
        };
        let example = load(include_str!("../config/production.example.toml"));
        let mut wanted = vec![];
        keys("", &load(DEFAULT_TOML), &mut wanted);
        let mut have = vec![];
        keys("", &example, &mut have);
        let missing: Vec<_> = wanted.iter().filter(|k| !have.contains(k)).collect();
        assert!(
            missing.is_empty(),
            "config/production.example.toml lacks {missing:?}"
        );
        assert_eq!(example["server"]["mode"], "production");
        let typed: Config = Figment::from(Toml::string(include_str!(
            "../config/production.example.toml"
        )))
        .extract()
        .unwrap();
        assert!(typed.is_production());
    }
}
