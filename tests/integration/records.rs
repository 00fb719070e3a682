//! The system of record (issue 16, first slice): the HTTP adapter against the real
//! `remote-hearing records-fake` process, its signature check, faults answered
//! `records_unavailable`/`records_invalid` with nothing written, and the citizen's
//! `GET /api/v1/citizens/me/violations` with eligibility from the record's facts.

use std::{process::Stdio, time::Duration};

use remote_hearing::records::{
    RecordsAdapter, RecordsConfig, RecordsError,
    http::HttpRecords,
    model::{Decision, Subject, WriteBack},
    signing,
};
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::helpers::{TestApp, expect_error, expect_json};

pub(crate) const SECRET: &str = "rh-records-test-secret";
/// Seeded drivers (tests/data/records-fake.json): 3 points, four violations.
pub(crate) const A: &str = "370102198503120011";
/// No points, one violation.
pub(crate) const B: &str = "370103199207080028";
/// Six violations.
pub(crate) const C: &str = "370112197809150035";

/// A running fake; the process is killed when dropped.
pub(crate) struct Fake {
    pub(crate) url: String,
    _child: tokio::process::Child,
}

pub(crate) async fn start_fake() -> Fake {
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/records-fake.json");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_remote-hearing"))
        .args(["records-fake", "--data", data, "--listen", "127.0.0.1:0"])
        .args(["--secret", SECRET])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let url = line.strip_prefix("listening on ").unwrap().to_string();
    Fake { url, _child: child }
}

