//! Witnesses (c2sp.org/tlog-witness): two of our witness servers cosign a running server's
//! checkpoints; a witness that is down, or one that answers with another key's signature,
//! neither blocks the log nor gets anything stored; a witness already ahead of what the
//! server knows answers 409 and is caught up from its size. And the `witness` commands as a
//! separate process.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    sync::Arc,
    time::Duration,
};

use axum::{Router, body::Bytes, routing::post};
use remote_hearing::{
    audit::{
        cosign::{CosignVerifier, Cosigner, cosignatures},
        keys,
        note::Checkpoint,
        note::Verifier,
    },
    witness::{self, request, server},
};
use serde_json::json;
use tower::ServiceExt as _;

use super::{BIN, ORIGIN, STEPS, append, new_entry};
use crate::helpers::TestApp;

async fn listener() -> tokio::net::TcpListener {
    tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap()
}

fn url(l: &tokio::net::TcpListener) -> String {
    format!("http://{}", l.local_addr().unwrap())
}

/// A witness answering every request with a cosignature by a key other than its configured one.
fn liar(name: &str) -> Router {
    let imposter = Arc::new(Cosigner::from_seed(name, &[42u8; 32]).unwrap());
    Router::new().route(
        "/add-checkpoint",
        post(move |body: Bytes| {
            let imposter = imposter.clone();
            async move {
                let req = request::parse(&body).unwrap();
                let body = req.note.split_once("\n\n").unwrap().0.to_string() + "\n";
                format!("{}\n", imposter.cosign(&body, 1_700_000_000).unwrap())
            }
        }),
    )
}

async fn served(app: &TestApp) -> String {
    app.get("/api/v1/audit/checkpoint", None)
        .await
        .text()
        .await
        .unwrap()
}

