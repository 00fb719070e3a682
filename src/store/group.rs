//! Write groups on SQLite: the write transactions begun with `Db::begin_reading` (a booking's)
//! that queue for the one write connection run one after another inside one `BEGIN IMMEDIATE`
//! … `COMMIT`, each in a savepoint of its own. A booking's turn at the writer was `BEGIN` with
//! the citizen's facts, the batch, `COMMIT`; the `BEGIN` and the `COMMIT` (which writes the
//! transaction's pages to the WAL) were about two thirds of it (issue 18 §2). In a group they
//! are paid once for up to [`Grouping::max`] members.
//!
//! The rules:
//! - A member's commit releases its savepoint and returns only once the group's `COMMIT` is
//!   done, with an error if that failed: nothing is acknowledged before it is committed.
//! - A member that rolls back, or is dropped open (a refusal, an error, a cancelled request),
//!   has its savepoint rolled back; the other members' writes are not touched.
//! - An error that ends the transaction (SQLite ends it on a full disk or an I/O error; its
//!   savepoint is then gone) fails every member of the group that is still waiting: none of
//!   them was acknowledged.
//! - A group ends when nobody is waiting or it has [`Grouping::max`] members; the connection
//!   then goes back to the pool, where other writers (`Db::begin`, autocommit statements) queue
//!   with the next group's leader.
//! - The work between two members (closing one's savepoint, opening the next's with its first
//!   read, the `COMMIT`) runs in a task of its own, never in a request's future, so a cancelled
//!   request cannot stop a group half-way.
//! - A member reads what the members before it wrote, as a transaction after theirs would. If
//!   the group's `COMMIT` then fails (a storage fault), a member refused on those reads (a full
//!   slot) has had its 409 already; its own writes were nothing, and a retry finds the truth.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
};

use sqlx::{AnyPool, any::AnyRow, pool::PoolConnection};
use tokio::sync::oneshot;

use super::{
    batch::Arg,
    tx::{LeftOpen, Tx},
};

/// What ends a member's turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    Commit,
    Rollback,
}

/// A transaction's first read: one statement and its arguments.
struct First {
    sql: String,
    args: Vec<Arg>,
}

/// A writer waiting for its turn.
struct Waiting {
    first: First,
    reply: oneshot::Sender<Handoff>,
}

/// What a waiting writer is given: its turn in the running group (its transaction and first
/// row, or why it could not begin), or the lead of a new group. Either is passed on if the
/// writer has stopped waiting by the time it arrives: a turn's transaction ends its turn when
/// dropped, a lead passes itself on.
enum Handoff {
    Turn(Result<(Tx, Option<AnyRow>), sqlx::Error>),
    Lead(Leading),
}

#[derive(Default)]
struct State {
    running: bool,
    queue: VecDeque<Waiting>,
}

/// The SQLite write pool's groups (one per `Db`).
pub struct Grouping {
    state: Mutex<State>,
    write: AnyPool,
    left_open: LeftOpen,
    max: usize,
}

impl std::fmt::Debug for Grouping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Grouping").field("max", &self.max).finish()
    }
}

/// The group a member's transaction belongs to: its members so far and the committed ones
/// waiting for the group's `COMMIT`.
pub(crate) struct Group {
    grouping: Arc<Grouping>,
    members: usize,
    /// Groups run before this one on the same connection without releasing it.
    chained: usize,
    acks: Vec<oneshot::Sender<Result<(), String>>>,
}

/// How long a writer waits for its turn or lead: the write pool's `acquire_timeout`.
const WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// How many groups in a row may run on the write connection before it goes back to the pool,
/// where other writers wait (`pass`).
const CHAIN: usize = 4;

/// The savepoint each member runs in.
const OPEN: &str = "SAVEPOINT member";
const RELEASE: &str = "RELEASE member";
const UNDO: &str = "ROLLBACK TO member;\nRELEASE member";

impl Grouping {
    /// Groups of up to `max` members (at least 1) on the one-connection write pool `write`.
    pub fn new(write: AnyPool, left_open: LeftOpen, max: usize) -> Arc<Grouping> {
        Arc::new(Grouping {
            state: Mutex::default(),
            write,
            left_open,
            max: max.max(1),
        })
    }

