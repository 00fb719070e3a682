//! Staff administration (issue 15 §1): an admin lists, creates, disables, enables and resets the
//! password of staff accounts; disabling or resetting ends the account's sessions at once; every
//! action is an `admin` audit entry; other roles get 403; bad input is 422 with the field.

use remote_hearing::identity::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_error, expect_json};

async fn login(app: &TestApp, badge: &str, password: &str) -> reqwest::Response {
    app.post(
        "/api/v1/auth/officer",
        None,
        json!({"badge": badge, "password": password}),
    )
    .await
}

async fn token_of(r: reqwest::Response) -> String {
    let v: Value = expect_json(r, 200).await;
    v["token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn admin_manages_staff_and_sessions_end_at_once() {
    let app = TestApp::spawn().await;
    let brigade = app.create_brigade(4).await;
    let admin_id = app.create_staff(Role::Admin, "ADM1", None).await;
    let admin = app.login_staff("ADM1").await;

    // Create an officer; the list shows it, active, without any hash.
    let body = json!({"role": "officer", "badge": "P9001", "name": "李警官",
        "brigade_id": brigade, "password": "first-password-1"});
    let created: Value = expect_json(
        app.post("/api/v1/admin/staff", Some(&admin), body.clone())
            .await,
        201,
    )
    .await;
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["active"], true);
    let list: Value = app.get_json("/api/v1/admin/staff", Some(&admin)).await;
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    assert!(!list.to_string().contains("argon2"), "no hashes leak");
    expect_error(
        app.post("/api/v1/admin/staff", Some(&admin), body).await,
        409,
        "badge_taken",
    )
    .await;

    // Disable: the officer's existing token answers 401 at once and login is refused.
    let officer = token_of(login(&app, "P9001", "first-password-1").await).await;
    assert_eq!(
        app.get("/api/v1/auth/me", Some(&officer)).await.status(),
        200
    );
    let path = format!("/api/v1/admin/staff/{id}");
    let r = app
        .post(&format!("{path}/disable"), Some(&admin), json!({}))
        .await;
    let v: Value = expect_json(r, 200).await;
    assert_eq!(v["active"], false);
    assert_eq!(
        app.get("/api/v1/auth/me", Some(&officer)).await.status(),
        401
    );
    expect_error(
        login(&app, "P9001", "first-password-1").await,
        401,
        "account_disabled",
    )
    .await;
    let list: Value = app.get_json("/api/v1/admin/staff", Some(&admin)).await;
    let row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id.as_str())
        .unwrap();
    assert_eq!(row["active"], false);
    // An admin cannot lock themselves out.
    let me = format!("/api/v1/admin/staff/{admin_id}/disable");
    expect_error(
        app.post(&me, Some(&admin), json!({})).await,
        409,
        "cannot_disable_self",
    )
    .await;

    // Enable: login works again.
    let r = app
        .post(&format!("{path}/enable"), Some(&admin), json!({}))
        .await;
    assert_eq!(r.status(), 200);
    let old = token_of(login(&app, "P9001", "first-password-1").await).await;

    // Reset password: old sessions 401, old password refused, new one works.
    let r = app
        .post(
            &format!("{path}/reset-password"),
            Some(&admin),
            json!({"password": "second-password-2"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(app.get("/api/v1/auth/me", Some(&old)).await.status(), 401);
    expect_error(
        login(&app, "P9001", "first-password-1").await,
        401,
        "bad_credentials",
    )
    .await;
    let new = token_of(login(&app, "P9001", "second-password-2").await).await;
    assert_eq!(app.get("/api/v1/auth/me", Some(&new)).await.status(), 200);

    // An admin resetting their own password keeps the session they did it with.
    let own = format!("/api/v1/admin/staff/{admin_id}/reset-password");
    let r = app
        .post(&own, Some(&admin), json!({"password": "admin-password-3"}))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(app.get("/api/v1/auth/me", Some(&admin)).await.status(), 200);

    // Unknown account: 404.
    let r = app
        .post("/api/v1/admin/staff/nope/disable", Some(&admin), json!({}))
        .await;
    expect_error(r, 404, "not_found").await;

    // Every action is an entry of the `admin` audit chain, by this admin, in order.
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT step, actor_role, actor_id FROM audit_entries WHERE hearing_id = 'admin' ORDER BY hearing_seq",
    )
    .fetch_all(&app.state.db.read)
    .await
    .unwrap();
    let steps: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        steps,
        [
            "staff_created",
            "staff_disabled",
            "staff_enabled",
            "staff_password_reset",
            "staff_password_reset",
        ]
    );
    assert!(
        rows.iter().all(|r| r.1 == "admin" && r.2 == admin_id),
        "{rows:?}"
    );
}

