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
