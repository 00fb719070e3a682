//! The audit log on a real database: the API of API.md, keygen, key rotation, verify-log, and
//! the fixture (two interleaved hearings, a kept checkpoint) that `audit_tamper` builds on.

use std::{process::Command, sync::Arc, time::Duration};

use remote_hearing::{
    audit::{
        self, Actor, Audit, NewEntry, RecordingDigest,
        leaf::Leaf,
        merkle,
        note::{Signer, Verifier},
        store,
        verify::{Options, verify_bundle},
    },
    clock::Clock,
    config::Config,
    identity::Role,
    store::Db,
};
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_json};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_remote-hearing");
pub(crate) const ORIGIN: &str = "audit.test/log";

pub(crate) fn signer() -> Signer {
    Signer::from_pkcs8(ORIGIN, &Signer::generate_pkcs8().unwrap()).unwrap()
}

pub(crate) fn new_entry(hearing: &str, step: &str, i: i64, payload: Value) -> NewEntry {
    NewEntry {
        hearing_id: hearing.into(),
        step: step.into(),
        actor: Actor {
            role: "officer".into(),
            id: "officer-1".into(),
        },
        at: chrono::DateTime::from_timestamp_millis(1_795_000_000_000 + i * 1000).unwrap(),
        payload,
        recordings: vec![],
    }
}

pub(crate) async fn append(db: &Db, e: NewEntry) -> audit::AppendedEntry {
    let mut tx = db.begin().await.unwrap();
    let a = audit::append(&mut tx, e).await.unwrap();
    tx.commit().await.unwrap();
    a
}

pub(crate) struct Fixture {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) db: Db,
    pub(crate) audit: Audit,
    pub(crate) vkey: String,
    /// The checkpoint the auditor kept after the hearings were logged.
    pub(crate) kept: String,
}

pub(crate) const STEPS: [&str; 5] = ["identity", "inquiry", "notice", "notice_ack", "statement"];

/// Hearings A and B, five steps each, interleaved; A's last entry seals a recording.
pub(crate) async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::defaults().unwrap();
    config.server.data_dir = dir.path().to_path_buf();
    if let Ok(admin) = std::env::var("TEST_DATABASE_URL") {
        config.database.url = SecretString::from(crate::helpers::fresh_postgres(&admin).await);
    }
    let db = Db::connect(&config).await.unwrap();
    db.migrate().await.unwrap();
    let audit = Audit {
        signer: Arc::new(signer()),
        every: 1,
        interval: Duration::from_millis(10),
    };
    audit.register_key(&db, 1).await.unwrap();
    for (i, step) in STEPS.iter().enumerate() {
        let i = i as i64;
        let mut a = new_entry("hearing-a", step, 2 * i, json!({"i": i, "text": "陈述"}));
        if i == 4 {
            a.recordings = vec![RecordingDigest {
                id: "rec-1".into(),
                sha256: [7; 32],
                bytes: 1000,
            }];
        }
        append(&db, a).await;
        append(
            &db,
            new_entry("hearing-b", step, 2 * i + 1, json!({"i": i})),
        )
        .await;
    }
    let kept = audit.sign_checkpoint(&db, 2).await.unwrap().note;
    let vkey = audit.signer.verifier().to_string();
    Fixture {
        dir,
        db,
        audit,
        vkey,
        kept,
    }
}

impl Fixture {
    /// Runs `remote-hearing audit verify` on hearing A's bundle as the server now builds it.
    pub(crate) async fn verify(&self, hearing: &str, kept: Option<&str>) -> (bool, Value) {
        let bundle = self.audit.bundle(&self.db, hearing, None, 3).await.unwrap();
        let path = self.dir.path().join("bundle.json");
        std::fs::write(&path, serde_json::to_string(&bundle).unwrap()).unwrap();
        let mut cmd = Command::new(BIN);
        cmd.args(["audit", "verify"])
            .arg(&path)
            .args(["--key", &self.vkey, "--json"]);
        if let Some(k) = kept {
            let kp = self.dir.path().join("kept.txt");
            std::fs::write(&kp, k).unwrap();
            cmd.arg("--checkpoint").arg(kp);
        }
        let out = cmd.output().unwrap();
        let report: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        assert_eq!(
            report["ok"].as_bool(),
            Some(out.status.success()),
            "{report}"
        );
        (out.status.success(), report)
    }

