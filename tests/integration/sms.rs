//! SMS: resends and limits on the injectable clock, the real Tencent and Alibaba providers
//! against local fakes that verify their signatures (failover, provider throttles, delivery
//! receipts), the outbox across a restart, notifications, and WeChat login with phone binding.

use std::{sync::Arc, time::Duration as StdDuration};

use chrono::Duration;
use remote_hearing::{
    clock::{Clock, MockClock},
    sms::{
        Template,
        aliyun::AliyunSettings,
        fake::{FakeAnswer, FakeKind, FakeSms},
        fake_wechat::FakeWechat,
        provider::UnixNow,
        tencent::TencentSettings,
        wechat::WechatSettings,
    },
};
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::{
    booking,
    helpers::{TestApp, default_now, expect_error},
};

fn templates(prefix: &str) -> std::collections::HashMap<String, String> {
    Template::ALL
        .iter()
        .map(|t| (t.key().to_string(), format!("{prefix}{}", t.key())))
        .collect()
}

fn tencent(url: String) -> TencentSettings {
    TencentSettings {
        endpoint: url,
        region: "ap-guangzhou".into(),
        secret_id: "AKIDtest".into(),
        secret_key: SecretString::from("tencent-secret"),
        sdk_app_id: "1400000001".into(),
        sign_name: "远程执法".into(),
        templates: templates("T-"),
    }
}

fn aliyun(url: String) -> AliyunSettings {
    AliyunSettings {
        endpoint: url,
        access_key_id: "LTAItest".into(),
        access_key_secret: SecretString::from("aliyun-secret"),
        sign_name: "远程执法".into(),
        templates: templates("SMS_"),
    }
}

fn follow(clock: &Arc<MockClock>) -> UnixNow {
    let c = clock.clone();
    Arc::new(move || c.now().timestamp())
}

async fn fake(kind: FakeKind) -> FakeSms {
    let (id, secret) = match kind {
        FakeKind::Tencent => ("AKIDtest", "tencent-secret"),
        FakeKind::Aliyun => ("LTAItest", "aliyun-secret"),
    };
    FakeSms::start(kind, id, secret, Arc::new(|| default_now().timestamp()))
        .await
        .unwrap()
}

async fn send_code(app: &TestApp, phone: &str) -> reqwest::Response {
    app.post("/api/v1/auth/sms-code", None, json!({"phone": phone}))
        .await
}

async fn login(app: &TestApp, phone: &str, code: &str) -> reqwest::Response {
    app.post(
        "/api/v1/auth/citizen",
        None,
        json!({"phone": phone, "code": code}),
    )
    .await
}

/// (id, status, provider, provider_message_id, attempts, last_error) of a phone's messages, newest first.
async fn rows(
    app: &TestApp,
    phone: &str,
) -> Vec<(
    String,
    String,
    Option<String>,
    Option<String>,
    i64,
    Option<String>,
)> {
    sqlx::query_as(
        "SELECT id, status, provider, provider_message_id, attempts, last_error FROM sms_outbox \
         WHERE phone = $1 ORDER BY created_at DESC, id DESC",
    )
    .bind(phone)
    .fetch_all(&app.state.db.read)
    .await
    .unwrap()
}

