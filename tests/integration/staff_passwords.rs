//! The staff password rule (issue 15 §2): 12–128 characters and not in the breached-password
//! list, for the admin API (create, reset) and the CLI's service alike; the list comes from
//! `auth.breached_passwords_file` or the shipped one.

use remote_hearing::identity::{Role, staff};
use secrecy::SecretString;
use serde_json::json;

use crate::helpers::{TestApp, expect_error};

#[tokio::test]
async fn breached_and_short_passwords_are_refused_naming_the_rule() {
    let app = TestApp::spawn().await;
    app.create_staff(Role::Admin, "ADMP", None).await;
    let admin = app.login_staff("ADMP").await;
    let create = |pw: &str| json!({"role": "auditor", "badge": "P1", "name": "P", "password": pw});
    for (pw, rule) in [
        ("password1234", "breached"),
        ("Qwerty123456", "breached"),
        ("elevenchars", "length"),
    ] {
        let e = expect_error(
            app.post("/api/v1/admin/staff", Some(&admin), create(pw))
                .await,
            422,
            "password_too_weak",
        )
        .await;
        assert_eq!(e["error"]["field"], "password", "{e}");
        assert_eq!(e["error"]["params"]["rule"], rule, "{e}");
    }
    // Case-sensitive: the same letters in another case are not in the list.
    let r = app
        .post("/api/v1/admin/staff", Some(&admin), create("PASSWORD1234"))
        .await;
    assert_eq!(r.status(), 201);
    let id = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let reset = format!("/api/v1/admin/staff/{id}/reset-password");
    let e = expect_error(
        app.post(&reset, Some(&admin), json!({"password": "1q2w3e4r5t6y"}))
            .await,
        422,
        "password_too_weak",
    )
    .await;
    assert_eq!(e["error"]["params"]["rule"], "breached");
    // The CLI's service applies the same rule.
    for pw in ["short-pw", "password1234"] {
        let r = staff::create(
            &app.state,
            staff::NewStaff {
                role: Role::Auditor,
                badge: "P2".into(),
                name: "P".into(),
                brigade_id: None,
                password: SecretString::from(pw),
            },
        )
        .await;
        assert!(r.is_err(), "{pw}");
    }
}

#[tokio::test]
async fn a_configured_list_replaces_the_shipped_one() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("breached.txt");
    std::fs::write(&file, "our-own-secret-1\r\nanother-one-22\n").unwrap();
    let path = file.display().to_string();
    let app = TestApp::builder()
        .config(move |c| c.auth.breached_passwords_file = path)
        .spawn()
        .await;
    assert_eq!(app.state.identity.policy.breached_count(), 2);
    app.create_staff(Role::Admin, "ADMQ", None).await;
    let admin = app.login_staff("ADMQ").await;
    let create = |pw: &str| json!({"role": "auditor", "badge": "Q1", "name": "Q", "password": pw});
    let e = expect_error(
        app.post(
            "/api/v1/admin/staff",
            Some(&admin),
            create("our-own-secret-1"),
        )
        .await,
        422,
        "password_too_weak",
    )
    .await;
    assert_eq!(e["error"]["params"]["rule"], "breached");
    // Not in this list (only in the shipped one): accepted.
    let r = app
        .post("/api/v1/admin/staff", Some(&admin), create("password1234"))
        .await;
    assert_eq!(r.status(), 201);
}
