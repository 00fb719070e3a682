//! Local fake Tencent Cloud SMS and Alibaba Cloud SMS servers for tests and development: axum on
//! port 0, verifying each request's signature exactly as the provider would (same verifier code as
//! a real request would be checked against: canonical request rebuilt from what arrived), and
//! answering success, the provider's per-number throttle, or a 5xx as they are told. They record
//! what they accepted and can build delivery receipts in each provider's format.

use std::{
    collections::VecDeque,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::provider::UnixNow;
use super::{aliyun, receipts, signing::parse_query, tencent};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FakeKind {
    Tencent,
    Aliyun,
}

/// How the fake answers the next valid request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FakeAnswer {
    Accept,
    /// The provider's per-number throttle (Tencent `LimitExceeded.*`, Alibaba `isv.BUSINESS_LIMIT_CONTROL`).
    Throttle,
    /// HTTP 503 before accepting.
    ServerError,
}

/// A message the fake accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeMessage {
    /// 11-digit number as sent (a `+86` prefix dropped).
    pub phone: String,
    pub template: String,
    /// Tencent: the parameter list; Alibaba: the TemplateParam JSON object's values by name order.
    pub params: Value,
    /// SessionContext / OutId.
    pub context: String,
    /// SerialNo / BizId given back.
    pub provider_message_id: String,
}

#[derive(Default)]
struct Inner {
    script: VecDeque<FakeAnswer>,
    default: Option<FakeAnswer>,
    accepted: Vec<FakeMessage>,
    requests: usize,
    bad_signatures: usize,
}

struct Shared {
    kind: FakeKind,
    key_id: String,
    secret: String,
    now: Mutex<UnixNow>,
    inner: Mutex<Inner>,
}

/// A running fake provider; dropped → the server stops.
pub struct FakeSms {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeSms {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeSms {
    /// Start a fake for `kind` that accepts the credentials `key_id` / `secret`.
    pub async fn start(
        kind: FakeKind,
        key_id: &str,
        secret: &str,
        now: UnixNow,
    ) -> std::io::Result<FakeSms> {
        let shared = Arc::new(Shared {
            kind,
            key_id: key_id.into(),
            secret: secret.into(),
            now: Mutex::new(now),
            inner: Mutex::new(Inner::default()),
        });
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(FakeSms { addr, shared, task })
    }

    /// The endpoint to configure (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The clock the signature-expiry check uses (the server's injectable clock).
    pub fn set_clock(&self, now: UnixNow) {
        *self.shared.now.lock().unwrap_or_else(|e| e.into_inner()) = now;
    }

    /// Answer the next requests in this order, then fall back to the default.
    pub fn script(&self, answers: &[FakeAnswer]) {
        self.lock().script.extend(answers.iter().copied());
    }

    /// The answer once the script is used up (initially `Accept`).
    pub fn set_default(&self, answer: FakeAnswer) {
        self.lock().default = Some(answer);
    }

    pub fn accepted(&self) -> Vec<FakeMessage> {
        self.lock().accepted.clone()
    }

    /// Requests received (valid or not).
    pub fn requests(&self) -> usize {
        self.lock().requests
    }

    /// Requests refused because their signature did not verify.
    pub fn bad_signatures(&self) -> usize {
        self.lock().bad_signatures
    }

