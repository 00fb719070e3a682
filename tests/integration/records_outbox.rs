//! Two server processes drain one write-back outbox (issue 16): each decision reaches the
//! platform exactly once (the fake counts the write-back requests it receives) and its answer is
//! sealed once. Deterministic, not a race to win: the
//! claim (SKIP LOCKED on PostgreSQL, the one write connection on SQLite) takes a row out of
//! `pending` for its lease, so a second claim of a sent row can only happen after 30 s of the
//! shared clock, which the test never advances; every row therefore ends `accepted` with
//! exactly one attempt, whichever process (or background worker) took it.

use std::time::Duration;

use remote_hearing::{
    clock::Clock,
    records::{model::Decision, outbox},
};

use crate::{
    helpers::TestApp,
    records::{SECRET, app_with, config, start_fake},
    records_writeback::sealer,
};

/// Driver C's six seeded records (tests/data/records-fake.json).
const RECORDS: [&str; 6] = [
    "3701121000300000",
    "3701121000300001",
    "3701121000300002",
    "3701121000300003",
    "3701121000300004",
    "3701121000300005",
];

fn decision(i: usize, record: &str) -> Decision {
    Decision {
        decision_no: format!("鲁公交决字〔2026〕第{:06}号", 800 + i),
        record_nos: vec![record.into()],
        fine_yuan: 100,
        points: 2,
        officer: "370001".into(),
        decided_at: chrono::DateTime::parse_from_rfc3339("2026-11-16T10:00:00+08:00").unwrap(),
    }
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(&app.state.db.read)
        .await
        .unwrap()
}

#[tokio::test]
async fn two_servers_drain_one_outbox_and_the_platform_gets_each_decision_once() {
    let fake = start_fake().await;
    let a = app_with(fake.url.clone()).await;
    let url = fake.url.clone();
    let b = TestApp::builder()
        .peer_of(&a)
        .config(move |c| c.records = config(&url, SECRET, 2_000, 1))
        .spawn()
        .await;
    // Six decisions queued at once (as six decision transactions would).
    let now = a.clock.now_ms();
    let mut tx = a.state.db.begin().await.unwrap();
    for (i, record) in RECORDS.iter().enumerate() {
        outbox::enqueue(&mut tx, &format!("h-outbox-{i}"), &decision(i, record), now)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    // Both servers drain at the same moment (their background workers may join in); the fake
    // answers each send after a short delay, so the sends overlap.
    fake.fault("delay:30", 6).await;
    let (sa, sb) = (sealer(&a), sealer(&b));
    let (x, y) = tokio::join!(
        outbox::drain_once(&a.state.records, &sa),
        outbox::drain_once(&b.state.records, &sb),
    );
    let sent = x.unwrap() + y.unwrap();
    assert!(sent <= 6, "{sent} sends for six decisions");
    for _ in 0..200 {
        let done = "SELECT COUNT(*) FROM records_outbox WHERE status = 'accepted'";
        if count(&a, done).await == 6 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let held = fake.decisions().await;
    let mut numbers: Vec<&str> = held
        .iter()
        .map(|d| d["decision_no"].as_str().unwrap())
        .collect();
    numbers.sort_unstable();
    numbers.dedup();
    assert_eq!((held.len(), numbers.len()), (6, 6), "{held:?}");
    // The platform received six write-back requests in all: none was sent twice.
    let writes: serde_json::Value = reqwest::get(format!("{}/_fake/writes", fake.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(writes["received"], 6, "write-back requests received");
    let rows = "SELECT COUNT(*) FROM records_outbox WHERE status = 'accepted' AND attempts = 1";
    assert_eq!(
        count(&a, rows).await,
        6,
        "each decision was claimed and sent once"
    );
    let seals = "SELECT COUNT(*) FROM audit_entries WHERE step = 'write_back'";
    assert_eq!(count(&a, seals).await, 6, "each answer sealed once");
    let per = "SELECT COUNT(DISTINCT hearing_id) FROM audit_entries WHERE step = 'write_back'";
    assert_eq!(count(&a, per).await, 6);
}
