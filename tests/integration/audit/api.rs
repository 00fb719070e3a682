//! The audit API of API.md: checkpoints, inclusion and consistency proofs, bundles.

use std::time::Duration;

use remote_hearing::{
    audit::{
        self, merkle,
        note::Verifier,
        store,
        verify::{Options, verify_bundle},
    },
    clock::Clock,
    identity::Role,
};
use serde_json::{Value, json};

use super::{STEPS, append, new_entry};
use crate::helpers::{TestApp, expect_error, expect_json};

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
            trust_bundle_keys: false,
        },
    );
    assert!(report.ok, "{}", report.human());
    assert_eq!(
        app.get("/api/v1/audit/hearings/nope/bundle", Some(&t))
            .await
            .status(),
        404
    );
    // A consistency point past the log's size: 422 naming the field (schemathesis found a 400).
    let r = app
        .get(
            "/api/v1/audit/hearings/h-api/bundle?consistency_from=399796",
            Some(&t),
        )
        .await;
    let e = expect_error(r, 422, "invalid_field").await;
    assert_eq!(e["error"]["field"], "consistency_from");

    let metrics = app.metrics().await;
    assert!(metrics.contains("audit_log_size"), "{metrics}");
}
