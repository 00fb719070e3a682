//! The tamper suite of issue 5 on a real database (SQLite, or PostgreSQL with
//! TEST_DATABASE_URL): each of the ten tamperings is done with SQL on the stored log, then
//! caught by `remote-hearing audit verify` (the binary) with a pinned key and the checkpoint the
//! auditor kept.

use std::{process::Command, sync::Arc, time::Duration};

use remote_hearing::audit::{
    self, Audit,
    leaf::Leaf,
    merkle,
    note::Verifier,
    store,
    verify::{Options, verify_bundle},
};
use serde_json::{Value, json};

use crate::audit::{BIN, Fixture, append, assert_caught, fixture, new_entry, signer};

#[tokio::test]
async fn tamper_edit_a_leaf_byte() {
    let f = fixture().await;
    let e = f.entry("hearing-a", 2).await;
    let mut leaf = e.leaf.clone();
    let n = leaf.len();
    leaf[n - 3] ^= 0x01; // inside the recording count / payload digest region
    let sql = format!(
        "UPDATE audit_entries SET leaf_hex = $1 WHERE seq = {}",
        e.seq
    );
    f.exec(&sql, &[&hex::encode(leaf)]).await;
    assert_caught(&f, "edit a leaf byte", Some(&f.kept)).await;
}

