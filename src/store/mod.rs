//! The relational store: one sqlx `Any` pool pair for SQLite (default, a WAL file in the data
//! dir) or PostgreSQL (`DATABASE_URL=postgres://…`), and the migrations of each backend.
//! Owns connections and schema; the SQL of each feature lives in that feature's module.

use std::{path::Path, time::Duration};

use anyhow::Context;
use secrecy::ExposeSecret;
use sqlx::{
    AnyPool, Executor,
    any::{AnyPoolOptions, install_default_drivers},
};

/// `[database]`: the URL (empty: SQLite in the data dir) and the pool size.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct DatabaseConfig {
    /// A database URL may carry a password: kept secret.
    pub url: secrecy::SecretString,
    pub max_connections: u32,
}

pub mod fault;
mod migrations;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Reads go to `read`; writes and transactions to `write` (one connection on SQLite, so that
/// writers queue in-process instead of failing with SQLITE_BUSY).
#[derive(Clone, Debug)]
pub struct Db {
    pub read: AnyPool,
    pub write: AnyPool,
    pub backend: Backend,
}

pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

impl Db {
    /// Connects to the configured database (creating the SQLite file if needed).
    /// `data_dir` holds the SQLite file when no URL is configured.
    pub async fn connect(config: &DatabaseConfig, data_dir: &Path) -> anyhow::Result<Db> {
        install_default_drivers();
        let url = database_url(config, data_dir);
        let backend = if url.starts_with("postgres") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        };
        let shown = redact_url(&url);
        match backend {
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(config.max_connections)
                    .acquire_timeout(Duration::from_secs(10))
                    .after_release(|conn, _| Box::pin(fault::release_check(conn)))
                    .connect(&url)
                    .await
                    .with_context(|| format!("cannot connect to PostgreSQL at {shown} (is it running? check DATABASE_URL)"))?;
                Ok(Db {
                    read: pool.clone(),
                    write: pool,
                    backend,
                })
            }
            Backend::Sqlite => {
                let write = sqlite_pool(&url, 1)
                    .await
                    .with_context(|| format!("cannot open SQLite database {shown}"))?;
                write.execute("PRAGMA journal_mode=WAL").await?;
                let read = sqlite_pool(&url, config.max_connections.max(2)).await?;
                Ok(Db {
                    read,
                    write,
                    backend,
                })
            }
        }
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        migrations::for_backend(self.backend)
            .run(&self.write)
            .await
            .context("running database migrations")?;
        Ok(())
    }

    /// A write transaction.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        self.write.begin().await
    }

    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.read).await.is_ok()
    }

    /// A real write: the one-row `heartbeat` updated in a committed write transaction. `/readyz`
    /// uses it, because a database that still answers reads may refuse every write (full disk,
    /// read-only file system).
    pub async fn write_probe(&self, now_ms: i64) -> Result<(), sqlx::Error> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE heartbeat SET at = $1 WHERE id = 1")
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }
}

async fn sqlite_pool(url: &str, max: u32) -> anyhow::Result<AnyPool> {
    Ok(AnyPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(30))
        .after_release(|conn, _| Box::pin(fault::release_check(conn)))
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute(
                    "PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;",
                )
                .await?;
                Ok(())
            })
        })
        .connect(url)
        .await?)
}

/// Writes, fsyncs and removes a small file in `dir`: fails on a read-only or full file system.
pub fn probe_dir(dir: &Path) -> std::io::Result<()> {
    use std::io::Write;
    let path = dir.join(".write-probe");
    let mut f = std::fs::File::create(&path)?;
    f.write_all(b"remote-hearing write probe\n")?;
    f.sync_all()?;
    drop(f);
    std::fs::remove_file(&path)
}

/// `DATABASE_URL`/config, or the SQLite file in the data dir.
pub fn database_url(config: &DatabaseConfig, data_dir: &Path) -> String {
    let url = config.url.expose_secret().trim().to_string();
    if !url.is_empty() {
        return url;
    }
    sqlite_url(&data_dir.join("remote-hearing.db"))
}

pub fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

/// Hides the password of a URL for messages.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}
