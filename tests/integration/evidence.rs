//! Evidence of a hearing (issue 12 §2, §4): `POST /api/v1/hearings/{id}/evidence?kind=…` with a
//! raw JPEG or PNG (officer: `id_still`, citizen: `signature`; 2 MiB; a real image of the
//! declared type), `GET …/evidence/{evidence_id}` (officer, citizen, auditors), the party for the
//! hearing's officer, and the identity step that seals the still's SHA-256.

use remote_hearing::identity::Role;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::{
    hearing::{body_of, world},
    helpers::{TestApp, expect_error, expect_json},
};

/// A 4×3 white PNG.
pub(crate) const PNG: [u8; 71] = [
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x03, 0x08, 0x02, 0x00, 0x00, 0x00, 0x3b, 0x96, 0x39,
    0x91, 0x00, 0x00, 0x00, 0x0e, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0x8f, 0x04, 0x18,
    0x70, 0x72, 0x00, 0xbb, 0x87, 0x23, 0xdd, 0x93, 0xf9, 0xe4, 0x3c, 0x00, 0x00, 0x00, 0x00, 0x49,
    0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];
/// SOI, JFIF APP0, SOF0 of 8×6, EOI.
pub(crate) const JPEG: [u8; 35] = [
    0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01,
    0x00, 0x01, 0x00, 0x00, 0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x06, 0x00, 0x08, 0x01, 0x01, 0x11,
    0x00, 0xFF, 0xD9,
];

