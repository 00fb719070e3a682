//! Tencent Cloud SMS (API 3.0, `SendSms` version 2021-01-11): the TC3-HMAC-SHA256 signer and
//! verifier, the request/response types, the classification of its error codes and the provider.
//! Owns nothing stateful; the outbox worker decides what to do with a `SendError`.

use std::collections::HashMap;

use chrono::DateTime;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::provider::{
    Accepted, Outgoing, Prepared, Provider, SendError, SendFuture, UnixNow, host_header,
};
use super::signing::{
    as_pairs, canonical_headers, hmac_sha256, received_headers, sha256_hex, signature_eq,
};

pub const ALGORITHM: &str = "TC3-HMAC-SHA256";
pub const SMS_VERSION: &str = "2021-01-11";
pub const SMS_SERVICE: &str = "sms";
pub const CONTENT_TYPE: &str = "application/json; charset=utf-8";
/// Tencent refuses signatures older (or newer) than this many seconds.
pub const MAX_SKEW_SECS: i64 = 300;

/// What one TC3 signature covers.
#[derive(Debug, Clone)]
pub struct Tc3Input<'a> {
    pub method: &'a str,
    pub uri: &'a str,
    pub query: &'a str,
    /// The signed headers, names in any case (they are lower-cased and sorted).
    pub headers: &'a [(&'a str, &'a str)],
    pub payload: &'a [u8],
    pub service: &'a str,
    pub timestamp: i64,
}

/// Every intermediate value, so tests can compare each with the published examples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tc3Signature {
    pub canonical_request: String,
    pub hashed_canonical_request: String,
    pub string_to_sign: String,
    pub signed_headers: String,
    pub signature: String,
}

impl Tc3Signature {
    pub fn authorization(&self, secret_id: &str, date: &str, service: &str) -> String {
        format!(
            "{ALGORITHM} Credential={secret_id}/{date}/{service}/tc3_request, SignedHeaders={}, Signature={}",
            self.signed_headers, self.signature
        )
    }
}

/// UTC date `YYYY-MM-DD` of a unix timestamp (the credential scope date).
pub fn utc_date(timestamp: i64) -> String {
    DateTime::from_timestamp(timestamp, 0)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// Compute the TC3-HMAC-SHA256 signature.
pub fn sign(secret_key: &str, input: &Tc3Input<'_>) -> Tc3Signature {
    let (canonical_hdrs, signed_headers) = canonical_headers(input.headers, true);
    let canonical_request = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        input.method,
        input.uri,
        input.query,
        canonical_hdrs,
        signed_headers,
        sha256_hex(input.payload)
    );
    let hashed_canonical_request = sha256_hex(canonical_request.as_bytes());
    let date = utc_date(input.timestamp);
    let scope = format!("{date}/{}/tc3_request", input.service);
    let string_to_sign = format!(
        "{ALGORITHM}\n{}\n{scope}\n{hashed_canonical_request}",
        input.timestamp
    );
    let k_date = hmac_sha256(format!("TC3{secret_key}").as_bytes(), date.as_bytes());
    let k_service = hmac_sha256(&k_date, input.service.as_bytes());
    let k_signing = hmac_sha256(&k_service, b"tc3_request");
    let signature = hex::encode(hmac_sha256(&k_signing, string_to_sign.as_bytes()));
    Tc3Signature {
        canonical_request,
        hashed_canonical_request,
        string_to_sign,
        signed_headers,
        signature,
    }
}

/// The parts of an `Authorization: TC3-HMAC-SHA256 ...` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tc3Authorization {
    pub secret_id: String,
    pub date: String,
    pub service: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

