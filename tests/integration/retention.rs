//! Retention (issue 15 §3) on a real database and a real recordings directory: a completed
//! hearing loses its recordings after `recordings_days` and its personal data after
//! `personal_data_days`, each with a `retention` entry, while its bundle still verifies; a
//! hearing held as evidence keeps everything until an auditor lifts the hold; a second sweep
//! does nothing.

use std::path::PathBuf;
use std::process::Command;

use chrono::TimeDelta;
use remote_hearing::{clock::Clock, identity::Role};
use serde_json::{Value, json};

use crate::hearing::{STEPS, World, body_of, world};
use crate::helpers::expect_error;

const BIN: &str = env!("CARGO_BIN_EXE_remote-hearing");

async fn completed(w: &World) -> String {
    let id = w.open().await["id"].as_str().unwrap().to_string();
    for s in STEPS {
        w.ok_step(&id, body_of(s)).await;
    }
    id
}

/// A recorded file of the hearing, as the sealer leaves it: on disk and in `recordings`.
async fn recorded(w: &World, hearing: &str) -> (String, PathBuf) {
    let rel = format!("{hearing}/seg-1/citizen.webm");
    let path = w.app.state.call.recordings_dir.join(&rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, b"webm bytes").unwrap();
    let id = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        "INSERT INTO recordings (id, hearing_id, segment, participant, kind, format, rel_path, bytes, sha256, created_at) \
         VALUES ($1, $2, 'seg-1', 'citizen', 'video', 'webm', $3, 10, 'ab', 0)",
    )
    .bind(&id)
    .bind(hearing)
    .bind(&rel)
    .execute(&w.app.state.db.write)
    .await
    .unwrap();
    (id, path)
}

/// Staff of `role` logged in now (tokens do not outlive the months the clock jumps).
async fn staff(w: &World, role: Role, brigade: Option<&str>) -> String {
    let badge = format!("7{}", &uuid::Uuid::new_v4().simple().to_string()[..6]);
    w.app.create_staff(role, &badge, brigade).await;
    w.app.login_staff(&badge).await
}

async fn sweep(w: &World) -> Value {
    let admin = staff(w, Role::Admin, None).await;
    let r = w
        .app
        .post("/api/v1/admin/retention/run", Some(&admin), json!({}))
        .await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

fn days(n: i64) -> TimeDelta {
    TimeDelta::days(n)
}

/// The retention chain's entries (step, payload).
async fn retention_entries(w: &World) -> Vec<(String, Value)> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT step, payload FROM audit_entries WHERE hearing_id = 'retention' ORDER BY hearing_seq",
    )
    .fetch_all(&w.app.state.db.read)
    .await
    .unwrap();
    rows.into_iter()
        .map(|(s, p)| (s, serde_json::from_str(&p).unwrap()))
        .collect()
}