    /// A write transaction whose first statement is the read `first`, and the first row it
    /// read: the next member of the running group, or the first of a new one.
    pub async fn begin(
        self: &Arc<Self>,
        first: &str,
        args: &[Arg],
    ) -> Result<(Tx, Option<AnyRow>), sqlx::Error> {
        let waiting = {
            let mut s = self.lock();
            if s.running {
                let (reply, rx) = oneshot::channel();
                let first = First {
                    sql: first.to_string(),
                    args: args.to_vec(),
                };
                s.queue.push_back(Waiting { first, reply });
                Some(rx)
            } else {
                s.running = true;
                None
            }
        };
        let leading = match waiting {
            None => Leading(Some(self.clone())),
            // as long as the pool's own wait for its connection (then 503)
            Some(rx) => match tokio::time::timeout(WAIT, rx).await {
                Err(_) => return Err(sqlx::Error::PoolTimedOut),
                Ok(Ok(Handoff::Turn(r))) => return r,
                Ok(Ok(Handoff::Lead(leading))) => leading,
                // every queued writer is answered before it is dropped
                Ok(Err(_)) => return Err(sqlx::Error::PoolClosed),
            },
        };
        self.lead(leading, first, args).await
    }

    /// Begins a new group with this writer as its first member.
    async fn lead(
        &self,
        leading: Leading,
        first: &str,
        args: &[Arg],
    ) -> Result<(Tx, Option<AnyRow>), sqlx::Error> {
        let conn = self.write.acquire().await?;
        // from here on the transaction's drop ends the group
        let group = Group {
            grouping: leading.defuse(),
            members: 1,
            chained: 0,
            acks: Vec::new(),
        };
        // a transaction open on the connection is rolled back by the pool's release check if
        // the group's task never ends it (a runtime shutting down)
        self.left_open.raise();
        let sql = format!("BEGIN IMMEDIATE;\n{OPEN};\n{first}");
        Tx::sqlite_begun(conn, self.left_open.clone(), Some(group), &sql, args).await
    }

    /// How many writers are waiting for a turn.
    #[cfg(test)]
    fn waiting(&self) -> usize {
        self.lock().queue.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The next writer waiting for a turn in the running group.
    fn pop(&self) -> Option<Waiting> {
        self.lock().queue.pop_front()
    }

    /// The running group is over: the first writer still waiting leads the next one.
    fn pass_on(self: &Arc<Self>) {
        let mut s = self.lock();
        while let Some(w) = s.queue.pop_front() {
            match w.reply.send(Handoff::Lead(Leading(Some(self.clone())))) {
                Ok(()) => return,
                // that writer has gone: the next one (not passed on from here, under the lock)
                Err(Handoff::Lead(gone)) => gone.forget(),
                Err(Handoff::Turn(_)) => {}
            }
        }
        s.running = false;
    }
}

/// The lead of a group not yet begun; passed on if it is dropped before its leader has a
/// transaction (a leader that stopped waiting, before or after it was given the lead).
struct Leading(Option<Arc<Grouping>>);

impl Leading {
    fn defuse(mut self) -> Arc<Grouping> {
        match self.0.take() {
            Some(g) => g,
            None => unreachable!("a lead is defused once"),
        }
    }

    /// Dropped without passing the lead on.
    fn forget(mut self) {
        self.0.take();
    }
}

impl Drop for Leading {
    fn drop(&mut self) {
        if let Some(g) = self.0.take() {
            g.pass_on();
        }
    }
}

/// Ends a member's turn, in a task of its own: `end` closes its savepoint, then the next
/// waiting writer gets the transaction, or the group commits. For a committed member, returns
/// once the group's `COMMIT` is done (its error, as a storage fault, if it failed).
pub(crate) async fn end(
    conn: PoolConnection<sqlx::Any>,
    mut group: Group,
    end: End,
) -> Result<(), sqlx::Error> {
    let (ack, acked) = oneshot::channel();
    if end == End::Commit {
        group.acks.push(ack);
    }
    let task = tokio::spawn(pass(conn, group, end));
    if end == End::Rollback {
        // rolled back either way: its savepoint, or the whole group's transaction
        let _ = task.await;
        return Ok(());
    }
    match acked.await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(why)) => Err(group_failed(why)),
        Err(_) => Err(group_failed("the group ended without an answer".into())),
    }
}

