//! The fake system of record: a small HTTP server speaking docs/records-api.md
//! (`remote-hearing records-fake --data FILE --listen ADDR --secret S`), seeded from a JSON file
//! (`tests/data/records-fake.json`). It checks every request's signature (401 on a missing,
//! stale or wrong one), keeps the decisions written back in memory (idempotent on the decision
//! number; a handled record leaves the unhandled list) and answers with faults on demand: the
//! `X-Fake-Fault` header of one request, or `POST /_fake/fault` for the next N requests
//! (`delay:MS`, `status:CODE`, `malformed`, `negative_fine`). Evidence photos: the seed's photo
//! URLs on `http://127.0.0.1:8090` are answered on the fake's own address, and
//! `GET /photos/NAME` (signed) serves a small PNG drawn per name (`fake_photo`); `GET /_fake/photos`
//! counts the photo requests served, `GET /_fake/writes` the write-back requests received. For
//! tests and development only.

use std::{
    collections::HashMap,
    future::Future,
    path::Path,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Json, Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    model::{Decision, Driver, Vehicle, Violation},
    signing,
};

/// The seed file.
#[derive(Debug, Clone, Deserialize)]
pub struct Data {
    #[serde(default)]
    pub drivers: Vec<FakeDriver>,
    #[serde(default)]
    pub vehicles: Vec<Vehicle>,
    #[serde(default)]
    pub violations: Vec<FakeViolation>,
}

/// A driver of the seed: the ID number and the licence.
#[derive(Debug, Clone, Deserialize)]
pub struct FakeDriver {
    pub id_number: String,
    pub licence_file_no: String,
    pub first_issued: NaiveDate,
    pub status: String,
    pub current_points: i64,
}

/// A violation of the seed, with the driver and vehicle it belongs to.
#[derive(Debug, Clone, Deserialize)]
pub struct FakeViolation {
    pub id_number: String,
    /// Holds the vehicle's `plate` and `plate_type` too.
    #[serde(flatten)]
    pub record: Violation,
}

/// A fault answered instead of (or before) the real answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Delay(u64),
    Status(u16),
    Malformed,
    NegativeFine,
}

impl Fault {
    fn parse(s: &str) -> Option<Fault> {
        match s.split_once(':') {
            Some(("delay", ms)) => ms.parse().ok().map(|ms: u64| Fault::Delay(ms.min(60_000))),
            Some(("status", c)) => c
                .parse()
                .ok()
                .filter(|c| (400..=599).contains(c))
                .map(Fault::Status),
            None if s == "malformed" => Some(Fault::Malformed),
            None if s == "negative_fine" => Some(Fault::NegativeFine),
            _ => None,
        }
    }
}

struct Shared {
    data: Data,
    secret: Vec<u8>,
    /// The next `.1` requests get the fault `.0`.
    fault: Mutex<Option<(Fault, u32)>>,
    decisions: Mutex<HashMap<String, Decision>>,
    /// The fake's own base URL (`http://ADDR`), put in place of the seed's photo origin.
    base: String,
    /// Photo requests served.
    photos_served: std::sync::atomic::AtomicU64,
    /// Signed write-back requests received (the same decision twice counts twice).
    writes_received: std::sync::atomic::AtomicU64,
}

/// The origin of the seed file's photo URLs.
pub const SEED_PHOTO_ORIGIN: &str = "http://127.0.0.1:8090";

/// Reads and checks a seed file.
pub fn load(path: &Path) -> anyhow::Result<Data> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let data: Data = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{} is not a records seed: {e}", path.display()))?;
    Ok(data)
}

/// The fake's router over `data`, checking signatures with `secret`, reachable at `base`.
pub fn router(data: Data, secret: &str, base: &str) -> Router {
    let shared = Arc::new(Shared {
        data,
        secret: secret.as_bytes().to_vec(),
        fault: Mutex::new(None),
        decisions: Mutex::new(HashMap::new()),
        base: base.trim_end_matches('/').to_string(),
        photos_served: std::sync::atomic::AtomicU64::new(0),
        writes_received: std::sync::atomic::AtomicU64::new(0),
    });
    Router::new()
        .route("/_fake/fault", post(set_fault))
        .route("/_fake/decisions", get(decisions))
        .route("/_fake/photos", get(photos_served))
        .route("/_fake/writes", get(writes_received))
        .route("/photos/{name}", get(photo))
        .fallback(handle)
        .with_state(shared)
}