/// `audit verify` on the hearing's bundle as the server builds it now.
async fn bundle_verifies(w: &World, id: &str) -> Value {
    let now = w.app.clock.now_ms();
    let b = w
        .app
        .state
        .audit
        .bundle(&w.app.state.db, id, None, now)
        .await
        .unwrap();
    let path = w.app.data_dir.path().join(format!("{id}.json"));
    std::fs::write(&path, serde_json::to_string(&b).unwrap()).unwrap();
    let key = w.app.state.audit.signer.verifier().to_string();
    let out = Command::new(BIN)
        .args(["audit", "verify"])
        .arg(&path)
        .args(["--key", &key, "--json", "--require-complete"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert!(out.status.success(), "{report}");
    report
}

#[tokio::test]
async fn recordings_then_personal_data_go_with_retention_entries_and_the_bundle_verifies() {
    let w = world().await;
    let id = completed(&w).await;
    let (rec, file) = recorded(&w, &id).await;
    bundle_verifies(&w, &id).await;

    // Not yet due: nothing happens.
    w.app.clock.advance(days(182));
    assert_eq!(sweep(&w).await["recordings"], 0);
    assert!(file.exists());

    // Past 183 days: the recordings go, the personal data stays.
    w.app.clock.advance(days(2));
    let r = sweep(&w).await;
    assert_eq!(
        (r["recordings"].as_u64(), r["anonymised"].as_u64()),
        (Some(1), Some(0)),
        "{r}"
    );
    assert_eq!(r["directories_removed"], 1);
    assert!(!file.exists() && !file.parent().unwrap().parent().unwrap().exists());
    let auditor = staff(&w, Role::Auditor, None).await;
    let e = expect_error(
        w.app
            .get(&format!("/api/v1/recordings/{rec}"), Some(&auditor))
            .await,
        410,
        "deleted_by_retention",
    )
    .await;
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("retention")
    );
    let list: Value = w
        .app
        .get_json(&format!("/api/v1/hearings/{id}/recordings"), Some(&auditor))
        .await;
    assert!(list[0]["deleted_at"].is_string(), "{list}");
    let entries = retention_entries(&w).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].1["action"], "recordings_deleted");
    assert_eq!(entries[0].1["hearing_id"], id.as_str());
    assert_eq!(
        entries[0].1["files"][0]["path"],
        format!("{id}/seg-1/citizen.webm")
    );
    let (phone,): (String,) = sqlx::query_as("SELECT phone FROM hearings WHERE id = $1")
        .bind(&id)
        .fetch_one(&w.app.state.db.read)
        .await
        .unwrap();
    assert_eq!(phone, w.phone, "personal data is kept longer");
    // The citizen sees what is kept and until when; another citizen sees nothing of it.
    let (citizen, _) = w.app.login_citizen(&w.phone).await;
    let mine: Value = w
        .app
        .get_json("/api/v1/citizens/me/data", Some(&citizen))
        .await;
    let h = &mine["hearings"][0];
    assert_eq!(h["id"], id.as_str());
    assert_eq!(h["recordings_kept"]["state"], "deleted");
    assert!(h["recordings_kept"]["deleted_at"].is_string());
    assert_eq!(h["personal_data_kept"]["state"], "kept");
    let closed = chrono::DateTime::parse_from_rfc3339(h["closed_at"].as_str().unwrap()).unwrap();
    let until =
        chrono::DateTime::parse_from_rfc3339(h["personal_data_kept"]["until"].as_str().unwrap())
            .unwrap();
    assert_eq!(until - closed, days(365));
    assert_eq!(mine["identity_on_file"], true);
    let (stranger, _) = w.app.login_citizen("13900000001").await;
    let theirs: Value = w
        .app
        .get_json("/api/v1/citizens/me/data", Some(&stranger))
        .await;
    assert_eq!(theirs["hearings"], json!([]));

    // Past 365 days: the personal data goes; the proof does not.
    w.app.clock.advance(days(182));
    let r = sweep(&w).await;
    assert_eq!(
        (r["recordings"].as_u64(), r["anonymised"].as_u64()),
        (Some(0), Some(1)),
        "{r}"
    );
    assert!(r["entries_erased"].as_u64().unwrap() >= 10, "{r}");
    let db = &w.app.state.db.read;
    let (phone,): (String,) = sqlx::query_as("SELECT phone FROM hearings WHERE id = $1")
        .bind(&id)
        .fetch_one(db)
        .await
        .unwrap();
    assert_eq!(phone, "");
    let kept: Vec<(String,)> =
        sqlx::query_as("SELECT data FROM hearing_evidence WHERE hearing_id = $1 AND data <> ''")
            .bind(&id)
            .fetch_all(db)
            .await
            .unwrap();
    assert!(kept.is_empty(), "stills and signatures are gone");
    let (name,): (Option<String>,) = sqlx::query_as(
        "SELECT real_name_enc FROM citizens WHERE id = (SELECT citizen_id FROM hearings WHERE id = $1)",
    )
    .bind(&id)
    .fetch_one(db)
    .await
    .unwrap();
    assert_eq!(
        name, None,
        "the citizen's identity went with their only hearing"
    );
    let text: Vec<(String,)> = sqlx::query_as(
        "SELECT payload FROM audit_entries WHERE hearing_id = $1 AND payload LIKE '%张三%'",
    )
    .bind(&id)
    .fetch_all(db)
    .await
    .unwrap();
    assert!(text.is_empty(), "no audit payload still names the party");
    let report = bundle_verifies(&w, &id).await;
    assert!(
        report["erased"].as_array().is_some_and(|e| e.len() >= 10),
        "{report}"
    );
    let entries = retention_entries(&w).await;
    assert_eq!(entries[1].1["action"], "personal_data_erased");
    assert_eq!(entries[1].1["citizen_identity_erased"], true);
    // the still and signatures were sealed with the personal-data key: it went with them
    assert!(
        entries[1].1["key_destroyed"].is_string(),
        "{}",
        entries[1].1
    );
    let keys: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM hearing_keys WHERE hearing_id = $1")
        .bind(&id)
        .fetch_one(db)
        .await
        .unwrap();
    assert_eq!(keys, 0);
    // The auditor still reads the hearing (the case file is kept).
    let officer = staff(&w, Role::Officer, Some(&w.brigade)).await;
    let h: Value = w
        .app
        .get_json(&format!("/api/v1/hearings/{id}"), Some(&officer))
        .await;
    assert_eq!(h["status"], "completed");

    // Idempotent.
    let r = sweep(&w).await;
    assert_eq!(
        r,
        json!({"recordings": 0, "anonymised": 0, "directories_removed": 0, "entries_erased": 0})
    );
    assert_eq!(retention_entries(&w).await.len(), 2);
}

