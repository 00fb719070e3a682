//! [`HttpRecords`]: the records adapter over HTTP (docs/records-api.md). Every request is a
//! signed JSON `POST` (HMAC-SHA256, [`super::signing`]); each attempt is cut at
//! `records.timeout_ms`; a timeout, a lost connection or a 5xx is tried again up to
//! `records.retries` more times, then answered [`RecordsError::Unavailable`]. Answers are read
//! up to [`MAX_ANSWER_BYTES`] and validated ([`super::model`]): malformed JSON, a negative fine
//! or a repeated record is [`RecordsError::Invalid`], never used.

use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::json;

use super::{
    RecordsAdapter, RecordsConfig, RecordsError,
    model::{Decision, Driver, Photo, Subject, Vehicle, Violations, WriteBack},
    signing,
};

/// The largest answer read (bytes).
pub const MAX_ANSWER_BYTES: usize = 1 << 20;
/// The largest evidence photo read (bytes).
pub const MAX_PHOTO_BYTES: usize = 4 << 20;

/// The HTTP adapter (`provider` is `http`, or `fake` when it talks to `records-fake`).
#[derive(Debug, Clone)]
pub struct HttpRecords {
    client: reqwest::Client,
    base: url::Url,
    secret: SecretString,
    retries: u32,
    provider: &'static str,
}

impl HttpRecords {
    pub fn new(config: &RecordsConfig, provider: &'static str) -> anyhow::Result<HttpRecords> {
        let mut base = url::Url::parse(&config.url)
            .map_err(|e| anyhow::anyhow!("records.url {:?} is not a URL: {e}", config.url))?;
        if !matches!(base.scheme(), "http" | "https") {
            anyhow::bail!("records.url must be http:// or https://");
        }
        if config.secret.expose_secret().is_empty() {
            anyhow::bail!("records.secret is required with records.provider = {provider:?}");
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(config.timeout_ms.max(1)))
            .build()?;
        Ok(HttpRecords {
            client,
            base,
            secret: config.secret.clone(),
            retries: config.retries.min(10),
            provider,
        })
    }

    /// One signed `POST` of `body` to `path` (relative, e.g. `v1/drivers/lookup`), retried
    /// within the budget; the 2xx answer parsed as `T`.
    async fn call<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
        what: &str,
    ) -> Result<T, RecordsError> {
        let url = self
            .base
            .join(path)
            .map_err(|e| RecordsError::Invalid(format!("bad path {path}: {e}")))?;
        let body =
            serde_json::to_vec(body).map_err(|e| RecordsError::Invalid(format!("request: {e}")))?;
        let (status, bytes) = self
            .send_signed(reqwest::Method::POST, &url, body, MAX_ANSWER_BYTES, path)
            .await?;
        match status.as_u16() {
            200..=299 => serde_json::from_slice(&bytes)
                .map_err(|e| RecordsError::Invalid(format!("{path}: malformed answer: {e}"))),
            404 => Err(RecordsError::NotFound(what.to_string())),
            401 | 403 => Err(RecordsError::Refused(format!(
                "{path}: HTTP {status} (signature or secret refused)"
            ))),
            _ => Err(RecordsError::Refused(format!("{path}: HTTP {status}"))),
        }
    }

    /// A signed request within the retry budget: a transport error, a 5xx or an answer that
    /// cannot be read (over `limit` bytes included) is tried again; any other answer is
    /// returned with its status. `Unavailable` with the last failure once the budget is spent.
    async fn send_signed(
        &self,
        method: reqwest::Method,
        url: &url::Url,
        body: Vec<u8>,
        limit: usize,
        what: &str,
    ) -> Result<(reqwest::StatusCode, Vec<u8>), RecordsError> {
        let mut last = String::new();
        for attempt in 0..=self.retries {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
            }
            let ts = chrono::Utc::now().timestamp();
            let secret = self.secret.expose_secret().as_bytes();
            let sig = signing::sign(secret, method.as_str(), url.path(), ts, &body);
            let mut req = self
                .client
                .request(method.clone(), url.clone())
                .header(signing::TIMESTAMP_HEADER, ts.to_string())
                .header(signing::SIGNATURE_HEADER, sig);
            if method == reqwest::Method::POST {
                req = req
                    .header("content-type", "application/json")
                    .body(body.clone());
            }
            let resp = match req.send().await {
                Ok(r) if r.status().is_server_error() => {
                    last = format!("{what}: HTTP {}", r.status());
                    tracing::warn!(attempt, error = %last, "records request failed");
                    continue;
                }
                Ok(r) => r,
                Err(e) => {
                    last = format!("{what}: {e}");
                    tracing::warn!(attempt, error = %last, "records request failed");
                    continue;
                }
            };
            let status = resp.status();
            match read_limited(resp, limit).await {
                Ok(bytes) => return Ok((status, bytes)),
                Err(e) => last = format!("{what}: {e}"),
            }
        }
        Err(RecordsError::Unavailable(last))
    }
}

