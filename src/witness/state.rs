//! The witness's own SQLite state (`<state dir>/witness.sqlite3`): per log origin, the latest
//! cosigned tree (size, root) and that checkpoint with its signatures (the log's and ours).
//!
//! One connection, behind a mutex held from the check to the write, with
//! `synchronous=FULL` and an exclusive lock on the file: the old-size check and the update are
//! atomic, a write is on disk before the answer goes out, and a second process cannot use the
//! same state.

use std::path::Path;

use sqlx::{
    ConnectOptions, Connection, Row, SqliteConnection,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteLockingMode, SqliteSynchronous},
};
use tokio::sync::{Mutex, MutexGuard};

/// File name of the database inside the state directory.
pub const DB_FILE: &str = "witness.sqlite3";

/// The latest cosigned checkpoint of one log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Latest {
    pub size: u64,
    pub root: [u8; 32],
    /// The checkpoint note with the log's signatures and our cosignature.
    pub note: String,
}

/// The state store.
pub struct State {
    conn: Mutex<SqliteConnection>,
}

/// The lock on the state: everything between `get` and `put` is atomic.
pub struct Locked<'a>(MutexGuard<'a, SqliteConnection>);

impl State {
    /// Opens (creating if needed) the state in `dir`.
    pub async fn open(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let mut conn = SqliteConnectOptions::new()
            .filename(dir.join(DB_FILE))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Delete)
            .synchronous(SqliteSynchronous::Full)
            .locking_mode(SqliteLockingMode::Exclusive)
            .connect()
            .await?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS witness_logs (
                origin TEXT PRIMARY KEY NOT NULL,
                size INTEGER NOT NULL CHECK (size >= 0),
                root BLOB NOT NULL CHECK (length(root) = 32),
                note TEXT NOT NULL,
                updated_at INTEGER NOT NULL
            )",
        )
        .execute(&mut conn)
        .await?;
        // Take the exclusive lock now: a second witness on this directory fails here.
        let mut tx = conn.begin().await?;
        sqlx::query("UPDATE witness_logs SET size = size WHERE 0")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    pub async fn lock(&self) -> Locked<'_> {
        Locked(self.conn.lock().await)
    }
}

impl Locked<'_> {
    /// The latest cosigned checkpoint of `origin`, if any.
    pub async fn get(&mut self, origin: &str) -> anyhow::Result<Option<Latest>> {
        let row = sqlx::query("SELECT size, root, note FROM witness_logs WHERE origin = ?")
            .bind(origin)
            .fetch_optional(&mut *self.0)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let size: i64 = row.try_get("size")?;
        let root: Vec<u8> = row.try_get("root")?;
        Ok(Some(Latest {
            size: u64::try_from(size)?,
            root: <[u8; 32]>::try_from(root)
                .map_err(|_| anyhow::anyhow!("stored root is not 32 bytes"))?,
            note: row.try_get("note")?,
        }))
    }

    /// Records `latest` as the newest cosigned checkpoint of `origin`, durably. Refuses (as
    /// a last line of defence) to move a log's size backwards.
    pub async fn put(&mut self, origin: &str, latest: &Latest, now: i64) -> anyhow::Result<()> {
        let size = i64::try_from(latest.size)?;
        let done = sqlx::query(
            "INSERT INTO witness_logs (origin, size, root, note, updated_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (origin) DO UPDATE SET size = excluded.size, root = excluded.root,
                 note = excluded.note, updated_at = excluded.updated_at
             WHERE witness_logs.size <= excluded.size",
        )
        .bind(origin)
        .bind(size)
        .bind(latest.root.as_slice())
        .bind(&latest.note)
        .bind(now)
        .execute(&mut *self.0)
        .await?;
        if done.rows_affected() != 1 {
            anyhow::bail!("refusing to roll back the witnessed size of {origin}");
        }
        Ok(())
    }
}
