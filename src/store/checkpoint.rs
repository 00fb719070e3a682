//! SQLite WAL checkpoints off the writer: the write connection runs with `wal_autocheckpoint=0`
//! (`store::WRITER_PRAGMAS`), and this task copies the WAL back into the database file with a
//! `PASSIVE` checkpoint on a read connection every [`EVERY`] (issue 18 §2: an automatic
//! checkpoint ran inside whichever commit crossed 1,000 pages, holding the one writer for the
//! copy and two fsyncs while every queued booking waited). A passive checkpoint takes no write
//! lock: writers go on meanwhile, and the writer restarts the WAL from its beginning at its next
//! transaction once a checkpoint has copied all of it. Durability is unchanged: a commit is
//! durable when the WAL is fsynced (`durable`), whatever checkpoint follows.

use std::time::Duration;

use sqlx::AnyPool;

/// How often the WAL is checkpointed.
pub const EVERY: Duration = Duration::from_millis(200);

/// The running checkpointer; the task stops when the last [`crate::store::Db`] clone holding it
/// goes (so a dropped database leaves no task holding its connections open).
#[derive(Debug)]
pub struct Checkpointer(tokio::task::JoinHandle<()>);

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts the checkpointer of `read` (a SQLite pool).
pub fn spawn(read: AnyPool) -> Checkpointer {
    Checkpointer(tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if read.is_closed() {
                return;
            }
            if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&read)
                .await
            {
                tracing::warn!(error = %e, "WAL checkpoint failed; the next one retries");
            }
        }
    }))
}
