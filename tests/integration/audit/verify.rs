//! verify-log over the whole log: untouched, after a database edit, and after concurrent
//! appends from two connection pools.

use std::process::Command;

use remote_hearing::{
    audit::{self, note::Verifier, store},
    config::Config,
    store::Db,
};
use secrecy::SecretString;
use serde_json::json;

use super::{BIN, append, fixture, new_entry};

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
    let second = Db::connect(&config.database, &config.server.data_dir)
        .await
        .unwrap();
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

/// docs/audit-format.md: `leaf_hex` is lowercase hex; `audit verify` refuses any other spelling
/// (issue 20, finding 8).
#[tokio::test]
async fn audit_verify_refuses_an_uppercase_leaf_hex() {
    let f = fixture().await;
    let mut bundle = f.audit.bundle(&f.db, "hearing-a", None, 3).await.unwrap();
    bundle.entries[1].leaf_hex = bundle.entries[1].leaf_hex.to_uppercase();
    let path = f.dir.path().join("upper.json");
    std::fs::write(&path, serde_json::to_string(&bundle).unwrap()).unwrap();
    let out = Command::new(BIN)
        .args(["audit", "verify"])
        .arg(&path)
        .args(["--key", &f.vkey, "--json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        !out.status.success(),
        "uppercase leaf_hex accepted: {report}"
    );
    assert!(report.to_string().contains("lowercase hex"), "{report}");
}
