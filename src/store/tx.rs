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

use super::{
    batch::{self, Arg},
    group::{self, End, Group},
};

/// Raised when a SQLite write transaction is dropped open; the release check rolls it back.
#[derive(Debug, Clone, Default)]
pub struct LeftOpen(Arc<AtomicBool>);

impl LeftOpen {
    /// Counts a transaction of ours open on the write connection until [`LeftOpen::take`].
    pub fn raise(&self) {
        self.0.store(true, Ordering::Release);
    }

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

/// The one SQLite write connection inside `BEGIN IMMEDIATE`, until `open` is false; in a
/// savepoint of a write group's transaction when `group` is set (`group`). `conn` is taken
/// only when the transaction ends.
struct SqliteTx {
    conn: Option<PoolConnection<Any>>,
    open: bool,
    left_open: LeftOpen,
    group: Option<Group>,
}

impl SqliteTx {
    fn new(conn: PoolConnection<Any>, left_open: LeftOpen, group: Option<Group>) -> SqliteTx {
        SqliteTx {
            conn: Some(conn),
            open: true,
            left_open,
            group,
        }
    }

    fn conn(&mut self) -> &mut PoolConnection<Any> {
        match &mut self.conn {
            Some(c) => c,
            None => unreachable!("a transaction's connection is taken only as it ends"),
        }
    }

    /// The connection and group of a grouped transaction, which is then no longer open.
    fn take_group(&mut self) -> Option<(PoolConnection<Any>, Group)> {
        self.group.as_ref()?;
        let (conn, group) = (self.conn.take()?, self.group.take()?);
        self.open = false;
        Some((conn, group))
    }
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        if !self.open {
            return;
        }
        match self.take_group() {
            Some((conn, group)) => group::end_dropped(conn, group),
            None => self.left_open.raise(),
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
        let mut tx = SqliteTx::new(conn, left_open, None);
        tx.conn().execute("BEGIN IMMEDIATE").await?;
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
        let sql = format!("BEGIN IMMEDIATE;\n{first}");
        Tx::sqlite_begun(conn, left_open, None, &sql, args).await
    }

    /// A transaction on `conn` begun by `sql` (`args` bound: the `BEGIN` or a write group's
    /// savepoint, then a first read), a member of `group` if given, and the first row read; if
    /// `sql` fails, dropping it rolls back (or ends its turn in the group).
    pub(crate) async fn sqlite_begun(
        conn: PoolConnection<Any>,
        left_open: LeftOpen,
        group: Option<Group>,
        sql: &str,
        args: &[Arg],
    ) -> Result<(Tx, Option<AnyRow>), sqlx::Error> {
        let mut tx = SqliteTx::new(conn, left_open, group);
        let row = Tx::read_sql(tx.conn(), sql, args).await?;
        Ok((Tx(Inner::Sqlite(tx)), row))
    }

    /// The next member of a write group, given `conn` with its savepoint open.
    pub(crate) fn grouped(conn: PoolConnection<Any>, group: Group, left_open: LeftOpen) -> Tx {
        Tx(Inner::Sqlite(SqliteTx::new(conn, left_open, Some(group))))
    }

    /// A grouped transaction's connection and group, back from a writer that stopped waiting
    /// for it (its savepoint still open).
    pub(crate) fn into_group(self) -> Option<(PoolConnection<Any>, Group)> {
        match self.0 {
            Inner::Sqlite(mut tx) => tx.take_group(),
            Inner::Driver(_) => None,
        }
    }

    /// Runs `sql` (one or more statements, `$1…` bound to `args`) on `conn` to its end, and
    /// returns the first row it read. Every result is read (`fetch_optional` of the Any driver
    /// reads only the first statement's).
    pub(crate) async fn read_sql(
        conn: &mut AnyConnection,
        sql: &str,
        args: &[Arg],
    ) -> Result<Option<AnyRow>, sqlx::Error> {
        let q = batch::bind(sqlx::query(sqlx::AssertSqlSafe(sql.to_string())), args);
        let mut row = None;
        let mut results = conn.fetch_many(q);
        while let Some(r) = results.try_next().await? {
            if let (Either::Right(r), None) = (r, &row) {
                row = Some(r);
            }
        }
        Ok(row)
    }

    /// Runs `sql` (statements without arguments) on `conn` to its end.
    pub(crate) async fn run_sql(conn: &mut AnyConnection, sql: &str) -> Result<(), sqlx::Error> {
        Tx::read_sql(conn, sql, &[]).await.map(|_| ())
    }

    /// `ROLLBACK` on `conn`; finding no transaction open counts as done.
    pub(crate) async fn rollback_sql(conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
        match conn.execute("ROLLBACK").await {
            Err(e) if !no_transaction(&e) => Err(e),
            _ => Ok(()),
        }
    }

    /// sqlx's own transaction: PostgreSQL's writes, and read snapshots on either backend.
    pub fn driver(tx: sqlx::Transaction<'static, Any>) -> Tx {
        Tx(Inner::Driver(tx))
    }

    /// Commits. On an error the transaction is rolled back before its connection is reused.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self.0 {
            Inner::Driver(tx) => tx.commit().await,
            Inner::Sqlite(mut tx) => match tx.take_group() {
                Some((conn, group)) => group::end(conn, group, End::Commit).await,
                None => {
                    tx.conn().execute("COMMIT").await?;
                    tx.open = false;
                    Ok(())
                }
            },
        }
    }

    /// Rolls back now, and waits for it. On SQLite a transaction that SQLite already ended by
    /// itself (some errors end it) counts as rolled back.
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self.0 {
            Inner::Driver(tx) => tx.rollback().await,
            Inner::Sqlite(mut tx) => match tx.take_group() {
                Some((conn, group)) => group::end(conn, group, End::Rollback).await,
                None => {
                    Tx::rollback_sql(tx.conn()).await?;
                    tx.open = false;
                    Ok(())
                }
            },
        }
    }
}

impl Deref for Tx {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        match &self.0 {
            Inner::Sqlite(SqliteTx { conn: Some(c), .. }) => c,
            Inner::Sqlite(_) => unreachable!("a transaction's connection is taken only as it ends"),
            Inner::Driver(tx) => tx,
        }
    }
}

impl DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        match &mut self.0 {
            Inner::Sqlite(tx) => tx.conn(),
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
pub(crate) mod tests;
