//! The stored derived values of the log (issue 20, finding 7): each entry's `leaf_hash` column,
//! the nodes, the state row's peaks and the checkpoints' `root` column are checked by verify-log
//! against the leaves recomputed, and an append never chains onto a stored leaf hash that its
//! leaf disputes (nothing is written then).

use std::process::Command;

use remote_hearing::audit::{self, AuditError, merkle, note::Verifier, store};
use serde_json::json;

use super::{BIN, Fixture, append, fixture, new_entry};

/// `hex` with its first digit changed.
fn flip_digit(hex: &str) -> String {
    let first = if hex.starts_with('0') { '1' } else { '0' };
    format!("{first}{}", &hex[1..])
}

async fn stored_leaf_hash(f: &Fixture, seq: u64) -> String {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT leaf_hash FROM audit_entries WHERE seq = {seq}"
    )))
    .fetch_one(&f.db.read)
    .await
    .unwrap()
}

async fn flip_leaf_hash(f: &Fixture, seq: u64) {
    let flipped = flip_digit(&stored_leaf_hash(f, seq).await);
    f.exec(
        &format!("UPDATE audit_entries SET leaf_hash = $1 WHERE seq = {seq}"),
        &[&flipped],
    )
    .await;
}

/// verify-log (the library call and the binary on SQLite) fails, naming `check`.
async fn assert_verify_log_fails(f: &Fixture, check: &str) {
    let r = audit::service::verify_log(&f.db, &[Verifier::parse(&f.vkey).unwrap()])
        .await
        .unwrap();
    assert!(!r.ok, "verify-log passed:\n{}", r.human());
    assert!(
        r.checks.iter().any(|c| !c.ok && c.name == check),
        "no failed '{check}' check:\n{}",
        r.human()
    );
    if std::env::var("TEST_DATABASE_URL").is_err() {
        let out = Command::new(BIN)
            .args(["audit", "verify-log", "--data-dir"])
            .arg(f.dir.path())
            .output()
            .unwrap();
        assert!(
            !out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

async fn counts(f: &Fixture) -> (i64, i64, i64) {
    let one = |sql: &'static str| async move {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(&f.db.read)
            .await
            .unwrap()
    };
    (
        one("SELECT size FROM audit_log_state WHERE id = 1").await,
        one("SELECT COUNT(*) FROM audit_entries").await,
        one("SELECT COUNT(*) FROM audit_nodes").await,
    )
}

#[tokio::test]
async fn verify_log_catches_a_flipped_leaf_hash_column() {
    let f = fixture().await;
    let e = f.entry("hearing-a", 2).await;
    flip_leaf_hash(&f, e.seq).await;
    assert_verify_log_fails(&f, "entries").await;
}

#[tokio::test]
async fn verify_log_catches_an_uppercase_leaf_hash_column() {
    let f = fixture().await;
    let e = f.entry("hearing-b", 1).await;
    let upper = stored_leaf_hash(&f, e.seq).await.to_uppercase();
    f.exec(
        &format!(
            "UPDATE audit_entries SET leaf_hash = $1 WHERE seq = {}",
            e.seq
        ),
        &[&upper],
    )
    .await;
    assert_verify_log_fails(&f, "entries").await;
}

#[tokio::test]
async fn verify_log_catches_a_flipped_checkpoint_root_column() {
    let f = fixture().await;
    let root: String = sqlx::query_scalar("SELECT root FROM audit_checkpoints LIMIT 1")
        .fetch_one(&f.db.read)
        .await
        .unwrap();
    f.exec(
        "UPDATE audit_checkpoints SET root = $1",
        &[&flip_digit(&root)],
    )
    .await;
    assert_verify_log_fails(&f, "checkpoints").await;
}

#[tokio::test]
async fn verify_log_catches_a_missing_node() {
    let f = fixture().await;
    // Leaf 3's node: the inclusion proofs of leaves 2 need it.
    f.exec("DELETE FROM audit_nodes WHERE level = 0 AND idx = 3", &[])
        .await;
    assert_verify_log_fails(&f, "stored nodes").await;
}

#[tokio::test]
async fn verify_log_catches_a_flipped_peak_in_the_state_row() {
    let f = fixture().await;
    let frontier: String = sqlx::query_scalar("SELECT frontier FROM audit_log_state")
        .fetch_one(&f.db.read)
        .await
        .unwrap();
    // Size 10 = 8 + 2: flip the second peak only.
    assert_eq!(frontier.len(), 128);
    let flipped = format!("{}{}", &frontier[..64], flip_digit(&frontier[64..]));
    f.exec("UPDATE audit_log_state SET frontier = $1", &[&flipped])
        .await;
    assert_verify_log_fails(&f, "tree head").await;
}

#[tokio::test]
async fn append_refuses_to_chain_onto_a_flipped_leaf_hash() {
    let f = fixture().await;
    let last = f.entry("hearing-a", 4).await;
    flip_leaf_hash(&f, last.seq).await;
    let before = counts(&f).await;

    let mut tx = f.db.begin().await.unwrap();
    let err = store::append(
        &mut tx,
        &new_entry("hearing-a", "ruling", 20, json!({"fine_yuan": 100})),
    )
    .await
    .unwrap_err();
    drop(tx);
    assert!(
        matches!(&err, AuditError::Corrupt(m) if m.contains("leaf_hash") && m.contains("hearing-a")),
        "{err}"
    );
    // Through the public entry point: a stable code, not a generic 500.
    let mut tx = f.db.begin().await.unwrap();
    let err = audit::append(&mut tx, new_entry("hearing-a", "ruling", 21, json!({})))
        .await
        .unwrap_err();
    drop(tx);
    assert_eq!(err.code, "audit_log_corrupt", "{err}");
    assert_eq!(counts(&f).await, before, "nothing may be written");

    // The other hearing's chain is intact and still appends.
    let b = append(&f.db, new_entry("hearing-b", "ruling", 22, json!({}))).await;
    assert_eq!(b.hearing_seq, 5);
}

#[tokio::test]
async fn append_refuses_a_flipped_peak() {
    let f = fixture().await;
    let frontier: String = sqlx::query_scalar("SELECT frontier FROM audit_log_state")
        .fetch_one(&f.db.read)
        .await
        .unwrap();
    f.exec(
        "UPDATE audit_log_state SET frontier = $1",
        &[&flip_digit(&frontier)],
    )
    .await;
    let before = counts(&f).await;
    let mut tx = f.db.begin().await.unwrap();
    let err = store::append(&mut tx, &new_entry("hearing-b", "ruling", 20, json!({})))
        .await
        .unwrap_err();
    drop(tx);
    assert!(
        matches!(&err, AuditError::Corrupt(m) if m.contains("peak")),
        "{err}"
    );
    assert_eq!(counts(&f).await, before, "nothing may be written");
}

#[tokio::test]
async fn an_untouched_log_still_appends_and_verifies() {
    let f = fixture().await;
    for i in 0..7 {
        append(
            &f.db,
            new_entry("hearing-c", "statement", 30 + i, json!({"i": i})),
        )
        .await;
    }
    let r = audit::service::verify_log(&f.db, &[]).await.unwrap();
    assert!(r.ok, "{}", r.human());
    let mut c = f.db.read.acquire().await.unwrap();
    let (size, root) = store::current_head(&mut c).await.unwrap();
    assert_eq!(size, 17);
    let mut tree = merkle::MemoryStore::new();
    for e in store::entries(&mut c, 0, 100).await.unwrap() {
        tree.push_data(&e.leaf);
    }
    assert_eq!(tree.root(), root);
}
