//! Keys: keygen writes a private key and prints the verifier key; rotation keeps old
//! checkpoints verifiable.

use std::{process::Command, sync::Arc, time::Duration};

use remote_hearing::audit::{
    self, Audit,
    note::{Signer, Verifier},
    store,
    verify::{Options, verify_bundle},
};
use serde_json::json;

use super::{BIN, append, fixture, new_entry, signer};

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
        trust_bundle_keys: false,
    };
    let r = verify_bundle(&bundle, &opts);
    assert!(r.ok, "{}", r.human());
}
