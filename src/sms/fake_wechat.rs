//! A local fake of the WeChat server API (axum on port 0) speaking the same contract as
//! `api.weixin.qq.com`: HTTP 200 with `errcode` bodies, single-use login and phone codes,
//! stable tokens (normal and forced refresh), and scriptable busy (-1) answers. For tests and
//! development only.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{
    Json, Router,
    extract::{Query, State},
    routing::{get, post},
};
use serde_json::{Value, json};

#[derive(Default)]
struct Inner {
    login_codes: HashMap<String, (String, Option<String>)>,
    phone_codes: HashMap<String, String>,
    used: Vec<String>,
    blocked: Vec<String>,
    token: Option<String>,
    token_seq: u64,
    token_calls: usize,
    busy: usize,
    phone_calls: usize,
    /// subscription messages sent: the request bodies
    subscribe_sent: Vec<Value>,
    /// openids without a subscription (43101)
    unsubscribed: Vec<String>,
}

struct Shared {
    appid: String,
    secret: String,
    inner: Mutex<Inner>,
}

/// A running fake WeChat; dropped → the server stops.
pub struct FakeWechat {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeWechat {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeWechat {
    pub async fn start(appid: &str, secret: &str) -> std::io::Result<FakeWechat> {
        let shared = Arc::new(Shared {
            appid: appid.into(),
            secret: secret.into(),
            inner: Mutex::new(Inner::default()),
        });
        let app = Router::new()
            .route("/sns/jscode2session", get(jscode2session))
            .route("/cgi-bin/stable_token", post(stable_token))
            .route("/wxa/business/getuserphonenumber", post(phone_number))
            .route("/cgi-bin/message/subscribe/send", post(subscribe_send))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(FakeWechat { addr, shared, task })
    }

    /// The base URL to configure.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A `wx.login` code that maps to `openid` (single use).
    pub fn add_login_code(&self, code: &str, openid: &str, unionid: Option<&str>) {
        self.lock()
            .login_codes
            .insert(code.into(), (openid.into(), unionid.map(str::to_string)));
    }

    /// A `getPhoneNumber` code that yields `phone` (11 digits; single use).
    pub fn add_phone_code(&self, code: &str, phone: &str) {
        self.lock().phone_codes.insert(code.into(), phone.into());
    }

    /// The login code belongs to a high-risk user (40226).
    pub fn block_code(&self, code: &str) {
        self.lock().blocked.push(code.into());
    }

    /// Answer the next `n` requests (any endpoint) with errcode -1.
    pub fn busy(&self, n: usize) {
        self.lock().busy = n;
    }

    /// Invalidate the current access token (as a forced refresh elsewhere would).
    pub fn rotate_token(&self) {
        let mut g = self.lock();
        g.token_seq += 1;
        g.token = Some(format!("token-{}", g.token_seq));
    }

    /// How many times `stable_token` was called.
    pub fn token_calls(&self) -> usize {
        self.lock().token_calls
    }

    pub fn phone_calls(&self) -> usize {
        self.lock().phone_calls
    }

    /// The subscription messages WeChat took (request bodies, in order).
    pub fn subscribe_sent(&self) -> Vec<Value> {
        self.lock().subscribe_sent.clone()
    }