/// Binds `listen`, prints `listening on http://ADDR` first on stdout, serves until `shutdown`.
pub async fn run(
    data: &Path,
    listen: &str,
    secret: &str,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    if secret.is_empty() {
        anyhow::bail!("--secret is required");
    }
    let data = load(data)?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    let base = format!("http://{}", listener.local_addr()?);
    let app = router(data, secret, &base);
    println!("listening on {base}");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

#[derive(Deserialize)]
struct FaultRequest {
    fault: Option<String>,
    #[serde(default = "one")]
    times: u32,
}

fn one() -> u32 {
    1
}

async fn set_fault(State(s): State<Arc<Shared>>, Json(req): Json<FaultRequest>) -> Response {
    let fault = match req.fault.as_deref().map(Fault::parse) {
        None => None,
        Some(Some(f)) => Some((f, req.times)),
        Some(None) => return error(StatusCode::BAD_REQUEST, "bad_fault"),
    };
    if let Ok(mut slot) = s.fault.lock() {
        *slot = fault;
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn decisions(State(s): State<Arc<Shared>>) -> Response {
    let all: Vec<Decision> = s
        .decisions
        .lock()
        .map(|d| d.values().cloned().collect())
        .unwrap_or_default();
    Json(all).into_response()
}

async fn writes_received(State(s): State<Arc<Shared>>) -> Response {
    let n = s.writes_received.load(std::sync::atomic::Ordering::SeqCst);
    Json(json!({ "received": n })).into_response()
}

async fn photos_served(State(s): State<Arc<Shared>>) -> Response {
    let n = s.photos_served.load(std::sync::atomic::Ordering::SeqCst);
    Json(json!({ "served": n })).into_response()
}

/// A signed `GET /photos/NAME`: a small PNG drawn from NAME ([`super::fake_photo`]).
async fn photo(
    State(s): State<Arc<Shared>>,
    axum::extract::Path(name): axum::extract::Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    let ok = signing::verify(
        &s.secret,
        "GET",
        uri.path(),
        b"",
        header(signing::TIMESTAMP_HEADER),
        header(signing::SIGNATURE_HEADER),
        chrono::Utc::now().timestamp(),
    );
    if ok.is_err() {
        return error(StatusCode::UNAUTHORIZED, "bad_signature");
    }
    if let Some(Fault::Status(code)) = fault_of(&s, &headers) {
        let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_GATEWAY);
        return error(status, "fault");
    }
    let known = s.data.violations.iter().any(|v| {
        v.record
            .photos
            .iter()
            .any(|p| p.ends_with(&format!("/photos/{name}")))
    });
    if !known {
        return error(StatusCode::NOT_FOUND, "unknown");
    }
    s.photos_served
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    (
        [("content-type", "image/png")],
        super::fake_photo::png(&name),
    )
        .into_response()
}

fn error(status: StatusCode, code: &str) -> Response {
    (status, Json(json!({ "error": code }))).into_response()
}

/// The fault of this request: its header, else the next of the scripted ones.
fn fault_of(s: &Shared, headers: &HeaderMap) -> Option<Fault> {
    if let Some(f) = headers
        .get("x-fake-fault")
        .and_then(|v| v.to_str().ok())
        .and_then(Fault::parse)
    {
        return Some(f);
    }
    let mut slot = s.fault.lock().ok()?;
    let (f, left) = (*slot)?;
    *slot = (left > 1).then(|| (f, left - 1));
    Some(f)
}

async fn handle(
    State(s): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    let now = chrono::Utc::now().timestamp();
    if let Err(e) = signing::verify(
        &s.secret,
        method.as_str(),
        uri.path(),
        &body,
        header(signing::TIMESTAMP_HEADER),
        header(signing::SIGNATURE_HEADER),
        now,
    ) {
        let mut r = error(StatusCode::UNAUTHORIZED, "bad_signature");
        if let Ok(v) = e.to_string().parse() {
            r.headers_mut().insert("x-fake-reason", v);
        }
        return r;
    }
    let fault = fault_of(&s, &headers);
    match fault {
        Some(Fault::Delay(ms)) => tokio::time::sleep(Duration::from_millis(ms)).await,
        Some(Fault::Status(code)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_GATEWAY);
            return error(status, "fault");
        }
        Some(Fault::Malformed) => {
            return (StatusCode::OK, "{\"violations\": [{\"record_no\": ").into_response();
        }
        _ => {}
    }
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "bad_json");
    };
    if method != Method::POST {
        return error(StatusCode::METHOD_NOT_ALLOWED, "method");
    }
    let text = |k: &str| req.get(k).and_then(Value::as_str).unwrap_or_default();
    let mut answer = match uri.path() {
        "/v1/drivers/lookup" => s
            .data
            .drivers
            .iter()
            .find(|d| {
                d.id_number == text("id_number") && d.licence_file_no == text("licence_file_no")
            })
            .map(|d| json!(licence(d))),
        "/v1/vehicles/lookup" => s
            .data
            .vehicles
            .iter()
            .find(|v| v.plate == text("plate") && v.plate_type == text("plate_type"))
            .map(|v| json!(v)),
        "/v1/violations/query" => {
            violations(&s, text("id_number"), text("plate"), text("plate_type"))
        }
        "/v1/decisions" => match serde_json::from_value::<Decision>(req.clone()) {
            Ok(d) => {
                s.writes_received
                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                Some(decide(&s, d))
            }
            Err(_) => return error(StatusCode::UNPROCESSABLE_ENTITY, "bad_decision"),
        },
        _ => return error(StatusCode::NOT_FOUND, "no_route"),
    };
    if fault == Some(Fault::NegativeFine)
        && let Some(first) = answer
            .as_mut()
            .and_then(|a| a.get_mut("violations"))
            .and_then(|v| v.get_mut(0))
    {
        first["fine_yuan"] = json!(-100);
    }
    match answer {
        Some(a) => Json(a).into_response(),
        None => error(StatusCode::NOT_FOUND, "unknown"),
    }
}

