//! The staff TOTP second factor (issue 15 §2): enrolment (secret, otpauth URI, QR), confirm, the
//! login that needs a code once enrolled, a code accepted once, the enrol-only session while TOTP
//! is required, the admin's reset, and a right code skipping the per-badge limit. Codes are made
//! here by the test's own RFC 6238 (ring's HMAC-SHA-1), cross-checked with totp-rs reading the
//! otpauth URI as an app would.

use remote_hearing::identity::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_error, expect_json, staff_password};

/// RFC 4648 base32 (no padding) to bytes.
fn base32(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut out, mut acc, mut bits) = (Vec::new(), 0u32, 0);
    for c in text.bytes().filter(|c| *c != b'=') {
        let v = ALPHABET.iter().position(|a| *a == c).unwrap() as u32;
        acc = (acc << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// The 6-digit RFC 6238 code (SHA-1, 30 s) of `secret` at unix second `t`.
pub fn totp_code(secret_b32: &str, t: i64) -> String {
    use ring::hmac;
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &base32(secret_b32));
    let tag = hmac::sign(&key, &((t / 30) as u64).to_be_bytes());
    let h = tag.as_ref();
    let off = (h[19] & 0x0f) as usize;
    let v = u32::from_be_bytes([h[off] & 0x7f, h[off + 1], h[off + 2], h[off + 3]]);
    format!("{:06}", v % 1_000_000)
}

fn now_s(app: &TestApp) -> i64 {
    app.state.clock.now_ms() / 1000
}

async fn login(app: &TestApp, badge: &str, totp: Option<&str>) -> reqwest::Response {
    let mut body = json!({"badge": badge, "password": staff_password(badge)});
    if let Some(c) = totp {
        body["totp"] = json!(c);
    }
    app.post("/api/v1/auth/officer", None, body).await
}

/// Enrols `token`'s account and confirms it; returns the secret.
async fn enrol(app: &TestApp, token: &str) -> String {
    let e: Value = expect_json(
        app.post("/api/v1/auth/totp/enroll", Some(token), json!({}))
            .await,
        200,
    )
    .await;
    let secret = e["secret"].as_str().unwrap().to_string();
    let code = totp_code(&secret, now_s(app));
    let r = app
        .post(
            "/api/v1/auth/totp/confirm",
            Some(token),
            json!({"code": code}),
        )
        .await;
    assert_eq!(r.status(), 200);
    secret
}

#[tokio::test]
async fn staff_enrol_then_login_needs_a_fresh_code_used_once() {
    let app = TestApp::spawn().await;
    let brigade = app.create_brigade(2).await;
    app.create_staff(Role::Officer, "T100", Some(&brigade))
        .await;
    let token = app.login_staff("T100").await;
    let me: Value = expect_json(app.get("/api/v1/auth/me", Some(&token)).await, 200).await;
    assert_eq!(me["totp_enrolled"], false);
    let r = app
        .post(
            "/api/v1/auth/totp/confirm",
            Some(&token),
            json!({"code": "123456"}),
        )
        .await;
    expect_error(r, 409, "totp_not_started").await;
    let (citizen, _) = app.login_citizen("13800138111").await;
    let r = app
        .post("/api/v1/auth/totp/enroll", Some(&citizen), json!({}))
        .await;
    expect_error(r, 403, "forbidden").await;

    let e: Value = expect_json(
        app.post("/api/v1/auth/totp/enroll", Some(&token), json!({}))
            .await,
        200,
    )
    .await;
    let secret = e["secret"].as_str().unwrap();
    assert_eq!(
        (secret.len(), e["digits"].as_u64(), e["period_s"].as_u64()),
        (32, Some(6), Some(30))
    );
    let uri = e["otpauth_uri"].as_str().unwrap();
    assert!(
        uri.starts_with("otpauth://totp/") && uri.contains(secret),
        "{uri}"
    );
    assert!(e["qr_svg"].as_str().unwrap().starts_with("<svg"), "{e}");
    // An app reading the URI (totp-rs) computes what this test computes.
    let app_view = totp_rs::Totp::from_url(uri).unwrap();
    let t = now_s(&app);
    for dt in [0, 30, 3600, 86_400 * 365] {
        let at = u64::try_from(t + dt).unwrap();
        assert_eq!(app_view.generate(at).to_string(), totp_code(secret, t + dt));
    }
    // The secret is stored sealed, never in clear.
    let (stored,): (String,) = sqlx::query_as("SELECT secret_enc FROM staff_totp")
        .fetch_one(&app.state.db.read)
        .await
        .unwrap();
    assert!(stored.starts_with("v1.") && !stored.contains(secret));

    let good = totp_code(secret, t);
    let wrong = if good == "000000" { "000001" } else { "000000" };
    let r = app
        .post(
            "/api/v1/auth/totp/confirm",
            Some(&token),
            json!({"code": wrong}),
        )
        .await;
    assert_eq!(
        expect_error(r, 422, "totp_invalid").await["error"]["field"],
        "code"
    );
    let r = app
        .post(
            "/api/v1/auth/totp/confirm",
            Some(&token),
            json!({"code": good}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let me: Value = expect_json(app.get("/api/v1/auth/me", Some(&token)).await, 200).await;
    assert_eq!(me["totp_enrolled"], true);
    let r = app
        .post("/api/v1/auth/totp/enroll", Some(&token), json!({}))
        .await;
    expect_error(r, 409, "totp_already_enrolled").await;
    let (steps,): (String,) = sqlx::query_as(
        "SELECT step FROM audit_entries WHERE hearing_id = 'admin' ORDER BY seq DESC LIMIT 1",
    )
    .fetch_one(&app.state.db.read)
    .await
    .unwrap();
    assert_eq!(steps, "totp_enrolled");

    // Login: the password alone is not enough any more.
    expect_error(login(&app, "T100", None).await, 401, "totp_required").await;
    expect_error(login(&app, "T100", Some(wrong)).await, 401, "totp_invalid").await;
    // The confirming code's step is spent: the same code is refused (replay).
    expect_error(login(&app, "T100", Some(&good)).await, 401, "totp_invalid").await;
    app.clock.advance(chrono::Duration::seconds(30));
    let next = totp_code(secret, now_s(&app));
    expect_json::<Value>(login(&app, "T100", Some(&next)).await, 200).await;
    expect_error(login(&app, "T100", Some(&next)).await, 401, "totp_invalid").await;
    // One step of skew: the app's clock 30 s ahead is fine; an older step than the last used
    // one, or a code two steps away, is not.
    let ahead = totp_code(secret, now_s(&app) + 30);
    expect_json::<Value>(login(&app, "T100", Some(&ahead)).await, 200).await;
    app.clock.advance(chrono::Duration::seconds(90));
    let far = totp_code(secret, now_s(&app) - 60);
    expect_error(login(&app, "T100", Some(&far)).await, 401, "totp_invalid").await;

    // The admin resets it (a lost phone): sessions end, the password alone works again.
    app.create_staff(Role::Admin, "T900", None).await;
    let admin = app.login_staff("T900").await;
    let officer_id = me["id"].as_str().unwrap();
    let p = format!("/api/v1/admin/staff/{officer_id}/reset-totp");
    assert_eq!(app.post(&p, Some(&admin), json!({})).await.status(), 200);
    assert_eq!(app.get("/api/v1/auth/me", Some(&token)).await.status(), 401);
    expect_json::<Value>(login(&app, "T100", None).await, 200).await;
}

#[tokio::test]
async fn required_totp_gives_a_session_that_can_only_enrol() {
    let app = TestApp::builder()
        .config(|c| c.auth.totp_required = true)
        .spawn()
        .await;
    let brigade = app.create_brigade(2).await;
    app.create_staff(Role::Officer, "T200", Some(&brigade))
        .await;
    let s: Value = expect_json(login(&app, "T200", None).await, 200).await;
    assert_eq!(s["totp_enrolment_required"], true);
    let token = s["token"].as_str().unwrap().to_string();
    let r = app.get("/api/v1/urgent", Some(&token)).await;
    expect_error(r, 403, "totp_enrolment_required").await;
    let me: Value = expect_json(app.get("/api/v1/auth/me", Some(&token)).await, 200).await;
    assert_eq!(me["totp_enrolment_required"], true);
    let secret = enrol(&app, &token).await;
    // The same session may now do what an officer may.
    assert_eq!(app.get("/api/v1/urgent", Some(&token)).await.status(), 200);
    expect_error(login(&app, "T200", None).await, 401, "totp_required").await;
    app.clock.advance(chrono::Duration::seconds(30));
    let code = totp_code(&secret, now_s(&app));
    let s: Value = expect_json(login(&app, "T200", Some(&code)).await, 200).await;
    assert_eq!(s["totp_enrolment_required"], false);
}

#[tokio::test]
async fn a_right_code_is_not_refused_by_the_per_badge_limit() {
    let app = TestApp::builder()
        .config(|c| {
            c.server.trust_forwarded_for = true;
            c.auth.login_per_badge = 2;
        })
        .spawn()
        .await;
    let brigade = app.create_brigade(2).await;
    app.create_staff(Role::Officer, "T300", Some(&brigade))
        .await;
    let token = app.login_staff("T300").await;
    let secret = enrol(&app, &token).await;
    let from = |ip: &str, body: Value| {
        app.client
            .post(app.url("/api/v1/auth/officer"))
            .header("x-forwarded-for", ip)
            .json(&body)
            .send()
    };
    for i in 0..2 {
        let r = from(
            &format!("192.0.2.{i}"),
            json!({"badge": "T300", "password": "guess"}),
        );
        expect_error(r.await.unwrap(), 401, "bad_credentials").await;
    }
    let pw = staff_password("T300");
    let r = from("192.0.2.50", json!({"badge": "T300", "password": pw}));
    expect_error(r.await.unwrap(), 429, "login_throttled").await;
    app.clock.advance(chrono::Duration::seconds(30));
    let code = totp_code(&secret, now_s(&app));
    let r = from(
        "192.0.2.50",
        json!({"badge": "T300", "password": pw, "totp": code}),
    );
    assert_eq!(r.await.unwrap().status(), 200);
}