pub(crate) async fn upload(
    app: &TestApp,
    token: &str,
    hearing: &str,
    kind: &str,
    content_type: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/hearings/{hearing}/evidence?kind={kind}")))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Uploads a still as `officer`; its id, or `None` when refused.
pub(crate) async fn try_upload_still(
    app: &TestApp,
    officer: &str,
    hearing: &str,
) -> Option<String> {
    let r = upload(
        app,
        officer,
        hearing,
        "id_still",
        "image/jpeg",
        JPEG.to_vec(),
    )
    .await;
    if r.status() != 201 {
        return None;
    }
    let v: Value = r.json().await.ok()?;
    v["id"].as_str().map(str::to_string)
}

/// The identity step's body for a world built outside `hearing::world`: the citizen names
/// themself and the officer uploads a still.
pub(crate) async fn identity_body(
    app: &TestApp,
    citizen: &str,
    officer: &str,
    hearing: &str,
) -> Value {
    crate::hearing::decision::give_identity(app, citizen).await;
    let mut b = body_of("identity");
    b["still_id"] = json!(
        try_upload_still(app, officer, hearing)
            .await
            .expect("still")
    );
    b
}

async fn get(app: &TestApp, token: &str, hearing: &str, evidence: &str) -> reqwest::Response {
    app.get(
        &format!("/api/v1/hearings/{hearing}/evidence/{evidence}"),
        Some(token),
    )
    .await
}

#[tokio::test]
async fn stills_and_signatures_are_stored_and_read_back_by_who_may() {
    let w = world().await;
    let app = &w.app;
    let id = w.open().await["id"].as_str().unwrap().to_string();
    let v: Value = expect_json(
        upload(
            app,
            &w.officer,
            &id,
            "id_still",
            "image/jpeg",
            JPEG.to_vec(),
        )
        .await,
        201,
    )
    .await;
    let sha = hex::encode(Sha256::digest(JPEG));
    assert_eq!(v["kind"], "id_still");
    assert_eq!(v["sha256"], sha.as_str());
    assert_eq!(v["bytes"], JPEG.len());
    assert_eq!(
        (v["width"].as_i64(), v["height"].as_i64()),
        (Some(8), Some(6))
    );
    let still = v["id"].as_str().unwrap().to_string();
    let s: Value = expect_json(
        upload(app, &w.citizen, &id, "signature", "image/png", PNG.to_vec()).await,
        201,
    )
    .await;
    assert_eq!(s["kind"], "signature");
    let sig = s["id"].as_str().unwrap().to_string();

    // Each kind by its own party only.
    expect_error(
        upload(
            app,
            &w.citizen,
            &id,
            "id_still",
            "image/jpeg",
            JPEG.to_vec(),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    expect_error(
        upload(app, &w.officer, &id, "signature", "image/png", PNG.to_vec()).await,
        403,
        "forbidden",
    )
    .await;
    let auditor_id = app.create_staff(Role::Auditor, "A001", None).await;
    let _ = auditor_id;
    let auditor = app.login_staff("A001").await;
    expect_error(
        upload(app, &auditor, &id, "id_still", "image/jpeg", JPEG.to_vec()).await,
        403,
        "forbidden",
    )
    .await;
    let (other_citizen, _) = app.login_citizen("13900009999").await;
    expect_error(
        upload(
            app,
            &other_citizen,
            &id,
            "signature",
            "image/png",
            PNG.to_vec(),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    let r = upload(app, &w.officer, &id, "selfie", "image/png", PNG.to_vec()).await;
    assert_eq!(
        expect_error(r, 422, "invalid_field").await["error"]["field"],
        "kind"
    );

    // Read back: the bytes as uploaded, their digest in a header.
    for token in [&w.officer, &w.citizen, &auditor] {
        let r = get(app, token, &id, &still).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "image/jpeg");
        assert_eq!(r.headers()["x-content-sha256"], sha.as_str());
        assert_eq!(r.bytes().await.unwrap().as_ref(), JPEG.as_slice());
    }
    let r = get(app, &w.officer, &id, &sig).await;
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.bytes().await.unwrap().as_ref(), PNG.as_slice());
    // At rest each image is sealed with the hearing's personal-data key (issue 15 §3); an
    // image stored before encryption (plain base64) still reads back as it was.
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    for e in [&still, &sig] {
        let (data,): (String,) = sqlx::query_as("SELECT data FROM hearing_evidence WHERE id = $1")
            .bind(e)
            .fetch_one(&app.state.db.read)
            .await
            .unwrap();
        let stored = b64.decode(data).unwrap();
        assert!(recordings::sealed::is_sealed(&stored), "{e} is not sealed");
        assert!(
            !stored
                .windows(8)
                .any(|x| x == &JPEG[4..12] || x == &PNG[12..20])
        );
    }
    let keys: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM hearing_keys WHERE hearing_id = $1 AND class = 'personal_data'",
    )
    .bind(&id)
    .fetch_one(&app.state.db.read)
    .await
    .unwrap();
    assert_eq!(keys, 1, "one key per hearing and class");
    sqlx::query("UPDATE hearing_evidence SET data = $1 WHERE id = $2")
        .bind(b64.encode(PNG))
        .bind(&sig)
        .execute(&app.state.db.write)
        .await
        .unwrap();
    let r = get(app, &w.officer, &id, &sig).await;
    assert_eq!(r.bytes().await.unwrap().as_ref(), PNG.as_slice());
    expect_error(
        get(app, &other_citizen, &id, &still).await,
        404,
        "not_found",
    )
    .await;
    expect_error(
        get(app, &w.officer, &id, "no-such-evidence").await,
        404,
        "not_found",
    )
    .await;
    // Another officer of the brigade is not this hearing's officer.
    app.create_staff(Role::Officer, "O777", Some(&w.brigade))
        .await;
    let colleague = app.login_staff("O777").await;
    expect_error(
        get(app, &colleague, &id, &still).await,
        403,
        "not_your_hearing",
    )
    .await;
    // Stored durably in the database.
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM hearing_evidence WHERE hearing_id = $1")
        .bind(&id)
        .fetch_one(&app.state.db.read)
        .await
        .unwrap();
    assert_eq!(n, 2);
}

#[tokio::test]
async fn bad_uploads_are_refused_and_nothing_is_stored() {
    let w = world().await;
    let app = &w.app;
    let id = w.open().await["id"].as_str().unwrap().to_string();
    let over = {
        let mut b = JPEG[..33].to_vec();
        b.resize(2 * 1024 * 1024 + 1 - 2, 0);
        b.extend_from_slice(&[0xFF, 0xD9]);
        b
    };
    assert_eq!(over.len(), 2 * 1024 * 1024 + 1);
    let r = upload(app, &w.officer, &id, "id_still", "image/jpeg", over).await;
    expect_error(r, 413, "body_too_large").await;
    for (ct, body, status, code) in [
        (
            "image/jpeg",
            b"hello, not an image".to_vec(),
            422,
            "not_an_image",
        ),
        ("image/jpeg", PNG.to_vec(), 422, "not_an_image"),
        ("image/png", PNG[..50].to_vec(), 422, "not_an_image"),
        ("image/jpeg", JPEG[..30].to_vec(), 422, "not_an_image"),
        ("image/png", vec![], 422, "not_an_image"),
        (
            "image/gif",
            b"GIF89a".to_vec(),
            415,
            "unsupported_media_type",
        ),
        (
            "application/json",
            b"{}".to_vec(),
            415,
            "unsupported_media_type",
        ),
    ] {
        let r = upload(app, &w.officer, &id, "id_still", ct, body).await;
        expect_error(r, status, code).await;
    }
    // Exactly 2 MiB is accepted.
    let mut exact = JPEG[..33].to_vec();
    exact.resize(2 * 1024 * 1024 - 2, 0);
    exact.extend_from_slice(&[0xFF, 0xD9]);
    let v: Value = expect_json(
        upload(app, &w.officer, &id, "id_still", "image/jpeg", exact).await,
        201,
    )
    .await;
    assert_eq!(v["bytes"], 2 * 1024 * 1024);
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM hearing_evidence WHERE hearing_id = $1")
        .bind(&id)
        .fetch_one(&app.state.db.read)
        .await
        .unwrap();
    assert_eq!(n, 1);
    // Unknown hearing; no session.
    expect_error(
        upload(
            app,
            &w.officer,
            "nope",
            "id_still",
            "image/jpeg",
            JPEG.to_vec(),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    let r = app
        .client
        .post(app.url(&format!("/api/v1/hearings/{id}/evidence?kind=id_still")))
        .header("content-type", "image/jpeg")
        .body(JPEG.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn the_identity_step_seals_the_still_and_the_party_is_named_for_the_officer() {
    let w = world().await;
    let app = &w.app;
    let id = w.open().await["id"].as_str().unwrap().to_string();
    // The hearing's officer sees the clear number to compare with the card; nobody else.
    let p: Value = app
        .get_json(&format!("/api/v1/hearings/{id}/party"), Some(&w.officer))
        .await;
    assert_eq!(p["id_number"], crate::party::ID);
    assert_eq!(p["name"], "张三");
    assert_eq!(p["id_number_masked"], "3701**********1234");
    expect_error(
        app.get(&format!("/api/v1/hearings/{id}/party"), Some(&w.citizen))
            .await,
        403,
        "forbidden",
    )
    .await;
    let (other, _) = app.login_citizen("13900008888").await;
    expect_error(
        app.get(&format!("/api/v1/hearings/{id}/party"), Some(&other))
            .await,
        404,
        "not_found",
    )
    .await;

    // A still of another hearing, a signature, or an unknown id is refused; nothing recorded.
    let step = |still: &str| json!({"step": "identity", "id_number_matches": true, "face_matches": true, "still_id": still});
    let sig: Value = expect_json(
        upload(app, &w.citizen, &id, "signature", "image/png", PNG.to_vec()).await,
        201,
    )
    .await;
    for bad in [sig["id"].as_str().unwrap(), "unknown"] {
        let r = w.step(&id, &w.officer, step(bad)).await;
        assert_eq!(
            expect_error(r, 422, "invalid_field").await["error"]["field"],
            "still_id"
        );
    }
    let still: Value = expect_json(
        upload(
            app,
            &w.officer,
            &id,
            "id_still",
            "image/jpeg",
            JPEG.to_vec(),
        )
        .await,
        201,
    )
    .await;
    let still_id = still["id"].as_str().unwrap();
    let v = w.ok_step(&id, step(still_id)).await;
    assert_eq!(v["next_step"], "inquiry");
    let (payload,): (String,) = sqlx::query_as(
        "SELECT payload FROM hearing_steps WHERE hearing_id = $1 AND step = 'identity'",
    )
    .bind(&id)
    .fetch_one(&app.state.db.read)
    .await
    .unwrap();
    let payload: Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(payload["still_id"], still_id);
    assert_eq!(payload["still_sha256"], hex::encode(Sha256::digest(JPEG)));
    assert_eq!(payload["id_number_masked"], "3701**********1234");
    assert!(!payload.to_string().contains(crate::party::ID));
    // Now fixed.
    let r = app
        .client
        .put(app.url("/api/v1/citizens/me/identity"))
        .bearer_auth(&w.citizen)
        .json(&json!({"name": "李四", "id_number": crate::party::ID}))
        .send()
        .await
        .unwrap();
    expect_error(r, 409, "identity_immutable").await;
}

#[tokio::test]
async fn a_failed_identity_check_refers_the_case_and_a_missing_identity_is_refused() {
    let w = world().await;
    let app = &w.app;
    let id = w.open().await["id"].as_str().unwrap().to_string();
    let still = try_upload_still(app, &w.officer, &id).await.unwrap();
    let r = w
        .step(&id, &w.officer, json!({"step": "identity", "id_number_matches": true, "face_matches": false, "still_id": still}))
        .await;
    assert_eq!(
        expect_error(r, 422, "invalid_field").await["error"]["field"],
        "remarks"
    );
    let v = w
        .ok_step(
            &id,
            json!({"step": "identity", "id_number_matches": true, "face_matches": false,
            "remarks": "相貌与证件照片不符", "still_id": still}),
        )
        .await;
    assert_eq!(v["status"], "referred");
    // Evidence can no longer be added to a closed hearing.
    expect_error(
        upload(
            app,
            &w.officer,
            &id,
            "id_still",
            "image/jpeg",
            JPEG.to_vec(),
        )
        .await,
        409,
        "invalid_state",
    )
    .await;
    expect_error(
        app.get(&format!("/api/v1/hearings/{id}/party"), Some(&w.officer))
            .await,
        409,
        "invalid_state",
    )
    .await;

    // A citizen who gave no identity: the step (and the party) say so.
    let w2 = world().await;
    sqlx::query("UPDATE citizens SET real_name_enc = NULL, id_number_enc = NULL")
        .execute(&w2.app.state.db.write)
        .await
        .unwrap();
    let id2 = w2.open().await["id"].as_str().unwrap().to_string();
    expect_error(
        w2.app
            .get(&format!("/api/v1/hearings/{id2}/party"), Some(&w2.officer))
            .await,
        409,
        "identity_missing",
    )
    .await;
    let r = w2.step(&id2, &w2.officer, body_of("identity")).await;
    expect_error(r, 409, "identity_missing").await;
}