impl HttpRecords {
    /// One evidence photo by the URL the platform gave: only a URL on the platform's own origin
    /// (scheme, host and port of `records.url`) is fetched — never another host — with a
    /// signed `GET` (empty body), within the retry budget; the answer must be a JPEG or PNG of at
    /// most [`MAX_PHOTO_BYTES`].
    pub async fn get_photo(&self, url: &str) -> Result<Photo, RecordsError> {
        let u = url::Url::parse(url).map_err(|e| invalid(format!("photo URL: {e}")))?;
        if u.origin() != self.base.origin() {
            return Err(invalid(
                "a photo URL is not on the platform's origin".into(),
            ));
        }
        let (status, bytes) = self
            .send_signed(
                reqwest::Method::GET,
                &u,
                Vec::new(),
                MAX_PHOTO_BYTES,
                "photo",
            )
            .await?;
        if status.as_u16() == 404 {
            return Err(RecordsError::NotFound("photo".into()));
        }
        if !status.is_success() {
            return Err(RecordsError::Refused(format!("photo: HTTP {status}")));
        }
        let content_type = if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            "image/jpeg"
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            "image/png"
        } else {
            return Err(invalid("a photo that is neither JPEG nor PNG".into()));
        };
        Ok(Photo {
            content_type,
            bytes,
        })
    }
}

/// The body, or an error once it passes [`MAX_ANSWER_BYTES`].
async fn read_limited(mut resp: reqwest::Response, max: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| e.to_string())? {
        if out.len() + chunk.len() > max {
            return Err("answer too large".into());
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

fn invalid(e: String) -> RecordsError {
    RecordsError::Invalid(e)
}

#[async_trait]
impl RecordsAdapter for HttpRecords {
    fn provider(&self) -> &'static str {
        self.provider
    }

    async fn driver(&self, id_number: &str, licence_file_no: &str) -> Result<Driver, RecordsError> {
        let body = json!({ "id_number": id_number, "licence_file_no": licence_file_no });
        let d: Driver = self.call("v1/drivers/lookup", &body, "driver").await?;
        d.validate().map_err(invalid)?;
        if d.licence_file_no != licence_file_no {
            return Err(invalid("the answer names another licence".into()));
        }
        Ok(d)
    }

    async fn vehicle(&self, plate: &str, plate_type: &str) -> Result<Vehicle, RecordsError> {
        let body = json!({ "plate": plate, "plate_type": plate_type });
        let v: Vehicle = self.call("v1/vehicles/lookup", &body, "vehicle").await?;
        v.validate().map_err(invalid)?;
        if v.plate != plate || v.plate_type != plate_type {
            return Err(invalid("the answer names another vehicle".into()));
        }
        Ok(v)
    }

    async fn violations(&self, subject: &Subject) -> Result<Violations, RecordsError> {
        let v: Violations = self
            .call("v1/violations/query", subject, "driver or vehicle")
            .await?;
        v.validate().map_err(invalid)?;
        if matches!(subject, Subject::Driver { .. }) && v.licence_points.is_none() {
            return Err(invalid("a driver's answer has no licence_points".into()));
        }
        Ok(v)
    }

    async fn write_back(&self, decision: &Decision) -> Result<WriteBack, RecordsError> {
        let answer: WriteBack = self.call("v1/decisions", decision, "record").await?;
        if let WriteBack::Rejected { reason } = &answer
            && (reason.trim().is_empty() || reason.chars().count() > 500)
        {
            return Err(invalid("a rejection without a usable reason".into()));
        }
        Ok(answer)
    }

    async fn photo(&self, url: &str) -> Result<Photo, RecordsError> {
        self.get_photo(url).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_photo_on_another_origin_is_never_requested() {
        let config = RecordsConfig {
            provider: "http".into(),
            url: "http://127.0.0.1:9/base/".into(),
            secret: SecretString::from("s3cret"),
            ..RecordsConfig::default()
        };
        let rec = HttpRecords::new(&config, "http").unwrap();
        for url in [
            "http://169.254.169.254/latest/meta-data",
            "https://127.0.0.1:9/photos/1.jpg",
            "http://127.0.0.1:10/photos/1.jpg",
            "file:///etc/passwd",
        ] {
            let err = rec.get_photo(url).await.unwrap_err();
            assert!(matches!(err, RecordsError::Invalid(_)), "{url}: {err:?}");
        }
    }
}