pub fn parse_authorization(value: &str) -> Option<Tc3Authorization> {
    let rest = value.strip_prefix(ALGORITHM)?.trim();
    let mut credential = None;
    let mut signed = None;
    let mut signature = None;
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        match k {
            "Credential" => credential = Some(v),
            "SignedHeaders" => signed = Some(v),
            "Signature" => signature = Some(v),
            _ => return None,
        }
    }
    let mut cred = credential?.split('/');
    let (secret_id, date, service, term) = (cred.next()?, cred.next()?, cred.next()?, cred.next()?);
    if term != "tc3_request" || cred.next().is_some() {
        return None;
    }
    Some(Tc3Authorization {
        secret_id: secret_id.into(),
        date: date.into(),
        service: service.into(),
        signed_headers: signed?.split(';').map(str::to_string).collect(),
        signature: signature?.into(),
    })
}

/// Check a received request as Tencent does; the error is the code Tencent would answer.
pub fn verify(
    method: &str,
    uri: &str,
    query: &str,
    header: &dyn Fn(&str) -> Option<String>,
    body: &[u8],
    secret_key_of: &dyn Fn(&str) -> Option<String>,
    now: i64,
) -> Result<Tc3Authorization, &'static str> {
    let auth = header("authorization")
        .and_then(|v| parse_authorization(&v))
        .ok_or("AuthFailure.InvalidAuthorization")?;
    let timestamp: i64 = header("x-tc-timestamp")
        .and_then(|v| v.parse().ok())
        .ok_or("MissingParameter")?;
    if (now - timestamp).abs() > MAX_SKEW_SECS {
        return Err("AuthFailure.SignatureExpire");
    }
    let secret_key = secret_key_of(&auth.secret_id).ok_or("AuthFailure.SecretIdNotFound")?;
    if auth.date != utc_date(timestamp)
        || !auth.signed_headers.iter().any(|h| h == "content-type")
        || !auth.signed_headers.iter().any(|h| h == "host")
    {
        return Err("AuthFailure.SignatureFailure");
    }
    let values = received_headers(&auth.signed_headers, header);
    let pairs = as_pairs(&values);
    let expected = sign(
        &secret_key,
        &Tc3Input {
            method,
            uri,
            query,
            headers: &pairs,
            payload: body,
            service: &auth.service,
            timestamp,
        },
    );
    if signature_eq(&expected.signature, &auth.signature) {
        Ok(auth)
    } else {
        Err("AuthFailure.SignatureFailure")
    }
}

/// `SendSms` request body (2021-01-11).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SendSmsRequest {
    pub phone_number_set: Vec<String>,
    pub sms_sdk_app_id: String,
    pub sign_name: String,
    pub template_id: String,
    #[serde(default)]
    pub template_param_set: Vec<String>,
    #[serde(default)]
    pub session_context: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope {
    #[serde(rename = "Response")]
    pub response: SendSmsResponse,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SendSmsResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_status_set: Option<Vec<SendStatus>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ApiError>,
    #[serde(default)]
    pub request_id: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SendStatus {
    pub serial_no: String,
    pub phone_number: String,
    #[serde(default)]
    pub fee: i64,
    #[serde(default)]
    pub session_context: String,
    pub code: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub iso_code: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ApiError {
    pub code: String,
    #[serde(default)]
    pub message: String,
}

/// Map a Tencent error code to the worker's classes.
pub fn classify_code(code: &str, message: &str) -> SendError {
    let (code, message) = (code.to_string(), message.to_string());
    if code.starts_with("LimitExceeded.") {
        SendError::Throttled { code, message }
    } else if code.starts_with("RequestLimitExceeded") {
        SendError::RateLimited { code, message }
    } else if code.starts_with("InternalError") || code.starts_with("ResourceUnavailable") {
        SendError::Unavailable { code, message }
    } else {
        SendError::Rejected { code, message }
    }
}

/// Interpret an HTTP answer to `SendSms` for one number.
pub fn interpret(status: u16, body: &[u8]) -> Result<Accepted, SendError> {
    if let Some(e) = SendError::from_server_status(status, body) {
        return Err(e);
    }
    let env: Envelope = serde_json::from_slice(body).map_err(|e| {
        SendError::Transport(format!("unreadable Tencent answer (HTTP {status}): {e}"))
    })?;
    if let Some(err) = env.response.error {
        return Err(classify_code(&err.code, &err.message));
    }
    let first = env
        .response
        .send_status_set
        .and_then(|s| s.into_iter().next())
        .ok_or_else(|| SendError::Transport("Tencent answer without SendStatusSet".into()))?;
    if first.code == "Ok" {
        Ok(Accepted {
            provider_message_id: first.serial_no,
        })
    } else {
        Err(classify_code(&first.code, &first.message))
    }
}

/// Account settings (config section `sms.tencent`).
#[derive(Clone, Deserialize)]
pub struct TencentSettings {
    #[serde(default = "default_endpoint")]
    pub endpoint: String,
    #[serde(default = "default_region")]
    pub region: String,
    pub secret_id: String,
    pub secret_key: SecretString,
    pub sdk_app_id: String,
    pub sign_name: String,
    /// Template key → Tencent TemplateId.
    #[serde(default)]
    pub templates: HashMap<String, String>,
}

fn default_endpoint() -> String {
    "https://sms.tencentcloudapi.com".into()
}
fn default_region() -> String {
    "ap-guangzhou".into()
}

impl std::fmt::Debug for TencentSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TencentSettings")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("secret_id", &self.secret_id)
            .field("secret_key", &"[redacted]")
            .finish_non_exhaustive()
    }
}

