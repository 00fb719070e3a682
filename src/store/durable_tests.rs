//! The barrier's logic with a flush the test holds and releases.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use tokio::{
    sync::{Semaphore, mpsc},
    task::JoinHandle,
};

use super::*;

/// A flush that reports each start and completes only when the test releases it.
struct Held {
    started: mpsc::UnboundedReceiver<u64>,
    release: Arc<Semaphore>,
    fail: Arc<AtomicBool>,
    barrier: Barrier,
}

fn held() -> Held {
    let (tx, started) = mpsc::unbounded_channel();
    let release = Arc::new(Semaphore::new(0));
    let fail = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let (r, f) = (release.clone(), fail.clone());
    let flush: Flush = Arc::new(move || {
        let n = count.fetch_add(1, Ordering::SeqCst) + 1;
        let _ = tx.send(n);
        let (r, f) = (r.clone(), f.clone());
        Box::pin(async move {
            r.acquire().await.map_err(io::Error::other)?.forget();
            if f.load(Ordering::SeqCst) {
                Err(io::Error::other("EIO"))
            } else {
                Ok(())
            }
        })
    });
    Held {
        started,
        release,
        fail,
        barrier: Barrier::new(flush),
    }
}

fn waiter(b: &Barrier) -> JoinHandle<io::Result<()>> {
    let b = b.clone();
    tokio::spawn(async move { b.wait().await })
}

async fn settle() {
    tokio::time::sleep(Duration::from_millis(20)).await;
}

async fn next_start(h: &mut Held) -> u64 {
    tokio::time::timeout(Duration::from_secs(5), h.started.recv())
        .await
        .expect("a flush starts")
        .expect("flush channel open")
}

#[tokio::test]
async fn no_waiter_returns_before_the_flush_it_waits_on() {
    let mut h = held();
    let a = waiter(&h.barrier);
    assert_eq!(next_start(&mut h).await, 1);
    settle().await;
    assert!(!a.is_finished(), "answered before its fsync completed");
    // B and C come while flush 1 runs: flush 1 started before their commits, so it does not
    // cover them.
    let b = waiter(&h.barrier);
    let c = waiter(&h.barrier);
    settle().await;
    h.release.add_permits(1);
    a.await.unwrap().unwrap();
    assert_eq!(next_start(&mut h).await, 2);
    settle().await;
    assert!(
        !b.is_finished() && !c.is_finished(),
        "covered by a flush that started before them"
    );
    h.release.add_permits(1);
    b.await.unwrap().unwrap();
    c.await.unwrap().unwrap();
    assert_eq!(h.barrier.flushed(), 3, "the newest ticket flushed is C's");
    // Nothing waits: no further flush.
    settle().await;
    assert!(h.started.try_recv().is_err());
}

#[tokio::test]
async fn many_waiters_share_one_flush() {
    let mut h = held();
    let first = waiter(&h.barrier);
    next_start(&mut h).await;
    let many: Vec<_> = (0..200).map(|_| waiter(&h.barrier)).collect();
    settle().await;
    h.release.add_permits(1);
    first.await.unwrap().unwrap();
    assert_eq!(next_start(&mut h).await, 2);
    h.release.add_permits(1);
    for w in many {
        w.await.unwrap().unwrap();
    }
    settle().await;
    assert!(
        h.started.try_recv().is_err(),
        "200 waiters, 2 flushes in all"
    );
}

#[tokio::test]
async fn a_failed_fsync_fails_its_waiters_and_every_later_one() {
    let mut h = held();
    let ok = waiter(&h.barrier);
    next_start(&mut h).await;
    h.release.add_permits(1);
    ok.await.unwrap().unwrap();
    h.fail.store(true, Ordering::SeqCst);
    let a = waiter(&h.barrier);
    next_start(&mut h).await;
    let b = waiter(&h.barrier);
    settle().await;
    h.release.add_permits(1);
    assert!(a.await.unwrap().is_err());
    assert!(
        b.await.unwrap().is_err(),
        "a waiter queued behind the failure fails too"
    );
    h.fail.store(false, Ordering::SeqCst);
    assert!(h.barrier.wait().await.is_err(), "poisoned until restart");
    assert!(h.barrier.failed().is_some_and(|e| e.contains("EIO")));
    settle().await;
    assert!(h.started.try_recv().is_err(), "no flush after the failure");
}

#[tokio::test]
async fn a_waiter_that_goes_away_does_not_stall_the_others() {
    let mut h = held();
    let gone = waiter(&h.barrier);
    next_start(&mut h).await;
    gone.abort();
    let b = waiter(&h.barrier);
    h.release.add_permits(2);
    b.await.unwrap().unwrap();
    let c = waiter(&h.barrier);
    next_start(&mut h).await;
    h.release.add_permits(1);
    c.await.unwrap().unwrap();
}

#[tokio::test]
async fn the_wal_flush_syncs_an_existing_wal_and_accepts_none() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("x.db");
    let flush = wal_flush(db.clone());
    flush().await.unwrap(); // no WAL yet
    std::fs::write(dir.path().join("x.db-wal"), b"frames").unwrap();
    flush().await.unwrap();
    flush().await.unwrap();
}