#[tokio::test]
async fn a_hearing_held_as_evidence_is_kept_until_an_auditor_lifts_the_hold() {
    let w = world().await;
    let id = completed(&w).await;
    let (_, file) = recorded(&w, &id).await;
    let path = format!("/api/v1/hearings/{id}/hold");

    let e = expect_error(
        w.app
            .put_json(&path, Some(&w.officer), json!({"reason": "  "}))
            .await,
        422,
        "invalid_field",
    )
    .await;
    assert_eq!(e["error"]["field"], "reason");
    expect_error(
        w.app
            .put_json(&path, Some(&w.citizen), json!({"reason": "我要保留"}))
            .await,
        403,
        "forbidden",
    )
    .await;
    expect_error(w.app.get(&path, Some(&w.officer)).await, 404, "not_held").await;
    let r = w
        .app
        .put_json(
            &path,
            Some(&w.officer),
            json!({"reason": "当事人申请行政复议"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let hold: Value = w.app.get_json(&path, Some(&w.officer)).await;
    assert_eq!(hold["reason"], "当事人申请行政复议");
    assert_eq!(hold["by_role"], "officer");

    w.app.clock.advance(days(400));
    let r = sweep(&w).await;
    assert_eq!(
        (r["recordings"].as_u64(), r["anonymised"].as_u64()),
        (Some(0), Some(0)),
        "{r}"
    );
    assert!(file.exists(), "held: kept");
    let (citizen, _) = w.app.login_citizen(&w.phone).await;
    let mine: Value = w
        .app
        .get_json("/api/v1/citizens/me/data", Some(&citizen))
        .await;
    assert_eq!(mine["hearings"][0]["recordings_kept"]["state"], "held");
    assert_eq!(mine["hearings"][0]["personal_data_kept"]["state"], "held");

    let release = format!("{path}/release");
    let officer = staff(&w, Role::Officer, Some(&w.brigade)).await;
    expect_error(
        w.app
            .post(&release, Some(&officer), json!({"reason": "复议结束"}))
            .await,
        403,
        "forbidden",
    )
    .await;
    let auditor = staff(&w, Role::Auditor, None).await;
    let r = w
        .app
        .post(&release, Some(&auditor), json!({"reason": "复议结束"}))
        .await;
    assert_eq!(r.status(), 204);
    expect_error(
        w.app
            .post(&release, Some(&auditor), json!({"reason": "复议结束"}))
            .await,
        409,
        "not_held",
    )
    .await;
    let r = sweep(&w).await;
    assert_eq!(
        (r["recordings"].as_u64(), r["anonymised"].as_u64()),
        (Some(1), Some(1)),
        "{r}"
    );
    assert!(!file.exists());
    let steps: Vec<String> = retention_entries(&w)
        .await
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    assert_eq!(
        steps,
        [
            "evidence_hold",
            "evidence_release",
            "retention",
            "retention"
        ]
    );
}

/// Crypto-shredding (issue 15 §3): the sealer leaves a recording encrypted with the hearing's
/// `recordings` key and an evidence image with its `personal_data` key; the download is the
/// plaintext with the sealed digest. The sweep destroys each key in the transaction that seals
/// its `retention` entry (`key_destroyed`), then removes the files: a copy kept elsewhere (as
/// in a backup) no longer decrypts, not even with the master key.
#[tokio::test]
async fn deleting_destroys_the_key_first_so_a_leftover_copy_does_not_decrypt() {
    let w = world().await;
    let id = completed(&w).await;
    let (rec, file) = recorded(&w, &id).await;
    let plain: Vec<u8> = (0..150_000u32).map(|i| (i % 253) as u8).collect();
    let sha = hex::encode(ring::digest::digest(&ring::digest::SHA256, &plain));
    std::fs::write(&file, &plain).unwrap();
    sqlx::query("UPDATE recordings SET sha256 = $1, bytes = $2 WHERE id = $3")
        .bind(&sha)
        .bind(plain.len() as i64)
        .bind(&rec)
        .execute(&w.app.state.db.write)
        .await
        .unwrap();
    let state = &w.app.state;
    let key = crate::helpers::seal_with_hearing_key(state, &id, &file).await;
    let on_disk = std::fs::read(&file).unwrap();
    assert!(recordings::sealed::is_sealed(&on_disk));
    let backup = w.app.data_dir.path().join("backup-copy.webm");
    std::fs::copy(&file, &backup).unwrap();

    // kept: the download is the plaintext, whole and by range, with the sealed digest
    let auditor = staff(&w, Role::Auditor, None).await;
    let r = w
        .app
        .get(&format!("/api/v1/recordings/{rec}"), Some(&auditor))
        .await;
    assert_eq!(r.status(), 200);
    let got = r.bytes().await.unwrap();
    assert_eq!(
        hex::encode(ring::digest::digest(&ring::digest::SHA256, &got)),
        sha
    );
    let r = w
        .app
        .client
        .get(w.app.url(&format!("/api/v1/recordings/{rec}")))
        .bearer_auth(&auditor)
        .header("range", "bytes=65530-70000")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(
        r.headers()["content-range"],
        format!("bytes 65530-70000/{}", plain.len())
    );
    assert_eq!(&r.bytes().await.unwrap()[..], &plain[65530..=70000]);

    w.app.clock.advance(days(184));
    let r = sweep(&w).await;
    assert_eq!(r["recordings"], 1, "{r}");
    assert!(!file.exists());
    let entries = retention_entries(&w).await;
    let destroyed = entries[0].1["key_destroyed"].as_str().unwrap();
    assert_eq!(destroyed, hex::encode(key.id()));
    let left: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM hearing_keys WHERE hearing_id = $1 AND class = 'recordings'",
    )
    .bind(&id)
    .fetch_one(&state.db.read)
    .await
    .unwrap();
    assert_eq!(left, 0);
    // the leftover copy: still ciphertext, its key nowhere to be found
    let copy = std::fs::read(&backup).unwrap();
    assert!(!copy.windows(64).any(|x| x == &plain[1000..1064]));
    let kid = recordings::sealed::key_id(&copy).unwrap();
    assert!(
        state
            .call
            .vault
            .key_by_id(&state.db.read, &id, &kid)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        recordings::sealed::PlainFile::open(&backup, None::<std::sync::Arc<_>>).is_err(),
        "no key, no plaintext"
    );
    // a new key drawn for the hearing later is another key: the copy stays noise
    let again = state
        .call
        .vault
        .key_for(&state.db, &id, "recordings", 0)
        .await
        .unwrap();
    assert_ne!(again.id(), key.id());
    assert!(recordings::sealed::open_bytes(&again, &copy).is_err());
}