/// Polls the served checkpoint until `size` carries `want` valid cosignatures of `keys`.
async fn wait_cosigned(app: &TestApp, size: u64, keys: &[CosignVerifier], want: usize) -> String {
    let mut note = String::new();
    for _ in 0..1200 {
        note = served(app).await;
        let at = note.lines().nth(1).and_then(|l| l.parse::<u64>().ok());
        if at == Some(size) && cosignatures(&note, keys).unwrap().len() >= want {
            return note;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("size {size} not cosigned {want} times: {note}");
}

#[tokio::test]
async fn two_witnesses_cosign_the_servers_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let log_key = dir.path().join("log.key");
    let log = keys::keygen(ORIGIN, &log_key).unwrap();
    let log_vkey = log.verifier().to_string();

    let mut witnesses = Vec::new();
    for name in ["court.example/w1", "notary.example/w2"] {
        let key = dir.path().join(format!("{}.key", name.replace('/', "_")));
        witness::keygen(name, &key).unwrap();
        let w = witness::open(
            &key,
            &dir.path().join(name),
            std::slice::from_ref(&log_vkey),
        )
        .await
        .unwrap();
        witnesses.push(Arc::new(w));
    }
    let keys: Vec<CosignVerifier> = witnesses
        .iter()
        .map(|w| w.cosigner.verifier().clone())
        .collect();
    let (l1, l2, l_liar) = (listener().await, listener().await, listener().await);
    let dead = listener().await;
    let dead_url = url(&dead);
    drop(dead);
    let liar_key = Cosigner::from_seed("liar.example/w", &[1u8; 32]).unwrap();
    let config_witnesses = [
        (keys[0].clone(), url(&l1)),
        (keys[1].clone(), url(&l2) + "/"),
        (
            Cosigner::from_seed("down.example/w", &[2u8; 32])
                .unwrap()
                .verifier()
                .clone(),
            dead_url,
        ),
        (liar_key.verifier().clone(), url(&l_liar)),
    ];
    let w1 = witnesses[0].clone();
    tokio::spawn(async move { axum::serve(l1, server::router(w1)).await });
    tokio::spawn(async move { axum::serve(l_liar, liar("liar.example/w")).await });

    let app = TestApp::builder()
        .config(move |c| {
            c.audit.origin = ORIGIN.into();
            c.audit.key_file = log_key;
            c.audit.checkpoint_interval_ms = 20;
            c.audit.witness_timeout_ms = 300;
            c.audit.witnesses = config_witnesses
                .iter()
                .map(|(k, u)| {
                    serde_json::from_value(json!({"name": k.name, "vkey": k.to_string(), "url": u}))
                        .unwrap()
                })
                .collect();
        })
        .spawn()
        .await;
    let db = &app.state.db;
    for (i, step) in STEPS.iter().enumerate() {
        append(db, new_entry("h-w", step, i as i64, json!({"i": i}))).await;
    }
    // w1 cosigns; w2 is not served yet (its requests time out), the others never count.
    let note = wait_cosigned(&app, 5, &keys[..1], 1).await;
    let v = Verifier::parse(&log_vkey).unwrap();
    Checkpoint::open(&note, Some(ORIGIN), std::slice::from_ref(&v)).unwrap();

    // w2 gets size 5 from elsewhere (as if from another copy of the log's submissions): the
    // server still believes it is at 0, gets 409 "5" and must resend from 5 with a proof.
    let body = format!("old 0\n\n{note}");
    let res = server::router(witnesses[1].clone())
        .oneshot(
            axum::http::Request::post("/add-checkpoint")
                .body(axum::body::Body::from(body))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    for (i, step) in STEPS.iter().enumerate() {
        append(db, new_entry("h-w2", step, i as i64, json!({"i": i}))).await;
    }
    let w2 = witnesses[1].clone();
    tokio::spawn(async move { axum::serve(l2, server::router(w2)).await });

    let mut all = keys.clone();
    all.push(liar_key.verifier().clone());
    let note = wait_cosigned(&app, 10, &keys, 2).await;
    Checkpoint::open(&note, Some(ORIGIN), std::slice::from_ref(&v)).unwrap();
    let got = cosignatures(&note, &all).unwrap();
    assert_eq!(got.len(), 2, "{note}");
    assert!(got.iter().all(|c| c.name != "liar.example/w"));

    // Nothing stored for the liar or the dead witness.
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT DISTINCT witness FROM audit_cosignatures ORDER BY witness")
            .fetch_all(&db.read)
            .await
            .unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(names, ["court.example/w1", "notary.example/w2"]);

    // The lag gauge: zero for a witness that cosigned the newest checkpoint, present for the
    // one that is down.
    let mut metrics = String::new();
    for _ in 0..100 {
        metrics = app.metrics().await;
        if metrics.contains("audit_witness_lag{witness=\"court.example/w1\"} 0")
            && metrics.contains("audit_witness_lag{witness=\"down.example/w\"}")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        metrics.contains("audit_witness_lag{witness=\"court.example/w1\"} 0"),
        "{metrics}"
    );
    assert!(metrics.contains("audit_witness_lag{witness=\"down.example/w\"}"));

    // The administrators' view of the witnesses: the two that cosigned are level with the
    // log (or trail it by what came after), the dead one and the liar never cosigned.
    app.create_staff(remote_hearing::identity::Role::Admin, "ADMW", None)
        .await;
    let admin = app.login_staff("ADMW").await;
    let (_, _, officer) = app.login_officer().await;
    assert_eq!(
        app.get("/api/v1/admin/audit/witnesses", Some(&officer))
            .await
            .status(),
        403
    );
    let st: serde_json::Value = app
        .get_json("/api/v1/admin/audit/witnesses", Some(&admin))
        .await;
    let log_size = st["log_size"].as_u64().unwrap();
    assert!(log_size >= 10, "{st}");
    let by: std::collections::HashMap<&str, &serde_json::Value> = st["witnesses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["name"].as_str().unwrap(), w))
        .collect();
    assert_eq!(by.len(), 4, "{st}");
    for name in ["court.example/w1", "notary.example/w2"] {
        let got = by[name]["cosigned_size"].as_u64().unwrap();
        assert!(got >= 10, "{st}");
        assert_eq!(by[name]["behind"].as_u64().unwrap(), log_size - got);
    }
    for name in ["down.example/w", "liar.example/w"] {
        assert!(by[name].get("cosigned_size").is_none(), "{st}");
        assert_eq!(by[name]["behind"].as_u64().unwrap(), log_size);
    }
    assert_eq!(st["quorum"], 4);

    // The bundle carries the cosigned checkpoint.
    let now = remote_hearing::clock::to_ms(chrono::Utc::now());
    let bundle = app.state.audit.bundle(db, "h-w", None, now).await.unwrap();
    assert_eq!(cosignatures(&bundle.checkpoint, &keys).unwrap().len(), 2);

    // `audit verify --witness … --quorum 2`: passes with both witnesses, fails with a forged
    // witness key (the right name, another key).
    let path = dir.path().join("bundle.json");
    std::fs::write(&path, serde_json::to_string(&bundle).unwrap()).unwrap();
    let verify = |witnesses: &[String]| {
        let mut cmd = Command::new(BIN);
        cmd.args(["audit", "verify"])
            .arg(&path)
            .args(["--key", &log_vkey, "--quorum", "2"]);
        for w in witnesses {
            cmd.args(["--witness", w]);
        }
        cmd.output().unwrap()
    };
    let out = verify(&[keys[0].to_string(), keys[1].to_string()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("witness quorum: 2 of 2"), "{stdout}");
    let forged = Cosigner::from_seed("court.example/w1", &[3u8; 32]).unwrap();
    let out = verify(&[forged.verifier().to_string(), keys[1].to_string()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    assert!(stdout.contains("FAIL witness court.example/w1"), "{stdout}");
}

#[tokio::test]
async fn witness_commands_run_as_a_process() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("w.key");
    let out = Command::new(BIN)
        .args(["witness", "keygen", "--name", "court.example/w1", "--out"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(out.status.success());
    let vkey = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(CosignVerifier::parse(&vkey).is_ok(), "{vkey}");
    let log = keys::keygen(ORIGIN, &dir.path().join("log.key")).unwrap();
    let mut child = Command::new(BIN)
        .args(["witness", "serve", "--listen", "127.0.0.1:0", "--key"])
        .arg(&key)
        .arg("--state")
        .arg(dir.path().join("state"))
        .args(["--log", &log.verifier().to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), vkey);
    let listening = lines.next().unwrap().unwrap();
    let base = listening.strip_prefix("listening on ").unwrap().to_string();
    assert!(base.starts_with("http://127.0.0.1:"), "{listening}");
    let http = reqwest::Client::new();
    let cp = Checkpoint {
        origin: ORIGIN.into(),
        size: 0,
        root: remote_hearing::audit::merkle::empty_root(),
        extensions: vec![],
    };
    let res = http
        .post(format!("{base}/add-checkpoint"))
        .body(format!("old 0\n\n{}", cp.sign(&log).unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let line = res.text().await.unwrap();
    let note = format!("{}{line}", cp.sign(&log).unwrap());
    let w = CosignVerifier::parse(&vkey).unwrap();
    assert_eq!(cosignatures(&note, &[w]).unwrap().len(), 1);
    let res = http
        .post(format!("{base}/add-checkpoint"))
        .body(vec![b'x'; 70_000])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    child.kill().unwrap();
    child.wait().unwrap();
}
