//! The relational store: one sqlx `Any` pool pair for SQLite (default, a WAL file in the data
//! dir) or PostgreSQL (`DATABASE_URL=postgres://…`), and the migrations of each backend.
//! Owns connections and schema; the SQL of each feature lives in that feature's module.

use std::{path::Path, time::Duration};

use anyhow::Context;
use secrecy::ExposeSecret;
use sqlx::{
    AnyPool, Connection, Executor,
    any::{AnyPoolOptions, install_default_drivers},
};

/// `[database]`: the URL (empty: SQLite in the data dir), the pool size and whether a write
/// is acknowledged only once fsynced.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct DatabaseConfig {
    /// A database URL may carry a password: kept secret.
    pub url: secrecy::SecretString,
    pub max_connections: u32,
    /// SQLite: a request that wrote answers only after the commit barrier's fsync (`durable`).
    /// `false` is today's benchmarks' "non-durable" mode, refused in production.
    #[serde(default = "yes")]
    pub durable_ack: bool,
    /// SQLite: how many write transactions of bookings may share one `BEGIN` … `COMMIT`, each
    /// in a savepoint (`group`); 1 gives each its own transaction.
    #[serde(default = "write_group")]
    pub write_group: usize,
}

fn write_group() -> usize {
    16
}

fn yes() -> bool {
    true
}

pub mod batch;
pub mod durable;
pub mod fault;
pub mod group;
mod migrations;
mod settings;
pub mod tx;
pub mod vault;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Reads go to `read`; writes and transactions to `write` (one connection on SQLite, so that
/// writers queue in-process instead of failing with SQLITE_BUSY). `barrier`: the commit
/// barrier of a SQLite file (`durable`); none on PostgreSQL, whose commits are fsynced.
/// `left_open`: raised by a SQLite write transaction dropped open (`tx`), lowered by the write
/// pool's release check once it has rolled it back. `group`: SQLite's write groups
/// (`group`), unless `write_group` is 1.
#[derive(Clone, Debug)]
pub struct Db {
    pub read: AnyPool,
    pub write: AnyPool,
    pub backend: Backend,
    pub barrier: Option<durable::Barrier>,
    pub left_open: tx::LeftOpen,
    pub group: Option<std::sync::Arc<group::Grouping>>,
}

pub use tx::Tx;

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
                let pool = postgres_pool_options(config.max_connections)
                    .connect(&url)
                    .await
                    .with_context(|| format!("cannot connect to PostgreSQL at {shown} (is it running? check DATABASE_URL)"))?;
                Ok(Db {
                    read: pool.clone(),
                    write: pool,
                    backend,
                    barrier: None,
                    left_open: tx::LeftOpen::default(),
                    group: None,
                })
            }
            Backend::Sqlite => {
                let left_open = tx::LeftOpen::default();
                let write = sqlite_pool(&url, 1, Some(left_open.clone()))
                    .await
                    .with_context(|| format!("cannot open SQLite database {shown}"))?;
                write.execute("PRAGMA journal_mode=WAL").await?;
                let read = sqlite_pool(&url, config.max_connections.max(2), None).await?;
                let barrier = match config.durable_ack {
                    true => settings::sqlite_file(&write).await?.map(durable::wal_flush),
                    false => None,
                }
                .map(durable::Barrier::new);
                let group = (config.write_group > 1).then(|| {
                    group::Grouping::new(write.clone(), left_open.clone(), config.write_group)
                });
                Ok(Db {
                    read,
                    write,
                    backend,
                    barrier,
                    left_open,
                    group,
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

    /// A write transaction (`tx`: on SQLite `BEGIN IMMEDIATE` on the one write connection).
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => {
                Tx::sqlite(self.write.acquire().await?, self.left_open.clone()).await
            }
            Backend::Postgres => Ok(Tx::driver(self.write.begin().await?)),
        }
    }

    /// A write transaction whose first statement is the read `first` (one statement, `$1…`
    /// bound to `args`), and the first row it read. On SQLite the `BEGIN IMMEDIATE` and the read
    /// go as one query: a booking holds the one write connection for one round trip less; and
    /// with write groups on, the transaction is a member of a group (`group`): its commit
    /// returns once the group's `COMMIT` is done.
    pub async fn begin_reading(
        &self,
        first: &str,
        args: &[batch::Arg],
    ) -> Result<(Tx, Option<sqlx::any::AnyRow>), sqlx::Error> {
        match self.backend {
            Backend::Sqlite => match &self.group {
                Some(g) => g.begin(first, args).await,
                None => {
                    let conn = self.write.acquire().await?;
                    Tx::sqlite_reading(conn, self.left_open.clone(), first, args).await
                }
            },
            Backend::Postgres => {
                let mut tx = self.begin().await?;
                let q = batch::bind(sqlx::query(sqlx::AssertSqlSafe(first.to_string())), args);
                let row = q.fetch_optional(&mut *tx).await?;
                Ok((tx, row))
            }
        }
    }

    /// Returns once every commit made before the call is on disk: on SQLite it waits for the
    /// commit barrier's next fsync (group commit: one fsync for all waiting); on PostgreSQL
    /// (`synchronous_commit` on, checked at start) and without a barrier it returns at once.
    /// A failed fsync is a storage fault (`sqlx::Error::Io`: 503 `storage_unavailable`).
    pub async fn durable(&self) -> Result<(), sqlx::Error> {
        match &self.barrier {
            Some(b) => b.wait().await.map_err(sqlx::Error::Io),
            None => Ok(()),
        }
    }

    /// What makes this database's acknowledged commits not durable, if anything (PostgreSQL
    /// `synchronous_commit = off` or `fsync = off`; SQLite with `durable_ack = false`).
    pub async fn durability_problem(&self) -> Result<Option<String>, sqlx::Error> {
        match self.backend {
            Backend::Postgres => settings::postgres_problem(&self.read).await,
            Backend::Sqlite if self.barrier.is_none() => Ok(Some(
                "database.durable_ack = false: a write is answered before it is fsynced".into(),
            )),
            Backend::Sqlite => Ok(None),
        }
    }

    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.read).await.is_ok()
    }

    /// A real write: the one-row `heartbeat` updated in a committed write transaction, made
    /// durable. `/readyz` uses it, because a database that still answers reads may refuse every
    /// write (full disk, read-only file system) or every fsync (a poisoned barrier).
    pub async fn write_probe(&self, now_ms: i64) -> Result<(), sqlx::Error> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE heartbeat SET at = $1 WHERE id = 1")
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.durable().await
    }
}