/// Ends a member's turn from its transaction's drop: in a task if there is a runtime, else the
/// pool's release check rolls the whole group back (its committed members are told it failed).
pub(crate) fn end_dropped(conn: PoolConnection<sqlx::Any>, group: Group) {
    match tokio::runtime::Handle::try_current() {
        Ok(rt) => {
            rt.spawn(pass(conn, group, End::Rollback));
        }
        Err(_) => {
            let grouping = group.grouping.clone();
            drop((conn, group));
            grouping.pass_on();
        }
    }
}

fn group_failed(why: String) -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::other(format!(
        "the write group's transaction failed: {why}"
    )))
}

/// The work between two members (module doc). A full group with a writer waiting commits and
/// begins the next group on the same connection, up to [`CHAIN`] groups in a row: handing the
/// connection back to the pool and taking it again costs each group a round of wake-ups, in
/// which the writer idles.
async fn pass(
    mut conn: PoolConnection<sqlx::Any>,
    mut group: Group,
    end: End,
) -> Result<(), sqlx::Error> {
    let mut close = if end == End::Commit { RELEASE } else { UNDO };
    loop {
        let Some(w) = group.grouping.pop() else {
            let r = commit(&mut conn, close).await;
            return settle(conn, group, r).await;
        };
        if w.reply.is_closed() {
            continue; // that writer has stopped waiting
        }
        let mut head = close;
        if group.members >= group.grouping.max {
            let r = commit(&mut conn, close).await;
            if r.is_err() || group.chained + 1 >= CHAIN {
                group.grouping.lock().queue.push_front(w);
                return settle(conn, group, r).await;
            }
            answer(&mut conn, &mut group, &r).await;
            group.grouping.left_open.raise();
            (group.members, group.chained) = (0, group.chained + 1);
            head = "BEGIN IMMEDIATE";
        }
        let sql = format!("{head};\n{OPEN};\n{}", w.first.sql);
        let row = match Tx::read_sql(&mut conn, &sql, &w.first.args).await {
            Ok(row) => row,
            // the group fails (whichever statement failed, its transaction is rolled back) and
            // the writer leads a new one, where its own first read is tried alone
            Err(e) => {
                group.grouping.lock().queue.push_front(w);
                return settle(conn, group, Err(group_failed(e.to_string()))).await;
            }
        };
        group.members += 1;
        let left_open = group.grouping.left_open.clone();
        let tx = Tx::grouped(conn, group, left_open);
        match w.reply.send(Handoff::Turn(Ok((tx, row)))) {
            Ok(()) => return Ok(()),
            // the writer stopped waiting: its savepoint is rolled back and the next one goes
            Err(Handoff::Turn(Ok((tx, _)))) => match tx.into_group() {
                Some((c, g)) => (conn, group, close) = (c, g, UNDO),
                None => return Ok(()),
            },
            Err(_) => return Ok(()),
        }
    }
}

/// Closes the last member's savepoint (`close`) and commits the group's transaction.
async fn commit(conn: &mut PoolConnection<sqlx::Any>, close: &str) -> Result<(), sqlx::Error> {
    Tx::run_sql(conn, &format!("{close};\nCOMMIT")).await
}

/// The group's end: its committed members are answered, the connection goes back to the
/// pool and the next waiting writer leads.
async fn settle(
    mut conn: PoolConnection<sqlx::Any>,
    mut group: Group,
    r: Result<(), sqlx::Error>,
) -> Result<(), sqlx::Error> {
    answer(&mut conn, &mut group, &r).await;
    drop(conn);
    group.grouping.pass_on();
    r
}

/// Answers the group's committed members with `r`, its `COMMIT`'s outcome; a failed group's
/// transaction is rolled back first.
async fn answer(
    conn: &mut PoolConnection<sqlx::Any>,
    group: &mut Group,
    r: &Result<(), sqlx::Error>,
) {
    let grouping = &group.grouping;
    metrics::histogram!("db_write_group_members").record(group.members as f64);
    let answer = match r {
        Ok(()) => {
            grouping.left_open.take();
            Ok(())
        }
        Err(e) => {
            tracing::warn!(error = %e, members = group.members, "a write group failed");
            match Tx::rollback_sql(conn).await {
                Ok(()) => {
                    grouping.left_open.take();
                }
                // the pool's release check rolls back or discards the connection
                Err(e) => tracing::error!(error = %e, "a failed write group's rollback failed"),
            }
            Err(e.to_string())
        }
    };
    for ack in group.acks.drain(..) {
        let _ = ack.send(answer.clone());
    }
}

#[cfg(test)]
#[path = "group_tests.rs"]
mod tests;
