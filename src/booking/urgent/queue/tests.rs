//! The lane against a real Redis on 127.0.0.1:6379 (REDIS_URL overrides); skipped when none
//! answers. Each test works under its own key base and deletes it afterwards.

use super::*;

async fn conn() -> Option<(redis::aio::MultiplexedConnection, UrgentQueue)> {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let client = redis::Client::open(url).ok()?;
    let c = client.get_multiplexed_async_connection().await.ok()?;
    let base = format!(
        "test:{}:urgent",
        std::process::id() as u128 * 1000 + rand_suffix()
    );
    Some((c, UrgentQueue::new(base)))
}
/// Deletes every key of the test's lane.
async fn cleanup(c: &mut redis::aio::MultiplexedConnection, q: &UrgentQueue) {
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}:*", q.base))
        .query_async(c)
        .await
        .unwrap_or_default();
    if !keys.is_empty() {
        let _: redis::RedisResult<i64> = redis::cmd("DEL").arg(&keys).query_async(c).await;
    }
}
fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() % 1000)
        .unwrap_or(0)
}

#[tokio::test]
async fn claim_renew_release_expire() {
    let Some((mut c, q)) = conn().await else {
        return;
    };
    let b = "b1";
    assert!(q.enqueue(&mut c, b, "x", 3000).await.unwrap());
    assert!(!q.enqueue(&mut c, b, "x", 3000).await.unwrap()); // idempotent
    assert!(q.enqueue(&mut c, b, "y", 2000).await.unwrap());
    assert_eq!(q.list(&mut c, b, 0).await.unwrap().len(), 2);

    let cl = q.claim(&mut c, b, "o1", 100, 200).await.unwrap().unwrap();
    assert_eq!(
        (cl.booking_id.as_str(), cl.deadline_ms, cl.lease_until_ms),
        ("y", 2000, 200)
    );
    assert!(!q.enqueue(&mut c, b, "y", 2000).await.unwrap()); // claimed stays claimed
    assert_eq!(
        q.holder(&mut c, "y", 150)
            .await
            .unwrap()
            .unwrap()
            .officer_id,
        "o1"
    );
    assert!(!q.renew(&mut c, b, "y", "o2", 150, 400).await.unwrap());
    assert!(q.renew(&mut c, b, "y", "o1", 150, 400).await.unwrap());
    // Lease expires at 400: the item is back and claimable by another officer.
    assert_eq!(q.holder(&mut c, "y", 400).await.unwrap(), None);
    let items = q.list(&mut c, b, 400).await.unwrap();
    assert!(items.iter().all(|i| i.claimed_by.is_none()));
    assert!(!q.renew(&mut c, b, "y", "o1", 401, 600).await.unwrap());
    let cl = q.claim(&mut c, b, "o2", 401, 900).await.unwrap().unwrap();
    assert_eq!(cl.booking_id, "y");
    assert!(!q.release(&mut c, b, "y", "o1", 402).await.unwrap());
    assert!(q.release(&mut c, b, "y", "o2", 402).await.unwrap());
    assert_eq!(q.list(&mut c, b, 402).await.unwrap()[0].booking_id, "y");

    assert!(q.remove(&mut c, "y").await.unwrap());
    assert!(!q.remove(&mut c, "y").await.unwrap());
    let cl = q.claim(&mut c, b, "o1", 500, 900).await.unwrap().unwrap();
    assert_eq!(cl.booking_id, "x");
    assert_eq!(q.claim(&mut c, b, "o1", 500, 900).await.unwrap(), None);
    cleanup(&mut c, &q).await;
}

#[tokio::test]
async fn rebuild_and_sweep() {
    let Some((mut c, q)) = conn().await else {
        return;
    };
    let b = "b2";
    q.enqueue(&mut c, b, "stale", 10).await.unwrap();
    q.enqueue(&mut c, b, "held", 50).await.unwrap();
    let held = q.claim(&mut c, b, "o", 0, 1000).await.unwrap().unwrap();
    assert_eq!(held.booking_id, "stale");
    q.enqueue(&mut c, b, "held2", 60).await.unwrap();
    q.enqueue(&mut c, b, "heard", 70).await.unwrap();
    let w = |id: &str, dl: i64, by: Option<&str>| Wanted {
        booking_id: id.into(),
        deadline_ms: dl,
        held_by: by.map(String::from),
    };
    let items = vec![
        w("stale", 10, None),
        w("a", 5000, None),
        w("b", 7000, None),
        w("heard", 70, Some("oh")),
    ];
    // "held" and "held2" are not in the list: reported, not dropped; "stale" keeps its
    // lease; "heard" (an open hearing) is held by its hearing's officer.
    let mut r = q.rebuild(&mut c, b, &items, 1, 500).await.unwrap();
    r.added.sort();
    r.extra.sort();
    assert_eq!(r.added, ["a", "b"]);
    assert_eq!(r.restored, ["heard"]);
    assert_eq!(r.extra, ["held", "held2"]);
    for id in &r.extra {
        assert!(q.remove(&mut c, id).await.unwrap());
    }
    let l = q.list(&mut c, b, 1).await.unwrap();
    let ids: Vec<_> = l.iter().map(|i| i.booking_id.as_str()).collect();
    assert_eq!(ids, ["stale", "heard", "a", "b"]);
    assert_eq!(l[0].claimed_by.as_deref(), Some("o"));
    assert_eq!(l[1].claimed_by.as_deref(), Some("oh"));
    assert_eq!(l[1].lease_until_ms, Some(500));
    assert!(q.brigades(&mut c).await.unwrap().contains(&b.to_string()));
    // Again: nothing changes; a longer live lease of the same officer is kept.
    assert!(!q.hold(&mut c, b, "heard", 70, "oh", 1, 900).await.unwrap());
    let r = q.rebuild(&mut c, b, &items, 2, 600).await.unwrap();
    assert_eq!(r, Rebuilt::default());
    assert_eq!(
        q.holder(&mut c, "heard", 2)
            .await
            .unwrap()
            .unwrap()
            .lease_until_ms,
        900
    );
    assert!(q.remove(&mut c, "heard").await.unwrap());

    let s = q.sweep(&mut c, b, 1, 6000).await.unwrap();
    assert_eq!(
        (s.waiting, s.claimed, s.oldest_deadline_ms),
        (2, 1, Some(10))
    );
    assert_eq!(s.newly_alerted, ["a"]);
    let s = q.sweep(&mut c, b, 2, 8000).await.unwrap();
    assert_eq!(s.newly_alerted, ["b"]);
    let s = q.sweep(&mut c, b, 1000, 8000).await.unwrap(); // lease expired
    assert_eq!((s.waiting, s.claimed), (3, 0));
    assert_eq!(s.newly_alerted, ["stale"]);
    let r = q.rebuild(&mut c, b, &[], 1000, 1000).await.unwrap();
    assert_eq!(r.extra.len(), 3);
    assert!(!q.is_built(&mut c).await.unwrap());
    q.mark_built(&mut c, 1000).await.unwrap();
    assert!(q.is_built(&mut c).await.unwrap());
    cleanup(&mut c, &q).await;
}