/// Build the signed `SendSms` request for one message at `timestamp`.
pub fn prepare(s: &TencentSettings, msg: &Outgoing, timestamp: i64) -> Result<Prepared, SendError> {
    let url = url::Url::parse(&s.endpoint).map_err(|e| SendError::Transport(e.to_string()))?;
    let template_id = s
        .templates
        .get(&msg.template)
        .ok_or_else(|| SendError::Rejected {
            code: "template_not_configured".into(),
            message: msg.template.clone(),
        })?;
    let req = SendSmsRequest {
        phone_number_set: vec![format!("+86{}", msg.phone)],
        sms_sdk_app_id: s.sdk_app_id.clone(),
        sign_name: s.sign_name.clone(),
        template_id: template_id.clone(),
        template_param_set: msg.params.iter().map(|(_, v)| v.clone()).collect(),
        session_context: msg.message_id.clone(),
    };
    let body = serde_json::to_vec(&req).map_err(|e| SendError::Transport(e.to_string()))?;
    let host = host_header(&url);
    let uri = if url.path().is_empty() {
        "/"
    } else {
        url.path()
    };
    let sig = sign(
        s.secret_key.expose_secret(),
        &Tc3Input {
            method: "POST",
            uri,
            query: "",
            headers: &[
                ("content-type", CONTENT_TYPE),
                ("host", &host),
                ("x-tc-action", "SendSms"),
            ],
            payload: &body,
            service: SMS_SERVICE,
            timestamp,
        },
    );
    let auth = sig.authorization(&s.secret_id, &utc_date(timestamp), SMS_SERVICE);
    let headers = [
        ("Authorization", auth),
        ("Content-Type", CONTENT_TYPE.to_string()),
        ("X-TC-Action", "SendSms".to_string()),
        ("X-TC-Timestamp", timestamp.to_string()),
        ("X-TC-Version", SMS_VERSION.to_string()),
        ("X-TC-Region", s.region.clone()),
    ];
    Ok(Prepared {
        method: "POST",
        url: url.to_string(),
        headers: headers
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        body,
    })
}

/// The Tencent Cloud SMS provider.
pub struct TencentProvider {
    pub settings: TencentSettings,
    pub client: reqwest::Client,
    pub now: UnixNow,
}

impl Provider for TencentProvider {
    fn name(&self) -> &'static str {
        "tencent"
    }

    fn send<'a>(&'a self, msg: &'a Outgoing) -> SendFuture<'a> {
        Box::pin(async move {
            let prepared = prepare(&self.settings, msg, (self.now)())?;
            let (status, body) = prepared.execute(&self.client).await?;
            interpret(status, &body)
        })
    }
}

#[cfg(test)]
#[path = "tencent_tests.rs"]
mod tests;