/// How long a PostgreSQL connection may sit idle in the pool and still be handed out without
/// a ping first.
const PG_TRUSTED_IDLE: Duration = Duration::from_secs(1);

/// The PostgreSQL pool, without sqlx's pings around every statement (issue 18 §2: with them a
/// statement made three round trips, and a morning release's refusals queued behind them):
/// - none before use unless the connection has been idle for [`PG_TRUSTED_IDLE`] or more (a
///   server restart or a lost network while it waited);
/// - none after use (`test_on_release(false)`, our patch of sqlx-core: vendor/README.md). A
///   statement that finds its connection broken (a transport error, SQLSTATE 08 or 57P) fails
///   (503) and its connection is closed instead of going back (the patched `AnyConnection`
///   notes the error, the pool closes it); a connection with a dropped transaction's ROLLBACK
///   queued is still pinged on release, which sends it (else the transaction's locks stayed
///   held until someone used that idle connection again).
fn postgres_pool_options(max: u32) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(10))
        .test_before_acquire(false)
        .test_on_release(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= PG_TRUSTED_IDLE {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
        .after_release(|conn, _| Box::pin(fault::release_check(conn, None)))
}

/// A SQLite pool. No ping before each acquire nor after each release (`test_on_release`, our
/// patch of sqlx-core: vendor/README.md): a SQLite connection is a thread of this process over
/// a local file, not a socket that can go stale between uses, its commands run in order, and
/// each ping is a round trip to that thread (on the one write connection it lengthened every
/// write's turn: issue 18 §2). A failed statement is still a storage fault (503), and the
/// release check still keeps a connection left inside a transaction out of the pool, and rolls
/// back a write transaction of ours dropped open (`left_open`, the write pool's).
async fn sqlite_pool(
    url: &str,
    max: u32,
    left_open: Option<tx::LeftOpen>,
) -> anyhow::Result<AnyPool> {
    Ok(AnyPoolOptions::new()
        .max_connections(max)
        .test_before_acquire(false)
        .test_on_release(false)
        .acquire_timeout(Duration::from_secs(30))
        .after_release(move |conn, _| {
            let left_open = left_open.clone();
            Box::pin(async move { fault::release_check(conn, left_open.as_ref()).await })
        })
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
