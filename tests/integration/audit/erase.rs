//! Forgetting personal data without breaking the proof (issue 13 §6) on a real database:
//! entries are written as version-2 leaves with their salt in `payload_salt`; erasing a
//! hearing deletes payloads and salts, leaves every leaf, proof and checkpoint unchanged, and
//! the CLI and verify-log still pass, reporting the entries as erased.

use super::{Fixture, fixture};
use remote_hearing::audit::{self, leaf::Leaf, note::Verifier, store};
use serde_json::Value;

async fn erase(f: &Fixture, hearing: &str) -> audit::erase::Erased {
    let mut tx = f.db.begin().await.unwrap();
    let done = store::erase_hearing(&mut tx, hearing).await.unwrap();
    tx.commit().await.unwrap();
    done
}

#[tokio::test]
async fn entries_are_version_2_with_their_salt_stored() {
    let f = fixture().await;
    let e = f.entry("hearing-a", 1).await;
    assert_eq!(
        Leaf::decode(&e.leaf).unwrap().version,
        audit::leaf::VERSION_2
    );
    assert!(e.salt.is_some() && !e.erased);
    let b = f.audit.bundle(&f.db, "hearing-a", None, 3).await.unwrap();
    assert!(b.entries.iter().all(|e| e.salt.is_some()));
    let (ok, report) = f.verify("hearing-a", Some(&f.kept)).await;
    assert!(ok, "{report}");
}

#[tokio::test]
async fn erasing_a_hearing_keeps_every_proof_and_the_bundle_verifies() {
    let f = fixture().await;
    let before = f.audit.bundle(&f.db, "hearing-a", None, 3).await.unwrap();
    let done = erase(&f, "hearing-a").await;
    assert_eq!((done.erased, done.already, done.kept_v1), (5, 0, 0));
    assert_eq!(erase(&f, "hearing-a").await.already, 5, "idempotent");

    let after = f.audit.bundle(&f.db, "hearing-a", None, 3).await.unwrap();
    assert_eq!(after.checkpoint, before.checkpoint);
    assert_eq!(after.recordings, before.recordings);
    for (a, b) in after.entries.iter().zip(&before.entries) {
        assert_eq!((&a.leaf_hex, &a.proof), (&b.leaf_hex, &b.proof));
        assert!(a.erased && a.salt.is_none() && a.payload == Value::Null);
    }
    let text = serde_json::to_string(&after).unwrap();
    assert!(!text.contains("陈述"), "the payload text is gone");
    let (payload, salt): (String, Option<String>) = sqlx::query_as(
        "SELECT payload, payload_salt FROM audit_entries WHERE hearing_id = 'hearing-a' AND hearing_seq = 1",
    )
    .fetch_one(&f.db.read)
    .await
    .unwrap();
    assert!(payload.is_empty() && salt.is_none());

    let (ok, report) = f.verify("hearing-a", Some(&f.kept)).await;
    assert!(ok, "{report}");
    assert_eq!(report["erased"], serde_json::json!([0, 1, 2, 3, 4]));
    let (ok, report) = f.verify("hearing-b", Some(&f.kept)).await;
    assert!(ok && report.get("erased").is_none(), "{report}");

    let r = audit::service::verify_log(&f.db, &[Verifier::parse(&f.vkey).unwrap()])
        .await
        .unwrap();
    assert!(r.ok, "verify-log after erasing:\n{}", r.human());
}

#[tokio::test]
async fn an_erased_entry_given_a_payload_back_fails() {
    let f = fixture().await;
    erase(&f, "hearing-a").await;
    // Someone writes a payload back without its salt: the entry no longer verifies.
    f.exec(
        "UPDATE audit_entries SET payload = '{\"i\":1,\"text\":\"陈述\"}', erased_at = NULL WHERE hearing_id = 'hearing-a' AND hearing_seq = 1",
        &[],
    )
    .await;
    let (ok, _) = f.verify("hearing-a", Some(&f.kept)).await;
    assert!(!ok);
}
