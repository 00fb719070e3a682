//! SMS through the real Tencent and Alibaba providers against local fakes that verify their
//! signatures: delivery and receipts, failover only before acceptance, provider throttles, the
//! outbox across a restart and under concurrent workers.

use std::time::Duration as StdDuration;

use chrono::Duration;
use remote_hearing::{
    clock::Clock,
    sms::{
        Template,
        fake::{FakeAnswer, FakeKind},
    },
};
use secrecy::SecretString;
use serde_json::Value;

use crate::{
    helpers::{TestApp, default_now},
    sms::{aliyun, fake, follow, login, outbox_lines, rows, send_code, tencent},
};

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
    let metrics = app.metrics().await;
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
    // The fake answers before the worker records the acceptance: wait for the row, bounded.
    let mut row = rows(&second, phone).await.remove(0);
    for _ in 0..100 {
        if row.1 != "queued" {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(100)).await;
        row = rows(&second, phone).await.remove(0);
    }
    let (_, status, _, _, attempts, _) = row;
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
async fn a_code_that_expired_while_queued_is_not_sent() {
    let fake = fake(FakeKind::Tencent).await;
    fake.set_default(FakeAnswer::ServerError);
    let url = fake.url();
    let app = TestApp::builder()
        .config(move |c| {
            c.sms.provider = "tencent".into();
            c.sms.tencent = Some(tencent(url));
        })
        .spawn()
        .await;
    fake.set_clock(follow(&app.clock));
    let phone = "13600136070";
    assert_eq!(send_code(&app, phone).await.status(), 202);
    fake.set_default(FakeAnswer::Accept);
    app.clock.advance(Duration::seconds(301));
    app.state.sms.delivery.drain(&app.state).await.unwrap();
    let (_, status, _, _, _, error) = rows(&app, phone).await.remove(0);
    assert_eq!(
        (status.as_str(), error.as_deref()),
        ("failed", Some("code_expired"))
    );
    assert!(fake.accepted().is_empty(), "a dead code is never sent");
}
