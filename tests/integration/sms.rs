//! SMS: codes, resends and limits on the injectable clock, booking notifications, and the
//! shared helpers of the SMS test files (`sms_providers`, `sms_wechat`).

use std::{sync::Arc, time::Duration as StdDuration};

use chrono::Duration;
use remote_hearing::{
    clock::{Clock, MockClock},
    sms::{
        Template,
        aliyun::AliyunSettings,
        fake::{FakeKind, FakeSms},
        provider::UnixNow,
        tencent::TencentSettings,
    },
};
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::helpers::{TestApp, default_now, expect_error};

pub(crate) fn templates(prefix: &str) -> std::collections::HashMap<String, String> {
    Template::ALL
        .iter()
        .map(|t| (t.key().to_string(), format!("{prefix}{}", t.key())))
        .collect()
}

pub(crate) fn tencent(url: String) -> TencentSettings {
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

pub(crate) fn aliyun(url: String) -> AliyunSettings {
    AliyunSettings {
        endpoint: url,
        access_key_id: "LTAItest".into(),
        access_key_secret: SecretString::from("aliyun-secret"),
        sign_name: "远程执法".into(),
        templates: templates("SMS_"),
    }
}

pub(crate) fn follow(clock: &Arc<MockClock>) -> UnixNow {
    let c = clock.clone();
    Arc::new(move || c.now().timestamp())
}

pub(crate) async fn fake(kind: FakeKind) -> FakeSms {
    let (id, secret) = match kind {
        FakeKind::Tencent => ("AKIDtest", "tencent-secret"),
        FakeKind::Aliyun => ("LTAItest", "aliyun-secret"),
    };
    FakeSms::start(kind, id, secret, Arc::new(|| default_now().timestamp()))
        .await
        .unwrap()
}

pub(crate) async fn send_code(app: &TestApp, phone: &str) -> reqwest::Response {
    app.post("/api/v1/auth/sms-code", None, json!({"phone": phone}))
        .await
}

pub(crate) async fn login(app: &TestApp, phone: &str, code: &str) -> reqwest::Response {
    app.post(
        "/api/v1/auth/citizen",
        None,
        json!({"phone": phone, "code": code}),
    )
    .await
}

/// (id, status, provider, provider_message_id, attempts, last_error) of a phone's messages, newest first.
pub(crate) async fn rows(
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

pub(crate) fn outbox_lines(app: &TestApp, phone: &str) -> Vec<Value> {
    std::fs::read_to_string(app.data_dir.path().join("sms-outbox.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["to"] == phone)
        .collect()
}

/// Waits (up to 5 s) for an SMS to `phone` whose text contains `needle`; returns its text.
pub(crate) async fn sms_with(app: &TestApp, phone: &str, needle: &str) -> String {
    for _ in 0..50 {
        if let Some(l) = outbox_lines(app, phone)
            .into_iter()
            .find(|l| l["text"].as_str().unwrap_or("").contains(needle))
        {
            return l["text"].as_str().unwrap().to_string();
        }
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    panic!(
        "no SMS to {phone} with {needle:?}: {:?}",
        outbox_lines(app, phone)
    );
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
async fn booking_confirmation_now_and_reminder_the_day_before() {
    let app = TestApp::spawn().await;
    let phone = remote_hearing::domain::PhoneNumber::parse("13600136050").unwrap();
    let slot = default_now() + Duration::days(2);
    let tz = chrono_tz::Asia::Shanghai;
    // As the booking service does: in its transaction, the worker woken after the commit.
    let mut tx = app.state.db.begin().await.unwrap();
    for id in ["b-1", "b-2"] {
        remote_hearing::sms::booking_booked(&app.state, &mut tx, id, &phone, "历下大队", slot, tz)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    remote_hearing::sms::wake(&app.state);
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

/// The worker's claim takes a batch in one write: each row's lease and attempt counted, a
/// claimed row not claimed again until its lease ends; the batch's outcomes in one transaction.
#[tokio::test]
async fn due_messages_are_claimed_in_batches_and_marked_together() {
    use remote_hearing::sms::{
        marks::{self, Mark},
        outbox::{self, LEASE_MS, NewMessage},
    };
    let app = TestApp::spawn().await;
    let db = &app.state.db;
    let phone = remote_hearing::domain::PhoneNumber::parse("13600136051").unwrap();
    // Due in an hour of the mock clock, which the running worker never reaches.
    let now = app.clock.now().timestamp_millis();
    let later = now + 3_600_000;
    for i in 0..5 {
        let msg = NewMessage {
            phone: phone.clone(),
            template: Template::BookingConfirmation,
            params: Default::default(),
            code_ref: None,
            ref_id: Some(format!("b-{i}")),
            not_before_ms: Some(later),
        };
        outbox::enqueue(db, now, &msg, false).await.unwrap();
    }
    let ids = |c: &[outbox::Claimed]| c.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
    let first = outbox::claim_due(db, later, 3).await.unwrap();
    let second = outbox::claim_due(db, later, 3).await.unwrap();
    assert_eq!((first.len(), second.len()), (3, 2));
    assert!(ids(&second).iter().all(|id| !ids(&first).contains(id)));
    assert!(first.iter().chain(&second).all(|r| r.attempts == 1));
    assert!(outbox::claim_due(db, later, 3).await.unwrap().is_empty());
    let again = outbox::claim_due(db, later + LEASE_MS + 1, 10)
        .await
        .unwrap();
    assert_eq!(again.len(), 5, "every lease ended");
    assert!(again.iter().all(|r| r.attempts == 2));

    let p = || "tencent".to_string();
    let outcomes = vec![
        (
            again[0].id.clone(),
            Mark::Sent {
                provider: p(),
                provider_message_id: "m-1".into(),
            },
        ),
        (
            again[1].id.clone(),
            Mark::Retry {
                provider: p(),
                error: "503".into(),
                next_at_ms: later + 60_000,
            },
        ),
        (
            again[2].id.clone(),
            Mark::Failed {
                provider: p(),
                error: "rejected".into(),
            },
        ),
        // A second sent row: the batch's sent rows are one statement, each keeps its own id.
        (
            again[3].id.clone(),
            Mark::Sent {
                provider: "aliyun".into(),
                provider_message_id: "m-2".into(),
            },
        ),
    ];
    marks::record(db, later, &outcomes).await.unwrap();
    let read = app.state.db.read.clone();
    let status = |id: String| {
        let read = read.clone();
        async move {
            let r: (String, Option<String>) =
                sqlx::query_as("SELECT status, provider_message_id FROM sms_outbox WHERE id = $1")
                    .bind(id)
                    .fetch_one(&read)
                    .await
                    .unwrap();
            r
        }
    };
    assert_eq!(
        status(again[0].id.clone()).await,
        ("sent".into(), Some("m-1".into()))
    );
    assert_eq!(status(again[1].id.clone()).await.0, "queued");
    assert_eq!(status(again[2].id.clone()).await.0, "failed");
    assert_eq!(
        status(again[3].id.clone()).await,
        ("sent".into(), Some("m-2".into()))
    );
    let provider: String = sqlx::query_scalar("SELECT provider FROM sms_outbox WHERE id = $1")
        .bind(&again[3].id)
        .fetch_one(&app.state.db.read)
        .await
        .unwrap();
    assert_eq!(provider, "aliyun");
    // The retried row is due again at its time, the others are done or still leased.
    let retried = outbox::claim_due(db, later + 60_000, 10).await.unwrap();
    assert_eq!(ids(&retried), vec![again[1].id.clone()]);
}
