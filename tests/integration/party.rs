//! The party, identified (issue 12 §2): `PUT /api/v1/citizens/me/identity` checks the name and
//! the GB 11643-1999 ID number, stores both encrypted (AES-256-GCM) and shows the number masked;
//! once a hearing has recorded its `identity` step the identity is fixed.

use remote_hearing::identity::citizens;
use serde_json::{Value, json};

use crate::{
    hearing::{body_of, world},
    helpers::{TestApp, expect_error, expect_json},
};

/// A valid number (check digit 4) whose mask is `3701**********1234`.
pub(crate) const ID: &str = "370102199003181234";
/// The GB 11643-1999 example, lower-case check character.
const ID_X: &str = "11010519491231002x";

async fn put(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.client
        .put(app.url("/api/v1/citizens/me/identity"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn identity_is_stored_encrypted_and_shown_masked() {
    let app = TestApp::spawn().await;
    let (token, citizen_id) = app.login_citizen("13800001111").await;
    // None yet.
    expect_error(
        app.get("/api/v1/citizens/me/identity", Some(&token)).await,
        404,
        "not_found",
    )
    .await;
    let v: Value = expect_json(
        put(
            &app,
            &token,
            json!({"name": "买买提·艾力", "id_number": ID}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        v,
        json!({"name": "买买提·艾力", "id_number_masked": "3701**********1234"})
    );
    let v: Value = app
        .get_json("/api/v1/citizens/me/identity", Some(&token))
        .await;
    assert_eq!(v["id_number_masked"], "3701**********1234");
    let me: Value = app.get_json("/api/v1/auth/me", Some(&token)).await;
    assert_eq!(me["name"], "买买提·艾力");
    assert_eq!(me["id_number_masked"], "3701**********1234");
    assert!(!me.to_string().contains(ID));
    // At rest: neither the number nor the name in clear, and each value under its own nonce.
    let (name_enc, id_enc): (String, String) =
        sqlx::query_as("SELECT real_name_enc, id_number_enc FROM citizens WHERE id = $1")
            .bind(&citizen_id)
            .fetch_one(&app.state.db.read)
            .await
            .unwrap();
    assert!(
        id_enc.starts_with("v1.") && !id_enc.contains("1234"),
        "{id_enc}"
    );
    assert!(!name_enc.contains("买买提"));
    // The party, for the decision and the hearing's officer: clear number, masked phone.
    let party = citizens::party(&app.state.db, &app.state.identity_key, &citizen_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(party.id_number, ID);
    assert_eq!(party.name, "买买提·艾力");
    assert_eq!(party.phone_masked.as_deref(), Some("138****1111"));
    assert!(!format!("{party:?}").contains(ID), "Debug masks the number");
    // A correction before any hearing used it; lower-case x stored upper-case.
    let v: Value = expect_json(
        put(&app, &token, json!({"name": "张三", "id_number": ID_X})).await,
        200,
    )
    .await;
    assert_eq!(v["id_number_masked"], "1101**********002X");
    let party = citizens::party(&app.state.db, &app.state.identity_key, &citizen_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(party.id_number, "11010519491231002X");
    // A ciphertext moved to another citizen's row does not open.
    let (other_token, other_id) = app.login_citizen("13800002222").await;
    put(&app, &other_token, json!({"name": "李四", "id_number": ID})).await;
    let (moved,): (String,) = sqlx::query_as("SELECT id_number_enc FROM citizens WHERE id = $1")
        .bind(&citizen_id)
        .fetch_one(&app.state.db.read)
        .await
        .unwrap();
    sqlx::query("UPDATE citizens SET id_number_enc = $1 WHERE id = $2")
        .bind(moved)
        .bind(&other_id)
        .execute(&app.state.db.write)
        .await
        .unwrap();
    assert!(
        citizens::party(&app.state.db, &app.state.identity_key, &other_id)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn bad_identity_is_refused_with_its_field_and_nothing_stored() {
    let app = TestApp::spawn().await;
    let (token, citizen_id) = app.login_citizen("13800003333").await;
    for (body, status, code, field) in [
        // Wrong check digit (…1234 is right).
        (
            json!({"name": "张三", "id_number": "370102199003181235"}),
            422,
            "id_number_invalid",
            "id_number",
        ),
        // 30 February.
        (
            json!({"name": "张三", "id_number": "370102199002301234"}),
            422,
            "id_number_invalid",
            "id_number",
        ),
        (
            json!({"name": "张三", "id_number": "37010219900318123"}),
            422,
            "id_number_invalid",
            "id_number",
        ),
        (
            json!({"name": "张三", "id_number": "x".repeat(100_000)}),
            413,
            "body_too_large",
            "",
        ),
        (
            json!({"name": "张三", "id_number": "1".repeat(300)}),
            422,
            "id_number_invalid",
            "id_number",
        ),
        (
            json!({"name": "Zhang San", "id_number": ID}),
            422,
            "name_invalid",
            "name",
        ),
        (
            json!({"name": "·张三", "id_number": ID}),
            422,
            "name_invalid",
            "name",
        ),
        (
            json!({"name": "张", "id_number": ID}),
            422,
            "name_invalid",
            "name",
        ),
        (json!({"name": "张三"}), 422, "invalid_field", "id_number"),
        (
            json!({"name": 1, "id_number": ID}),
            422,
            "invalid_field",
            "name",
        ),
    ] {
        let r = put(&app, &token, body.clone()).await;
        let status_got = r.status().as_u16();
        let e: Value = r.json().await.unwrap_or(Value::Null);
        assert_eq!(status_got, status, "{e}");
        if status == 422 {
            assert_eq!(e["error"]["code"], code, "{e}");
            assert_eq!(e["error"]["field"], field, "{e}");
        }
    }
    let (stored,): (Option<String>,) =
        sqlx::query_as("SELECT id_number_enc FROM citizens WHERE id = $1")
            .bind(&citizen_id)
            .fetch_one(&app.state.db.read)
            .await
            .unwrap();
    assert_eq!(stored, None);
    // Citizens only.
    let r = put(
        &app,
        "not-a-token",
        json!({"name": "张三", "id_number": ID}),
    )
    .await;
    assert_eq!(r.status(), 401);
    let (_, _, officer) = app.login_officer().await;
    let r = put(&app, &officer, json!({"name": "张三", "id_number": ID})).await;
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn identity_is_fixed_once_a_hearing_used_it() {
    let w = world().await;
    let app = &w.app;
    expect_json::<Value>(
        put(app, &w.citizen, json!({"name": "张三", "id_number": ID})).await,
        200,
    )
    .await;
    let h = w.open().await;
    let id = h["id"].as_str().unwrap();
    // Opened but the identity step not recorded: still correctable.
    expect_json::<Value>(
        put(app, &w.citizen, json!({"name": "张三", "id_number": ID_X})).await,
        200,
    )
    .await;
    w.ok_step(id, body_of("identity")).await;
    expect_error(
        put(app, &w.citizen, json!({"name": "张三", "id_number": ID})).await,
        409,
        "identity_immutable",
    )
    .await;
    expect_error(
        put(app, &w.citizen, json!({"name": "李四", "id_number": ID_X})).await,
        409,
        "identity_immutable",
    )
    .await;
    // The same identity again changes nothing and is accepted.
    let v: Value = expect_json(
        put(app, &w.citizen, json!({"name": "张三", "id_number": ID_X})).await,
        200,
    )
    .await;
    assert_eq!(v["id_number_masked"], "1101**********002X");
}
