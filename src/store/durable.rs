//! The commit barrier: durable acknowledgement with group commit. Writers commit without an
//! fsync (SQLite WAL, `synchronous=NORMAL`); a request that wrote waits on the barrier before
//! its 2xx leaves (`Db::durable`, the HTTP layer `http::durable`). A waiter takes a ticket;
//! while tickets are waiting one flush task runs: it notes the newest ticket, fsyncs, and
//! wakes every waiter up to that ticket. Tickets taken during a flush wait for the next one,
//! which starts as soon as the running one ends — one fsync covers every commit made before
//! it started, and under load the batch is whatever arrived during the previous fsync.
//!
//! A failed fsync poisons the barrier: Linux may have dropped the dirty pages it could not
//! write, so nothing committed since can be acknowledged any more; every wait fails (503) and
//! `/readyz` reports it until the process restarts (SQLite then recovers from what is on disk).
//!
//! Owns the barrier and the SQLite flush (`WalFlush`); the flush is injected, so the logic is
//! tested with a flush the test controls (`durable_tests.rs`).

use std::{
    future::Future,
    io,
    path::{Path, PathBuf},
    pin::Pin,
    sync::{Arc, Mutex},
};

use tokio::sync::watch;

/// One flush: makes every commit completed before it started durable.
pub type FlushFuture = Pin<Box<dyn Future<Output = io::Result<()>> + Send>>;
pub type Flush = Arc<dyn Fn() -> FlushFuture + Send + Sync>;

/// Where the waiters stand: every ticket ≤ `flushed` is durable; `failed` once a flush failed.
#[derive(Clone, Debug, Default)]
struct Progress {
    flushed: u64,
    failed: Option<Arc<str>>,
}

#[derive(Default)]
struct Tickets {
    /// The newest ticket handed out.
    issued: u64,
    /// A flush task is running (it exits when no ticket is left unflushed).
    running: bool,
}

struct Shared {
    flush: Flush,
    tickets: Mutex<Tickets>,
    progress: watch::Sender<Progress>,
}

/// The barrier. Cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct Barrier(Arc<Shared>);

impl std::fmt::Debug for Barrier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Barrier")
            .field("progress", &*self.0.progress.borrow())
            .finish()
    }
}

impl Barrier {
    pub fn new(flush: Flush) -> Barrier {
        Barrier(Arc::new(Shared {
            flush,
            tickets: Mutex::new(Tickets::default()),
            progress: watch::Sender::new(Progress::default()),
        }))
    }

    /// Returns once an fsync that started after this call has completed: every commit the
    /// caller finished before calling is then on disk. Fails if that (or any earlier) fsync
    /// failed.
    pub async fn wait(&self) -> io::Result<()> {
        let mut rx = self.0.progress.subscribe();
        if let Some(e) = &rx.borrow().failed {
            return Err(poisoned(e));
        }
        let (ticket, start) = {
            let mut t = self.0.tickets.lock().unwrap_or_else(|p| p.into_inner());
            t.issued += 1;
            let start = !t.running;
            t.running = true;
            (t.issued, start)
        };
        if start {
            tokio::spawn(run(self.0.clone()));
        }
        let p = rx
            .wait_for(|p| p.flushed >= ticket || p.failed.is_some())
            .await
            .map_err(|_| io::Error::other("commit barrier closed"))?;
        match &p.failed {
            Some(e) if p.flushed < ticket => Err(poisoned(e)),
            _ => Ok(()),
        }
    }

    /// The error of the flush that poisoned the barrier, if one failed.
    pub fn failed(&self) -> Option<String> {
        self.0
            .progress
            .borrow()
            .failed
            .as_deref()
            .map(str::to_owned)
    }

    /// The newest ticket made durable (tickets count the waits so far).
    pub fn flushed(&self) -> u64 {
        self.0.progress.borrow().flushed
    }
}

fn poisoned(e: &str) -> io::Error {
    io::Error::other(format!("an earlier fsync failed: {e}"))
}

/// The flush task: flushes while tickets are unflushed, then exits. Spawned, so a waiter that
/// goes away (a client that hung up) never leaves a flush half done.
async fn run(shared: Arc<Shared>) {
    let mut done = shared.progress.borrow().flushed;
    loop {
        let target = {
            let mut t = shared.tickets.lock().unwrap_or_else(|p| p.into_inner());
            if t.issued == done || shared.progress.borrow().failed.is_some() {
                t.running = false;
                return;
            }
            t.issued
        };
        let started = std::time::Instant::now();
        let result = (shared.flush)().await;
        metrics::histogram!("db_durable_flush_seconds").record(started.elapsed().as_secs_f64());
        metrics::histogram!("db_durable_flush_batch").record((target - done) as f64);
        match result {
            Ok(()) => {
                done = target;
                shared.progress.send_modify(|p| p.flushed = target);
            }
            Err(e) => {
                tracing::error!(error = %e, "fsync of the database failed: no write is acknowledged any more until a restart");
                metrics::counter!("db_durable_flush_failures_total").increment(1);
                shared
                    .progress
                    .send_modify(|p| p.failed = Some(Arc::from(e.to_string())));
            }
        }
    }
}

/// The SQLite flush: `fdatasync` of the database's `-wal` file, on a blocking thread. Every
/// commit is in the WAL until a checkpoint has copied it into the database file, and SQLite
/// fsyncs the WAL before and the database file after each checkpoint (also at
/// `synchronous=NORMAL`), and only restarts or deletes the WAL after a complete one: so an
/// fsync of the WAL file found at the path covers every commit made before it started. No WAL
/// file means no commit since the last complete checkpoint. The directory is fsynced too when a
/// WAL file is seen for the first time (its entry must survive as well). Only the `-wal` file
/// and the directory are opened: closing a descriptor of the database file itself would drop
/// this process's POSIX locks on it (SQLite keeps its locks on the database and `-shm` files).
pub fn wal_flush(db_file: PathBuf) -> Flush {
    let seen = Arc::new(Mutex::new(None::<(u64, u64)>));
    Arc::new(move || {
        let (db_file, seen) = (db_file.clone(), seen.clone());
        Box::pin(async move {
            tokio::task::spawn_blocking(move || sync_wal(&db_file, &seen))
                .await
                .map_err(io::Error::other)?
        })
    })
}

fn sync_wal(db_file: &Path, seen: &Mutex<Option<(u64, u64)>>) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let mut wal = db_file.as_os_str().to_owned();
    wal.push("-wal");
    let file = match std::fs::File::open(&wal) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    file.sync_data()?;
    let meta = file.metadata()?;
    let id = (meta.dev(), meta.ino());
    let mut seen = seen.lock().unwrap_or_else(|p| p.into_inner());
    if *seen != Some(id) {
        if let Some(dir) = db_file.parent() {
            std::fs::File::open(dir)?.sync_all()?;
        }
        *seen = Some(id);
    }
    Ok(())
}

#[cfg(test)]
#[path = "durable_tests.rs"]
mod tests;
