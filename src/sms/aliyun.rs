//! Alibaba Cloud SMS (Dysmsapi `SendSms`, version 2017-05-25): the V3 ACS3-HMAC-SHA256 signer and
//! verifier, request/response types, error-code classification and the provider.
//! Owns nothing stateful; the outbox worker decides what to do with a `SendError`.

use std::collections::{BTreeMap, HashMap};

use chrono::DateTime;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::provider::{
    Accepted, Outgoing, Prepared, Provider, SendError, SendFuture, UnixNow, host_header,
};
use super::signing::{
    as_pairs, canonical_headers, canonical_query, hmac_sha256, received_headers, sha256_hex,
    signature_eq,
};

pub const ALGORITHM: &str = "ACS3-HMAC-SHA256";
pub const SMS_VERSION: &str = "2017-05-25";
/// Alibaba refuses requests whose `x-acs-date` is further than this from its clock.
pub const MAX_SKEW_SECS: i64 = 900;

/// What one ACS3 signature covers.
#[derive(Debug, Clone)]
pub struct Acs3Input<'a> {
    pub method: &'a str,
    pub uri: &'a str,
    /// Query parameters, decoded; they are encoded and sorted here.
    pub query: &'a [(&'a str, &'a str)],
    /// The signed headers (host, x-acs-*, content-type when present).
    pub headers: &'a [(&'a str, &'a str)],
    /// Hex SHA-256 of the body (the `x-acs-content-sha256` header).
    pub hashed_payload: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acs3Signature {
    pub canonical_request: String,
    pub string_to_sign: String,
    pub signed_headers: String,
    pub signature: String,
}

impl Acs3Signature {
    pub fn authorization(&self, access_key_id: &str) -> String {
        format!(
            "{ALGORITHM} Credential={access_key_id},SignedHeaders={},Signature={}",
            self.signed_headers, self.signature
        )
    }
}

pub fn sign(secret: &str, input: &Acs3Input<'_>) -> Acs3Signature {
    let (canonical_hdrs, signed_headers) = canonical_headers(input.headers, false);
    let canonical_request = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        input.method,
        input.uri,
        canonical_query(input.query),
        canonical_hdrs,
        signed_headers,
        input.hashed_payload
    );
    let string_to_sign = format!("{ALGORITHM}\n{}", sha256_hex(canonical_request.as_bytes()));
    let signature = hex::encode(hmac_sha256(secret.as_bytes(), string_to_sign.as_bytes()));
    Acs3Signature {
        canonical_request,
        string_to_sign,
        signed_headers,
        signature,
    }
}

/// The parts of an `Authorization: ACS3-HMAC-SHA256 ...` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acs3Authorization {
    pub access_key_id: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

pub fn parse_authorization(value: &str) -> Option<Acs3Authorization> {
    let rest = value.strip_prefix(ALGORITHM)?.trim();
    let mut parts: HashMap<&str, &str> = HashMap::new();
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        parts.insert(k, v);
    }
    Some(Acs3Authorization {
        access_key_id: parts.get("Credential")?.to_string(),
        signed_headers: parts
            .get("SignedHeaders")?
            .split(';')
            .map(str::to_string)
            .collect(),
        signature: parts.get("Signature")?.to_string(),
    })
}

/// Check a received request as Alibaba does; the error is the code Alibaba would answer.
pub fn verify(
    method: &str,
    uri: &str,
    query: &[(String, String)],
    header: &dyn Fn(&str) -> Option<String>,
    body: &[u8],
    secret_of: &dyn Fn(&str) -> Option<String>,
    now: i64,
) -> Result<Acs3Authorization, &'static str> {
    let auth = header("authorization")
        .and_then(|v| parse_authorization(&v))
        .ok_or("IncompleteSignature")?;
    let secret = secret_of(&auth.access_key_id).ok_or("InvalidAccessKeyId.NotFound")?;
    let date = header("x-acs-date")
        .and_then(|d| DateTime::parse_from_rfc3339(&d).ok())
        .ok_or("MissingParameter")?;
    if (now - date.timestamp()).abs() > MAX_SKEW_SECS {
        return Err("InvalidTimeStamp.Expired");
    }
    let hashed = header("x-acs-content-sha256").unwrap_or_default();
    if hashed != sha256_hex(body) {
        return Err("SignatureDoesNotMatch");
    }
    for required in [
        "host",
        "x-acs-action",
        "x-acs-date",
        "x-acs-signature-nonce",
    ] {
        if !auth.signed_headers.iter().any(|h| h == required) {
            return Err("SignatureDoesNotMatch");
        }
    }
    let values = received_headers(&auth.signed_headers, header);
    let pairs = as_pairs(&values);
    let q = as_pairs(query);
    let expected = sign(
        &secret,
        &Acs3Input {
            method,
            uri,
            query: &q,
            headers: &pairs,
            hashed_payload: &hashed,
        },
    );
    if signature_eq(&expected.signature, &auth.signature) {
        Ok(auth)
    } else {
        Err("SignatureDoesNotMatch")
    }
}

/// `SendSms` answer (HTTP 200 for business errors too; `Code` is `OK` on acceptance).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SendSmsResponse {
    pub code: String,
    #[serde(default)]
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub biz_id: Option<String>,
    #[serde(default)]
    pub request_id: String,
}

