//! Session list and revoke, for oneself and by an admin, and the staff idle timeout (issue 15 §2).

use remote_hearing::identity::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_error, expect_json, staff_password};

async fn login_as(app: &TestApp, badge: &str, ip: &str, ua: &str) -> String {
    let r = app
        .client
        .post(app.url("/api/v1/auth/officer"))
        .header("x-forwarded-for", ip)
        .header("user-agent", ua)
        .json(&json!({"badge": badge, "password": staff_password(badge)}))
        .send()
        .await
        .unwrap();
    let v: Value = expect_json(r, 200).await;
    v["token"].as_str().unwrap().to_string()
}

async fn sessions(app: &TestApp, token: &str) -> Vec<Value> {
    expect_json(app.get("/api/v1/auth/sessions", Some(token)).await, 200).await
}

async fn delete(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    app.client
        .delete(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn own_sessions_are_listed_and_revoked_and_another_s_is_404() {
    let app = TestApp::builder()
        .config(|c| c.server.trust_forwarded_for = true)
        .spawn()
        .await;
    let brigade = app.create_brigade(2).await;
    let officer_id = app
        .create_staff(Role::Officer, "S400", Some(&brigade))
        .await;
    app.create_staff(Role::Officer, "S401", Some(&brigade))
        .await;
    let long_ua = format!("Mozilla/5.0 {}", "x".repeat(200));
    let a = login_as(&app, "S400", "203.0.113.7", "phone-browser").await;
    app.clock.advance(chrono::Duration::seconds(5));
    let b = login_as(&app, "S400", "2001:db8:1:2::5", &long_ua).await;
    let other = login_as(&app, "S401", "198.51.100.1", "x").await;

    let list = sessions(&app, &a).await;
    assert_eq!(list.len(), 2, "{list:?}");
    // Newest first: b, then a (the current one).
    assert_eq!(
        (list[0]["current"].as_bool(), list[1]["current"].as_bool()),
        (Some(false), Some(true))
    );
    assert_eq!(list[1]["ip_masked"], "203.0.113.*");
    assert_eq!(list[1]["user_agent"], "phone-browser");
    assert_eq!(list[0]["ip_masked"], "2001:db8:1:*");
    let ua = list[0]["user_agent"].as_str().unwrap();
    assert!(ua.chars().count() == 80 && ua.ends_with('…'), "{ua}");
    assert!(list[0]["created_at"].is_string() && list[0]["last_seen_at"].is_string());
    let text = serde_json::to_string(&list).unwrap();
    assert!(
        !text.contains(&a) && !text.contains(&b),
        "no token in the list"
    );
    let (a_id, b_id) = (
        list[1]["id"].as_str().unwrap(),
        list[0]["id"].as_str().unwrap(),
    );

    // Another officer sees only their own, and cannot end S400's (404, as if unknown).
    assert_eq!(sessions(&app, &other).await.len(), 1);
    let p = format!("/api/v1/auth/sessions/{b_id}");
    expect_error(delete(&app, &p, &other).await, 404, "not_found").await;
    assert_eq!(app.get("/api/v1/auth/me", Some(&b)).await.status(), 200);
    assert_eq!(delete(&app, &p, &a).await.status(), 204);
    assert_eq!(app.get("/api/v1/auth/me", Some(&b)).await.status(), 401);
    expect_error(delete(&app, &p, &a).await, 404, "not_found").await;

    // An admin lists and ends a staff member's sessions (audited); other roles get 403.
    app.create_staff(Role::Admin, "S900", None).await;
    let admin = app.login_staff("S900").await;
    let p = format!("/api/v1/admin/staff/{officer_id}/sessions");
    expect_error(app.get(&p, Some(&other)).await, 403, "forbidden").await;
    let list: Vec<Value> = expect_json(app.get(&p, Some(&admin)).await, 200).await;
    assert_eq!(list.len(), 1);
    assert_eq!(
        (list[0]["id"].as_str(), list[0]["current"].as_bool()),
        (Some(a_id), Some(false))
    );
    let one = format!("{p}/{a_id}");
    expect_error(delete(&app, &one, &other).await, 403, "forbidden").await;
    let wrong_owner = format!("/api/v1/admin/staff/{officer_id}/sessions/nope");
    expect_error(delete(&app, &wrong_owner, &admin).await, 404, "not_found").await;
    assert_eq!(delete(&app, &one, &admin).await.status(), 204);
    assert_eq!(app.get("/api/v1/auth/me", Some(&a)).await.status(), 401);
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM audit_entries WHERE hearing_id = 'admin' AND step = 'staff_session_revoked'",
    )
    .fetch_one(&app.state.db.read)
    .await
    .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn a_staff_session_unused_too_long_answers_session_expired() {
    let app = TestApp::builder()
        .config(|c| c.auth.staff_idle_timeout_s = 1800)
        .spawn()
        .await;
    let (_brigade, _id, officer) = app.login_officer().await;
    let (citizen, _) = app.login_citizen("13800138222").await;
    let minutes = |m: i64| chrono::Duration::minutes(m);
    // Used every 29 minutes: alive for an hour.
    for _ in 0..2 {
        app.clock.advance(minutes(29));
        assert_eq!(
            app.get("/api/v1/auth/me", Some(&officer)).await.status(),
            200
        );
    }
    app.clock.advance(minutes(31));
    let r = app.get("/api/v1/auth/me", Some(&officer)).await;
    expect_error(r, 401, "session_expired").await;
    // It is gone, not just refused.
    let r = app.get("/api/v1/auth/me", Some(&officer)).await;
    expect_error(r, 401, "unauthorized").await;
    // Citizens' sessions have no idle timeout (their own expiry only).
    assert_eq!(
        app.get("/api/v1/auth/me", Some(&citizen)).await.status(),
        200
    );
}
