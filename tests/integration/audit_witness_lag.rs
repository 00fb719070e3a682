//! Issue 13 §3's figures (docs/benchmarks.md, "Witnesses"): a server appending as fast as one
//! writer can (one entry per transaction, the server's group-commit mode, default checkpoint
//! policy) with two of our witness servers over loopback HTTP. Measures how long a checkpoint
//! waits for both cosignatures and how far the witnessed size trails the log, and checks the
//! behind alert: a witness that is down raises it once, the ones that cosign do not.
//! `cargo test --release --test integration audit_witness_lag -- --ignored --nocapture`
//! (`WITNESS_BENCH_S` seconds of appends, default 10).

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use remote_hearing::{
    audit::{cosign::CosignVerifier, keys},
    witness::{self, server},
};
use serde_json::json;

use crate::{
    audit::{ORIGIN, append, new_entry},
    helpers::TestApp,
};

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(((v.len() as f64 - 1.0) * p).round() as usize)
        .copied()
        .unwrap_or(f64::NAN)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run with --ignored --nocapture"]
async fn cosigning_latency_and_witness_lag_under_appends() {
    let secs: u64 = std::env::var("WITNESS_BENCH_S")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let dir = tempfile::tempdir().unwrap();
    let log_key = dir.path().join("log.key");
    let log_vkey = keys::keygen(ORIGIN, &log_key)
        .unwrap()
        .verifier()
        .to_string();
    let mut cfg = Vec::new();
    let mut vkeys: Vec<CosignVerifier> = Vec::new();
    for name in ["court.example/w1", "notary.example/w2"] {
        let key = dir.path().join(name.replace('/', "_"));
        witness::keygen(name, &key).unwrap();
        let w = Arc::new(
            witness::open(
                &key,
                &dir.path().join(format!("{}-state", name.replace('/', "_"))),
                std::slice::from_ref(&log_vkey),
            )
            .await
            .unwrap(),
        );
        vkeys.push(w.cosigner.verifier().clone());
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        cfg.push(json!({"name": name, "vkey": w.cosigner.verifier().to_string(), "url": format!("http://{}", l.local_addr().unwrap())}));
        tokio::spawn(async move { axum::serve(l, server::router(w)).await });
    }
    // A third witness that is never up: it must raise the behind alert.
    let down =
        remote_hearing::audit::cosign::Cosigner::from_seed("down.example/w", &[2u8; 32]).unwrap();
    cfg.push(json!({"name": "down.example/w", "vkey": down.verifier().to_string(), "url": "http://127.0.0.1:9"}));
    let app = TestApp::builder()
        .config(move |c| {
            c.audit.origin = ORIGIN.into();
            c.audit.key_file = log_key;
            c.audit.witness_timeout_ms = 1000;
            c.audit.witness_alert_after_s = 2;
            c.audit.witnesses = cfg
                .iter()
                .map(|v| serde_json::from_value(v.clone()).unwrap())
                .collect();
        })
        .spawn()
        .await;
    let db = app.state.db.clone();

    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (db, stop) = (db.clone(), stop.clone());
        tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                append(
                    &db,
                    new_entry(
                        &format!("bench-{}", n / 16),
                        "step",
                        n as i64,
                        json!({"n": n}),
                    ),
                )
                .await;
                n += 1;
            }
            n
        })
    };
    // Sample every 20 ms: the newest checkpoint, and each live witness's cosigned size.
    const Q: &str = "SELECT COALESCE(MAX(size), 0) FROM audit_cosignatures WHERE witness = $1";
    let started = Instant::now();
    let mut first_seen: std::collections::BTreeMap<i64, Instant> = Default::default();
    let mut latency_ms = Vec::new();
    let mut lag = Vec::new();
    let mut done_sizes = std::collections::BTreeSet::new();
    while started.elapsed() < Duration::from_secs(secs) {
        let newest: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(size), 0) FROM audit_checkpoints")
                .fetch_one(&db.read)
                .await
                .unwrap();
        first_seen.entry(newest).or_insert_with(Instant::now);
        let mut at = Vec::new();
        for w in &vkeys {
            let s: i64 = sqlx::query_scalar(Q)
                .bind(&w.name)
                .fetch_one(&db.read)
                .await
                .unwrap();
            at.push(s);
        }
        let both = at[0].min(at[1]);
        lag.push((newest - both) as f64);
        if both > 0
            && done_sizes.insert(both)
            && let Some(t) = first_seen.get(&both)
        {
            latency_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let appended = writer.await.unwrap();
    let rate = appended as f64 / secs as f64;
    let metrics = app.metrics().await;
    let metric = |name: &str| {
        metrics
            .lines()
            .filter(|l| l.starts_with(name))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let (mut lat, mut lg) = (latency_ms.clone(), lag.clone());
    println!("appends: {appended} in {secs} s = {rate:.0}/s (one per transaction)");
    println!(
        "checkpoint signed → both cosignatures stored (20 ms sampling), {} checkpoints: p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms",
        latency_ms.len(),
        pct(&mut lat, 0.5),
        pct(&mut lat, 0.95),
        pct(&mut lat, 1.0)
    );
    println!(
        "witnessed-size lag (newest checkpoint − size both cosigned), {} samples: mean {:.0}, p95 {:.0}, max {:.0} entries",
        lag.len(),
        lag.iter().sum::<f64>() / lag.len() as f64,
        pct(&mut lg, 0.95),
        pct(&mut lg, 1.0)
    );
    for m in metric("audit_witness_cosign_seconds_sum")
        .iter()
        .chain(&metric("audit_witness_cosign_seconds_count"))
    {
        println!("{m}");
    }
    for m in metric("audit_witness_behind") {
        println!("{m}");
    }
    assert!(
        latency_ms.len() >= 3,
        "some checkpoints were cosigned by both"
    );
    assert!(
        metrics.contains("audit_witness_behind_alerts_total{witness=\"down.example/w\"} 1"),
        "the down witness alerted once"
    );
    assert!(
        !metrics.contains("audit_witness_behind_alerts_total{witness=\"court.example/w1\"}"),
        "a live witness did not alert"
    );
}
