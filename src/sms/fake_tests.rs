//! The real providers against the fakes: signatures verify, answers are classified.

use std::sync::Arc;

use secrecy::SecretString;

use super::*;
use crate::sms::aliyun::{AliyunProvider, AliyunSettings};
use crate::sms::provider::{Outgoing, Provider, SendError};
use crate::sms::tencent::{TencentProvider, TencentSettings};

fn now() -> UnixNow {
    Arc::new(|| 1_763_600_000)
}

fn msg(id: &str) -> Outgoing {
    Outgoing {
        message_id: id.into(),
        phone: "13812345678".into(),
        template: "login_code".into(),
        params: vec![
            ("code".into(), "123456".into()),
            ("minutes".into(), "5".into()),
        ],
        text: "code 123456".into(),
        code: Some("123456".into()),
    }
}

fn tencent(url: String, secret: &str) -> TencentProvider {
    TencentProvider {
        settings: TencentSettings {
            endpoint: url,
            region: "ap-guangzhou".into(),
            secret_id: "AKIDfake".into(),
            secret_key: SecretString::from(secret),
            sdk_app_id: "1400000000".into(),
            sign_name: "Court".into(),
            templates: [("login_code".to_string(), "1110".to_string())].into(),
        },
        client: reqwest::Client::new(),
        now: now(),
    }
}

fn aliyun(url: String, secret: &str) -> AliyunProvider {
    AliyunProvider {
        settings: AliyunSettings {
            endpoint: url,
            access_key_id: "LTAIfake".into(),
            access_key_secret: SecretString::from(secret),
            sign_name: "交警".into(),
            templates: [("login_code".to_string(), "SMS_1".to_string())].into(),
        },
        client: reqwest::Client::new(),
        now: now(),
    }
}

#[tokio::test]
async fn tencent_fake_accepts_throttles_and_fails() {
    let fake = FakeSms::start(FakeKind::Tencent, "AKIDfake", "k", now())
        .await
        .unwrap();
    let p = tencent(fake.url(), "k");
    let ok = p.send(&msg("m-1")).await.unwrap();
    let got = fake.accepted();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].context, "m-1");
    assert_eq!(got[0].phone, "13812345678");
    assert_eq!(got[0].params, serde_json::json!(["123456", "5"]));
    assert_eq!(got[0].provider_message_id, ok.provider_message_id);

    fake.script(&[FakeAnswer::Throttle, FakeAnswer::ServerError]);
    assert!(matches!(
        p.send(&msg("m-2")).await,
        Err(SendError::Throttled { .. })
    ));
    let e = p.send(&msg("m-3")).await.unwrap_err();
    assert!(e.may_fail_over(), "{e:?}");

    let wrong = tencent(fake.url(), "not-the-key");
    let e = wrong.send(&msg("m-4")).await.unwrap_err();
    assert_eq!(e.code(), "AuthFailure.SignatureFailure");
    assert_eq!(fake.bad_signatures(), 1);
    let receipt = fake.receipt_body(&got[0], true);
    let parsed = receipts::parse_tencent(receipt.to_string().as_bytes()).unwrap();
    assert_eq!(parsed[0].provider_message_id, ok.provider_message_id);
}

#[tokio::test]
async fn aliyun_fake_accepts_throttles_and_fails() {
    let fake = FakeSms::start(FakeKind::Aliyun, "LTAIfake", "s", now())
        .await
        .unwrap();
    let p = aliyun(fake.url(), "s");
    let ok = p.send(&msg("m-1")).await.unwrap();
    let got = fake.accepted();
    assert_eq!(got[0].context, "m-1");
    assert_eq!(got[0].params["code"], "123456");
    fake.script(&[FakeAnswer::Throttle, FakeAnswer::ServerError]);
    let e = p.send(&msg("m-2")).await.unwrap_err();
    assert_eq!(e.code(), "isv.BUSINESS_LIMIT_CONTROL");
    assert!(p.send(&msg("m-3")).await.unwrap_err().may_fail_over());
    let e = aliyun(fake.url(), "x").send(&msg("m-4")).await.unwrap_err();
    assert_eq!(e.code(), "SignatureDoesNotMatch");
    let receipt = fake.receipt_body(&got[0], false);
    let parsed = receipts::parse_aliyun(receipt.to_string().as_bytes()).unwrap();
    assert_eq!(parsed[0].out_id.as_deref(), Some("m-1"));
    assert_eq!(parsed[0].provider_message_id, ok.provider_message_id);
    assert!(!parsed[0].delivered);
}

#[tokio::test]
async fn closed_port_is_a_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let e = tencent(url, "k").send(&msg("m")).await.unwrap_err();
    assert!(matches!(e, SendError::Transport(_)));
}
