//! WeChat mini-program server API client: `code2Session` (`/sns/jscode2session`) for login,
//! the stable access token (`/cgi-bin/stable_token`, cached in Redis with one refresher across
//! processes) and `getPhoneNumber` (`/wxa/business/getuserphonenumber`) for phone binding.
//! WeChat answers HTTP 200 with an `errcode` body; the codes are mapped to `WechatError`:
//! -1 (busy) is retried, 40001/42001 (token invalid/expired) refresh the token and retry once.
//! Owns the Redis keys `wx:token` and `wx:token:lock` (under the caller's prefix); nothing else.

use std::time::Duration;

use redis::aio::ConnectionManager;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};

/// Config section `wechat` (login is enabled when `appid` is set).
#[derive(Clone, Deserialize)]
pub struct WechatSettings {
    #[serde(default = "default_base")]
    pub base_url: String,
    #[serde(default)]
    pub appid: String,
    #[serde(default)]
    pub secret: SecretString,
    /// The subscription message template (订阅消息) of the booking reminder, as registered in
    /// the mini program's console; empty: reminders go by SMS only. Its keywords: `thing1`
    /// (brigade), `time2` (the slot, `YYYY-MM-DD HH:MM`), `thing3` (what to do).
    #[serde(default)]
    pub reminder_template_id: String,
    /// The mini program page a tap on the reminder opens.
    #[serde(default = "default_reminder_page")]
    pub reminder_page: String,
}

impl Default for WechatSettings {
    fn default() -> Self {
        WechatSettings {
            base_url: default_base(),
            appid: String::new(),
            secret: SecretString::default(),
            reminder_template_id: String::new(),
            reminder_page: default_reminder_page(),
        }
    }
}

fn default_reminder_page() -> String {
    "pages/home/home".into()
}

fn default_base() -> String {
    "https://api.weixin.qq.com".into()
}

impl std::fmt::Debug for WechatSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WechatSettings")
            .field("base_url", &self.base_url)
            .field("appid", &self.appid)
            .field("secret", &"[redacted]")
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WechatError {
    /// 40029: the code is invalid (or expired).
    #[error("invalid code")]
    InvalidCode,
    /// 40163: the code was already used.
    #[error("code already used")]
    CodeUsed,
    /// 45011: the user calls too often.
    #[error("too frequent")]
    RateLimited,
    /// 40226: a high-risk user, blocked by WeChat.
    #[error("user blocked by WeChat risk control")]
    Blocked,
    /// -1 after our retries.
    #[error("WeChat busy")]
    Busy,
    #[error("WeChat errcode {errcode}: {errmsg}")]
    Other { errcode: i64, errmsg: String },
    #[error("WeChat unreachable: {0}")]
    Transport(String),
    #[error(transparent)]
    Redis(#[from] redis::RedisError),
}

impl WechatError {
    fn from_code(errcode: i64, errmsg: &str) -> WechatError {
        match errcode {
            40029 => WechatError::InvalidCode,
            40163 => WechatError::CodeUsed,
            45011 => WechatError::RateLimited,
            40226 => WechatError::Blocked,
            -1 => WechatError::Busy,
            _ => WechatError::Other {
                errcode,
                errmsg: errmsg.chars().take(200).collect(),
            },
        }
    }
}

/// The result of `code2Session`. `session_key` is a secret and never logged.
#[derive(Clone)]
pub struct WxSession {
    pub openid: String,
    pub unionid: Option<String>,
    pub session_key: SecretString,
}

impl std::fmt::Debug for WxSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WxSession")
            .field("openid", &self.openid)
            .field("unionid", &self.unionid)
            .finish_non_exhaustive()
    }
}

/// `phone_info` of `getPhoneNumber`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PhoneInfo {
    pub phone_number: String,
    pub pure_phone_number: String,
    pub country_code: String,
}

const BUSY_RETRIES: usize = 2;
const INVALIDATE: &str =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";
const UNLOCK: &str =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

/// The client. Cheap to share behind an `Arc`.
pub struct Wechat {
    pub settings: WechatSettings,
    http: reqwest::Client,
    redis: ConnectionManager,
    token_key: String,
    lock_key: String,
    local: tokio::sync::Mutex<()>,
}

