//! The WeChat client against the fake (needs Redis: `TEST_REDIS_URL`, default 127.0.0.1:6379).

use std::sync::Arc;

use secrecy::SecretString;

use super::*;
use crate::sms::wechat::{Wechat, WechatError, WechatSettings};

async fn client(fake: &FakeWechat, prefix: &str) -> Wechat {
    let url = std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let conn = redis::Client::open(url)
        .unwrap()
        .get_connection_manager()
        .await
        .unwrap();
    Wechat::new(
        WechatSettings {
            base_url: fake.url(),
            appid: "wxapp".into(),
            secret: SecretString::from("wxsecret"),
            ..Default::default()
        },
        reqwest::Client::new(),
        conn,
        prefix,
    )
}

fn prefix() -> String {
    format!("test-{}:", uuid::Uuid::new_v4().simple())
}

#[tokio::test]
async fn login_codes_are_single_use_and_errors_map() {
    let fake = FakeWechat::start("wxapp", "wxsecret").await.unwrap();
    let wx = client(&fake, &prefix()).await;
    fake.add_login_code("c1", "openid-1", Some("union-1"));
    let s = wx.code2session("c1").await.unwrap();
    assert_eq!(s.openid, "openid-1");
    assert_eq!(s.unionid.as_deref(), Some("union-1"));
    assert!(!format!("{s:?}").contains("fake-session-key"));
    assert!(matches!(
        wx.code2session("c1").await,
        Err(WechatError::CodeUsed)
    ));
    assert!(matches!(
        wx.code2session("nope").await,
        Err(WechatError::InvalidCode)
    ));
    fake.block_code("risky");
    assert!(matches!(
        wx.code2session("risky").await,
        Err(WechatError::Blocked)
    ));
    fake.add_login_code("c2", "openid-2", None);
    fake.busy(2);
    assert_eq!(wx.code2session("c2").await.unwrap().openid, "openid-2");
    fake.add_login_code("c3", "openid-3", None);
    fake.busy(3);
    assert!(matches!(
        wx.code2session("c3").await,
        Err(WechatError::Busy)
    ));
}

#[tokio::test]
async fn phone_number_caches_token_and_refreshes_on_expiry() {
    let fake = FakeWechat::start("wxapp", "wxsecret").await.unwrap();
    let wx = client(&fake, &prefix()).await;
    fake.add_phone_code("p1", "13812345678");
    fake.add_phone_code("p2", "13900000000");
    let info = wx.phone_number("p1").await.unwrap();
    assert_eq!(info.pure_phone_number, "13812345678");
    assert_eq!(info.country_code, "86");
    assert_eq!(fake.token_calls(), 1);
    fake.rotate_token();
    assert_eq!(
        wx.phone_number("p2").await.unwrap().pure_phone_number,
        "13900000000"
    );
    assert_eq!(fake.token_calls(), 2, "one refresh after 42001");
    assert!(matches!(
        wx.phone_number("p2").await,
        Err(WechatError::InvalidCode)
    ));
    assert_eq!(fake.token_calls(), 2);
}

#[tokio::test]
async fn one_refresher_across_clients() {
    let fake = FakeWechat::start("wxapp", "wxsecret").await.unwrap();
    let p = prefix();
    let clients = [
        Arc::new(client(&fake, &p).await),
        Arc::new(client(&fake, &p).await),
        Arc::new(client(&fake, &p).await),
    ];
    let mut tasks = Vec::new();
    for i in 0..30 {
        let c = clients[i % 3].clone();
        tasks.push(tokio::spawn(async move { c.access_token().await.unwrap() }));
    }
    let mut tokens = Vec::new();
    for t in tasks {
        tokens.push(t.await.unwrap());
    }
    tokens.dedup();
    assert_eq!(tokens.len(), 1);
    assert_eq!(fake.token_calls(), 1);
}
