//! The spine: operations endpoints, error shapes, identity, sessions, throttles, the CLI.

use chrono::Duration;
use remote_hearing::identity::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_error};

#[tokio::test]
async fn health_ready_metrics_openapi_and_headers() {
    let app = TestApp::spawn().await;
    let r = app.get("/healthz", None).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("x-request-id"));
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert!(r.headers().contains_key("content-security-policy"));
    let r = app.get("/readyz", None).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"database": "ok", "data_dir": "ok", "redis": "ok"})
    );
    let spec: Value = app.get_json("/api/v1/openapi.json", None).await;
    assert!(
        spec["paths"]["/api/v1/auth/officer"]["post"].is_object(),
        "{spec}"
    );
    let metrics = app.metrics().await;
    assert!(metrics.contains("http_requests_total"), "{metrics}");
    assert!(metrics.contains("route=\"/readyz\""), "{metrics}");
    // Metrics only on the operations listener (issue 15 §4); it serves nothing else.
    assert_eq!(app.get("/metrics", None).await.status(), 404);
    let ops = |p: &str| app.client.get(format!("http://{}{p}", app.ops_addr)).send();
    assert_eq!(ops("/healthz").await.unwrap().status(), 200);
    assert_eq!(ops("/api/v1/openapi.json").await.unwrap().status(), 404);
}

#[tokio::test]
async fn bad_input_gets_stable_errors() {
    let app = TestApp::spawn().await;
    expect_error(app.get("/api/v1/nope", None).await, 404, "not_found").await;
    let r = app
        .client
        .post(app.url("/api/v1/auth/sms-code"))
        .header("content-type", "application/json")
        .body("{\"phone\": ")
        .send()
        .await
        .unwrap();
    expect_error(r, 400, "bad_json").await;
    let body = expect_error(
        app.post("/api/v1/auth/sms-code", None, json!({})).await,
        422,
        "invalid_field",
    )
    .await;
    assert_eq!(body["error"]["field"], "phone");
    let body = expect_error(
        app.post("/api/v1/auth/sms-code", None, json!({"phone": "12345"}))
            .await,
        422,
        "invalid_field",
    )
    .await;
    assert_eq!(body["error"]["field"], "phone");
    let big = "x".repeat(70_000);
    let r = app
        .post("/api/v1/auth/sms-code", None, json!({"phone": big}))
        .await;
    expect_error(r, 413, "body_too_large").await;
    let r = app
        .client
        .post(app.url("/api/v1/auth/sms-code"))
        .body("phone=1")
        .send()
        .await
        .unwrap();
    expect_error(r, 415, "unsupported_media_type").await;
    expect_error(app.get("/api/v1/auth/me", None).await, 401, "unauthorized").await;
    expect_error(
        app.get("/api/v1/auth/me", Some("not-a-token")).await,
        401,
        "unauthorized",
    )
    .await;
}

#[tokio::test]
async fn officer_login_roles_logout_and_expiry() {
    let app = TestApp::spawn().await;
    let (brigade, officer_id, token) = app.login_officer().await;
    let me: Value = app.get_json("/api/v1/auth/me", Some(&token)).await;
    assert_eq!(me["role"], "officer");
    assert_eq!(me["id"], officer_id);
    assert_eq!(me["brigade_id"], brigade);
    // Wrong role → 403.
    expect_error(
        app.get("/api/v1/admin/staff", Some(&token)).await,
        403,
        "forbidden",
    )
    .await;
    app.create_staff(Role::Admin, "a1", None).await;
    let admin = app.login_staff("a1").await;
    let list: Value = app.get_json("/api/v1/admin/staff", Some(&admin)).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert!(!list.to_string().contains("argon2"), "no hashes leak");
    // Wrong password.
    let r = app
        .post(
            "/api/v1/auth/officer",
            None,
            json!({"badge": "a1", "password": "wrong-password"}),
        )
        .await;
    expect_error(r, 401, "bad_credentials").await;
    // Logout ends the session.
    assert_eq!(
        app.post("/api/v1/auth/logout", Some(&admin), json!({}))
            .await
            .status(),
        204
    );
    expect_error(
        app.get("/api/v1/auth/me", Some(&admin)).await,
        401,
        "unauthorized",
    )
    .await;
    // Expiry on the clock.
    app.clock.advance(Duration::seconds(
        app.state.config.auth.session_ttl_s as i64 + 1,
    ));
    expect_error(
        app.get("/api/v1/auth/me", Some(&token)).await,
        401,
        "unauthorized",
    )
    .await;
}