impl Wechat {
    /// `key_prefix` is prepended to the Redis keys (`<prefix>wx:token`).
    pub fn new(
        settings: WechatSettings,
        http: reqwest::Client,
        redis: ConnectionManager,
        key_prefix: &str,
    ) -> Wechat {
        Wechat {
            settings,
            http,
            redis,
            token_key: format!("{key_prefix}wx:token"),
            lock_key: format!("{key_prefix}wx:token:lock"),
            local: tokio::sync::Mutex::new(()),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.settings.base_url.trim_end_matches('/'))
    }

    /// Exchange a `wx.login` code for the user's openid (and unionid).
    pub async fn code2session(&self, js_code: &str) -> Result<WxSession, WechatError> {
        let url = self.url("/sns/jscode2session");
        let query = [
            ("appid", self.settings.appid.as_str()),
            ("secret", self.settings.secret.expose_secret()),
            ("js_code", js_code),
            ("grant_type", "authorization_code"),
        ];
        let v = self
            .with_busy_retry(|| async {
                let resp = self.http.get(&url).query(&query).send().await;
                read(resp).await
            })
            .await?;
        let openid = str_field(&v, "openid").ok_or_else(|| WechatError::Other {
            errcode: 0,
            errmsg: "answer without openid".into(),
        })?;
        Ok(WxSession {
            openid,
            unionid: str_field(&v, "unionid"),
            session_key: SecretString::from(str_field(&v, "session_key").unwrap_or_default()),
        })
    }

    /// Exchange a `getPhoneNumber` button code for the user's verified phone.
    pub async fn phone_number(&self, code: &str) -> Result<PhoneInfo, WechatError> {
        let v = self
            .post_with_token("/wxa/business/getuserphonenumber", &json!({ "code": code }))
            .await?;
        serde_json::from_value(v.get("phone_info").cloned().unwrap_or_default()).map_err(|e| {
            WechatError::Other {
                errcode: 0,
                errmsg: format!("phone_info: {e}"),
            }
        })
    }

    /// `subscribeMessage.send`: one subscription message (`{touser, template_id, page, data}`)
    /// to a user who allowed it; the message id.
    pub async fn send_subscribe(&self, body: &Value) -> Result<Option<i64>, WechatError> {
        let v = self
            .post_with_token("/cgi-bin/message/subscribe/send", body)
            .await?;
        Ok(v.get("msgid").and_then(Value::as_i64))
    }

    /// POSTs `body` to `path` with the cached access token; a rejected token (40001, 42001)
    /// is refreshed once.
    async fn post_with_token(&self, path: &str, body: &Value) -> Result<Value, WechatError> {
        let mut token = self.access_token().await?;
        let url = self.url(path);
        for attempt in 0..2 {
            let r = self
                .with_busy_retry(|| async {
                    let resp = self
                        .http
                        .post(&url)
                        .query(&[("access_token", token.as_str())])
                        .json(body)
                        .send()
                        .await;
                    read(resp).await
                })
                .await;
            match r {
                Err(WechatError::Other { errcode, .. })
                    if attempt == 0 && (errcode == 40001 || errcode == 42001) =>
                {
                    token = self.refresh_after_rejection(&token).await?;
                }
                r => return r,
            }
        }
        Err(WechatError::Busy)
    }

    /// The cached access token, fetched by one refresher when missing.
    pub async fn access_token(&self) -> Result<String, WechatError> {
        let mut conn = self.redis.clone();
        if let Some(t) = redis::cmd("GET")
            .arg(&self.token_key)
            .query_async::<Option<String>>(&mut conn)
            .await?
        {
            return Ok(t);
        }
        self.refresh(None).await
    }

    /// WeChat refused `bad`: drop it from the cache (unless another refresher already replaced
    /// it) and get the current one, forcing a new one only if WeChat still hands out `bad`.
    async fn refresh_after_rejection(&self, bad: &str) -> Result<String, WechatError> {
        let mut conn = self.redis.clone();
        let _: i64 = redis::Script::new(INVALIDATE)
            .key(&self.token_key)
            .arg(bad)
            .invoke_async(&mut conn)
            .await?;
        self.refresh(Some(bad)).await
    }

