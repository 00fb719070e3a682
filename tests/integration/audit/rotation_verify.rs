//! The offline verifier across a key rotation (issue 15 leftovers): with only the first key
//! pinned, a bundle and the whole log signed after a rotation verify through the endorsement
//! (old key signs the new key's note); a forged endorsement is refused with a clear error.

use std::{process::Command, sync::Arc};

use remote_hearing::audit::{
    self, Audit,
    note::{Signer, Verifier},
    rotation::Keyring,
    verify::{Options, verify_bundle},
};
use serde_json::json;

use super::{BIN, Fixture, ORIGIN, append, fixture, new_entry};

/// The fixture's log, following rotations through a key directory in its data dir.
fn rotating(f: &Fixture) -> Audit {
    let mut a = f.audit.clone();
    let dir = f.dir.path().join("audit-keys");
    a.keyring = Arc::new(Keyring::new(f.audit.signer.clone(), Some(dir)));
    a
}

fn pinned(vkey: &str) -> Options {
    Options {
        trusted_keys: vec![Verifier::parse(vkey).unwrap()],
        ..Options::default()
    }
}

fn check<'a>(r: &'a audit::verify::Report, name: &str) -> &'a audit::verify::Check {
    r.checks
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no check {name}: {}", r.human()))
}

/// `audit verify BUNDLE --key K --json` → (exit ok, report).
fn cli_verify(
    dir: &std::path::Path,
    name: &str,
    text: &str,
    key: &str,
) -> (bool, serde_json::Value) {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let out = Command::new(BIN)
        .args(["audit", "verify"])
        .arg(&path)
        .args(["--key", key, "--json"])
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    (out.status.success(), report)
}

#[tokio::test]
async fn a_bundle_and_the_log_signed_after_two_rotations_verify_with_only_the_first_key_pinned() {
    let f = fixture().await;
    let a = rotating(&f);
    // Two rotations, entries between and after: the bundle's checkpoint is the third key's.
    let r1 = a.rotate_key(&f.db, ("admin", "admin-1"), 40).await.unwrap();
    append(
        &f.db,
        new_entry("hearing-a", "ruling", 50, json!({"fine_yuan": 100})),
    )
    .await;
    a.sign_checkpoint(&f.db, 51).await.unwrap();
    let r2 = a.rotate_key(&f.db, ("admin", "admin-1"), 52).await.unwrap();
    assert_eq!(r2.old_vkey, r1.new_vkey);
    append(&f.db, new_entry("hearing-a", "confirmation", 60, json!({}))).await;
    let bundle = a.bundle(&f.db, "hearing-a", Some(10), 61).await.unwrap();
    assert_eq!(bundle.endorsements.len(), 2);
    audit::note::Checkpoint::open(
        &bundle.checkpoint,
        None,
        &[Verifier::parse(&r2.new_vkey).unwrap()],
    )
    .expect("signed by the third key");
    // Only the first key pinned, plus the checkpoint kept before the rotations: all verifies.
    let mut opts = pinned(&f.vkey);
    opts.older_checkpoint = Some(f.kept.clone());
    let r = verify_bundle(&bundle, &opts);
    assert!(r.ok, "{}", r.human());
    let rot = check(&r, "key rotations");
    assert!(
        rot.detail.contains(&r1.new_vkey) && rot.detail.contains(&r2.new_vkey),
        "{}",
        rot.detail
    );
    assert!(check(&r, "consistency with the older checkpoint").ok);
    // Without the endorsements the same pin does not reach the new key.
    let mut bare = bundle.clone();
    bare.endorsements.clear();
    let r = verify_bundle(&bare, &pinned(&f.vkey));
    assert!(!r.ok);
    assert!(!check(&r, "checkpoint signature").ok);

    // The same from the command line, and the whole log with only the first key pinned.
    let text = serde_json::to_string(&bundle).unwrap();
    let (ok, report) = cli_verify(f.dir.path(), "rotated.json", &text, &f.vkey);
    assert!(ok, "{report}");
    let v = audit::service::verify_log(&f.db, &[Verifier::parse(&f.vkey).unwrap()])
        .await
        .unwrap();
    assert!(v.ok, "{}", v.human());
    assert!(v.human().contains("key rotations"), "{}", v.human());
    let out = Command::new(BIN)
        .args(["audit", "verify-log", "--key", &f.vkey, "--data-dir"])
        .arg(f.dir.path())
        .output()
        .unwrap();
    if std::env::var("TEST_DATABASE_URL").is_err() {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

#[tokio::test]
async fn a_forged_endorsement_is_refused_with_a_clear_error() {
    let f = fixture().await;
    let a = rotating(&f);
    let r = a.rotate_key(&f.db, ("admin", "admin-1"), 40).await.unwrap();
    append(
        &f.db,
        new_entry("hearing-a", "ruling", 50, json!({"fine_yuan": 100})),
    )
    .await;
    let mut bundle = a.bundle(&f.db, "hearing-a", None, 51).await.unwrap();

    // Someone with a key of their own signs a checkpoint and writes "the pinned key handed
    // over to mine", signed by their key where the pinned key's signature should be.
    let mallory = Signer::from_pkcs8(ORIGIN, &Signer::generate_pkcs8().unwrap()).unwrap();
    let cp = audit::note::Checkpoint::open(
        &bundle.checkpoint,
        None,
        &[Verifier::parse(&r.new_vkey).unwrap()],
    )
    .unwrap()
    .0;
    let body = audit::endorse::text(
        ORIGIN,
        &f.vkey,
        &mallory.verifier().to_string(),
        r.from_size,
    );
    let forged = format!(
        "{body}\n{}\n{}\n",
        mallory.signature_line(&body),
        mallory.signature_line(&body)
    );
    bundle.checkpoint = cp.sign(&mallory).unwrap();
    bundle.endorsements = vec![forged];
    let report = verify_bundle(&bundle, &pinned(&f.vkey));
    assert!(!report.ok);
    let rot = check(&report, "key rotations");
    assert!(!rot.ok);
    assert!(rot.detail.contains("forged endorsement"), "{}", rot.detail);
    assert!(rot.detail.contains(&f.vkey), "{}", rot.detail);
    assert!(
        !check(&report, "checkpoint signature").ok,
        "{}",
        report.human()
    );
    let (ok, json) = cli_verify(
        f.dir.path(),
        "forged.json",
        &serde_json::to_string(&bundle).unwrap(),
        &f.vkey,
    );
    assert!(!ok);
    assert!(json.to_string().contains("forged endorsement"), "{json}");

    // The same forgery in the keys table fails the whole-log check too, pinned or not.
    f.exec(
        "UPDATE audit_keys SET endorsement = $1 WHERE vkey = $2",
        &[&bundle.endorsements[0], &r.new_vkey],
    )
    .await;
    for pin in [vec![], vec![Verifier::parse(&f.vkey).unwrap()]] {
        let v = audit::service::verify_log(&f.db, &pin).await.unwrap();
        assert!(!v.ok, "{}", v.human());
        assert!(v.human().contains("forged endorsement"), "{}", v.human());
    }
}
