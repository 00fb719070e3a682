//! What the store reads from the database about durability: the SQLite file behind a pool (whose
//! `-wal` the commit barrier fsyncs) and PostgreSQL's `synchronous_commit` and `fsync`.

use std::path::PathBuf;

use sqlx::AnyPool;

/// The file of SQLite's main database, or `None` for an in-memory one (nothing to fsync).
pub async fn sqlite_file(pool: &AnyPool) -> Result<Option<PathBuf>, sqlx::Error> {
    let file: String =
        sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
            .fetch_one(pool)
            .await?;
    Ok(Some(PathBuf::from(file)).filter(|p| !p.as_os_str().is_empty()))
}

/// Why PostgreSQL would acknowledge a commit that a power cut can lose, if it would:
/// `synchronous_commit = off` (the commit returns before its WAL is flushed; every other value,
/// `local`, `remote_write`, `on`, `remote_apply`, flushes it locally first) or `fsync = off`
/// (nothing is ever flushed). Read on a pool connection, so a per-database or per-role setting
/// shows as it applies to ours.
pub async fn postgres_problem(pool: &AnyPool) -> Result<Option<String>, sqlx::Error> {
    let (sync, fsync): (String, String) =
        sqlx::query_as("SELECT current_setting('synchronous_commit'), current_setting('fsync')")
            .fetch_one(pool)
            .await?;
    Ok(problem(&sync, &fsync))
}

fn problem(synchronous_commit: &str, fsync: &str) -> Option<String> {
    let mut out = Vec::new();
    if synchronous_commit.eq_ignore_ascii_case("off") {
        out.push("synchronous_commit = off: a commit is answered before its WAL is flushed");
    }
    if fsync.eq_ignore_ascii_case("off") {
        out.push("fsync = off: PostgreSQL never flushes its writes to disk");
    }
    (!out.is_empty()).then(|| out.join("; "))
}

#[cfg(test)]
mod tests {
    use super::problem;

    #[test]
    fn only_off_loses_acknowledged_commits() {
        for ok in ["on", "local", "remote_write", "remote_apply"] {
            assert_eq!(problem(ok, "on"), None, "{ok}");
        }
        assert!(problem("off", "on").is_some_and(|p| p.contains("synchronous_commit")));
        assert!(problem("on", "off").is_some_and(|p| p.contains("fsync")));
        assert!(problem("OFF", "off").is_some_and(|p| p.contains(';')));
    }
}