#[tokio::test]
async fn other_roles_get_403_and_bad_input_is_422_with_the_field() {
    let app = TestApp::spawn().await;
    let (_brigade, officer_id, officer) = app.login_officer().await;
    app.create_staff(Role::Auditor, "AUD1", None).await;
    let auditor = app.login_staff("AUD1").await;
    let body = json!({"role": "auditor", "badge": "X1", "name": "X", "password": "long-enough-pw"});
    for token in [&officer, &auditor] {
        expect_error(
            app.get("/api/v1/admin/staff", Some(token)).await,
            403,
            "forbidden",
        )
        .await;
        expect_error(
            app.post("/api/v1/admin/staff", Some(token), body.clone())
                .await,
            403,
            "forbidden",
        )
        .await;
        let p = format!("/api/v1/admin/staff/{officer_id}/disable");
        expect_error(app.post(&p, Some(token), json!({})).await, 403, "forbidden").await;
    }
    assert_eq!(app.get("/api/v1/admin/staff", None).await.status(), 401);

    app.create_staff(Role::Admin, "ADM2", None).await;
    let admin = app.login_staff("ADM2").await;
    let cases = [
        (
            json!({"role": "auditor", "badge": "X1", "name": "X", "password": "short"}),
            "password_too_weak",
            "password",
        ),
        (
            json!({"role": "auditor", "badge": "   ", "name": "X", "password": "long-enough-pw"}),
            "invalid_field",
            "badge",
        ),
        (
            json!({"role": "auditor", "badge": "X1", "name": " ", "password": "long-enough-pw"}),
            "invalid_field",
            "name",
        ),
        (
            json!({"role": "officer", "badge": "X1", "name": "X", "password": "long-enough-pw"}),
            "invalid_field",
            "brigade_id",
        ),
        (
            json!({"role": "auditor", "badge": "X1", "name": "X", "brigade_id": "none", "password": "long-enough-pw"}),
            "invalid_field",
            "brigade_id",
        ),
    ];
    let control =
        json!({"role": "auditor", "badge": "X\u{0}1", "name": "X", "password": "long-enough-pw"});
    let nul_brigade = json!({"role": "auditor", "badge": "X1", "name": "X", "brigade_id": "b\u{0}", "password": "long-enough-pw"});
    let cases = cases.into_iter().chain([
        (control, "invalid_field", "badge"),
        (nul_brigade, "invalid_field", "brigade_id"),
    ]);
    for (body, code, field) in cases {
        let e = expect_error(
            app.post("/api/v1/admin/staff", Some(&admin), body).await,
            422,
            code,
        )
        .await;
        assert_eq!(e["error"]["field"], field, "{e}");
    }
    // Twelve characters (not bytes): a 12-character Chinese password is accepted.
    let body = json!({"role": "auditor", "badge": "X2", "name": "X", "password": "一二三四五六七八九十一二"});
    assert_eq!(
        app.post("/api/v1/admin/staff", Some(&admin), body)
            .await
            .status(),
        201
    );
    let p = format!("/api/v1/admin/staff/{officer_id}/reset-password");
    let e = expect_error(
        app.post(&p, Some(&admin), json!({"password": "elevenchars"}))
            .await,
        422,
        "password_too_weak",
    )
    .await;
    assert_eq!(e["error"]["field"], "password");
    let r = app
        .post("/api/v1/admin/staff/%00/disable", Some(&admin), json!({}))
        .await;
    expect_error(r, 404, "not_found").await;
    // Nothing refused was audited.
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM audit_entries WHERE hearing_id = 'admin'")
            .fetch_one(&app.state.db.read)
            .await
            .unwrap();
    assert_eq!(n, 1);
}