impl Fake {
    pub(crate) async fn fault(&self, fault: &str, times: u32) {
        let r = reqwest::Client::new()
            .post(format!("{}/_fake/fault", self.url))
            .json(&json!({ "fault": fault, "times": times }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
    }
    pub(crate) async fn decisions(&self) -> Vec<Value> {
        reqwest::get(format!("{}/_fake/decisions", self.url))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

pub(crate) fn config(url: &str, secret: &str, timeout_ms: u64, retries: u32) -> RecordsConfig {
    RecordsConfig {
        provider: "fake".into(),
        url: url.into(),
        secret: SecretString::from(secret),
        timeout_ms,
        retries,
    }
}

fn adapter(fake: &Fake) -> HttpRecords {
    HttpRecords::new(&config(&fake.url, SECRET, 2_000, 1), "fake").unwrap()
}

fn decision(no: &str, records: &[&str]) -> Decision {
    Decision {
        decision_no: no.into(),
        record_nos: records.iter().map(|r| r.to_string()).collect(),
        fine_yuan: 100,
        points: 3,
        officer: "370001".into(),
        decided_at: chrono::DateTime::parse_from_rfc3339("2026-11-16T10:00:00+08:00").unwrap(),
    }
}

fn driver(id: &str) -> Subject {
    Subject::Driver {
        id_number: id.into(),
    }
}

#[tokio::test]
async fn http_adapter_reads_the_fake_and_writes_a_decision_back_once() {
    let fake = start_fake().await;
    let rec = adapter(&fake);
    let d = rec.driver(A, "370100123456").await.unwrap();
    assert_eq!((d.current_points, d.status.as_str()), (3, "A"));
    assert_eq!(
        rec.driver(A, "370100999999").await,
        Err(RecordsError::NotFound("driver".into()))
    );
    let v = rec.vehicle("鲁A12345", "02").await.unwrap();
    assert_eq!(v.inspection_due.to_string(), "2026-05-31");
    let list = rec.violations(&driver(A)).await.unwrap();
    assert_eq!(list.licence_points, Some(3));
    assert_eq!(list.violations.len(), 4);
    assert_eq!(list.violations[0].behaviour, "机动车违反禁止标线指示的");
    assert_eq!(list.violations[0].photos.len(), 2);
    let plate = Subject::Vehicle {
        plate: "鲁AD67890".into(),
        plate_type: "52".into(),
    };
    assert_eq!(rec.violations(&plate).await.unwrap().violations.len(), 1);

    let first = decision("鲁公交决字〔2026〕第000101号", &["3701021000123456"]);
    assert_eq!(rec.write_back(&first).await.unwrap(), WriteBack::Accepted);
    // The same decision again is the same answer, written once.
    assert_eq!(rec.write_back(&first).await.unwrap(), WriteBack::Accepted);
    assert_eq!(fake.decisions().await.len(), 1);
    assert_eq!(
        rec.violations(&driver(A)).await.unwrap().violations.len(),
        3
    );
    let again = decision("鲁公交决字〔2026〕第000102号", &["3701021000123456"]);
    let WriteBack::Rejected { reason } = rec.write_back(&again).await.unwrap() else {
        panic!("a handled record accepted twice");
    };
    assert!(reason.contains("already handled"), "{reason}");
    let unknown = decision("鲁公交决字〔2026〕第000103号", &["9999"]);
    assert!(matches!(
        rec.write_back(&unknown).await.unwrap(),
        WriteBack::Rejected { .. }
    ));
    assert_eq!(fake.decisions().await.len(), 1);
}

#[tokio::test]
async fn the_fake_refuses_a_bad_or_stale_signature() {
    let fake = start_fake().await;
    let wrong = HttpRecords::new(&config(&fake.url, "another-secret", 2_000, 1), "fake").unwrap();
    let err = wrong.violations(&driver(A)).await.unwrap_err();
    assert!(
        matches!(err, RecordsError::Refused(ref m) if m.contains("401")),
        "{err:?}"
    );
    let body = br#"{"id_number":"370102198503120011"}"#;
    let post = |ts: i64, sig: String| {
        reqwest::Client::new()
            .post(format!("{}/v1/violations/query", fake.url))
            .header(signing::TIMESTAMP_HEADER, ts.to_string())
            .header(signing::SIGNATURE_HEADER, sig)
            .body(body.to_vec())
            .send()
    };
    let now = chrono::Utc::now().timestamp();
    let sign = |ts| signing::sign(SECRET.as_bytes(), "POST", "/v1/violations/query", ts, body);
    assert_eq!(post(now, sign(now)).await.unwrap().status(), 200);
    let stale = now - signing::MAX_SKEW_S - 60;
    assert_eq!(post(stale, sign(stale)).await.unwrap().status(), 401);
    // A signature over another body.
    let other = signing::sign(
        SECRET.as_bytes(),
        "POST",
        "/v1/violations/query",
        now,
        b"{}",
    );
    assert_eq!(post(now, other).await.unwrap().status(), 401);
    let bare = reqwest::Client::new()
        .post(format!("{}/v1/violations/query", fake.url))
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 401);
}

#[tokio::test]
async fn faults_are_unavailable_or_invalid_and_nothing_is_written() {
    let fake = start_fake().await;
    let rec = HttpRecords::new(&config(&fake.url, SECRET, 300, 1), "fake").unwrap();
    let d = decision("鲁公交决字〔2026〕第000201号", &["3701031000200001"]);
    // 5xx past the retry budget (two attempts).
    fake.fault("status:503", 2).await;
    assert!(matches!(
        rec.write_back(&d).await,
        Err(RecordsError::Unavailable(_))
    ));
    assert!(
        fake.decisions().await.is_empty(),
        "a failed write-back wrote"
    );
    // Slow: every attempt cut at the timeout.
    fake.fault("delay:3000", 2).await;
    let started = std::time::Instant::now();
    assert!(matches!(
        rec.violations(&driver(B)).await,
        Err(RecordsError::Unavailable(_))
    ));
    assert!(
        started.elapsed() < Duration::from_millis(2_000),
        "{:?}",
        started.elapsed()
    );
    // One 5xx inside the budget: the retry answers.
    fake.fault("status:502", 1).await;
    assert_eq!(
        rec.violations(&driver(B)).await.unwrap().violations.len(),
        1
    );
    fake.fault("malformed", 1).await;
    let err = rec.violations(&driver(B)).await.unwrap_err();
    assert!(
        matches!(err, RecordsError::Invalid(ref m) if m.contains("malformed")),
        "{err:?}"
    );
    fake.fault("negative_fine", 1).await;
    let err = rec.violations(&driver(B)).await.unwrap_err();
    assert!(
        matches!(err, RecordsError::Invalid(ref m) if m.contains("fine")),
        "{err:?}"
    );
}

pub(crate) async fn app_with(url: String) -> TestApp {
    TestApp::builder()
        .config(move |c| c.records = config(&url, SECRET, 300, 1))
        .spawn()
        .await
}

pub(crate) async fn give_identity(app: &TestApp, token: &str, id: &str) {
    let r = app
        .client
        .put(app.url("/api/v1/citizens/me/identity"))
        .bearer_auth(token)
        .json(&json!({ "name": "张伟", "id_number": id }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

const PATH: &str = "/api/v1/citizens/me/violations";

#[tokio::test]
async fn citizen_sees_own_violations_marked_eligible_from_the_record() {
    let fake = start_fake().await;
    let app = app_with(fake.url.clone()).await;
    expect_error(app.get(PATH, None).await, 401, "unauthorized").await;
    let (token, _) = app.login_citizen("13800138001").await;
    expect_error(app.get(PATH, Some(&token)).await, 409, "identity_missing").await;
    give_identity(&app, &token, A).await;
    let v: Value = expect_json(app.get(PATH, Some(&token)).await, 200).await;
    assert_eq!(v["facts_source"], "fake");
    assert_eq!(v["licence_points"], 3);
    let got: Vec<(String, bool, Value)> = v["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["record_no"].as_str().unwrap().to_string(),
                x["eligible"].as_bool().unwrap(),
                x["ineligible_reason"].clone(),
            )
        })
        .collect();
    let want = [
        ("3701021000123456", true, Value::Null),
        ("3701021000123457", false, json!("fine_over_limit")),
        ("3701021000123458", false, json!("not_camera_captured")),
        ("3701021000123459", false, json!("points_limit")),
    ];
    let want: Vec<_> = want
        .iter()
        .map(|(r, e, w)| (r.to_string(), *e, w.clone()))
        .collect();
    assert_eq!(got, want);

    // Another citizen sees only the violations of their own ID number.
    let (other, _) = app.login_citizen("13800138002").await;
    expect_error(app.get(PATH, Some(&other)).await, 409, "identity_missing").await;
    give_identity(&app, &other, B).await;
    let v: Value = expect_json(app.get(PATH, Some(&other)).await, 200).await;
    let records: Vec<&str> = v["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["record_no"].as_str().unwrap())
        .collect();
    assert_eq!(records, ["3701031000200001"]);
    assert!(!v.to_string().contains("3701021000123456"));

    // Six unhandled: none may be handled remotely.
    let (third, _) = app.login_citizen("13800138003").await;
    give_identity(&app, &third, C).await;
    let v: Value = expect_json(app.get(PATH, Some(&third)).await, 200).await;
    let list = v["violations"].as_array().unwrap();
    assert_eq!(list.len(), 6);
    assert!(
        list.iter()
            .all(|x| x["ineligible_reason"] == "too_many_unhandled")
    );
}

#[tokio::test]
async fn platform_down_is_503_records_unavailable() {
    let fake = start_fake().await;
    let app = app_with(fake.url.clone()).await;
    let (token, _) = app.login_citizen("13800138004").await;
    give_identity(&app, &token, A).await;
    fake.fault("status:500", 2).await;
    let body = expect_error(
        app.get(PATH, Some(&token)).await,
        503,
        "records_unavailable",
    )
    .await;
    assert!(!body.to_string().contains(A));
    fake.fault("malformed", 1).await;
    expect_error(app.get(PATH, Some(&token)).await, 502, "records_invalid").await;
    // Nothing listens there at all.
    drop(fake);
    let dead = app_with("http://127.0.0.1:9".into()).await;
    let (token, _) = dead.login_citizen("13800138005").await;
    give_identity(&dead, &token, A).await;
    expect_error(
        dead.get(PATH, Some(&token)).await,
        503,
        "records_unavailable",
    )
    .await;
}

#[tokio::test]
async fn manual_provider_answers_records_manual() {
    let app = TestApp::spawn().await;
    let (token, _) = app.login_citizen("13800138006").await;
    expect_error(app.get(PATH, Some(&token)).await, 409, "records_manual").await;
}

#[tokio::test]
async fn a_driver_the_platform_does_not_know_is_records_not_found() {
    let fake = start_fake().await;
    let app = app_with(fake.url.clone()).await;
    let (token, _) = app.login_citizen("13800138007").await;
    // A valid ID number that is not in the seed.
    give_identity(&app, &token, "370102199003181234").await;
    let body = expect_error(app.get(PATH, Some(&token)).await, 404, "records_not_found").await;
    assert!(!body.to_string().contains("370102199003181234"));
}