fn licence(d: &FakeDriver) -> Driver {
    Driver {
        licence_file_no: d.licence_file_no.clone(),
        first_issued: d.first_issued,
        status: d.status.clone(),
        current_points: d.current_points,
    }
}

/// Records already handled by a written-back decision.
fn handled(s: &Shared, record_no: &str) -> bool {
    s.decisions
        .lock()
        .map(|d| {
            d.values()
                .any(|x| x.record_nos.iter().any(|r| r == record_no))
        })
        .unwrap_or(false)
}

fn violations(s: &Shared, id_number: &str, plate: &str, plate_type: &str) -> Option<Value> {
    let by_driver = !id_number.is_empty();
    let points = if by_driver {
        Some(
            s.data
                .drivers
                .iter()
                .find(|d| d.id_number == id_number)?
                .current_points,
        )
    } else {
        s.data
            .vehicles
            .iter()
            .find(|v| v.plate == plate && v.plate_type == plate_type)?;
        None
    };
    let mine = |v: &FakeViolation| {
        if by_driver {
            v.id_number == id_number
        } else {
            v.record.plate == plate && v.record.plate_type == plate_type
        }
    };
    let list: Vec<Violation> = s
        .data
        .violations
        .iter()
        .filter(|v| mine(v) && !handled(s, &v.record.record_no))
        .map(|v| {
            let mut r = v.record.clone();
            for p in &mut r.photos {
                if let Some(rest) = p.strip_prefix(SEED_PHOTO_ORIGIN) {
                    *p = format!("{}{rest}", s.base);
                }
            }
            r
        })
        .collect();
    Some(json!({ "licence_points": points, "violations": list }))
}

/// Accepts a decision once per decision number (the same number again: the same answer);
/// rejects one naming an unknown record or a record another decision handled.
fn decide(s: &Shared, d: Decision) -> Value {
    let Ok(mut all) = s.decisions.lock() else {
        return json!({ "status": "rejected", "reason": "internal" });
    };
    if all.contains_key(&d.decision_no) {
        return json!({ "status": "accepted" });
    }
    for r in &d.record_nos {
        if !s.data.violations.iter().any(|v| &v.record.record_no == r) {
            return json!({ "status": "rejected", "reason": format!("unknown record {r}") });
        }
        if all.values().any(|x| x.record_nos.contains(r)) {
            return json!({ "status": "rejected", "reason": format!("record {r} already handled") });
        }
    }
    all.insert(d.decision_no.clone(), d);
    json!({ "status": "accepted" })
}