fn outbox_lines(app: &TestApp, phone: &str) -> Vec<Value> {
    std::fs::read_to_string(app.data_dir.path().join("sms-outbox.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["to"] == phone)
        .collect()
}

#[tokio::test]
async fn resend_within_validity_sends_the_same_code_and_a_dead_code_is_replaced() {
    let app = TestApp::spawn().await;
    let phone = "13600136001";
    assert_eq!(send_code(&app, phone).await.status(), 202);
    let first = app.outbox_code(phone).unwrap();
    app.clock.advance(Duration::seconds(61));
    assert_eq!(send_code(&app, phone).await.status(), 202);
    assert_eq!(outbox_lines(&app, phone).len(), 2);
    assert_eq!(
        app.outbox_code(phone).unwrap(),
        first,
        "same code within its validity"
    );
    let wrong = if first == "000000" {
        "111111"
    } else {
        "000000"
    };
    for _ in 0..5 {
        expect_error(login(&app, phone, wrong).await, 422, "code_invalid").await;
    }
    let r = login(&app, phone, &first).await;
    assert!(r.headers().contains_key("retry-after"));
    expect_error(r, 429, "code_attempts_exceeded").await;
    // The next send issues a fresh code, which works.
    app.clock.advance(Duration::seconds(61));
    assert_eq!(send_code(&app, phone).await.status(), 202);
    let fresh = app.outbox_code(phone).unwrap();
    assert_eq!(login(&app, phone, &fresh).await.status(), 200);
    expect_error(login(&app, phone, &fresh).await, 422, "code_invalid").await;
}

#[tokio::test]
async fn per_phone_limits_follow_the_clock() {
    let app = TestApp::spawn().await;
    let phone = "13600136002";
    assert_eq!(send_code(&app, phone).await.status(), 202);
    let r = send_code(&app, phone).await;
    assert_eq!(r.headers()["retry-after"], "60");
    expect_error(r, 429, "sms_throttled").await;
    for _ in 0..4 {
        app.clock.advance(Duration::seconds(61));
        assert_eq!(send_code(&app, phone).await.status(), 202);
    }
    // Five in the last hour: the sixth waits for the first to leave the window.
    app.clock.advance(Duration::seconds(61));
    let r = send_code(&app, phone).await;
    assert_eq!(
        r.headers()["retry-after"],
        (3600 - 5 * 61).to_string().as_str()
    );
    expect_error(r, 429, "sms_throttled").await;
    // Another phone from the same address is not affected.
    assert_eq!(send_code(&app, "13600136003").await.status(), 202);
    app.clock.advance(Duration::seconds(3600));
    for _ in 0..5 {
        assert_eq!(send_code(&app, phone).await.status(), 202);
        app.clock.advance(Duration::seconds(61));
    }
    // Ten today: the eleventh waits until the first is a day old.
    app.clock.advance(Duration::seconds(3600));
    let r = send_code(&app, phone).await;
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait > 3600 && wait < 86_400, "{wait}");
    expect_error(r, 429, "sms_throttled").await;
}

#[tokio::test]
async fn per_address_limit_counts_code_requests() {
    let app = TestApp::builder()
        .config(|c| c.sms.per_ip_per_minute = 3)
        .spawn()
        .await;
    for i in 0..3 {
        assert_eq!(
            send_code(&app, &format!("1360013601{i}")).await.status(),
            202
        );
    }
    expect_error(send_code(&app, "13600136019").await, 429, "sms_throttled").await;
    app.clock.advance(Duration::seconds(60));
    assert_eq!(send_code(&app, "13600136019").await.status(), 202);
}

#[tokio::test]
async fn tencent_delivers_and_its_receipt_marks_the_message_delivered() {
    let fake = fake(FakeKind::Tencent).await;
    let url = fake.url();
    let app = TestApp::builder()
        .config(move |c| {
            c.sms.provider = "tencent".into();
            c.sms.tencent = Some(tencent(url));
            c.sms.receipt_secret = SecretString::from("receipt-secret");
        })
        .spawn()
        .await;
    fake.set_clock(follow(&app.clock));
    let phone = "13600136020";
    assert_eq!(send_code(&app, phone).await.status(), 202);
    let got = fake.accepted();
    assert_eq!(got.len(), 1);
    assert_eq!(fake.bad_signatures(), 0);
    assert_eq!(got[0].template, "T-login_code");
    let (id, status, provider, serial, attempts, _) = rows(&app, phone).await.remove(0);
    assert_eq!(
        (status.as_str(), provider.as_deref(), attempts),
        ("sent", Some("tencent"), 1)
    );
    assert_eq!(
        got[0].context, id,
        "the outbox id travels as SessionContext"
    );
    assert_eq!(serial.as_deref(), Some(got[0].provider_message_id.as_str()));
    assert!(outbox_lines(&app, phone).is_empty(), "no console line");
    let code = got[0].params[0].as_str().unwrap().to_string();
    assert_eq!(login(&app, phone, &code).await.status(), 200);

    let receipt = fake.receipt_body(&got[0], true);
    let r = app
        .post("/api/v1/sms/receipts/tencent", None, receipt.clone())
        .await;
    assert_eq!(r.status(), 404, "no secret");
    let r = app
        .post(
            "/api/v1/sms/receipts/tencent?secret=wrong",
            None,
            receipt.clone(),
        )
        .await;
    assert_eq!(r.status(), 404);
    let r = app
        .post(
            "/api/v1/sms/receipts/tencent?secret=receipt-secret",
            None,
            receipt,
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["result"], 0);
    assert_eq!(rows(&app, phone).await[0].1, "delivered");
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    for name in ["sms_sent_total", "sms_delivered_total"] {
        assert!(
            metrics
                .lines()
                .any(|l| l.starts_with(name) && l.contains("provider=\"tencent\"")),
            "{name} in {metrics}"
        );
    }
}

#[tokio::test]
async fn failover_only_before_acceptance_and_provider_throttles_are_recorded() {
    let primary = fake(FakeKind::Tencent).await;
    let second = fake(FakeKind::Aliyun).await;
    primary.set_default(FakeAnswer::ServerError);
    let (u1, u2) = (primary.url(), second.url());
    let app = TestApp::builder()
        .config(move |c| {
            c.sms.provider = "tencent".into();
            c.sms.failover = "aliyun".into();
            c.sms.tencent = Some(tencent(u1));
            c.sms.aliyun = Some(aliyun(u2));
            c.sms.receipt_secret = SecretString::from("rs");
        })
        .spawn()
        .await;
    primary.set_clock(follow(&app.clock));
    second.set_clock(follow(&app.clock));
    let phone = "13600136030";
    assert_eq!(send_code(&app, phone).await.status(), 202);
    assert_eq!(primary.requests(), 1);
    let got = second.accepted();
    assert_eq!(got.len(), 1, "5xx from the primary fails over");
    assert_eq!(second.bad_signatures(), 0);
    let (id, status, provider, ..) = rows(&app, phone).await.remove(0);
    assert_eq!(
        (status.as_str(), provider.as_deref()),
        ("sent", Some("aliyun"))
    );
    assert_eq!(got[0].context, id, "the outbox id travels as OutId");
    let code = got[0].params["code"].as_str().unwrap().to_string();
    assert_eq!(login(&app, phone, &code).await.status(), 200);
    let receipt = second.receipt_body(&got[0], false);
    let r = app
        .post("/api/v1/sms/receipts/aliyun?secret=rs", None, receipt)
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["code"], 0);
    assert_eq!(rows(&app, phone).await[0].1, "failed");

    // The primary's per-number throttle is recorded, neither retried nor failed over.
    primary.set_default(FakeAnswer::Throttle);
    let other = "13600136031";
    assert_eq!(send_code(&app, other).await.status(), 202);
    let (_, status, provider, _, _, error) = rows(&app, other).await.remove(0);
    assert_eq!(
        (status.as_str(), provider.as_deref()),
        ("failed", Some("tencent"))
    );
    assert!(error.unwrap().contains("LimitExceeded."));
    assert_eq!(second.accepted().len(), 1);
}

