//! Storage faults: which database errors mean "the store cannot take this write now" (a full
//! disk, an I/O error, a read-only file system, a lost connection) as opposed to a bad request
//! or a bug. The HTTP edge answers them 503 `storage_unavailable` with `Retry-After`, and the
//! pools never hand out again a connection whose transaction could not be ended.

use sqlx::{
    AnyConnection, Connection, Executor, error::DatabaseError, postgres::PgDatabaseError,
    sqlite::SqliteError,
};

use super::tx::{LeftOpen, no_transaction};

/// SQLite primary result codes that mean the storage, not the statement, failed:
/// BUSY, LOCKED, NOMEM, READONLY, IOERR, CORRUPT, FULL, CANTOPEN, PROTOCOL, NOTADB.
const SQLITE_STORAGE_CODES: &[i32] = &[5, 6, 7, 8, 10, 11, 13, 14, 15, 26];

/// PostgreSQL SQLSTATE classes of the same kind: connection exception (08), insufficient
/// resources (53, e.g. 53100 disk_full), operator intervention (57, e.g. admin shutdown),
/// system error (58, e.g. 58030 io_error); and 25006 read-only transaction.
const PG_STORAGE_CLASSES: &[&str] = &["08", "53", "57", "58"];

/// Whether `e` is a storage fault (retry later) rather than a client or programming error.
pub fn is_storage_fault(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::BeginFailed
        | sqlx::Error::Protocol(_)
        | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(db) => is_storage_db_error(db.as_ref()),
        _ => false,
    }
}

fn is_storage_db_error(db: &dyn DatabaseError) -> bool {
    if db.try_downcast_ref::<SqliteError>().is_some() {
        return db
            .code()
            .and_then(|c| c.parse::<i32>().ok())
            .is_some_and(sqlite_code_is_storage);
    }
    if let Some(pg) = db.try_downcast_ref::<PgDatabaseError>() {
        return pg_code_is_storage(pg.code());
    }
    false
}

/// Extended SQLite result code → storage fault (the primary code is its low byte).
pub fn sqlite_code_is_storage(extended: i32) -> bool {
    SQLITE_STORAGE_CODES.contains(&(extended & 0xff))
}

/// SQLSTATE → storage fault.
pub fn pg_code_is_storage(sqlstate: &str) -> bool {
    sqlstate == "25006" || PG_STORAGE_CLASSES.iter().any(|c| sqlstate.starts_with(c))
}

/// The pools' release check: a connection goes back to the pool only when no transaction is
/// left open on it. A COMMIT or ROLLBACK that failed (SQLite rolls back by itself on a full
/// disk, so the driver's ROLLBACK then fails and it still counts one open transaction) would
/// otherwise make every later `BEGIN` a nested savepoint of a transaction that never commits:
/// writes answered 2xx and then lost. A connection that counts no transaction goes back
/// without a round trip (neither pool lets sqlx ping it after this check: `test_on_release`).
/// One that counts one is pinged first: on SQLite the driver counts a dropped transaction until
/// its connection thread has run the ROLLBACK; on PostgreSQL it counts one whose COMMIT or
/// ROLLBACK failed. (A dropped PostgreSQL transaction is no longer counted once sqlx has queued
/// its ROLLBACK; the pool sends that queued ROLLBACK itself: vendor/README.md.)
/// `left_open` (the SQLite write pool's): a write transaction of ours (`tx::Tx`, which sqlx does
/// not count) was dropped open on this connection, and is rolled back here, before anyone else
/// can use it; a rollback that fails (other than finding no transaction) discards it.
pub async fn release_check(
    conn: &mut AnyConnection,
    left_open: Option<&LeftOpen>,
) -> Result<bool, sqlx::Error> {
    if left_open.is_some_and(LeftOpen::take) {
        match conn.execute("ROLLBACK").await {
            Err(e) if !no_transaction(&e) => {
                tracing::error!(error = %e, "discarding a database connection whose rollback failed");
                metrics::counter!("db_connections_discarded_total").increment(1);
                return Ok(false);
            }
            _ => {}
        }
    }
    if !conn.is_in_transaction() {
        return Ok(true);
    }
    conn.ping().await?;
    if conn.is_in_transaction() {
        tracing::error!("discarding a database connection left inside a transaction");
        metrics::counter!("db_connections_discarded_total").increment(1);
        return Ok(false);
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_codes() {
        assert!(sqlite_code_is_storage(13)); // SQLITE_FULL
        assert!(sqlite_code_is_storage(10 | (4 << 8))); // SQLITE_IOERR_WRITE
        assert!(sqlite_code_is_storage(8)); // SQLITE_READONLY
        assert!(!sqlite_code_is_storage(19)); // SQLITE_CONSTRAINT
        assert!(!sqlite_code_is_storage(2067)); // SQLITE_CONSTRAINT_UNIQUE
        assert!(!sqlite_code_is_storage(1)); // SQLITE_ERROR (bad SQL)
    }

    #[test]
    fn pg_codes() {
        assert!(pg_code_is_storage("53100")); // disk_full
        assert!(pg_code_is_storage("08006")); // connection_failure
        assert!(pg_code_is_storage("57P01")); // admin_shutdown
        assert!(pg_code_is_storage("58030")); // io_error
        assert!(pg_code_is_storage("25006")); // read_only_sql_transaction
        assert!(!pg_code_is_storage("23505")); // unique_violation
        assert!(!pg_code_is_storage("42601")); // syntax_error
    }

    #[test]
    fn non_database_errors() {
        assert!(is_storage_fault(&sqlx::Error::PoolTimedOut));
        assert!(is_storage_fault(&sqlx::Error::Io(std::io::Error::other(
            "disk"
        ))));
        assert!(!is_storage_fault(&sqlx::Error::RowNotFound));
    }
}