    async fn refresh(&self, bad: Option<&str>) -> Result<String, WechatError> {
        let _local = self.local.lock().await;
        let mut conn = self.redis.clone();
        let nonce = super::signing::random_hex(16);
        for _ in 0..100 {
            if let Some(t) = redis::cmd("GET")
                .arg(&self.token_key)
                .query_async::<Option<String>>(&mut conn)
                .await?
                && Some(t.as_str()) != bad
            {
                return Ok(t);
            }
            let locked: Option<String> = redis::cmd("SET")
                .arg(&self.lock_key)
                .arg(&nonce)
                .arg("NX")
                .arg("PX")
                .arg(15_000)
                .query_async(&mut conn)
                .await?;
            if locked.is_some() {
                // Another refresher may have stored a token between our GET and our lock.
                let cached: Option<String> = redis::cmd("GET")
                    .arg(&self.token_key)
                    .query_async(&mut conn)
                    .await?;
                let r = match cached {
                    Some(t) if Some(t.as_str()) != bad => Ok(t),
                    _ => self.fetch_and_store(bad).await,
                };
                let _: i64 = redis::Script::new(UNLOCK)
                    .key(&self.lock_key)
                    .arg(&nonce)
                    .invoke_async(&mut conn)
                    .await?;
                return r;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(WechatError::Busy)
    }

    async fn fetch_and_store(&self, bad: Option<&str>) -> Result<String, WechatError> {
        let (mut token, mut expires) = self.stable_token(false).await?;
        if Some(token.as_str()) == bad {
            (token, expires) = self.stable_token(true).await?;
        }
        // WeChat renews a stable token 5 minutes before its end; stop using ours then too.
        let ttl = (expires - 300).max(60);
        let mut conn = self.redis.clone();
        let _: () = redis::cmd("SET")
            .arg(&self.token_key)
            .arg(&token)
            .arg("EX")
            .arg(ttl)
            .query_async(&mut conn)
            .await?;
        tracing::info!(ttl, "wechat access token refreshed");
        Ok(token)
    }

    async fn stable_token(&self, force: bool) -> Result<(String, i64), WechatError> {
        let url = self.url("/cgi-bin/stable_token");
        let body = json!({
            "grant_type": "client_credential",
            "appid": self.settings.appid,
            "secret": self.settings.secret.expose_secret(),
            "force_refresh": force,
        });
        let v = self
            .with_busy_retry(|| async { read(self.http.post(&url).json(&body).send().await).await })
            .await?;
        let token = str_field(&v, "access_token").ok_or_else(|| WechatError::Other {
            errcode: 0,
            errmsg: "answer without access_token".into(),
        })?;
        Ok((
            token,
            v.get("expires_in").and_then(Value::as_i64).unwrap_or(7200),
        ))
    }

    async fn with_busy_retry<F, Fut>(&self, call: F) -> Result<Value, WechatError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Value, WechatError>>,
    {
        let mut attempt = 0;
        loop {
            match call().await {
                Err(WechatError::Busy) if attempt < BUSY_RETRIES => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(100 * attempt as u64)).await;
                }
                r => return r,
            }
        }
    }
}

async fn read(resp: Result<reqwest::Response, reqwest::Error>) -> Result<Value, WechatError> {
    let resp = resp.map_err(|e| WechatError::Transport(e.without_url().to_string()))?;
    let status = resp.status();
    if status.is_server_error() {
        return Err(WechatError::Busy);
    }
    let v: Value = resp
        .json()
        .await
        .map_err(|e| WechatError::Transport(e.without_url().to_string()))?;
    match v.get("errcode").and_then(Value::as_i64).unwrap_or(0) {
        0 => Ok(v),
        code => Err(WechatError::from_code(
            code,
            v.get("errmsg").and_then(Value::as_str).unwrap_or(""),
        )),
    }
}

fn str_field(v: &Value, name: &str) -> Option<String> {
    v.get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}
