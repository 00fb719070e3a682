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
    let next = Audit::new(Arc::new(signer()), 1, Duration::from_millis(10));
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

/// Two processes on one database and key directory: one rotates; the other signs its next
/// checkpoint with the new key without a restart; a process that cannot load the new key
/// refuses to sign (never past its key's range); a restart with the retired key keeps the new
/// one current; the endorsement is signed by both keys; the whole log verifies.
#[tokio::test]
async fn rotation_without_restart_reaches_every_process_and_never_signs_past_a_range() {
    use remote_hearing::audit::{note::Note, rotation::Keyring};
    let f = fixture().await;
    let keys_dir = f.dir.path().join("audit-keys");
    let process = |dir: Option<std::path::PathBuf>| {
        let mut a = f.audit.clone();
        a.keyring = Arc::new(Keyring::new(f.audit.signer.clone(), dir));
        a
    };
    let (a, b, stale) = (
        process(Some(keys_dir.clone())),
        process(Some(keys_dir.clone())),
        process(None),
    );
    let r = a.rotate_key(&f.db, ("admin", "admin-1"), 40).await.unwrap();
    assert_eq!(r.old_vkey, f.vkey);
    assert_ne!(r.new_vkey, f.vkey);
    assert_eq!(r.from_size, 10);
    // The endorsement: the text names both keys and the size; signed by the old and the new key.
    let note = Note::parse(&r.endorsement).unwrap();
    assert!(note.body.contains(&format!(
        "old {}\nnew {}\nfrom 10\n",
        r.old_vkey, r.new_vkey
    )));
    for vk in [&r.old_vkey, &r.new_vkey] {
        let v = Verifier::parse(vk).unwrap();
        let sig = note
            .signatures
            .iter()
            .find(|s| s.key_id == v.key_id)
            .expect("signed");
        assert!(v.verify(note.body.as_bytes(), &sig.signature), "{vk}");
    }
    // The key file is private.
    let id = r.new_vkey.split('+').nth(1).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(keys_dir.join(format!("{id}.p8")))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // The other process follows at its next checkpoint.
    append(
        &f.db,
        new_entry("hearing-a", "ruling", 50, json!({"fine_yuan": 100})),
    )
    .await;
    let cp = b.sign_checkpoint(&f.db, 51).await.unwrap();
    assert_eq!(cp.key_id, id);
    assert_eq!(b.keyring.current().verifier().to_string(), r.new_vkey);
    // A process without the key directory refuses: nothing signed with the old key.
    append(&f.db, new_entry("hearing-a", "confirmation", 52, json!({}))).await;
    let e = stale.sign_checkpoint(&f.db, 53).await.unwrap_err();
    assert!(
        matches!(e, remote_hearing::audit::AuditError::KeyRetired(ref k) if *k == r.new_vkey),
        "{e}"
    );
    // A restart with the retired key configured takes the current key from the directory…
    let restarted = process(Some(keys_dir.clone()));
    restarted.register_key(&f.db, 54).await.unwrap();
    assert_eq!(
        restarted.keyring.current().verifier().to_string(),
        r.new_vkey
    );
    // …and refuses to start without it.
    let blind = process(Some(f.dir.path().join("empty")));
    assert!(blind.register_key(&f.db, 55).await.is_err());
    let mut c = f.db.read.acquire().await.unwrap();
    let keys = store::keys(&mut c).await.unwrap();
    drop(c);
    let ranges: Vec<_> = keys
        .iter()
        .map(|k| (k.vkey.clone(), k.from_size, k.to_size))
        .collect();
    assert_eq!(
        ranges,
        vec![
            (f.vkey.clone(), 0, Some(10)),
            (r.new_vkey.clone(), 10, None)
        ]
    );
    let v = audit::service::verify_log(&f.db, &[]).await.unwrap();
    assert!(v.ok, "{}", v.human());
    // The rotation is an entry of the admin chain.
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_entries WHERE hearing_id = 'admin' AND step = 'signing_key_rotated'",
    )
    .fetch_one(&f.db.read)
    .await
    .unwrap();
    assert_eq!(n, 1);
}
