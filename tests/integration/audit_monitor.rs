//! `remote-hearing audit monitor` (issue 13 §3) run as a process against running servers: it
//! follows the checkpoints across new entries (exit 0), and catches a fork — a second log
//! signed with the same key but holding another history — printing both checkpoints (exit 3);
//! with `--witness` it reports each trusted witness's cosignature.

use std::{path::Path, sync::Arc, time::Duration};

use remote_hearing::{
    audit::{Actor, NewEntry, cosign::Cosigner, keys, store},
    witness::{self, server},
};
use serde_json::json;

use crate::helpers::TestApp;

/// Appends `n` entries whose payloads carry `tag`, then signs a checkpoint.
async fn grow(app: &TestApp, n: u64, tag: &str) {
    let mut tx = app.state.db.begin().await.unwrap();
    for i in 0..n {
        let e = NewEntry {
            hearing_id: format!("h-{tag}"),
            step: "statement".into(),
            actor: Actor {
                role: "system".into(),
                id: String::new(),
            },
            at: chrono::DateTime::from_timestamp_millis(1_795_000_000_000 + i as i64).unwrap(),
            payload: json!({"n": i, "tag": tag}),
            recordings: vec![],
        };
        store::append(&mut tx, &e).await.unwrap();
    }
    tx.commit().await.unwrap();
    app.state
        .audit
        .sign_checkpoint(&app.state.db, 1_795_000_000_000)
        .await
        .unwrap();
}

async fn monitor(app: &TestApp, key: &str, state: &Path) -> (i32, String) {
    monitor_with(app, &["--key", key], state).await
}

async fn monitor_with(app: &TestApp, args: &[&str], state: &Path) -> (i32, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_remote-hearing"))
        .args(["audit", "monitor", &app.url("/audit/log")])
        .args(args)
        .arg("--state")
        .arg(state)
        .arg("--once")
        .output()
        .await
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[tokio::test]
async fn monitor_follows_the_log_and_catches_a_fork() {
    let keys_dir = tempfile::tempdir().unwrap();
    let key_file = keys_dir.path().join("log.key");
    let origin = remote_hearing::config::Config::defaults()
        .unwrap()
        .audit
        .origin;
    let vkey = keys::keygen(&origin, &key_file)
        .unwrap()
        .verifier()
        .to_string();
    let kf = key_file.clone();
    let a = TestApp::builder()
        .config(move |c| c.audit.key_file = kf)
        .spawn()
        .await;
    let kf = key_file.clone();
    let b = TestApp::builder()
        .config(move |c| c.audit.key_file = kf)
        .spawn()
        .await;
    let state = keys_dir.path().join("monitor.state");

    grow(&a, 300, "a").await;
    let (code, out) = monitor(&a, &vkey, &state).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("first seen"), "{out}");
    grow(&a, 5, "a2").await;
    let (code, out) = monitor(&a, &vkey, &state).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("consistent with 300"), "{out}");
    let seen = std::fs::read_to_string(&state).unwrap();
    assert!(seen.contains("\n305\n"), "{seen}");

    // A wrong pinned key: exit 2.
    let other = keys::keygen(&origin, &keys_dir.path().join("other.key"))
        .unwrap()
        .verifier()
        .to_string();
    let (code, out) = monitor(&a, &other, &keys_dir.path().join("fresh.state")).await;
    assert_eq!(code, 2, "{out}");

    // The same key signs another history, longer than what the monitor has seen.
    grow(&b, 310, "b").await;
    let b_note = b
        .get("/audit/log/checkpoint", None)
        .await
        .text()
        .await
        .unwrap();
    let (code, out) = monitor(&b, &vkey, &state).await;
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("consistency proof fails"), "{out}");
    assert!(out.contains(&seen) && out.contains(&b_note), "{out}");
    // The state keeps the last good checkpoint: the next run flags the fork again.
    assert_eq!(std::fs::read_to_string(&state).unwrap(), seen);
    let (code, _) = monitor(&b, &vkey, &state).await;
    assert_eq!(code, 3);

    // Having seen the other history's larger tree, the first log looks rolled back.
    let rolled = keys_dir.path().join("rolled.state");
    std::fs::write(&rolled, &b_note).unwrap();
    let (code, out) = monitor(&a, &vkey, &rolled).await;
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("smaller than before"), "{out}");
    assert!(out.contains(&seen) && out.contains(&b_note), "{out}");
}

#[tokio::test]
async fn monitor_reports_each_trusted_witness() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("log.key");
    let origin = remote_hearing::config::Config::defaults()
        .unwrap()
        .audit
        .origin;
    let vkey = keys::keygen(&origin, &key_file)
        .unwrap()
        .verifier()
        .to_string();
    let wkey = dir.path().join("w1.key");
    witness::keygen("court.example/w1", &wkey).unwrap();
    let w = Arc::new(
        witness::open(&wkey, &dir.path().join("w1"), std::slice::from_ref(&vkey))
            .await
            .unwrap(),
    );
    let w1 = w.cosigner.verifier().clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let wurl = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, server::router(w)).await });
    let w1c = w1.clone();
    let app = TestApp::builder()
        .config(move |c| {
            c.audit.key_file = key_file;
            c.audit.checkpoint_interval_ms = 20;
            c.audit.witnesses = vec![
                serde_json::from_value(
                    json!({"name": w1c.name, "vkey": w1c.to_string(), "url": wurl}),
                )
                .unwrap(),
            ];
        })
        .spawn()
        .await;
    grow(&app, 3, "w").await;
    // Wait until the served checkpoint of size 3 carries w1's cosignature.
    let mut note = String::new();
    for _ in 0..1200 {
        note = app
            .get("/audit/log/checkpoint", None)
            .await
            .text()
            .await
            .unwrap();
        if note.contains("\n3\n") && note.contains("court.example/w1") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(note.contains("court.example/w1"), "{note}");
    let absent = Cosigner::from_seed("notary.example/w2", &[7u8; 32])
        .unwrap()
        .verifier()
        .to_string();
    let w1s = w1.to_string();
    let args = ["--key", &vkey, "--witness", &w1s, "--witness", &absent];
    let (code, out) = monitor_with(&app, &args, &dir.path().join("state")).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("ok witness court.example/w1: cosigned at"),
        "{out}"
    );
    assert!(
        out.contains("MISSING witness notary.example/w2: no cosignature"),
        "{out}"
    );
}
