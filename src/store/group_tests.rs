use std::{sync::Arc, time::Duration};

use sqlx::Executor;
use tokio::sync::Notify;

use crate::store::{
    Db, Tx,
    tx::tests::{db_grouping, ids, insert},
};

const FIRST: &str = "SELECT 1";

async fn begin(db: &Db) -> Result<Tx, sqlx::Error> {
    db.begin_reading(FIRST, &[]).await.map(|(tx, _)| tx)
}

/// A database with groups of up to `max` and the first member of a group, which has inserted
/// `id` and not committed.
async fn leading(max: usize, id: &str) -> (tempfile::TempDir, Db, Tx) {
    let dir = tempfile::tempdir().unwrap();
    let db = db_grouping(&dir, max).await;
    let mut first = begin(&db).await.unwrap();
    insert(&mut first, id).await.unwrap();
    (dir, db, first)
}

/// Waits until `n` writers are queued for a turn.
async fn queued(db: &Db, n: usize) {
    let g = db.group.clone().unwrap();
    for _ in 0..5000 {
        if g.waiting() == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!("{} writers queued, not {n}", g.waiting());
}

/// A writer queued behind the group: it begins, inserts `id`, waits for `go` if given, and
/// commits (or drops its transaction when `commit` is false).
fn writer(
    db: &Db,
    id: &'static str,
    go: Option<Arc<Notify>>,
    commit: bool,
) -> tokio::task::JoinHandle<Result<(), sqlx::Error>> {
    let db = db.clone();
    tokio::spawn(async move {
        let mut tx = begin(&db).await?;
        insert(&mut tx, id).await?;
        if let Some(go) = go {
            go.notified().await;
        }
        match commit {
            true => tx.commit().await,
            false => Ok(()),
        }
    })
}

/// A member's commit returns only once the group's COMMIT is done: until the last member has
/// finished, the first one's row is not visible and its commit has not returned.
#[tokio::test]
async fn a_member_is_answered_only_after_the_groups_commit() {
    let (_dir, db, first) = leading(16, "a").await;
    let go = Arc::new(Notify::new());
    let second = writer(&db, "b", Some(go.clone()), true);
    queued(&db, 1).await;
    let committing = tokio::spawn(first.commit());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !committing.is_finished(),
        "answered before the group committed"
    );
    assert!(ids(&db).await.is_empty(), "nothing is committed yet");
    go.notify_one();
    committing.await.unwrap().unwrap();
    second.await.unwrap().unwrap();
    assert_eq!(ids(&db).await, ["a", "b"]);
    assert!(!db.left_open.take(), "nothing left open");
}

/// A member dropped open (a refusal) or failing on a constraint has only its own writes
/// rolled back; the members before and after it commit.
#[tokio::test]
async fn a_refused_member_loses_only_its_own_writes() {
    let (_dir, db, first) = leading(16, "a").await;
    let refused = writer(&db, "refused", None, false);
    queued(&db, 1).await;
    let failing = {
        let db = db.clone();
        tokio::spawn(async move {
            let mut tx = begin(&db).await?;
            insert(&mut tx, "c-partial").await?;
            insert(&mut tx, "a").await?; // a duplicate of the first member's row
            tx.commit().await
        })
    };
    queued(&db, 2).await;
    let last = writer(&db, "d", None, true);
    queued(&db, 3).await;
    first.commit().await.unwrap();
    refused.await.unwrap().unwrap();
    let e = failing.await.unwrap().unwrap_err();
    assert!(e.to_string().contains("UNIQUE"), "{e}");
    last.await.unwrap().unwrap();
    assert_eq!(ids(&db).await, ["a", "d"]);
    assert!(!db.left_open.take(), "nothing left open");
}

/// When SQLite ends the group's transaction (as on a full disk: here a member's own ROLLBACK),
/// every member waiting for the COMMIT is told it failed, and nothing of theirs is committed;
/// the next writer begins a new group.
#[tokio::test]
async fn a_transaction_ended_under_the_group_fails_every_waiting_member() {
    let (_dir, db, first) = leading(16, "a").await;
    let breaker = {
        let db = db.clone();
        tokio::spawn(async move {
            let mut tx = begin(&db).await?;
            insert(&mut tx, "b").await?;
            tx.execute("ROLLBACK").await?;
            tx.commit().await
        })
    };
    queued(&db, 1).await;
    let e = first.commit().await.unwrap_err();
    assert!(crate::store::fault::is_storage_fault(&e), "{e}");
    assert!(breaker.await.unwrap().is_err());
    assert!(ids(&db).await.is_empty());
    let mut tx = begin(&db).await.unwrap();
    insert(&mut tx, "after").await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(ids(&db).await, ["after"]);
    assert!(!db.left_open.take(), "nothing left open");
}

