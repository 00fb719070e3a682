//! Rotating the master key of the encryption at rest (docs/operations.md "Rotating the master
//! key"): a recording sealed under a hearing key, `remote-hearing storage rotate-master-key
//! --new FILE` re-wraps every hearing key in one transaction, the files untouched; a server
//! started with the new key file alone serves the recording; one still configured with the old
//! key does not start, and the old key no longer opens the wrapped keys. The rotation is an
//! audit entry; running it again changes nothing.

use std::process::{Command, Output};

use remote_hearing::{
    identity::Role,
    store::vault::{StorageConfig, Vault},
};
use secrecy::ExposeSecret;

use crate::hearing::world;
use crate::helpers::{TestApp, output_text};

const BIN: &str = env!("CARGO_BIN_EXE_remote-hearing");

fn sha(b: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, b))
}

fn rotate(app: &TestApp, new: &std::path::Path) -> Output {
    let mut c = Command::new(BIN);
    c.args(["storage", "rotate-master-key", "--new"])
        .arg(new)
        .arg("--data-dir")
        .arg(app.data_dir.path())
        .env_remove("DATABASE_URL");
    let url = app.state.config.database.url.expose_secret().to_string();
    if !url.is_empty() {
        c.env("DATABASE_URL", url);
    }
    c.output().unwrap()
}

async fn auditor(app: &TestApp) -> String {
    let badge = format!("8{}", &uuid::Uuid::new_v4().simple().to_string()[..6]);
    app.create_staff(Role::Auditor, &badge, None).await;
    app.login_staff(&badge).await
}

#[tokio::test]
async fn after_a_master_key_rotation_only_the_new_key_file_reads_the_recordings() {
    let w = world().await;
    let id = w.open().await["id"].as_str().unwrap().to_string();
    let state = &w.app.state;
    // A recorded file, sealed with the hearing's recordings key (as the sealer leaves it),
    // and a second hearing key (personal data) to re-wrap.
    let rel = format!("{id}/seg-1/citizen.webm");
    let file = state.call.recordings_dir.join(&rel);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let plain: Vec<u8> = (0..120_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&file, &plain).unwrap();
    let rec = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        "INSERT INTO recordings (id, hearing_id, segment, participant, kind, format, rel_path, bytes, sha256, created_at) \
         VALUES ($1, $2, 'seg-1', 'citizen', 'video', 'webm', $3, $4, $5, 0)",
    )
    .bind(&rec)
    .bind(&id)
    .bind(&rel)
    .bind(plain.len() as i64)
    .bind(sha(&plain))
    .execute(&state.db.write)
    .await
    .unwrap();
    let key = crate::helpers::seal_with_hearing_key(state, &id, &file).await;
    state
        .call
        .vault
        .key_for(&state.db, &id, "personal_data", 0)
        .await
        .unwrap();
    let sealed = std::fs::read(&file).unwrap();
    let token = auditor(&w.app).await;
    let r = w
        .app
        .get(&format!("/api/v1/recordings/{rec}"), Some(&token))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(sha(&r.bytes().await.unwrap()), sha(&plain));

    // The new master key, and the rotation from the command line.
    let new_file = w.app.data_dir.path().join("master-2.key");
    let fresh = || uuid::Uuid::new_v4().simple().to_string();
    std::fs::write(&new_file, format!("{}{}\n", fresh(), fresh())).unwrap();
    let o = rotate(&w.app, &new_file);
    assert!(o.status.success(), "{}", output_text(&o));
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(out.contains("re-wrapped 2 hearing keys"), "{out}");
    let new_id = out.lines().last().unwrap().to_string();
    assert_eq!(new_id, Vault::from_file(&new_file).unwrap().id());
    // The file was not touched; the rotation is sealed on the admin chain.
    assert_eq!(std::fs::read(&file).unwrap(), sealed);
    let payload: String = sqlx::query_scalar(
        "SELECT payload FROM audit_entries WHERE hearing_id = 'admin' AND step = 'storage_master_key_rotated'",
    )
    .fetch_one(&state.db.read)
    .await
    .unwrap();
    let payload: serde_json::Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(payload["rewrapped"], 2, "{payload}");
    assert_eq!(payload["new_master_id"], new_id.as_str(), "{payload}");
    // Run again: nothing to do, nothing sealed again.
    let o = rotate(&w.app, &new_file);
    assert!(o.status.success(), "{}", output_text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("re-wrapped 0 hearing keys"),
        "{}",
        output_text(&o)
    );

    // The process still holding the old key no longer serves it…
    let r = w
        .app
        .get(&format!("/api/v1/recordings/{rec}"), Some(&token))
        .await;
    assert_ne!(r.status(), 200);
    // …and a process configured with the old key does not start.
    let old_config = (*state.config).clone();
    let Err(e) = remote_hearing::build_state(old_config, w.app.clock.clone()).await else {
        panic!("a process with the old master key must not start");
    };
    assert!(format!("{e:#}").contains("master key was rotated"), "{e:#}");

    // A server with the new key file alone serves the recording, whole and by range.
    let recordings_dir = state.call.recordings_dir.clone();
    let nf = new_file.clone();
    let peer = TestApp::builder()
        .peer_of(&w.app)
        .config(move |c| {
            c.storage.master_key_file = nf;
            c.call.recordings_dir = recordings_dir;
        })
        .spawn()
        .await;
    let token = auditor(&peer).await;
    let r = peer
        .get(&format!("/api/v1/recordings/{rec}"), Some(&token))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(sha(&r.bytes().await.unwrap()), sha(&plain));
    let r = peer
        .client
        .get(peer.url(&format!("/api/v1/recordings/{rec}")))
        .bearer_auth(&token)
        .header("range", "bytes=70000-70099")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(&r.bytes().await.unwrap()[..], &plain[70000..70100]);

    // The old key no longer opens the wrapped keys (the row's master id set aside, so the
    // decryption itself is what fails), the new one does.
    sqlx::query("UPDATE hearing_keys SET master_id = NULL")
        .execute(&state.db.write)
        .await
        .unwrap();
    let old = Vault::from_config(&StorageConfig::default(), false, w.app.data_dir.path()).unwrap();
    let e = old
        .key_by_id(&state.db.read, &id, &key.id())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("does not unwrap"), "{e}");
    let new = Vault::from_file(&new_file).unwrap();
    let again = new
        .key_by_id(&state.db.read, &id, &key.id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.id(), key.id());
}
