//! The hearing's SMS code against the other senders of the same phone (issue 20, findings 2 and
//! 3): anonymous login-code requests and the citizen's own booking notifications must not spend
//! it, refused resends must not eat the hearing's daily quota, and that quota's day is the
//! brigade's.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::{World, world, world_with};
use crate::helpers::{TestApp, default_now, expect_error, expect_json};

async fn hearing_code(w: &World, hearing: &str) -> reqwest::Response {
    w.app
        .post(
            &format!("/api/v1/hearings/{hearing}/sms-code"),
            Some(&w.officer),
            json!({}),
        )
        .await
}

async fn login_code(app: &TestApp, phone: &str) -> reqwest::Response {
    app.post("/api/v1/auth/sms-code", None, json!({"phone": phone}))
        .await
}

fn retry_after(r: &reqwest::Response) -> u64 {
    r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

async fn accepted(r: reqwest::Response, what: &str) {
    let status = r.status();
    let body = r.text().await.unwrap_or_default();
    assert_eq!(status, 202, "{what}: {body}");
}

/// Three (and more) anonymous login-code requests for the citizen's phone spend its login
/// budget, for the hour and then for the day; the officer's hearing code still goes out.
#[tokio::test]
async fn strangers_login_codes_do_not_stop_the_hearing_code() {
    let w = world().await;
    let app = &w.app;
    let id = w.open().await["id"].as_str().unwrap().to_string();
    // The citizen logged in once (world); a stranger asks for login codes until refused.
    let mut sent = 1;
    loop {
        app.clock.advance(Duration::seconds(61));
        let r = login_code(app, &w.phone).await;
        if r.status() == 429 {
            assert!(retry_after(&r) > 60, "the hour's budget is spent");
            break;
        }
        accepted(r, "stranger's login code").await;
        sent += 1;
        assert!(sent <= 10, "the login budget never ran out");
    }
    accepted(
        hearing_code(&w, &id).await,
        "hearing code, login hour spent",
    )
    .await;
    // The rest of the day's login budget, an hour later.
    app.clock.advance(Duration::seconds(3600));
    loop {
        app.clock.advance(Duration::seconds(61));
        let r = login_code(app, &w.phone).await;
        if r.status() == 429 {
            if retry_after(&r) > 3600 {
                break;
            }
            app.clock.advance(Duration::seconds(retry_after(&r) as i64));
            continue;
        }
        accepted(r, "stranger's login code").await;
        sent += 1;
        assert!(sent <= 20, "the login budget never ran out");
    }
    accepted(hearing_code(&w, &id).await, "hearing code, login day spent").await;
    let code = app.outbox_code(&w.phone).unwrap();
    let r = app
        .post(
            "/api/v1/hearings/join",
            Some(&w.citizen),
            json!({"hearing_id": id, "code": code}),
        )
        .await;
    assert_eq!(r.status(), 200, "the hearing code works");
}

/// Login-code requests are throttled per client address (requests a minute, also the refused
/// ones; codes sent an hour); the officer asking for a hearing code from the same address is not.
#[tokio::test]
async fn login_codes_are_throttled_per_address_and_the_officer_is_not() {
    let w = world_with(|c| {
        c.sms.per_ip_per_minute = 3;
        c.sms.login_per_ip_per_hour = 4;
    })
    .await;
    let app = &w.app;
    let id = w.open().await["id"].as_str().unwrap().to_string();
    // World's login was this address's first request and code.
    app.clock.advance(Duration::seconds(1));
    accepted(login_code(app, "13600136101").await, "second phone").await;
    accepted(login_code(app, "13600136102").await, "third phone").await;
    let r = login_code(app, "13600136103").await;
    assert!(retry_after(&r) <= 60);
    expect_error(r, 429, "sms_throttled").await;
    accepted(
        hearing_code(&w, &id).await,
        "hearing code, address throttled",
    )
    .await;
    app.clock.advance(Duration::seconds(61));
    accepted(login_code(app, "13600136103").await, "fourth code").await;
    app.clock.advance(Duration::seconds(61));
    let r = login_code(app, "13600136104").await;
    assert!(retry_after(&r) > 60, "the address's codes of the hour");
    expect_error(r, 429, "sms_throttled").await;
    accepted(hearing_code(&w, &id).await, "hearing code, address spent").await;
}

/// Login, book, cancel, book again: the confirmations and reminders do not spend the code
/// budgets; the officer's first hearing code and the citizen's next login code go out.
#[tokio::test]
async fn booking_notifications_do_not_spend_the_code_budgets() {
    use crate::booking::{at, body, book};
    let app = TestApp::builder()
        .config(|c| c.hearing.open_before_s = 3 * 86_400)
        .spawn()
        .await;
    let (brigade, _, officer) = app.login_officer().await;
    let phone = "13700137101";
    let (citizen, _) = app.login_citizen(phone).await;
    let mut b = body(&brigade, &at(17, 10));
    b["phone"] = json!(phone);
    let r = book(&app, &citizen, b.clone()).await;
    assert_eq!(r.status(), 201);
    let first: Value = r.json().await.unwrap();
    let r = app
        .delete(
            &format!("/api/v1/bookings/{}", first["id"].as_str().unwrap()),
            Some(&citizen),
        )
        .await;
    assert_eq!(r.status(), 200);
    // Not the same brigade on the same date again (`rebook_after_cancel`): the day after.
    b["slot_start"] = json!(at(18, 10));
    let r = book(&app, &citizen, b).await;
    let booking = expect_json::<Value>(r, 201).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app.open_hearing(&officer, &booking).await;
    let id = expect_json::<Value>(r, 201).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .post(
            &format!("/api/v1/hearings/{id}/sms-code"),
            Some(&officer),
            json!({}),
        )
        .await;
    accepted(r, "the officer's first hearing code").await;
    app.clock.advance(Duration::seconds(61));
    accepted(
        login_code(&app, phone).await,
        "the citizen's next login code",
    )
    .await;
}

/// One 202, four refused resends within 60 s: the next resend goes out. The quota counts sends
/// that went out, per the brigade's local day (Asia/Shanghai: it ends 16:00 UTC).
#[tokio::test]
async fn refused_resends_do_not_eat_the_quota_and_the_day_is_the_brigades() {
    // Sessions that outlive the day.
    let w = world_with(|c| c.auth.session_ttl_s = 2 * 86_400).await;
    let app = &w.app;
    let id = w.open().await["id"].as_str().unwrap().to_string();
    accepted(hearing_code(&w, &id).await, "first").await;
    for i in 0..4 {
        app.clock.advance(Duration::seconds(10));
        let r = hearing_code(&w, &id).await;
        assert!(retry_after(&r) <= 60, "resend {i}");
        expect_error(r, 429, "sms_throttled").await;
    }
    app.clock.advance(Duration::seconds(21));
    accepted(hearing_code(&w, &id).await, "the resend after 60 s").await;
    // The citizen joins (so the hearing stays open past its slot).
    let code = app.outbox_code(&w.phone).unwrap();
    let r = app
        .post(
            "/api/v1/hearings/join",
            Some(&w.citizen),
            json!({"hearing_id": id, "code": code}),
        )
        .await;
    assert_eq!(r.status(), 200);
    for i in 3..=5 {
        app.clock.advance(Duration::seconds(61));
        accepted(hearing_code(&w, &id).await, &format!("send {i}")).await;
    }
    app.clock.advance(Duration::seconds(61));
    let r = hearing_code(&w, &id).await;
    let local_midnight: DateTime<Utc> = "2026-11-16T16:00:00Z".parse().unwrap();
    let now = default_now() + Duration::seconds(40 + 21 + 4 * 61);
    assert_eq!(retry_after(&r), (local_midnight - now).num_seconds() as u64);
    expect_error(r, 429, "sms_throttled").await;
    app.clock.set(local_midnight);
    accepted(hearing_code(&w, &id).await, "the brigade's next day").await;
}
