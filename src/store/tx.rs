//! A write transaction ([`Tx`]): on SQLite our own `BEGIN IMMEDIATE` … `COMMIT` on the one write
//! connection, on PostgreSQL sqlx's `Transaction`. Either way it dereferences to the connection
//! (`&mut **tx` is an executor) and rolls back when dropped uncommitted.
//!
//! Why not sqlx's transaction on SQLite: its `BEGIN` is a command of its own, so it cannot go
//! to the connection's thread together with the transaction's first statement; ours is SQL, and
//! [`Tx::sqlite_reading`] sends `BEGIN IMMEDIATE` and a first read as one query, one round trip
//! of the one writer's turn instead of two (a booking's: issue 18 §2, where each round trip to
//! that thread costs tens of µs of context switches on the project's VM). Also, sqlx's `BEGIN`
//! and `COMMIT` are a rendezvous (the connection's thread waits until the awaiting task has
//! taken the answer and acknowledged it: one more wake-up each), and its `BEGIN` is deferred,
//! where ours takes the write lock at once.
//!
//! sqlx does not count a transaction begun this way, so its rollback-on-drop does not apply: a
//! transaction dropped open (an error, a refusal, a cancelled request) raises [`LeftOpen`], and
//! the write pool's release check (`fault::release_check`) runs `ROLLBACK` before the connection
//! can be handed out again. The SQLite write pool has one connection, so one flag is enough.

use std::{
    ops::{Deref, DerefMut},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use futures::TryStreamExt;
use sqlx::{Any, AnyConnection, Either, Executor, any::AnyRow, pool::PoolConnection};

use super::batch::{self, Arg};

/// Raised when a SQLite write transaction is dropped open; the release check rolls it back.
#[derive(Debug, Clone, Default)]
pub struct LeftOpen(Arc<AtomicBool>);

impl LeftOpen {
    /// Whether a transaction was left open since the last call (and clears it).
    pub fn take(&self) -> bool {
        self.0.swap(false, Ordering::AcqRel)
    }
}

/// A write transaction; commit it with [`Tx::commit`].
pub struct Tx(Inner);

enum Inner {
    Sqlite(SqliteTx),
    /// sqlx's own (PostgreSQL writes, read snapshots).
    Driver(sqlx::Transaction<'static, Any>),
}

/// The one SQLite write connection inside `BEGIN IMMEDIATE`, until `open` is false.
struct SqliteTx {
    conn: PoolConnection<Any>,
    open: bool,
    left_open: LeftOpen,
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        if self.open {
            self.left_open.0.store(true, Ordering::Release);
        }
    }
}

impl Tx {
    /// Begins with `BEGIN IMMEDIATE` on `conn` (SQLite): the write lock is taken at once, so a
    /// writer of another process (the CLI) is waited for (`busy_timeout`) instead of failing the
    /// transaction half-way. Counted open before it is sent: a `BEGIN` whose caller stopped
    /// waiting may still run, and its rollback is then the release check's.
    pub(crate) async fn sqlite(
        conn: PoolConnection<Any>,
        left_open: LeftOpen,
    ) -> Result<Tx, sqlx::Error> {
        let mut tx = SqliteTx {
            conn,
            open: true,
            left_open,
        };
        tx.conn.execute("BEGIN IMMEDIATE").await?;
        Ok(Tx(Inner::Sqlite(tx)))
    }

    /// As [`Tx::sqlite`], with `first` (a read: a query of one statement and its arguments)
    /// sent in the same query after the `BEGIN`, one round trip to the connection's thread
    /// instead of two. A `BEGIN` that fails stops the query before `first` runs. Returns the
    /// first row `first` read, if any.
    pub(crate) async fn sqlite_reading(
        conn: PoolConnection<Any>,
        left_open: LeftOpen,
        first: &str,
        args: &[Arg],
    ) -> Result<(Tx, Option<AnyRow>), sqlx::Error> {
        let mut tx = SqliteTx {
            conn,
            open: true,
            left_open,
        };
        let sql = format!("BEGIN IMMEDIATE;\n{first}");
        let q = batch::bind(sqlx::query(sqlx::AssertSqlSafe(sql)), args);
        // every result to the end (`fetch_optional` of the Any driver reads only the first,
        // the BEGIN's)
        let mut row = None;
        let mut results = tx.conn.fetch_many(q);
        while let Some(r) = results.try_next().await? {
            if let (Either::Right(r), None) = (r, &row) {
                row = Some(r);
            }
        }
        drop(results);
        Ok((Tx(Inner::Sqlite(tx)), row))
    }

    /// sqlx's own transaction: PostgreSQL's writes, and read snapshots on either backend.
    pub fn driver(tx: sqlx::Transaction<'static, Any>) -> Tx {
        Tx(Inner::Driver(tx))
    }

    /// Commits. On an error the transaction is rolled back before its connection is reused.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self.0 {
            Inner::Driver(tx) => tx.commit().await,
            Inner::Sqlite(mut tx) => {
                tx.conn.execute("COMMIT").await?;
                tx.open = false;
                Ok(())
            }
        }
    }

    /// Rolls back now, and waits for it. On SQLite a transaction that SQLite already ended by
    /// itself (some errors end it) counts as rolled back.
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self.0 {
            Inner::Driver(tx) => tx.rollback().await,
            Inner::Sqlite(mut tx) => {
                match tx.conn.execute("ROLLBACK").await {
                    Err(e) if !no_transaction(&e) => return Err(e),
                    _ => tx.open = false,
                }
                Ok(())
            }
        }
    }
}

impl Deref for Tx {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        match &self.0 {
            Inner::Sqlite(tx) => &tx.conn,
            Inner::Driver(tx) => tx,
        }
    }
}

impl DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        match &mut self.0 {
            Inner::Sqlite(tx) => &mut tx.conn,
            Inner::Driver(tx) => tx,
        }
    }
}

/// Whether `e` is SQLite's "no transaction is active": a `ROLLBACK` after SQLite ended the
/// transaction by itself (some errors, a full disk among them) or after a `COMMIT` whose caller
/// stopped waiting.
pub fn no_transaction(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.message().contains("no transaction is active"))
}

#[cfg(test)]
#[path = "tx_tests.rs"]
mod tests;