/// Map an Alibaba error code to the worker's classes.
pub fn classify_code(code: &str, message: &str) -> SendError {
    let (code, message) = (code.to_string(), message.to_string());
    match code.as_str() {
        "isv.BUSINESS_LIMIT_CONTROL" | "isv.DAY_LIMIT_CONTROL" | "isv.MONTH_LIMIT_CONTROL" => {
            SendError::Throttled { code, message }
        }
        c if c.starts_with("Throttling") => SendError::RateLimited { code, message },
        c if c.starts_with("isp.") || c == "ServiceUnavailable" || c == "InternalError" => {
            SendError::Unavailable { code, message }
        }
        _ => SendError::Rejected { code, message },
    }
}

/// Interpret an HTTP answer to `SendSms`.
pub fn interpret(status: u16, body: &[u8]) -> Result<Accepted, SendError> {
    if let Some(e) = SendError::from_server_status(status, body) {
        return Err(e);
    }
    let r: SendSmsResponse = serde_json::from_slice(body).map_err(|e| {
        SendError::Transport(format!("unreadable Alibaba answer (HTTP {status}): {e}"))
    })?;
    match (r.code.as_str(), r.biz_id) {
        ("OK", Some(biz_id)) if status < 300 => Ok(Accepted {
            provider_message_id: biz_id,
        }),
        ("OK", _) => Err(SendError::Transport("Alibaba answer without BizId".into())),
        (code, _) => Err(classify_code(code, &r.message)),
    }
}

/// Account settings (config section `sms.aliyun`).
#[derive(Clone, Deserialize)]
pub struct AliyunSettings {
    #[serde(default = "default_endpoint")]
    pub endpoint: String,
    pub access_key_id: String,
    pub access_key_secret: SecretString,
    pub sign_name: String,
    /// Template key → Alibaba TemplateCode (`SMS_123456789`).
    #[serde(default)]
    pub templates: HashMap<String, String>,
}

fn default_endpoint() -> String {
    "https://dysmsapi.aliyuncs.com".into()
}

impl std::fmt::Debug for AliyunSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AliyunSettings")
            .field("endpoint", &self.endpoint)
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &"[redacted]")
            .finish_non_exhaustive()
    }
}

/// `2023-10-26T10:22:32Z` for a unix timestamp.
pub fn acs_date(timestamp: i64) -> String {
    DateTime::from_timestamp(timestamp, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// Build the signed `SendSms` request (parameters in the query string, empty body).
pub fn prepare(
    s: &AliyunSettings,
    msg: &Outgoing,
    timestamp: i64,
    nonce: &str,
) -> Result<Prepared, SendError> {
    let url = url::Url::parse(&s.endpoint).map_err(|e| SendError::Transport(e.to_string()))?;
    let template = s
        .templates
        .get(&msg.template)
        .ok_or_else(|| SendError::Rejected {
            code: "template_not_configured".into(),
            message: msg.template.clone(),
        })?;
    let params: BTreeMap<&str, &str> = msg
        .params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let template_param =
        serde_json::to_string(&params).map_err(|e| SendError::Transport(e.to_string()))?;
    let query = [
        ("PhoneNumbers", msg.phone.as_str()),
        ("SignName", s.sign_name.as_str()),
        ("TemplateCode", template.as_str()),
        ("TemplateParam", template_param.as_str()),
        ("OutId", msg.message_id.as_str()),
    ];
    let host = host_header(&url);
    let date = acs_date(timestamp);
    let hashed = sha256_hex(b"");
    let headers = [
        ("host", host.as_str()),
        ("x-acs-action", "SendSms"),
        ("x-acs-content-sha256", hashed.as_str()),
        ("x-acs-date", date.as_str()),
        ("x-acs-signature-nonce", nonce),
        ("x-acs-version", SMS_VERSION),
    ];
    let uri = if url.path().is_empty() {
        "/"
    } else {
        url.path()
    };
    let sig = sign(
        s.access_key_secret.expose_secret(),
        &Acs3Input {
            method: "POST",
            uri,
            query: &query,
            headers: &headers,
            hashed_payload: &hashed,
        },
    );
    let mut full = url.clone();
    full.set_query(Some(&canonical_query(&query)));
    let mut out: Vec<(String, String)> = headers[1..]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    out.push(("Authorization".into(), sig.authorization(&s.access_key_id)));
    Ok(Prepared {
        method: "POST",
        url: full.to_string(),
        headers: out,
        body: Vec::new(),
    })
}

/// A random nonce for `x-acs-signature-nonce`.
pub fn new_nonce() -> String {
    super::signing::random_hex(16)
}

/// The Alibaba Cloud SMS provider.
pub struct AliyunProvider {
    pub settings: AliyunSettings,
    pub client: reqwest::Client,
    pub now: UnixNow,
}

impl Provider for AliyunProvider {
    fn name(&self) -> &'static str {
        "aliyun"
    }

    fn send<'a>(&'a self, msg: &'a Outgoing) -> SendFuture<'a> {
        Box::pin(async move {
            let prepared = prepare(&self.settings, msg, (self.now)(), &new_nonce())?;
            let (status, body) = prepared.execute(&self.client).await?;
            interpret(status, &body)
        })
    }
}

#[cfg(test)]
#[path = "aliyun_tests.rs"]
mod tests;