#[tokio::test]
async fn a_queued_message_is_sent_after_a_restart() {
    let fake = fake(FakeKind::Tencent).await;
    fake.set_default(FakeAnswer::ServerError);
    let dir = tempfile::tempdir().unwrap();
    let (d, url) = (dir.path().to_path_buf(), fake.url());
    let prefix = format!("test:{}", uuid::Uuid::new_v4().simple());
    let setup = {
        let (d, url, prefix) = (d.clone(), url.clone(), prefix.clone());
        move |c: &mut remote_hearing::config::Config| {
            c.server.data_dir = d;
            c.redis.prefix = prefix;
            c.sms.provider = "tencent".into();
            c.sms.tencent = Some(tencent(url));
        }
    };
    let first = TestApp::builder().config(setup.clone()).spawn().await;
    fake.set_clock(follow(&first.clock));
    let phone = "13600136040";
    assert_eq!(send_code(&first, phone).await.status(), 202);
    let (id, status, _, _, attempts, _) = rows(&first, phone).await.remove(0);
    assert_eq!((status.as_str(), attempts), ("queued", 1));
    assert_eq!(fake.requests(), 1);
    let db_url = first.state.config.database.url.clone();
    drop(first);
    tokio::time::sleep(StdDuration::from_millis(300)).await;

    fake.set_default(FakeAnswer::Accept);
    let second = TestApp::builder()
        .now(default_now() + Duration::seconds(10))
        .config(move |c| {
            setup(c);
            c.database.url = db_url;
        })
        .spawn()
        .await;
    fake.set_clock(follow(&second.clock));
    let mut waited = 0;
    while fake.accepted().is_empty() && waited < 100 {
        tokio::time::sleep(StdDuration::from_millis(100)).await;
        waited += 1;
    }
    let got = fake.accepted();
    assert_eq!(got.len(), 1, "the worker of the new process sent it");
    assert_eq!(got[0].context, id);
    let (_, status, _, _, attempts, _) = rows(&second, phone).await.remove(0);
    assert_eq!((status.as_str(), attempts), ("sent", 2));
    let code = got[0].params[0].as_str().unwrap().to_string();
    assert_eq!(login(&second, phone, &code).await.status(), 200);
}

