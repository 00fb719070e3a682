//! Redis: the connection manager and the key prefix every key carries (so that deployments
//! and tests share a server without touching each other's keys). Fails fast at start.

use anyhow::Context;
use redis::aio::ConnectionManager;
use secrecy::ExposeSecret;

/// `[redis]`: where Redis is and the prefix of every key.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct RedisConfig {
    pub url: secrecy::SecretString,
    pub prefix: String,
}

#[derive(Clone)]
pub struct Kv {
    conn: ConnectionManager,
    prefix: String,
}

impl std::fmt::Debug for Kv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kv")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl Kv {
    pub async fn connect(config: &RedisConfig) -> anyhow::Result<Kv> {
        let url = config.url.expose_secret().to_string();
        let shown = crate::store::redact_url(&url);
        let hint = || {
            format!(
                "cannot reach Redis at {shown} (start one with `redis-server --daemonize yes` or set REDIS_URL)"
            )
        };
        let client = redis::Client::open(url.as_str()).with_context(hint)?;
        let cfg = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(std::time::Duration::from_secs(3)))
            .set_number_of_retries(1);
        let mut conn = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            ConnectionManager::new_with_config(client, cfg),
        )
        .await
        .map_err(|_| anyhow::anyhow!("timed out"))
        .and_then(|r| r.map_err(anyhow::Error::from))
        .with_context(hint)?;
        let _: String = redis::cmd("PING")
            .query_async(&mut conn)
            .await
            .with_context(hint)?;
        Ok(Kv {
            conn,
            prefix: config.prefix.clone(),
        })
    }

    pub fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }

    /// `prefix:suffix`.
    pub fn key(&self, suffix: &str) -> String {
        format!("{}:{}", self.prefix, suffix)
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub async fn ping(&self) -> bool {
        let mut c = self.conn();
        let r: Result<String, _> = redis::cmd("PING").query_async(&mut c).await;
        r.is_ok()
    }
}