    pub(crate) async fn exec(&self, sql: &str, binds: &[&str]) {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()));
        for b in binds {
            q = q.bind(b.to_string());
        }
        q.execute(&self.db.write).await.unwrap();
    }

    pub(crate) async fn entry(&self, hearing: &str, hearing_seq: u64) -> store::StoredEntry {
        let mut c = self.db.read.acquire().await.unwrap();
        store::hearing_entries(&mut c, hearing)
            .await
            .unwrap()
            .into_iter()
            .find(|e| e.hearing_seq == hearing_seq)
            .unwrap()
    }

    /// Rebuilds the whole log from its entries, changing one payload: what an insider with
    /// database access does to rewrite history consistently.
    pub(crate) async fn rewrite_history(&self) {
        let mut c = self.db.read.acquire().await.unwrap();
        let all = store::entries(&mut c, 0, 1000).await.unwrap();
        drop(c);
        for t in [
            "DELETE FROM audit_entries",
            "DELETE FROM audit_nodes",
            "DELETE FROM audit_checkpoints",
            "UPDATE audit_log_state SET size = 0, frontier = ''",
        ] {
            self.exec(t, &[]).await;
        }
        for e in all {
            let leaf = Leaf::decode(&e.leaf).unwrap();
            let mut payload: Value = serde_json::from_str(&e.payload).unwrap();
            if e.hearing_id == "hearing-a" && e.hearing_seq == 1 {
                payload = json!({"i": 1, "text": "改写"});
            }
            append(
                &self.db,
                NewEntry {
                    hearing_id: e.hearing_id,
                    step: e.step,
                    actor: e.actor,
                    at: chrono::DateTime::from_timestamp_millis(e.at_ms).unwrap(),
                    payload,
                    recordings: leaf.recordings,
                },
            )
            .await;
        }
    }
}