#[tokio::test]
async fn login_is_throttled_per_badge_with_retry_after() {
    let app = TestApp::builder()
        .config(|c| c.auth.login_per_badge_ip = 3)
        .spawn()
        .await;
    for _ in 0..3 {
        let r = app
            .post(
                "/api/v1/auth/officer",
                None,
                json!({"badge": "b9", "password": "wrong-password"}),
            )
            .await;
        assert_eq!(r.status(), 401);
    }
    let r = app
        .post(
            "/api/v1/auth/officer",
            None,
            json!({"badge": "b9", "password": "wrong-password"}),
        )
        .await;
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        retry >= 1 && retry <= app.state.config.auth.login_window_s,
        "{retry}"
    );
    expect_error(r, 429, "login_throttled").await;
    // The window passes on the clock.
    app.clock.advance(Duration::seconds(
        app.state.config.auth.login_window_s as i64,
    ));
    let r = app
        .post(
            "/api/v1/auth/officer",
            None,
            json!({"badge": "b9", "password": "wrong-password"}),
        )
        .await;
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn citizen_logs_in_with_code_from_outbox() {
    let app = TestApp::spawn().await;
    let (token, id) = app.login_citizen("13800138000").await;
    let me: Value = app.get_json("/api/v1/auth/me", Some(&token)).await;
    assert_eq!(me["role"], "citizen");
    assert_eq!(me["id"], id);
    assert_eq!(me["phone_masked"], "138****8000");
    // The same phone logs in again as the same citizen; the used code is gone.
    let used = app.outbox_code("13800138000").unwrap();
    let r = app
        .post(
            "/api/v1/auth/citizen",
            None,
            json!({"phone": "13800138000", "code": used}),
        )
        .await;
    expect_error(r, 422, "code_invalid").await;
    app.clock.advance(Duration::seconds(61));
    let (_, id2) = app.login_citizen("13800138000").await;
    assert_eq!(id, id2);
}

#[tokio::test]
async fn code_dies_after_five_wrong_tries() {
    let app = TestApp::spawn().await;
    let phone = "13900139000";
    assert_eq!(
        app.post("/api/v1/auth/sms-code", None, json!({"phone": phone}))
            .await
            .status(),
        202
    );
    let code = app.outbox_code(phone).unwrap();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        let r = app
            .post(
                "/api/v1/auth/citizen",
                None,
                json!({"phone": phone, "code": wrong}),
            )
            .await;
        expect_error(r, 422, "code_invalid").await;
    }
    let r = app
        .post(
            "/api/v1/auth/citizen",
            None,
            json!({"phone": phone, "code": code}),
        )
        .await;
    expect_error(r, 429, "code_attempts_exceeded").await;
}

#[tokio::test]
async fn code_expires_on_the_clock_and_resend_is_throttled() {
    let app = TestApp::spawn().await;
    let phone = "13700137000";
    assert_eq!(
        app.post("/api/v1/auth/sms-code", None, json!({"phone": phone}))
            .await
            .status(),
        202
    );
    let r = app
        .post("/api/v1/auth/sms-code", None, json!({"phone": phone}))
        .await;
    assert!(r.headers().contains_key("retry-after"));
    expect_error(r, 429, "sms_throttled").await;
    let code = app.outbox_code(phone).unwrap();
    app.clock.advance(Duration::seconds(301));
    let r = app
        .post(
            "/api/v1/auth/citizen",
            None,
            json!({"phone": phone, "code": code}),
        )
        .await;
    expect_error(r, 422, "code_invalid").await;
}

#[tokio::test]
async fn pages_are_served() {
    let app = TestApp::spawn().await;
    let r = app.get("/", None).await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    expect_error(app.get("/no/such/page.js", None).await, 404, "not_found").await;
}