#[tokio::test]
async fn tamper_edit_a_payload() {
    let f = fixture().await;
    let e = f.entry("hearing-a", 1).await;
    let sql = format!(
        "UPDATE audit_entries SET payload = $1 WHERE seq = {}",
        e.seq
    );
    f.exec(&sql, &[r#"{"i":1,"text":"改"}"#]).await;
    assert_caught(&f, "edit a payload", Some(&f.kept)).await;
}

#[tokio::test]
async fn tamper_delete_a_middle_entry() {
    let f = fixture().await;
    let e = f.entry("hearing-a", 2).await;
    f.exec(
        &format!("DELETE FROM audit_entries WHERE seq = {}", e.seq),
        &[],
    )
    .await;
    assert_caught(&f, "delete a middle entry", Some(&f.kept)).await;
}

#[tokio::test]
async fn tamper_reorder_two_entries() {
    let f = fixture().await;
    let (a, b) = (
        f.entry("hearing-a", 1).await.seq,
        f.entry("hearing-a", 3).await.seq,
    );
    f.exec(
        &format!("UPDATE audit_entries SET seq = 1000 WHERE seq = {a}"),
        &[],
    )
    .await;
    f.exec(
        &format!("UPDATE audit_entries SET seq = {a} WHERE seq = {b}"),
        &[],
    )
    .await;
    f.exec(
        &format!("UPDATE audit_entries SET seq = {b} WHERE seq = 1000"),
        &[],
    )
    .await;
    assert_caught(&f, "reorder two entries", Some(&f.kept)).await;
}

#[tokio::test]
async fn tamper_insert_a_forged_entry() {
    let f = fixture().await;
    // A well-formed leaf chained to A's last entry, written straight into the table.
    let last = f.entry("hearing-a", 4).await;
    let forged = Leaf {
        version: audit::leaf::VERSION_1,
        hearing_id: "hearing-a".into(),
        hearing_seq: 5,
        prev_leaf_hash: merkle::leaf_hash(&last.leaf),
        step: "ruling".into(),
        at_ms: last.at_ms + 1,
        actor_role: "officer".into(),
        actor_id: "officer-1".into(),
        payload_sha256: audit::leaf::payload_digest(&json!({"fine_yuan": 200})).unwrap(),
        recordings: vec![],
    };
    let bytes = forged.encode().unwrap();
    f.exec(
        "INSERT INTO audit_entries (seq, hearing_id, hearing_seq, step, at, actor_role, actor_id, leaf_hex, leaf_hash, payload) \
         VALUES (10, 'hearing-a', 5, 'ruling', 0, 'officer', 'officer-1', $1, $2, '{\"fine_yuan\":200}')",
        &[&hex::encode(&bytes), &hex::encode(merkle::leaf_hash(&bytes))],
    )
    .await;
    assert_caught(&f, "insert a forged entry", Some(&f.kept)).await;
}

#[tokio::test]
async fn tamper_truncate_the_log() {
    let f = fixture().await;
    // Cut the log to its first 7 entries, consistently (nodes, state), and let the server
    // sign the shorter tree.
    let mut c = f.db.read.acquire().await.unwrap();
    let ids = merkle::peaks(7);
    let nodes = store::fetch_nodes(&mut c, &ids).await.unwrap();
    drop(c);
    let frontier: String = ids.iter().map(|i| hex::encode(nodes[i])).collect();
    f.exec("DELETE FROM audit_entries WHERE seq >= 7", &[])
        .await;
    for level in 0..8u32 {
        let sql = format!(
            "DELETE FROM audit_nodes WHERE level = {level} AND (idx + 1) * {} > 7",
            1u64 << level
        );
        f.exec(&sql, &[]).await;
    }
    f.exec("DELETE FROM audit_checkpoints", &[]).await;
    f.exec(
        "UPDATE audit_log_state SET size = 7, frontier = $1",
        &[&frontier],
    )
    .await;
    assert_caught(&f, "truncate", Some(&f.kept)).await;
}

#[tokio::test]
async fn tamper_resign_with_another_key() {
    let f = fixture().await;
    f.rewrite_history().await;
    let thief = Audit::new(Arc::new(signer()), 1, Duration::from_millis(10));
    thief.register_key(&f.db, 5).await.unwrap();
    thief.sign_checkpoint(&f.db, 5).await.unwrap();
    let bundle = thief.bundle(&f.db, "hearing-a", None, 6).await.unwrap();
    // Internally consistent: only the pinned key tells it apart.
    let bundle_keys = Options {
        trust_bundle_keys: true,
        ..Options::default()
    };
    assert!(verify_bundle(&bundle, &bundle_keys).ok);
    let (ok, report) = verify_with(&f, &bundle, None);
    assert!(!ok, "re-signed bundle accepted: {report}");
}

fn verify_with(f: &Fixture, bundle: &audit::bundle::Bundle, kept: Option<&str>) -> (bool, Value) {
    let path = f.dir.path().join("other-bundle.json");
    std::fs::write(&path, serde_json::to_string(bundle).unwrap()).unwrap();
    let mut cmd = Command::new(BIN);
    cmd.args(["audit", "verify"])
        .arg(&path)
        .args(["--key", &f.vkey, "--json"]);
    if let Some(k) = kept {
        let kp = f.dir.path().join("kept-other.txt");
        std::fs::write(&kp, k).unwrap();
        cmd.arg("--checkpoint").arg(kp);
    }
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn tamper_copy_an_entry_from_another_hearing() {
    let f = fixture().await;
    let from_b = f.entry("hearing-b", 2).await;
    let target = f.entry("hearing-a", 2).await;
    let sql = format!(
        "UPDATE audit_entries SET leaf_hex = $1, payload = $2 WHERE seq = {}",
        target.seq
    );
    f.exec(&sql, &[&hex::encode(&from_b.leaf), &from_b.payload])
        .await;
    assert_caught(&f, "copy an entry from hearing B into A", Some(&f.kept)).await;
}

#[tokio::test]
async fn tamper_rollback_to_an_older_checkpoint() {
    let f = fixture().await;
    append(
        &f.db,
        new_entry("hearing-b", "ruling", 20, json!({"fine_yuan": 100})),
    )
    .await;
    append(
        &f.db,
        new_entry("hearing-b", "confirmation", 21, json!({"accept": true})),
    )
    .await;
    let newer = f.audit.sign_checkpoint(&f.db, 10).await.unwrap();
    assert_eq!(newer.size, 12);
    // The server hides the newest checkpoint and serves the older one as the latest.
    f.exec("DELETE FROM audit_checkpoints WHERE size = 12", &[])
        .await;
    let (ok, _) = f.verify("hearing-a", None).await;
    assert!(ok, "the older checkpoint alone is valid");
    assert_caught(&f, "rollback", Some(&newer.note)).await;
}

#[tokio::test]
async fn tamper_fork_same_size_different_root() {
    let f = fixture().await;
    // An insider with the real key rewrites history and signs the same size again.
    f.rewrite_history().await;
    f.audit.sign_checkpoint(&f.db, 7).await.unwrap();
    let (ok, _) = f.verify("hearing-a", None).await;
    assert!(ok, "the fork is internally consistent");
    assert_caught(&f, "fork", Some(&f.kept)).await;
    let r = audit::service::verify_log(&f.db, &[Verifier::parse(&f.vkey).unwrap()])
        .await
        .unwrap();
    assert!(
        r.ok,
        "the forged database is self-consistent: only the kept checkpoint tells"
    );
}