pub(crate) fn failed_checks(report: &Value) -> String {
    report["checks"]
        .as_array()
        .map(|c| {
            c.iter()
                .filter(|c| c["ok"] == false)
                .map(|c| format!("{}: {}", c["name"], c["detail"]))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

pub(crate) async fn assert_caught(f: &Fixture, case: &str, kept: Option<&str>) {
    let (ok, report) = f.verify("hearing-a", kept).await;
    assert!(!ok, "tamper case '{case}' was not detected: {report}");
    eprintln!("{case}: detected\n{}", failed_checks(&report));
}

#[tokio::test]
async fn untouched_log_verifies() {
    let f = fixture().await;
    let (ok, report) = f.verify("hearing-a", Some(&f.kept)).await;
    assert!(ok, "{report}");
    let (ok, _) = f.verify("hearing-b", Some(&f.kept)).await;
    assert!(ok);
    let r = audit::service::verify_log(&f.db, &[Verifier::parse(&f.vkey).unwrap()])
        .await
        .unwrap();
    assert!(r.ok, "{}", r.human());
}

#[tokio::test]
async fn verify_log_catches_database_edits() {
    let f = fixture().await;
    let e = f.entry("hearing-b", 3).await;
    f.exec(
        &format!(
            "UPDATE audit_entries SET payload = '{{}}' WHERE seq = {}",
            e.seq
        ),
        &[],
    )
    .await;
    let r = audit::service::verify_log(&f.db, &[]).await.unwrap();
    assert!(!r.ok);
    let out = Command::new(BIN)
        .args(["audit", "verify-log", "--data-dir"])
        .arg(f.dir.path())
        .output()
        .unwrap();
    if std::env::var("TEST_DATABASE_URL").is_err() {
        assert!(
            !out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

#[tokio::test]
async fn keygen_writes_a_private_key_and_prints_the_verifier_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.key");
    let out = Command::new(BIN)
        .args(["keygen", "--name", "example.org/log", "--out"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let vkey = stdout.lines().last().unwrap();
    let v = Verifier::parse(vkey).unwrap();
    assert_eq!(v.name, "example.org/log");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let s = Signer::from_pkcs8("example.org/log", &std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(s.verifier(), &v);
    // Never overwrites.
    let again = Command::new(BIN)
        .args(["keygen", "--name", "x", "--out"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!again.status.success());
}

#[tokio::test]
async fn api_serves_checkpoints_proofs_and_bundles() {
    let app = TestApp::builder()
        .config(|c| c.audit.checkpoint_interval_ms = 20)
        .spawn()
        .await;
    let db = &app.state.db;
    let now = app.clock.now();
    for (i, step) in STEPS.iter().enumerate() {
        let mut e = new_entry("h-api", step, i as i64, json!({"i": i}));
        e.at = now;
        append(db, e).await;
    }
    // The checkpointer signs within its interval.
    let mut note = String::new();
    for _ in 0..100 {
        note = app
            .get("/api/v1/audit/checkpoint", None)
            .await
            .text()
            .await
            .unwrap();
        if note.lines().nth(1) == Some("5") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(note.lines().nth(1), Some("5"), "{note}");
    let keys: Value = app.get_json("/api/v1/audit/keys", None).await;
    let vkey = keys[0]["vkey"].as_str().unwrap().to_string();
    let v = Verifier::parse(&vkey).unwrap();
    let (cp, _) = audit::note::Checkpoint::open(&note, None, std::slice::from_ref(&v)).unwrap();

    assert_eq!(app.get("/api/v1/audit/entries", None).await.status(), 401);
    let (_, _, officer) = app.login_officer().await;
    assert_eq!(
        app.get("/api/v1/audit/entries", Some(&officer))
            .await
            .status(),
        403
    );
    app.create_staff(Role::Auditor, "a-audit", None).await;
    let t = app.login_staff("a-audit").await;

    let entries: Value = app
        .get_json("/api/v1/audit/entries?from=1&limit=2", Some(&t))
        .await;
    assert_eq!(entries.as_array().unwrap().len(), 2);
    assert_eq!(entries[0]["seq"], 1);
    assert_eq!(entries[0]["hearing_seq"], 1);
    let leaf = hex::decode(entries[0]["leaf_hex"].as_str().unwrap()).unwrap();
    let p: Value = app
        .get_json("/api/v1/audit/entries/1/proof?tree_size=5", Some(&t))
        .await;
    let hashes: Vec<Vec<u8>> = p["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| audit::note::b64_decode_strict(h.as_str().unwrap()).unwrap())
        .collect();
    audit::proof::verify_inclusion(1, 5, &merkle::leaf_hash(&leaf), &hashes, &cp.root).unwrap();
    assert_eq!(
        app.get("/api/v1/audit/entries/1/proof?tree_size=99", Some(&t))
            .await
            .status(),
        422
    );
    assert_eq!(
        app.get("/api/v1/audit/entries?limit=1001", Some(&t))
            .await
            .status(),
        422
    );

    let mut c = db.read.acquire().await.unwrap();
    let r2 = store::root_at(&mut c, 2).await.unwrap();
    drop(c);
    let cons: Value = app
        .get_json("/api/v1/audit/consistency?from=2&to=5", Some(&t))
        .await;
    let hashes: Vec<Vec<u8>> = cons["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| audit::note::b64_decode_strict(h.as_str().unwrap()).unwrap())
        .collect();
    audit::proof::verify_consistency(2, 5, &hashes, &r2, &cp.root).unwrap();

    let r = app
        .get("/api/v1/audit/hearings/h-api/bundle", Some(&t))
        .await;
    let bundle: audit::bundle::Bundle = expect_json(r, 200).await;
    let report = verify_bundle(
        &bundle,
        &Options {
            trusted_keys: vec![v],
            older_checkpoint: None,
            recordings_dir: None,
        },
    );
    assert!(report.ok, "{}", report.human());
    assert_eq!(
        app.get("/api/v1/audit/hearings/nope/bundle", Some(&t))
            .await
            .status(),
        404
    );

    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    assert!(metrics.contains("audit_log_size"), "{metrics}");
}

#[tokio::test]
async fn key_rotation_keeps_old_checkpoints_verifiable() {
    let f = fixture().await;
    let next = Audit {
        signer: Arc::new(signer()),
        every: 1,
        interval: Duration::from_millis(10),
    };
    next.register_key(&f.db, 20).await.unwrap();
    append(
        &f.db,
        new_entry("hearing-a", "ruling", 30, json!({"fine_yuan": 100})),
    )
    .await;
    let cp = next.sign_checkpoint(&f.db, 21).await.unwrap();
    assert_eq!(cp.size, 11);
    let mut c = f.db.read.acquire().await.unwrap();
    let keys = store::keys(&mut c).await.unwrap();
    drop(c);
    assert_eq!(keys.len(), 2);
    assert_eq!(
        (keys[0].vkey.as_str(), keys[0].from_size, keys[0].to_size),
        (f.vkey.as_str(), 0, Some(10))
    );
    assert_eq!((keys[1].from_size, keys[1].to_size), (10, None));
    // The whole log, old and new checkpoints, verifies against the keys table (with ranges).
    let r = audit::service::verify_log(&f.db, &[]).await.unwrap();
    assert!(r.ok, "{}", r.human());
    // A bundle from the new key verifies with it pinned, and is consistent with the old key's
    // checkpoint the auditor kept.
    let bundle = next.bundle(&f.db, "hearing-a", Some(10), 22).await.unwrap();
    let opts = Options {
        trusted_keys: vec![
            next.signer.verifier().clone(),
            Verifier::parse(&f.vkey).unwrap(),
        ],
        older_checkpoint: Some(f.kept.clone()),
        recordings_dir: None,
    };
    let r = verify_bundle(&bundle, &opts);
    assert!(r.ok, "{}", r.human());
}

/// Two "processes" (two independent connection pools on one database, as two servers would
/// have) append concurrently: one total order, gapless per-hearing chains, a valid tree.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_from_two_processes_stay_ordered() {
    let f = fixture().await;
    let mut config = Config::defaults().unwrap();
    config.server.data_dir = f.dir.path().to_path_buf();
    if std::env::var("TEST_DATABASE_URL").is_ok() {
        // Same database as the fixture: reuse its URL through the pool's options.
        config.database.url = SecretString::from(pool_url(&f.db).await);
    }
    let second = Db::connect(&config).await.unwrap();
    let mut tasks = Vec::new();
    for t in 0..8u64 {
        let db = if t % 2 == 0 {
            f.db.clone()
        } else {
            second.clone()
        };
        tasks.push(tokio::spawn(async move {
            for i in 0..15u64 {
                let h = format!("conc-{}", (t + i) % 3);
                append(
                    &db,
                    new_entry(
                        &h,
                        "statement",
                        (t * 100 + i) as i64,
                        json!({"t": t, "i": i}),
                    ),
                )
                .await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let r = audit::service::verify_log(&f.db, &[]).await.unwrap();
    assert!(r.ok, "{}", r.human());
    let mut c = f.db.read.acquire().await.unwrap();
    let (size, _) = store::current_head(&mut c).await.unwrap();
    assert_eq!(size, 10 + 8 * 15);
    for h in 0..3 {
        let e = store::hearing_entries(&mut c, &format!("conc-{h}"))
            .await
            .unwrap();
        assert!(e.iter().enumerate().all(|(i, e)| e.hearing_seq == i as u64));
    }
}

async fn pool_url(db: &Db) -> String {
    // The fixture made a fresh PostgreSQL database; find its name from the connection.
    let name: String = sqlx::query_scalar("SELECT CAST(current_database() AS TEXT)")
        .fetch_one(&db.read)
        .await
        .unwrap();
    let mut url = url::Url::parse(&std::env::var("TEST_DATABASE_URL").unwrap()).unwrap();
    url.set_path(&format!("/{name}"));
    url.to_string()
}