/// A writer that stops waiting for its turn (a cancelled request) does not stall the group:
/// the next one gets the turn, and nothing of the one that left is written.
#[tokio::test]
async fn a_writer_that_stops_waiting_is_skipped() {
    let (_dir, db, first) = leading(16, "a").await;
    let gone = writer(&db, "gone", None, true);
    queued(&db, 1).await;
    let last = writer(&db, "c", None, true);
    queued(&db, 2).await;
    gone.abort();
    assert!(gone.await.unwrap_err().is_cancelled());
    first.commit().await.unwrap();
    last.await.unwrap().unwrap();
    assert_eq!(ids(&db).await, ["a", "c"]);
}

/// A full group commits without waiting for the writers queued after it: with groups of two,
/// the first two members are answered while the third holds its turn in the next group.
#[tokio::test]
async fn a_full_group_commits_and_the_next_writer_leads_a_new_one() {
    let (_dir, db, first) = leading(2, "a").await;
    let second = writer(&db, "b", None, true);
    queued(&db, 1).await;
    let go = Arc::new(Notify::new());
    let third = writer(&db, "c", Some(go.clone()), true);
    queued(&db, 2).await;
    first.commit().await.unwrap();
    second.await.unwrap().unwrap();
    assert_eq!(ids(&db).await, ["a", "b"]);
    go.notify_one();
    third.await.unwrap().unwrap();
    assert_eq!(ids(&db).await, ["a", "b", "c"]);
}

/// Many writers at once, a third of them refusing: every committed row is there, no refused
/// one, and other writers of the pool (autocommit statements) go in between the groups.
#[tokio::test]
async fn many_writers_commit_exactly_their_rows() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_grouping(&dir, 16).await;
    let mut hs = Vec::new();
    for i in 0..300 {
        let db = db.clone();
        hs.push(tokio::spawn(async move {
            if i % 10 == 0 {
                let mut w = db.write.acquire().await.unwrap();
                return insert(&mut w, &format!("auto{i:03}")).await;
            }
            let mut tx = begin(&db).await?;
            insert(&mut tx, &format!("tx{i:03}")).await?;
            match i % 3 {
                0 => {
                    drop(tx);
                    Ok(())
                }
                _ => tx.commit().await,
            }
        }));
    }
    for h in hs {
        h.await.unwrap().unwrap();
    }
    let want: Vec<String> = (0..300)
        .filter_map(|i| match (i % 10, i % 3) {
            (0, _) => Some(format!("auto{i:03}")),
            (_, 0) => None,
            _ => Some(format!("tx{i:03}")),
        })
        .collect();
    let mut want = want;
    want.sort();
    assert_eq!(ids(&db).await, want);
    assert!(!db.left_open.take(), "nothing left open");
}

/// Full groups run on without giving the connection back, but only for `CHAIN` groups in a
/// row: a writer waiting on the pool (an autocommit statement) gets its turn before a long
/// queue of group writers is through.
#[tokio::test]
async fn chained_groups_let_other_writers_in() {
    let (_dir, db, first) = leading(2, "first").await;
    let mut writers = Vec::new();
    for i in 0..30 {
        writers.push(writer(
            &db,
            Box::leak(format!("w{i:02}").into_boxed_str()),
            None,
            true,
        ));
        queued(&db, i + 1).await;
    }
    let auto = {
        let db = db.clone();
        tokio::spawn(async move {
            db.write
                .execute("INSERT INTO t (id) SELECT 'auto-after-' || count(*) FROM t")
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    first.commit().await.unwrap();
    for w in writers {
        w.await.unwrap().unwrap();
    }
    auto.await.unwrap().unwrap();
    let rows = ids(&db).await;
    assert_eq!(rows.len(), 32);
    let after: usize = rows
        .iter()
        .find_map(|r| r.strip_prefix("auto-after-"))
        .unwrap()
        .parse()
        .unwrap();
    // before the queue was through (31 rows), after at most CHAIN full groups of 2
    assert!(
        after < 31,
        "the autocommit writer waited for all {after} rows"
    );
    assert!(after <= 2 * super::CHAIN, "it waited for {after} rows");
    // and full groups went on without giving the connection back after the first
    assert!(
        after > 2,
        "only {after} rows before it: no group was chained"
    );
}

/// A writer given the lead of the next group that stops waiting before it takes it passes the
/// lead on: the writers after it are not left queued behind a group nobody leads.
#[tokio::test]
async fn a_lead_given_to_a_writer_that_stopped_waiting_is_passed_on() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_grouping(&dir, 16).await;
    // another writer holds the connection: the leader waits for it
    let held = db.write.acquire().await.unwrap();
    let mut leader = Box::pin(begin(&db));
    assert!(futures::poll!(&mut leader).is_pending());
    let mut gone = Box::pin(begin(&db));
    assert!(futures::poll!(&mut gone).is_pending());
    queued(&db, 1).await;
    let last = writer(&db, "c", None, true);
    queued(&db, 2).await;
    // the leader stops waiting: its lead goes to `gone`, which never takes it
    drop(leader);
    queued(&db, 1).await;
    drop(gone);
    drop(held);
    tokio::time::timeout(Duration::from_secs(5), last)
        .await
        .expect("the last writer got the lead")
        .unwrap()
        .unwrap();
    assert_eq!(ids(&db).await, ["c"]);
}