#[tokio::test]
async fn concurrent_workers_send_each_message_once() {
    let fake = fake(FakeKind::Tencent).await;
    let url = fake.url();
    let app = TestApp::builder()
        .config(move |c| {
            c.sms.provider = "tencent".into();
            c.sms.tencent = Some(tencent(url));
        })
        .spawn()
        .await;
    fake.set_clock(follow(&app.clock));
    // Scheduled a second ahead so that the server's own worker leaves them to us.
    let at = app.clock.now() + Duration::seconds(1);
    let n = 60;
    for i in 0..n {
        let phone =
            remote_hearing::domain::PhoneNumber::parse(&format!("{}", 13_800_100_000u64 + i))
                .unwrap();
        let params = [("brigade".to_string(), "大队".to_string())].into();
        remote_hearing::sms::notify(
            &app.state,
            &phone,
            Template::BookingConfirmation,
            params,
            None,
            Some(at),
        )
        .await
        .unwrap();
    }
    app.clock.advance(Duration::seconds(2));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let st = app.state.clone();
            tokio::spawn(async move { st.sms.delivery.drain(&st).await.unwrap() })
        })
        .collect();
    for w in workers {
        w.await.unwrap();
    }
    let mut waited = 0;
    while fake.accepted().len() < n as usize && waited < 50 {
        tokio::time::sleep(StdDuration::from_millis(100)).await;
        waited += 1;
    }
    let mut contexts: Vec<String> = fake.accepted().into_iter().map(|m| m.context).collect();
    assert_eq!(contexts.len(), n as usize);
    contexts.sort();
    contexts.dedup();
    assert_eq!(contexts.len(), n as usize, "no message sent twice");
}