    /// A delivery receipt body for `msg` in this provider's callback format.
    pub fn receipt_body(&self, msg: &FakeMessage, delivered: bool) -> Value {
        match self.shared.kind {
            FakeKind::Tencent => json!([receipts::TencentReport {
                user_receive_time: "2026-11-20 10:00:00".into(),
                nationcode: "86".into(),
                mobile: msg.phone.clone(),
                report_status: if delivered { "SUCCESS" } else { "FAIL" }.into(),
                errmsg: if delivered { "DELIVRD" } else { "UNDELIV" }.into(),
                description: String::new(),
                sid: msg.provider_message_id.clone(),
            }]),
            FakeKind::Aliyun => json!([receipts::AliyunReport {
                phone_number: msg.phone.clone(),
                send_time: "2026-11-20 10:00:00".into(),
                report_time: "2026-11-20 10:00:03".into(),
                success: delivered,
                err_code: if delivered { "DELIVERED" } else { "UNDELIV" }.into(),
                err_msg: String::new(),
                sms_size: "1".into(),
                biz_id: msg.provider_message_id.clone(),
                out_id: msg.context.clone(),
            }]),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.shared.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

async fn handle(
    State(s): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: &str| -> Option<String> {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let key = |id: &str| (id == s.key_id).then(|| s.secret.clone());
    let now = (s.now.lock().unwrap_or_else(|e| e.into_inner()).clone())();
    let query = uri.query().unwrap_or("");
    let verdict = match s.kind {
        FakeKind::Tencent => tencent::verify(
            method.as_str(),
            uri.path(),
            query,
            &header,
            &body,
            &key,
            now,
        )
        .map(|_| ()),
        FakeKind::Aliyun => aliyun::verify(
            method.as_str(),
            uri.path(),
            &parse_query(query),
            &header,
            &body,
            &key,
            now,
        )
        .map(|_| ()),
    };
    let answer = {
        let mut inner = s.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.requests += 1;
        if verdict.is_err() {
            inner.bad_signatures += 1;
        }
        let next = inner.script.pop_front();
        next.or(inner.default).unwrap_or(FakeAnswer::Accept)
    };
    if let Err(code) = verdict {
        return refuse(s.kind, code);
    }
    if answer == FakeAnswer::ServerError {
        return (StatusCode::SERVICE_UNAVAILABLE, "upstream unavailable").into_response();
    }
    let parsed = match s.kind {
        FakeKind::Tencent => parse_tencent(&header, &body),
        FakeKind::Aliyun => parse_aliyun(&header, query),
    };
    let mut msg = match parsed {
        Ok(m) => m,
        Err(code) => return refuse(s.kind, code),
    };
    if answer == FakeAnswer::Throttle {
        return throttle(s.kind, &msg);
    }
    let serial = {
        let mut inner = s.inner.lock().unwrap_or_else(|e| e.into_inner());
        msg.provider_message_id = match s.kind {
            FakeKind::Tencent => format!("2433:{}", 100_000 + inner.accepted.len()),
            FakeKind::Aliyun => format!("{}^0", 900_000 + inner.accepted.len()),
        };
        inner.accepted.push(msg.clone());
        msg.provider_message_id.clone()
    };
    match s.kind {
        FakeKind::Tencent => axum::Json(json!({"Response": {
            "SendStatusSet": [{"SerialNo": serial, "PhoneNumber": format!("+86{}", msg.phone),
                "Fee": 1, "SessionContext": msg.context, "Code": "Ok",
                "Message": "send success", "IsoCode": "CN"}],
            "RequestId": "fake-request"}}))
        .into_response(),
        FakeKind::Aliyun => axum::Json(json!({"Code": "OK", "Message": "OK",
            "BizId": serial, "RequestId": "fake-request"}))
        .into_response(),
    }
}

fn parse_tencent(
    header: &dyn Fn(&str) -> Option<String>,
    body: &[u8],
) -> Result<FakeMessage, &'static str> {
    if header("x-tc-action").as_deref() != Some("SendSms")
        || header("x-tc-version").as_deref() != Some(tencent::SMS_VERSION)
    {
        return Err("InvalidAction");
    }
    let req: tencent::SendSmsRequest =
        serde_json::from_slice(body).map_err(|_| "InvalidParameter")?;
    let phone = req.phone_number_set.first().ok_or("MissingParameter")?;
    Ok(FakeMessage {
        phone: phone.trim_start_matches("+86").to_string(),
        template: req.template_id,
        params: json!(req.template_param_set),
        context: req.session_context,
        provider_message_id: String::new(),
    })
}

fn parse_aliyun(
    header: &dyn Fn(&str) -> Option<String>,
    query: &str,
) -> Result<FakeMessage, &'static str> {
    if header("x-acs-action").as_deref() != Some("SendSms")
        || header("x-acs-version").as_deref() != Some(aliyun::SMS_VERSION)
    {
        return Err("InvalidAction.NotFound");
    }
    let q = parse_query(query);
    let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    Ok(FakeMessage {
        phone: get("PhoneNumbers").ok_or("MissingPhoneNumbers")?,
        template: get("TemplateCode").ok_or("MissingTemplateCode")?,
        params: get("TemplateParam")
            .map(|p| serde_json::from_str(&p).unwrap_or(Value::Null))
            .unwrap_or(Value::Null),
        context: get("OutId").unwrap_or_default(),
        provider_message_id: String::new(),
    })
}

fn refuse(kind: FakeKind, code: &str) -> Response {
    match kind {
        FakeKind::Tencent => axum::Json(json!({"Response": {
            "Error": {"Code": code, "Message": "refused by fake"}, "RequestId": "fake-request"}}))
        .into_response(),
        FakeKind::Aliyun => (
            StatusCode::BAD_REQUEST,
            axum::Json(
                json!({"Code": code, "Message": "refused by fake", "RequestId": "fake-request"}),
            ),
        )
            .into_response(),
    }
}

fn throttle(kind: FakeKind, msg: &FakeMessage) -> Response {
    match kind {
        FakeKind::Tencent => axum::Json(json!({"Response": {
            "SendStatusSet": [{"SerialNo": "", "PhoneNumber": format!("+86{}", msg.phone), "Fee": 0,
                "SessionContext": msg.context, "Code": "LimitExceeded.PhoneNumberThirtySecondLimit",
                "Message": "the number of SMS messages sent from a single mobile number within 30 seconds exceeds the upper limit",
                "IsoCode": "CN"}],
            "RequestId": "fake-request"}}))
        .into_response(),
        FakeKind::Aliyun => axum::Json(json!({"Code": "isv.BUSINESS_LIMIT_CONTROL",
            "Message": "触发小时级流控Permits:5", "RequestId": "fake-request"}))
        .into_response(),
    }
}

#[cfg(test)]
#[path = "fake_tests.rs"]
mod tests;
