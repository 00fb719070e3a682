//! Officer login under attack (issue 20, findings 5 and 6): wrong passwords from one address do
//! not lock the badge out for everyone else, and a burst of wrong passwords never runs more
//! argon2 hashes at once than the configured bound.

use remote_hearing::identity::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_error};

/// `POST /api/v1/auth/officer` as if from `ip` (the server trusts `X-Forwarded-For` here).
async fn login_from(app: &TestApp, ip: &str, badge: &str, password: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/auth/officer"))
        .header("x-forwarded-for", ip)
        .json(&json!({"badge": badge, "password": password}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn wrong_passwords_from_one_address_do_not_lock_the_badge_out() {
    let app = TestApp::builder()
        .config(|c| c.server.trust_forwarded_for = true)
        .spawn()
        .await;
    let brigade = app.create_brigade(2).await;
    app.create_staff(Role::Officer, "b20", Some(&brigade)).await;
    // The attacker's address: its own allowance for this badge runs out...
    let mut statuses = vec![];
    for _ in 0..15 {
        let r = login_from(&app, "203.0.113.7", "b20", "not-the-password").await;
        statuses.push(r.status().as_u16());
    }
    assert!(statuses[..10].iter().all(|s| *s == 401), "{statuses:?}");
    assert!(statuses[10..].iter().all(|s| *s == 429), "{statuses:?}");
    // ...but the officer, from another address, still logs in with the right password.
    let r = login_from(&app, "198.51.100.9", "b20", "password-b20").await;
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body["token"].is_string());
}