#[tokio::test]
async fn booking_confirmation_now_and_reminder_the_day_before() {
    let app = TestApp::spawn().await;
    let phone = remote_hearing::domain::PhoneNumber::parse("13600136050").unwrap();
    let slot = default_now() + Duration::days(2);
    let tz = chrono_tz::Asia::Shanghai;
    remote_hearing::sms::booking_booked(&app.state, "b-1", &phone, "历下大队", slot, tz)
        .await
        .unwrap();
    remote_hearing::sms::booking_booked(&app.state, "b-2", &phone, "历下大队", slot, tz)
        .await
        .unwrap();
    remote_hearing::sms::booking_cancelled(&app.state, "b-2")
        .await
        .unwrap();
    let mut waited = 0;
    while outbox_lines(&app, phone.as_str()).len() < 2 && waited < 50 {
        tokio::time::sleep(StdDuration::from_millis(100)).await;
        waited += 1;
    }
    let lines = outbox_lines(&app, phone.as_str());
    assert_eq!(lines.len(), 2, "two confirmations, no reminder yet");
    assert!(
        lines[0]["text"]
            .as_str()
            .unwrap()
            .contains("11月18日 09:00")
    );
    assert_eq!(lines[0]["code"], Value::Null);
    app.clock.advance(Duration::days(1) + Duration::seconds(1));
    waited = 0;
    while outbox_lines(&app, phone.as_str()).len() < 3 && waited < 50 {
        tokio::time::sleep(StdDuration::from_millis(100)).await;
        waited += 1;
    }
    let lines = outbox_lines(&app, phone.as_str());
    assert_eq!(
        lines.len(),
        3,
        "one reminder: the cancelled booking's is not sent"
    );
    assert!(lines[2]["text"].as_str().unwrap().contains("提醒"));
    let statuses: Vec<String> = rows(&app, phone.as_str())
        .await
        .into_iter()
        .map(|r| r.1)
        .collect();
    assert_eq!(statuses.iter().filter(|s| *s == "cancelled").count(), 1);
}

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
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
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
        .post("/api/v1/auth/citizen", None, json!({"wx_code": "login-2"}))
        .await
        .json()
        .await
        .unwrap();
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

fn percentiles(mut ms: Vec<f64>) -> String {
    ms.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| ms[((ms.len() as f64 - 1.0) * q).round() as usize];
    format!(
        "p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms",
        at(0.5),
        at(0.95),
        at(1.0)
    )
}

async fn time_code_requests(app: &TestApp, n: usize, base: u64) -> String {
    let mut ms = Vec::with_capacity(n);
    for i in 0..n {
        let phone = format!("{}", base + i as u64);
        let t = std::time::Instant::now();
        assert_eq!(send_code(app, &phone).await.status(), 202);
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    percentiles(ms)
}

/// Figures for docs/benchmarks.md:
/// `cargo test --test integration -- --ignored sms::measure --nocapture`.
#[tokio::test]
#[ignore]
async fn measure_code_requests_and_outbox_throughput() {
    let console = TestApp::builder()
        .config(|c| c.sms.per_ip_per_minute = 100_000)
        .spawn()
        .await;
    println!(
        "code request, console provider: {}",
        time_code_requests(&console, 300, 13_500_000_000).await
    );

    let fake = fake(FakeKind::Tencent).await;
    let url = fake.url();
    let app = TestApp::builder()
        .config(move |c| {
            c.sms.per_ip_per_minute = 100_000;
            c.sms.provider = "tencent".into();
            c.sms.tencent = Some(tencent(url));
        })
        .spawn()
        .await;
    fake.set_clock(follow(&app.clock));
    println!(
        "code request, tencent (local fake, signed): {}",
        time_code_requests(&app, 300, 13_600_000_000).await
    );

    let n = 1000;
    let t = std::time::Instant::now();
    for i in 0..n {
        let phone =
            remote_hearing::domain::PhoneNumber::parse(&format!("{}", 13_700_000_000u64 + i))
                .unwrap();
        remote_hearing::sms::notify(
            &app.state,
            &phone,
            Template::BookingConfirmation,
            Default::default(),
            None,
            None,
        )
        .await
        .unwrap();
    }
    let queued = t.elapsed();
    loop {
        let (sent,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM sms_outbox WHERE status = 'sent' AND template = 'booking_confirmation'")
            .fetch_one(&app.state.db.read)
            .await
            .unwrap();
        if sent == n as i64 || t.elapsed() > StdDuration::from_secs(120) {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
    let all = t.elapsed();
    println!(
        "outbox: {n} notifications queued in {:.0} ms, all sent through the tencent fake in {:.0} ms ({:.0} msg/s, one worker)",
        queued.as_secs_f64() * 1000.0,
        all.as_secs_f64() * 1000.0,
        n as f64 / all.as_secs_f64()
    );
    assert_eq!(fake.accepted().len(), 300 + n as usize);
}
