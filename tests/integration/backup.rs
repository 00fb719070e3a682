//! Backup and restore (issue 15 §5), through the binary as an operator runs them: a backup
//! taken while the server runs, restored into a fresh data dir, passes `audit verify-log`
//! there; a non-empty target (exit 2) and a tampered backup are refused.

use std::{
    path::Path,
    process::{Command, Output},
};

use secrecy::ExposeSecret;
use serde_json::Value;
use sqlx::Connection;

use crate::helpers::output_text;

const BIN: &str = env!("CARGO_BIN_EXE_remote-hearing");

fn run(args: &[&str], data_dir: &Path, db: Option<&str>) -> Output {
    let mut c = Command::new(BIN);
    c.args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("DATABASE_URL");
    if let Some(u) = db {
        c.env("DATABASE_URL", u);
    }
    c.output().unwrap()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

async fn count(url: &str, sql: &str) -> i64 {
    sqlx::any::install_default_drivers();
    let mut c = sqlx::AnyConnection::connect(url).await.unwrap();
    let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(&mut c)
        .await
        .unwrap();
    c.close().await.unwrap();
    n
}

#[tokio::test]
async fn a_backup_taken_while_running_restores_and_verify_log_passes() {
    let w = crate::hearing::world().await;
    let h = w.open().await;
    let id = h["id"].as_str().unwrap().to_string();
    let body = w.body_for(&id, "identity").await;
    w.ok_step(&id, body).await;
    // A recording as the recorder leaves it (the backup copies files, it does not parse them).
    let src = w.app.data_dir.path();
    let rec = src.join("recordings").join(&id);
    std::fs::create_dir_all(&rec).unwrap();
    std::fs::write(rec.join("citizen-audio.rtp"), b"rtp capture bytes").unwrap();
    let pg_admin = std::env::var("TEST_DATABASE_URL").ok();
    let src_url = pg_admin
        .as_ref()
        .map(|_| w.app.state.config.database.url.expose_secret().to_string());
    let src_db = src_url.clone().unwrap_or_else(|| {
        format!(
            "sqlite://{}?mode=ro",
            src.join("remote-hearing.db").display()
        )
    });
    let entries = count(&src_db, "SELECT COUNT(*) FROM audit_entries").await;
    assert!(entries >= 2, "opened + identity");

    // The server is running while the backup is taken.
    let out = tempfile::tempdir().unwrap();
    let backup = out.path().join("backup");
    let o = run(&["backup", p(&backup)], src, src_url.as_deref());
    assert!(o.status.success(), "{}", output_text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout).to_string();
    let manifest_sha = stdout
        .lines()
        .last()
        .unwrap()
        .strip_prefix("manifest sha256 ")
        .unwrap()
        .to_string();
    let m: Value =
        serde_json::from_slice(&std::fs::read(backup.join("manifest.json")).unwrap()).unwrap();
    let paths: Vec<&str> = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    let rec_rel = format!("recordings/{id}/citizen-audio.rtp");
    assert!(paths.contains(&rec_rel.as_str()), "{paths:?}");
    assert!(paths.contains(&"keys/audit.vkey"), "{paths:?}");
    assert!(
        !paths.iter().any(|p| p.starts_with("secrets/")),
        "{paths:?}"
    );
    assert_eq!(m["secrets_included"], false);
    // Public halves only: the verifier key line, no private key bytes.
    let vkey = std::fs::read_to_string(backup.join("keys/audit.vkey")).unwrap();
    assert!(vkey.starts_with(&w.app.state.config.audit.origin), "{vkey}");

    let target = out.path().join("restored");
    let dst_url = match &pg_admin {
        Some(admin) => Some(crate::helpers::fresh_postgres(admin).await),
        None => None,
    };
    let o = run(
        &["restore", "--manifest-sha256", &manifest_sha, p(&backup)],
        &target,
        dst_url.as_deref(),
    );
    assert!(o.status.success(), "{}", output_text(&o));
    assert_eq!(
        std::fs::read(
            target
                .join("recordings")
                .join(&id)
                .join("citizen-audio.rtp")
        )
        .unwrap(),
        b"rtp capture bytes"
    );
    let o = run(&["audit", "verify-log"], &target, dst_url.as_deref());
    assert!(o.status.success(), "{}", output_text(&o));
    let dst_db = dst_url.clone().unwrap_or_else(|| {
        format!(
            "sqlite://{}?mode=ro",
            target.join("remote-hearing.db").display()
        )
    });
    assert_eq!(
        count(&dst_db, "SELECT COUNT(*) FROM audit_entries").await,
        entries
    );
    assert_eq!(
        count(&dst_db, "SELECT COUNT(*) FROM hearing_evidence").await,
        1
    );

    // A non-empty target: one line, exit 2, nothing touched.
    let o = run(&["restore", p(&backup)], &target, dst_url.as_deref());
    assert_eq!(o.status.code(), Some(2), "{}", output_text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("not empty"), "{err}");

    // A tampered backup file: refused before anything is written.
    let copy = backup.join(&rec_rel);
    std::fs::write(&copy, b"rtp capture bytez").unwrap();
    let fresh = out.path().join("fresh");
    let fresh_url = match &pg_admin {
        Some(admin) => Some(crate::helpers::fresh_postgres(admin).await),
        None => None,
    };
    let o = run(&["restore", p(&backup)], &fresh, fresh_url.as_deref());
    assert_eq!(o.status.code(), Some(1), "{}", output_text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(&rec_rel) && err.contains("SHA-256"), "{err}");
    assert!(!fresh.exists(), "nothing restored");
}
