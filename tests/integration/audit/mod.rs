//! The audit log on a real database: the fixture (two interleaved hearings, a kept
//! checkpoint) that these tests and `audit_tamper` build on; one file per area below.

mod api;
mod erase;
mod keys;
mod rotation_verify;
mod stored;
mod verify;
mod witness;

use std::{process::Command, sync::Arc, time::Duration};

use remote_hearing::{
    audit::{self, Actor, Audit, NewEntry, RecordingDigest, leaf::Leaf, note::Signer, store},
    config::Config,
    store::Db,
};
use secrecy::SecretString;
use serde_json::{Value, json};

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
    let db = Db::connect(&config.database, &config.server.data_dir)
        .await
        .unwrap();
    db.migrate().await.unwrap();
    let audit = Audit::new(Arc::new(signer()), 1, Duration::from_millis(10));
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
