//! WeChat login with a local fake WeChat, and the phone binding it shares with booking.

use std::time::Duration as StdDuration;

use remote_hearing::sms::{fake_wechat::FakeWechat, wechat::WechatSettings};
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::{
    booking,
    helpers::{TestApp, expect_error, expect_json},
    sms::{outbox_lines, rows},
};

#[tokio::test]
async fn wechat_login_binds_a_phone_once() {
    let wx = FakeWechat::start("wx-app", "wx-secret").await.unwrap();
    let url = wx.url();
    let app = TestApp::builder()
        .config(move |c| {
            c.wechat = WechatSettings {
                base_url: url,
                appid: "wx-app".into(),
                secret: SecretString::from("wx-secret"),
                ..Default::default()
            }
        })
        .spawn()
        .await;
    wx.add_login_code("login-1", "openid-1", Some("union-1"));
    let r = app
        .post("/api/v1/auth/citizen", None, json!({"wx_code": "login-1"}))
        .await;
    let v: Value = expect_json(r, 200).await;
    let (token, id) = (
        v["token"].as_str().unwrap().to_string(),
        v["citizen"]["id"].clone(),
    );
    assert_eq!(v["citizen"]["phone_bound"], false);
    assert_eq!(v["citizen"]["phone_masked"], Value::Null);
    let r = app
        .post("/api/v1/auth/citizen", None, json!({"wx_code": "login-1"}))
        .await;
    expect_error(r, 422, "wx_code_invalid").await;

    wx.add_phone_code("phone-1", "13600136060");
    let r = app
        .post(
            "/api/v1/auth/citizen/phone",
            Some(&token),
            json!({"phone_code": "phone-1"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap()["phone_masked"],
        "136****6060"
    );

    wx.add_login_code("login-2", "openid-1", None);
    let v: Value = app
        .post_json("/api/v1/auth/citizen", None, json!({"wx_code": "login-2"}))
        .await;
    assert_eq!(
        v["citizen"]["id"], id,
        "the same openid is the same citizen"
    );
    assert_eq!(v["citizen"]["phone_bound"], true);

    wx.add_phone_code("phone-2", "13600136061");
    let r = app
        .post(
            "/api/v1/auth/citizen/phone",
            Some(&token),
            json!({"phone_code": "phone-2"}),
        )
        .await;
    expect_error(r, 409, "phone_binding_immutable").await;
    assert_eq!(wx.token_calls(), 1, "the access token was cached");

    // The booking rule agrees: a different phone is refused, the bound one is used, and the
    // confirmation goes to it (the reminder is queued for the day before).
    let (brigade, _, _) = app.login_officer().await;
    let mut b = booking::body(&brigade, &booking::at(18, 9));
    b["phone"] = json!("13600136061");
    expect_error(
        booking::book(&app, &token, b).await,
        409,
        "phone_binding_immutable",
    )
    .await;
    let b = booking::body(&brigade, &booking::at(18, 9));
    let r = booking::book(&app, &token, b).await;
    assert_eq!(r.status(), 201);
    let booking_id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut waited = 0;
    while outbox_lines(&app, "13600136060").is_empty() && waited < 50 {
        tokio::time::sleep(StdDuration::from_millis(100)).await;
        waited += 1;
    }
    let lines = outbox_lines(&app, "13600136060");
    assert_eq!(lines.len(), 1);
    assert!(
        lines[0]["text"]
            .as_str()
            .unwrap()
            .contains("11月18日 09:00")
    );
    let r = app
        .delete(&format!("/api/v1/bookings/{booking_id}"), Some(&token))
        .await;
    assert_eq!(r.status(), 200);
    let statuses: Vec<String> = rows(&app, "13600136060")
        .await
        .into_iter()
        .map(|r| r.1)
        .collect();
    assert!(statuses.contains(&"cancelled".to_string()), "{statuses:?}");
}

#[tokio::test]
async fn wechat_login_is_refused_when_not_configured() {
    let app = TestApp::spawn().await;
    let r = app
        .post("/api/v1/auth/citizen", None, json!({"wx_code": "x"}))
        .await;
    expect_error(r, 422, "invalid_field").await;
}

/// A server with the fake WeChat and the reminder's subscription template; a citizen signed in
/// through WeChat (`openid`) with `phone` bound, and their booking for 18 Nov 09:00.
async fn subscribed_world(wx: &FakeWechat, openid: &str, phone: &str) -> (TestApp, String, String) {
    let url = wx.url();
    let app = TestApp::builder()
        .config(move |c| {
            c.wechat = WechatSettings {
                base_url: url,
                appid: "wx-app".into(),
                secret: SecretString::from("wx-secret"),
                reminder_template_id: "tmpl-reminder".into(),
                ..Default::default()
            }
        })
        .spawn()
        .await;
    wx.add_login_code(&format!("login-{openid}"), openid, None);
    let v: Value = app
        .post_json(
            "/api/v1/auth/citizen",
            None,
            json!({"wx_code": format!("login-{openid}")}),
        )
        .await;
    let token = v["token"].as_str().unwrap().to_string();
    wx.add_phone_code(&format!("phone-{openid}"), phone);
    let r = app
        .post(
            "/api/v1/auth/citizen/phone",
            Some(&token),
            json!({"phone_code": format!("phone-{openid}")}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let (brigade, _, _) = app.login_officer().await;
    let v: Value = expect_json(
        booking::book(&app, &token, booking::body(&brigade, &booking::at(18, 9))).await,
        201,
    )
    .await;
    (app, token, v["id"].as_str().unwrap().to_string())
}

/// `citizen` books 18 Nov at `hour` in `brigade` and asks for its reminder by WeChat.
async fn wechat_reminder(
    app: &TestApp,
    citizen: &str,
    brigade: &str,
    hour: u32,
) -> reqwest::Response {
    let body = booking::body(brigade, &booking::at(18, hour));
    let v: Value = expect_json(booking::book(app, citizen, body).await, 201).await;
    let path = format!(
        "/api/v1/bookings/{}/wechat-reminder",
        v["id"].as_str().unwrap()
    );
    app.post(&path, Some(citizen), json!({})).await
}

/// The texts of the SMS sent to `phone`.
fn sms_texts(app: &TestApp, phone: &str) -> Vec<String> {
    outbox_lines(app, phone)
        .iter()
        .map(|l| l["text"].as_str().unwrap_or("").to_string())
        .collect()
}

/// The day before the slot: the due reminder is sent (by WeChat or SMS).
async fn reminder_day(app: &TestApp) {
    app.clock
        .advance(chrono::Duration::days(1) + chrono::Duration::minutes(1));
    app.state.sms.delivery.drain(&app.state).await.unwrap();
}

#[tokio::test]
async fn an_allowed_reminder_goes_by_wechat_and_a_refused_one_by_sms() {
    let wx = FakeWechat::start("wx-app", "wx-secret").await.unwrap();
    let (app, token, id) = subscribed_world(&wx, "openid-sub", "13600136070").await;
    // Only the booking's owner, and only a booking that is still booked.
    let (stranger, _) = app.login_citizen("13600136079").await;
    let path = format!("/api/v1/bookings/{id}/wechat-reminder");
    expect_error(
        app.post(&path, Some(&stranger), json!({})).await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(app.post(&path, Some(&token), json!({})).await.status(), 204);
    reminder_day(&app).await;
    let sent = wx.subscribe_sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["touser"], "openid-sub");
    assert_eq!(sent[0]["template_id"], "tmpl-reminder");
    assert_eq!(sent[0]["data"]["time2"]["value"], "2026年11月18日 09:00");
    let texts = sms_texts(&app, "13600136070");
    assert!(
        !texts.iter().any(|t| t.contains("提醒")),
        "no SMS reminder: {texts:?}"
    );
    let providers: Vec<Option<String>> = rows(&app, "13600136070")
        .await
        .into_iter()
        .map(|r| r.2)
        .collect();
    assert!(providers.contains(&Some("wechat".into())), "{providers:?}");

    // A citizen whose subscription WeChat no longer honours (43101) gets the SMS instead.
    let (app2, token2, id2) = subscribed_world(&wx, "openid-gone", "13600136071").await;
    wx.unsubscribe("openid-gone");
    let path = format!("/api/v1/bookings/{id2}/wechat-reminder");
    assert_eq!(
        app2.post(&path, Some(&token2), json!({})).await.status(),
        204
    );
    reminder_day(&app2).await;
    assert_eq!(
        wx.subscribe_sent().len(),
        1,
        "nothing more went through WeChat"
    );
    let texts = sms_texts(&app2, "13600136071");
    assert!(
        texts.iter().any(|t| t.contains("提醒")),
        "the SMS reminder: {texts:?}"
    );
}

#[tokio::test]
async fn a_wechat_reminder_needs_a_wechat_citizen_and_a_template() {
    // A citizen signed in by SMS code has no openid.
    let wx = FakeWechat::start("wx-app", "wx-secret").await.unwrap();
    let (app, _, _) = subscribed_world(&wx, "openid-x", "13600136072").await;
    let (sms_citizen, _) = app.login_citizen("13600136073").await;
    let (brigade, _, _) = app.login_officer().await;
    let r = wechat_reminder(&app, &sms_citizen, &brigade, 10).await;
    expect_error(r, 409, "wechat_not_linked").await;
    // A server without the template sends reminders by SMS only.
    let plain = TestApp::spawn().await;
    let (c, _) = plain.login_citizen("13600136074").await;
    let (brigade, _, _) = plain.login_officer().await;
    let r = wechat_reminder(&plain, &c, &brigade, 9).await;
    expect_error(r, 409, "wechat_reminder_off").await;
}