    /// `openid` has no (or no longer a) subscription: sends answer 43101.
    pub fn unsubscribe(&self, openid: &str) {
        self.lock().unsubscribed.push(openid.into());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.shared.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn err(code: i64, msg: &str) -> Json<Value> {
    Json(json!({"errcode": code, "errmsg": format!("{msg} rid: fake")}))
}

fn take_busy(g: &mut Inner) -> bool {
    if g.busy > 0 {
        g.busy -= 1;
        true
    } else {
        false
    }
}

async fn jscode2session(
    State(s): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
) -> Json<Value> {
    let mut g = s.inner.lock().unwrap_or_else(|e| e.into_inner());
    if take_busy(&mut g) {
        return err(-1, "system error");
    }
    if q.get("appid") != Some(&s.appid) {
        return err(40013, "invalid appid");
    }
    if q.get("secret") != Some(&s.secret) {
        return err(40125, "invalid appsecret");
    }
    if q.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return err(40002, "invalid grant_type");
    }
    let code = q.get("js_code").cloned().unwrap_or_default();
    if g.blocked.contains(&code) {
        return err(40226, "high risk user");
    }
    if g.used.contains(&code) {
        return err(40163, "code been used");
    }
    let Some((openid, unionid)) = g.login_codes.remove(&code) else {
        return err(40029, "invalid code");
    };
    g.used.push(code);
    let mut v = json!({"openid": openid, "session_key": "fake-session-key"});
    if let Some(u) = unionid {
        v["unionid"] = json!(u);
    }
    Json(v)
}

async fn stable_token(State(s): State<Arc<Shared>>, Json(body): Json<Value>) -> Json<Value> {
    let mut g = s.inner.lock().unwrap_or_else(|e| e.into_inner());
    g.token_calls += 1;
    if take_busy(&mut g) {
        return err(-1, "system error");
    }
    if body["grant_type"] != "client_credential" {
        return err(40002, "invalid grant_type");
    }
    if body["appid"] != s.appid.as_str() || body["secret"] != s.secret.as_str() {
        return err(40125, "invalid appsecret");
    }
    if g.token.is_none() || body["force_refresh"] == true {
        g.token_seq += 1;
        g.token = Some(format!("token-{}", g.token_seq));
    }
    Json(json!({"access_token": g.token, "expires_in": 7200}))
}

async fn phone_number(
    State(s): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let mut g = s.inner.lock().unwrap_or_else(|e| e.into_inner());
    g.phone_calls += 1;
    if take_busy(&mut g) {
        return err(-1, "system error");
    }
    if let Some(e) = token_error(&g, &q) {
        return e;
    }
    let code = body["code"].as_str().unwrap_or_default().to_string();
    let Some(phone) = g.phone_codes.remove(&code) else {
        return err(40029, "invalid code");
    };
    Json(json!({"errcode": 0, "errmsg": "ok", "phone_info": {
        "phoneNumber": phone, "purePhoneNumber": phone, "countryCode": "86",
        "watermark": {"timestamp": 1_763_600_000, "appid": s.appid}}}))
}

/// The access token must be the current one: 42001 for an older one, 40001 otherwise.
fn token_error(g: &Inner, q: &HashMap<String, String>) -> Option<Json<Value>> {
    match (q.get("access_token"), &g.token) {
        (Some(t), Some(current)) if t == current => None,
        (Some(t), _) if t.starts_with("token-") => Some(err(42001, "access_token expired")),
        _ => Some(err(
            40001,
            "invalid credential, access_token is invalid or not latest",
        )),
    }
}

/// `subscribeMessage.send`: `touser`, `template_id` and `data` (each value `{value}`; a
/// `thing*` value at most 20 characters, a `time*` value `2019年10月1日 15:01`) are required.
async fn subscribe_send(
    State(s): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let mut g = s.inner.lock().unwrap_or_else(|e| e.into_inner());
    if take_busy(&mut g) {
        return err(-1, "system error");
    }
    if let Some(e) = token_error(&g, &q) {
        return e;
    }
    let (Some(to), Some(_), Some(data)) = (
        body["touser"].as_str(),
        body["template_id"].as_str().filter(|t| !t.is_empty()),
        body["data"].as_object(),
    ) else {
        return err(47003, "argument invalid! data.touser/template_id/data");
    };
    for (k, v) in data {
        let Some(val) = v["value"].as_str() else {
            return err(47003, "argument invalid! data.value");
        };
        let bad = (k.starts_with("thing") && val.chars().count() > 20)
            || (k.starts_with("time")
                && chrono::NaiveDateTime::parse_from_str(val, "%Y年%m月%d日 %H:%M").is_err());
        if bad {
            return err(47003, &format!("argument invalid! data.{k}.value"));
        }
    }
    if g.unsubscribed.iter().any(|o| o == to) {
        return err(43101, "user refuse to accept the msg");
    }
    g.subscribe_sent.push(body.clone());
    Json(json!({"errcode": 0, "errmsg": "ok", "msgid": g.subscribe_sent.len()}))
}

#[cfg(test)]
#[path = "fake_wechat_tests.rs"]
mod tests;
