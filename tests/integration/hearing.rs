//! The hearing through the HTTP API: the full procedure (SMS code, join, every step, the
//! decision document, the audit bundle verified by `remote-hearing audit verify`), every
//! out-of-order step (`invalid_state`) and wrong-role step (403), a disputed statement and a
//! refused confirmation (`referred`), the ruling bound by the notice, a no-show, an
//! interruption and resume, access rules, and the officer's event stream.

use std::{process::Command, time::Duration};

use chrono::TimeDelta;
use remote_hearing::{clock::Clock, identity::Role};
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_error, expect_json};

const BIN: &str = env!("CARGO_BIN_EXE_remote-hearing");

/// Inserts a booking row directly (the booking rules are booking's tests); the slot starts
/// `starts_in_min` minutes from now and lasts an hour.
async fn insert_booking(
    app: &TestApp,
    brigade: &str,
    citizen: &str,
    phone: &str,
    starts_in_min: i64,
) -> String {
    let id = uuid::Uuid::now_v7().to_string();
    let start = app.clock.now_ms() + starts_in_min * 60_000;
    sqlx::query(
        "INSERT INTO bookings (id, citizen_id, brigade_id, slot_start, slot_end, slot_date, status, phone, plate, owner, \
         violations, unhandled_count, current_points, urgent, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, '2026-11-16', 'booked', $6, '鲁A12345', $7, $8, 1, 0, $9, $10, $10)",
    )
    .bind(&id)
    .bind(citizen)
    .bind(brigade)
    .bind(start)
    .bind(start + 3_600_000)
    .bind(phone)
    .bind(0_i64) // owner (flags are BIGINT 0/1)
    .bind(json!([{"record_no": "3701001234567890", "fine_yuan": 200, "points": 6}]).to_string())
    .bind(0_i64) // urgent
    .bind(app.clock.now_ms())
    .execute(&app.state.db.write)
    .await
    .unwrap();
    id
}

async fn booking_status(app: &TestApp, id: &str) -> String {
    sqlx::query_scalar("SELECT status FROM bookings WHERE id = $1")
        .bind(id)
        .fetch_one(&app.state.db.read)
        .await
        .unwrap()
}

pub(crate) struct World {
    pub(crate) app: TestApp,
    pub(crate) brigade: String,
    pub(crate) officer: String,
    pub(crate) officer_id: String,
    pub(crate) citizen: String,
    pub(crate) phone: String,
    pub(crate) booking: String,
}

async fn world() -> World {
    world_with(|_| {}).await
}

pub(crate) async fn world_with(
    f: impl FnOnce(&mut remote_hearing::config::Config) + Send + 'static,
) -> World {
    let app = TestApp::builder()
        .config(|c| c.audit.checkpoint_interval_ms = 20)
        .config(f)
        .spawn()
        .await;
    let (brigade, officer_id, officer) = app.login_officer().await;
    let phone = format!("139{:08}", rand_digits());
    let (citizen, citizen_id) = app.login_citizen(&phone).await;
    let booking = insert_booking(&app, &brigade, &citizen_id, &phone, 10).await;
    World {
        app,
        brigade,
        officer,
        officer_id,
        citizen,
        phone,
        booking,
    }
}

fn rand_digits() -> u32 {
    (uuid::Uuid::new_v4().as_u128() % 100_000_000) as u32
}

impl World {
    pub(crate) async fn open(&self) -> Value {
        let r = self
            .app
            .post(
                "/api/v1/hearings",
                Some(&self.officer),
                json!({"booking_id": self.booking}),
            )
            .await;
        assert_eq!(r.status(), 201, "open");
        r.json().await.unwrap()
    }

    pub(crate) async fn step(&self, hearing: &str, token: &str, body: Value) -> reqwest::Response {
        self.app
            .post(
                &format!("/api/v1/hearings/{hearing}/steps"),
                Some(token),
                body,
            )
            .await
    }

    /// The officer sends the hearing's SMS code; the citizen exchanges it for a join grant.
    pub(crate) async fn join_with_sms_code(&self, hearing: &str) -> reqwest::Response {
        self.app
            .post(
                &format!("/api/v1/hearings/{hearing}/sms-code"),
                Some(&self.officer),
                json!({}),
            )
            .await;
        let code = self.app.outbox_code(&self.phone).unwrap();
        self.app
            .post(
                "/api/v1/hearings/join",
                Some(&self.citizen),
                json!({"hearing_id": hearing, "code": code}),
            )
            .await
    }

    async fn no_show(&self, hearing: &str, token: &str) -> reqwest::Response {
        self.app
            .post(
                &format!("/api/v1/hearings/{hearing}/no-show"),
                Some(token),
                json!({}),
            )
            .await
    }

    pub(crate) async fn ok_step(&self, hearing: &str, body: Value) -> Value {
        let step = body["step"].as_str().unwrap();
        let token = match step {
            "notice_ack" | "statement" | "confirmation" | "receipt" => &self.citizen,
            _ => &self.officer,
        };
        let r = self.step(hearing, token, body.clone()).await;
        let status = r.status();
        let v: Value = r.json().await.unwrap();
        assert_eq!(status, 200, "{step}: {v}");
        v
    }
}

pub(crate) fn body_of(step: &str) -> Value {
    match step {
        "identity" => json!({"step": "identity", "id_checked": true}),
        "inquiry" => {
            json!({"step": "inquiry", "transcript": [{"q": "车辆是否本人驾驶？", "a": "是本人驾驶。"}]})
        }
        "notice" => {
            json!({"step": "notice", "facts": "2026年11月1日驾驶鲁A12345在经十路闯红灯", "legal_basis": "《中华人民共和国道路交通安全法》第九十条",
            "proposed_fine_yuan": 200, "proposed_points": 6})
        }
        "notice_ack" => json!({"step": "notice_ack"}),
        "statement" => json!({"step": "statement", "waived": true}),
        "ruling" => {
            json!({"step": "ruling", "fine_yuan": 200, "points": 6, "legal_basis": "《中华人民共和国道路交通安全法》第九十条"})
        }
        "confirmation" => {
            json!({"step": "confirmation", "accept": true, "e_service_consent": true})
        }
        "service" => json!({"step": "service"}),
        "receipt" => json!({"step": "receipt"}),
        _ => unreachable!(),
    }
}

pub(crate) const STEPS: [&str; 9] = [
    "identity",
    "inquiry",
    "notice",
    "notice_ack",
    "statement",
    "ruling",
    "confirmation",
    "service",
    "receipt",
];

pub(crate) fn is_citizen_step(s: &str) -> bool {
    matches!(s, "notice_ack" | "statement" | "confirmation" | "receipt")
}

#[tokio::test]
async fn full_procedure_serves_the_decision_and_verifies() {
    let w = world().await;
    let app = &w.app;
    let h = w.open().await;
    let id = h["id"].as_str().unwrap().to_string();
    assert_eq!(h["status"], "open");
    assert_eq!(h["next_step"], "identity");
    assert_eq!(booking_status(app, &w.booking).await, "in_hearing");
    // One live hearing per booking.
    let r = app
        .post(
            "/api/v1/hearings",
            Some(&w.officer),
            json!({"booking_id": w.booking}),
        )
        .await;
    expect_error(r, 409, "hearing_exists").await;
    // The citizen finds it by booking.
    let r = app
        .get(
            &format!("/api/v1/hearings?booking_id={}", w.booking),
            Some(&w.citizen),
        )
        .await;
    let list: Value = r.json().await.unwrap();
    assert_eq!(list[0]["id"], id.as_str());

    // SMS code to the booked phone, exchanged for a join grant.
    let r = app
        .post(
            &format!("/api/v1/hearings/{id}/sms-code"),
            Some(&w.officer),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), 202);
    let code = app.outbox_code(&w.phone).unwrap();
    let r = app
        .post(
            "/api/v1/hearings/join",
            Some(&w.citizen),
            json!({"hearing_id": id, "code": "000000"}),
        )
        .await;
    assert!(r.status() == 422, "wrong code: {}", r.status());
    let r = app
        .post(
            "/api/v1/hearings/join",
            Some(&w.citizen),
            json!({"hearing_id": id, "code": code}),
        )
        .await;
    let grant: Value = expect_json(r, 200).await;
    assert!(grant["join_token"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(grant["ws_url"].as_str().unwrap().contains(&id));
    let r = app
        .post(
            &format!("/api/v1/hearings/{id}/join-token"),
            Some(&w.officer),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);

    let mut last = Value::Null;
    for s in STEPS {
        last = w.ok_step(&id, body_of(s)).await;
        let expect = if s == "receipt" { "completed" } else { "open" };
        assert_eq!(last["status"], expect, "after {s}");
    }
    assert_eq!(last["outcome"], "completed");
    assert_eq!(last["next_step"], Value::Null);
    let steps = last["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 9);
    for (i, s) in steps.iter().enumerate() {
        assert_eq!(s["step"], STEPS[i]);
        assert!(s["audit_seq"].as_i64().is_some(), "{s}");
        assert_eq!(
            s["by"],
            if is_citizen_step(STEPS[i]) {
                "citizen"
            } else {
                "officer"
            }
        );
        assert_eq!(s["both_connected"], false);
    }
    assert_eq!(last["notice"]["proposed_fine_yuan"], 200);
    assert_eq!(last["ruling"]["points"], 6);
    assert_eq!(booking_status(app, &w.booking).await, "completed");
    // Closed: nothing more.
    expect_error(
        w.step(&id, &w.citizen, body_of("receipt")).await,
        409,
        "invalid_state",
    )
    .await;

    // The decision document: HTML with the digest, and its fields.
    let r = app
        .get(&format!("/api/v1/hearings/{id}/decision"), Some(&w.citizen))
        .await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = r.text().await.unwrap();
    let j: Value = app
        .get_json(
            &format!("/api/v1/hearings/{id}/decision?format=json"),
            Some(&w.officer),
        )
        .await;
    let sha = j["sha256"].as_str().unwrap();
    assert!(html.contains(sha) && html.contains(j["decision_no"].as_str().unwrap()));
    for needle in [
        "公安交通管理行政处罚决定书",
        "行政复议",
        "行政诉讼",
        "12123",
        "罚款人民币200元",
        "审计日志 size=",
    ] {
        assert!(html.contains(needle), "{needle}");
    }
    let start = html.find("<article").unwrap();
    let end = html.find("</article>").unwrap() + "</article>".len();
    let digest = hex::encode(ring::digest::digest(
        &ring::digest::SHA256,
        &html.as_bytes()[start..end],
    ));
    assert_eq!(digest, sha);
    assert_eq!(last["decision"]["sha256"], sha);

    // The service entry carries the digest; the bundle verifies with the binary.
    let auditor_id = app.create_staff(Role::Auditor, "a-hear", None).await;
    let _ = auditor_id;
    let auditor = app.login_staff("a-hear").await;
    assert_eq!(
        app.get(&format!("/api/v1/hearings/{id}"), Some(&auditor))
            .await
            .status(),
        200
    );
    let service_seq = steps[7]["audit_seq"].as_i64().unwrap();
    let entries: Value = app
        .get_json(
            &format!("/api/v1/audit/entries?from={service_seq}&limit=1"),
            Some(&auditor),
        )
        .await;
    assert_eq!(entries[0]["step"], "service");
    let total = 10; // opened + 9 steps
    let mut bundle = Value::Null;
    for _ in 0..200 {
        let r = app
            .get(
                &format!("/api/v1/audit/hearings/{id}/bundle"),
                Some(&auditor),
            )
            .await;
        if r.status() == 200 {
            bundle = r.json().await.unwrap();
            if bundle["entries"].as_array().map(Vec::len) == Some(total) {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let entries = bundle["entries"].as_array().expect("bundle entries");
    assert_eq!(entries.len(), total, "{bundle}");
    let service = entries.iter().find(|e| e["step"] == "service").unwrap();
    assert_eq!(service["payload"]["document_sha256"], sha, "{service}");
    let path = app.data_dir.path().join("hearing-bundle.json");
    std::fs::write(&path, bundle.to_string()).unwrap();
    let out = Command::new(BIN)
        .args(["audit", "verify"])
        .arg(&path)
        .arg("--json")
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert!(
        out.status.success(),
        "audit verify: {report} {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn out_of_order_and_wrong_role_steps_are_refused() {
    let w = world().await;
    let id = w.open().await["id"].as_str().unwrap().to_string();
    for (pos, expected) in STEPS.iter().enumerate() {
        for s in STEPS {
            // Wrong role: always 403, whatever the position.
            let wrong = if is_citizen_step(s) {
                &w.officer
            } else {
                &w.citizen
            };
            expect_error(w.step(&id, wrong, body_of(s)).await, 403, "forbidden").await;
            if s == *expected {
                continue;
            }
            let right = if is_citizen_step(s) {
                &w.citizen
            } else {
                &w.officer
            };
            expect_error(w.step(&id, right, body_of(s)).await, 409, "invalid_state").await;
        }
        w.ok_step(&id, body_of(expected)).await;
        let _ = pos;
    }
    // Unknown step and bad content.
    let r = w.step(&id, &w.officer, json!({"step": "bribe"})).await;
    expect_error(r, 422, "invalid_field").await;
}

#[tokio::test]
async fn content_rules_and_the_ruling_bound() {
    let w = world().await;
    let id = w.open().await["id"].as_str().unwrap().to_string();
    let r = w
        .step(
            &id,
            &w.officer,
            json!({"step": "identity", "id_checked": false}),
        )
        .await;
    assert_eq!(
        expect_error(r, 422, "invalid_field").await["error"]["field"],
        "id_checked"
    );
    w.ok_step(&id, body_of("identity")).await;
    let r = w
        .step(
            &id,
            &w.officer,
            json!({"step": "inquiry", "transcript": []}),
        )
        .await;
    assert_eq!(
        expect_error(r, 422, "invalid_field").await["error"]["field"],
        "transcript"
    );
    w.ok_step(&id, body_of("inquiry")).await;
    let r = w
        .step(
            &id,
            &w.officer,
            json!({"step": "notice", "facts": "x", "legal_basis": "y", "proposed_fine_yuan": 200}),
        )
        .await;
    assert_eq!(
        expect_error(r, 422, "invalid_field").await["error"]["field"],
        "proposed_points"
    );
    let v = w.ok_step(&id, body_of("notice")).await;
    assert!(
        v["notice"]["rights_text"]
            .as_str()
            .unwrap()
            .contains("第四十五条")
    );
    for s in ["notice_ack", "statement"] {
        w.ok_step(&id, body_of(s)).await;
    }
    let heavier = json!({"step": "ruling", "fine_yuan": 200, "points": 9, "legal_basis": "x"});
    expect_error(
        w.step(&id, &w.officer, heavier).await,
        409,
        "ruling_exceeds_notice",
    )
    .await;
    let lighter = json!({"step": "ruling", "fine_yuan": 100, "points": 3, "legal_basis": "从轻"});
    w.ok_step(&id, lighter).await;
    // A refused confirmation ends the remote procedure: the case goes to the window.
    let v = w
        .ok_step(&id, json!({"step": "confirmation", "accept": false}))
        .await;
    assert_eq!(v["status"], "referred");
    assert_eq!(v["outcome"], "confirmation_refused");
    assert_eq!(booking_status(&w.app, &w.booking).await, "referred");
    expect_error(
        w.step(&id, &w.officer, body_of("service")).await,
        409,
        "invalid_state",
    )
    .await;
    assert_eq!(
        w.app
            .get(&format!("/api/v1/hearings/{id}/decision"), Some(&w.citizen))
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn disputed_statement_is_referred() {
    let w = world().await;
    let id = w.open().await["id"].as_str().unwrap().to_string();
    for s in ["identity", "inquiry", "notice", "notice_ack"] {
        w.ok_step(&id, body_of(s)).await;
    }
    let v = w
        .ok_step(
            &id,
            json!({"step": "statement", "disputed": true, "text": "当时不是本人驾驶"}),
        )
        .await;
    assert_eq!(v["status"], "referred");
    assert_eq!(v["outcome"], "disputed");
    assert_eq!(booking_status(&w.app, &w.booking).await, "referred");
    expect_error(
        w.step(&id, &w.officer, body_of("ruling")).await,
        409,
        "invalid_state",
    )
    .await;
    // The booking can have a new hearing? No: it is referred, not booked.
    let r = w
        .app
        .post(
            "/api/v1/hearings",
            Some(&w.officer),
            json!({"booking_id": w.booking}),
        )
        .await;
    expect_error(r, 409, "invalid_state").await;
}

#[tokio::test]
async fn no_show_after_the_wait() {
    let w = world().await;
    let id = w.open().await["id"].as_str().unwrap().to_string();
    let r = w.no_show(&id, &w.officer).await;
    expect_error(r, 409, "too_early").await;
    // The slot starts in 10 minutes; the wait is 10 minutes after that.
    w.app.clock.advance(TimeDelta::minutes(21));
    let r = w.no_show(&id, &w.citizen).await;
    expect_error(r, 403, "forbidden").await;
    let r = w.no_show(&id, &w.officer).await;
    let v: Value = expect_json(r, 200).await;
    assert_eq!(v["status"], "no_show");
    assert_eq!(booking_status(&w.app, &w.booking).await, "no_show");
    expect_error(
        w.step(&id, &w.officer, body_of("identity")).await,
        409,
        "invalid_state",
    )
    .await;
}

#[tokio::test]
async fn unrecorded_no_shows_are_swept_after_the_slot() {
    let w = world().await;
    let id = w.open().await["id"].as_str().unwrap().to_string();
    let sweep = || remote_hearing::hearing::lifecycle::sweep_no_shows(&w.app.state);
    assert_eq!(sweep().await.unwrap(), 0);
    // The slot (10 minutes from now, one hour long) is over.
    w.app.clock.advance(TimeDelta::minutes(71));
    assert_eq!(sweep().await.unwrap(), 1);
    let v: Value = w
        .app
        .get_json(&format!("/api/v1/hearings/{id}"), Some(&w.officer))
        .await;
    assert_eq!(v["status"], "no_show");
    assert_eq!(v["events"][1]["by"], "system");
    assert_eq!(booking_status(&w.app, &w.booking).await, "no_show");
    assert_eq!(sweep().await.unwrap(), 0);
}

#[tokio::test]
async fn a_citizen_who_joined_is_not_a_no_show() {
    let w = world().await;
    let id = w.open().await["id"].as_str().unwrap().to_string();
    let r = w.join_with_sms_code(&id).await;
    assert_eq!(r.status(), 200);
    w.app.clock.advance(TimeDelta::minutes(30));
    let r = w.no_show(&id, &w.officer).await;
    expect_error(r, 409, "invalid_state").await;
}

#[tokio::test]
async fn access_and_the_opening_window() {
    let app = TestApp::spawn().await;
    let (brigade, _, officer) = app.login_officer().await;
    let (_, _, other_officer) = app.login_officer().await;
    let (citizen, citizen_id) = app.login_citizen("13900000001").await;
    let (stranger, _) = app.login_citizen("13900000002").await;
    // Too early: the slot starts in 20 minutes (the window opens 15 minutes before).
    let booking = insert_booking(&app, &brigade, &citizen_id, "13900000001", 20).await;
    let r = app
        .post(
            "/api/v1/hearings",
            Some(&officer),
            json!({"booking_id": booking}),
        )
        .await;
    expect_error(r, 409, "outside_hearing_window").await;
    let r = app
        .post(
            "/api/v1/hearings",
            Some(&other_officer),
            json!({"booking_id": booking}),
        )
        .await;
    expect_error(r, 404, "not_found").await;
    let r = app
        .post(
            "/api/v1/hearings",
            Some(&citizen),
            json!({"booking_id": booking}),
        )
        .await;
    expect_error(r, 403, "forbidden").await;
    app.clock.advance(TimeDelta::minutes(6));
    let r = app
        .post(
            "/api/v1/hearings",
            Some(&officer),
            json!({"booking_id": booking}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        app.get(&format!("/api/v1/hearings/{id}"), Some(&citizen))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.get(&format!("/api/v1/hearings/{id}"), Some(&stranger))
            .await
            .status(),
        404
    );
    assert_eq!(
        app.get(&format!("/api/v1/hearings/{id}"), Some(&other_officer))
            .await
            .status(),
        404
    );
    assert_eq!(
        app.get("/api/v1/hearings/nope", Some(&officer))
            .await
            .status(),
        404
    );
    let r = app
        .post(
            &format!("/api/v1/hearings/{id}/steps"),
            Some(&stranger),
            body_of("notice_ack"),
        )
        .await;
    expect_error(r, 404, "not_found").await;
    let r = app
        .post(
            "/api/v1/hearings/join",
            Some(&stranger),
            json!({"hearing_id": id, "code": "123456"}),
        )
        .await;
    expect_error(r, 404, "not_found").await;
    let r = app
        .post(
            &format!("/api/v1/hearings/{id}/sms-code"),
            Some(&citizen),
            json!({}),
        )
        .await;
    expect_error(r, 403, "forbidden").await;
    let spec = app
        .get("/api/v1/openapi.json", None)
        .await
        .text()
        .await
        .unwrap();
    for p in [
        "/api/v1/hearings/{id}/steps",
        "/api/v1/hearings/join",
        "/api/v1/officer/events",
        "/api/v1/hearings/{id}/decision",
    ] {
        assert!(spec.contains(p), "{p} missing from the OpenAPI document");
    }
}

#[tokio::test]
async fn officer_events_stream_reports_the_waiting_citizen() {
    use futures::StreamExt;
    let w = world().await;
    let id = w.open().await["id"].as_str().unwrap().to_string();
    let resp = w
        .app
        .client
        .get(w.app.url("/api/v1/officer/events"))
        .bearer_auth(&w.officer)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mut stream = resp.bytes_stream();
    let mut seen = String::new();
    // Wait for the subscription (the `ready` event) before causing events.
    while !seen.contains("event: ready") {
        let chunk = tokio::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    let r = w.join_with_sms_code(&id).await;
    assert_eq!(r.status(), 200);
    while !seen.contains("event: citizen_waiting") {
        let chunk = tokio::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.contains(&id), "{seen}");
    let _ = (&w.brigade, &w.officer_id);
}

#[tokio::test]
async fn concurrent_opens_and_steps_are_serialised() {
    let w = world().await;
    let opens = futures::future::join_all((0..5).map(|_| {
        w.app.post(
            "/api/v1/hearings",
            Some(&w.officer),
            json!({"booking_id": w.booking}),
        )
    }))
    .await;
    let mut created = vec![];
    for r in opens {
        if r.status() == 201 {
            created.push(
                r.json::<Value>().await.unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            );
        } else {
            expect_error(r, 409, "hearing_exists").await;
        }
    }
    assert_eq!(created.len(), 1);
    let id = &created[0];
    let steps =
        futures::future::join_all((0..5).map(|_| w.step(id, &w.officer, body_of("identity"))))
            .await;
    let mut ok = 0;
    for r in steps {
        if r.status() == 200 {
            ok += 1;
        } else {
            expect_error(r, 409, "invalid_state").await;
        }
    }
    assert_eq!(ok, 1);
    let v: Value = w
        .app
        .get_json(&format!("/api/v1/hearings/{id}"), Some(&w.officer))
        .await;
    assert_eq!(v["steps"].as_array().unwrap().len(), 1);
}

/// Through booking's API: a normal booking for tomorrow, heard at its slot.
#[tokio::test]
async fn a_booking_made_through_the_api_is_heard_and_completed() {
    use crate::booking::{at, body, book, long_session};
    let app = TestApp::spawn().await;
    let (brigade, officer_id, _) = app.login_officer().await;
    let phone = "13700000009";
    let (_, citizen_id) = app.login_citizen(phone).await;
    // Sessions that outlive the night.
    let officer = long_session(&app, "officer", &officer_id).await;
    let citizen = long_session(&app, "citizen", &citizen_id).await;
    let mut b = body(&brigade, &at(17, 10));
    b["phone"] = json!(phone);
    let r = book(&app, &citizen, b).await;
    assert_eq!(r.status(), 201);
    let booking = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Today is too early; 10 minutes before the slot is fine.
    let r = app
        .post(
            "/api/v1/hearings",
            Some(&officer),
            json!({"booking_id": booking}),
        )
        .await;
    expect_error(r, 409, "outside_hearing_window").await;
    app.clock.set(
        chrono::DateTime::parse_from_rfc3339("2026-11-17T09:50:00+08:00")
            .unwrap()
            .into(),
    );
    let r = app
        .post(
            "/api/v1/hearings",
            Some(&officer),
            json!({"booking_id": booking}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let b: Value = app
        .get_json(&format!("/api/v1/bookings/{booking}"), Some(&citizen))
        .await;
    assert_eq!(b["status"], "in_hearing");
    for s in STEPS {
        let token = if is_citizen_step(s) {
            &citizen
        } else {
            &officer
        };
        let mut body = body_of(s);
        if s == "notice" {
            body["proposed_fine_yuan"] = json!(100);
            body["proposed_points"] = json!(3);
        }
        if s == "ruling" {
            body["fine_yuan"] = json!(100);
            body["points"] = json!(3);
        }
        let r = app
            .post(&format!("/api/v1/hearings/{id}/steps"), Some(token), body)
            .await;
        assert_eq!(r.status(), 200, "{s}");
    }
    let b: Value = app
        .get_json(&format!("/api/v1/bookings/{booking}"), Some(&citizen))
        .await;
    assert_eq!(b["status"], "completed");
    let d: Value = app
        .get_json(
            &format!("/api/v1/hearings/{id}/decision?format=json"),
            Some(&citizen),
        )
        .await;
    assert_eq!(d["fine_yuan"], 100);
    assert_eq!(d["violations"][0]["record_no"], "3701001");
}

/// An urgent booking the officer claimed opens at any time before its deadline; closing takes
/// it off the lane.
#[tokio::test]
async fn a_claimed_urgent_booking_opens_before_its_deadline_and_leaves_the_lane() {
    use crate::booking::{at, body, book};
    let app = TestApp::spawn().await;
    let (brigade, _, officer) = app.login_officer().await;
    let other_id = app
        .create_staff(Role::Officer, "o-other", Some(&brigade))
        .await;
    let _ = other_id;
    let other = app.login_staff("o-other").await;
    let phone = "13700000010";
    let (citizen, _) = app.login_citizen(phone).await;
    let mut b = body(&brigade, &at(16, 16));
    b["phone"] = json!(phone);
    b["urgent"] = json!({"kind": "licence", "registration_date": "2015-11-16"});
    let r = book(&app, &citizen, b).await;
    assert_eq!(r.status(), 201);
    let booking = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Not claimed, and the slot is hours away.
    let r = app
        .post(
            "/api/v1/hearings",
            Some(&officer),
            json!({"booking_id": booking}),
        )
        .await;
    expect_error(r, 409, "outside_hearing_window").await;
    let r = app
        .post("/api/v1/urgent/claim", Some(&officer), json!({}))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap()["booking_id"],
        booking.as_str()
    );
    // Only the claimer may open it early.
    let r = app
        .post(
            "/api/v1/hearings",
            Some(&other),
            json!({"booking_id": booking}),
        )
        .await;
    expect_error(r, 409, "outside_hearing_window").await;
    let r = app
        .post(
            "/api/v1/hearings",
            Some(&officer),
            json!({"booking_id": booking}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    for s in ["identity", "inquiry", "notice", "notice_ack"] {
        let token = if is_citizen_step(s) {
            &citizen
        } else {
            &officer
        };
        let r = app
            .post(
                &format!("/api/v1/hearings/{id}/steps"),
                Some(token),
                body_of(s),
            )
            .await;
        assert_eq!(r.status(), 200, "{s}");
    }
    let r = app
        .post(
            &format!("/api/v1/hearings/{id}/steps"),
            Some(&citizen),
            json!({"step": "statement", "disputed": true, "text": "不是本人驾驶"}),
        )
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "referred");
    let lane: Value = app.get_json("/api/v1/urgent", Some(&officer)).await;
    assert_eq!(lane["depth"], 0, "{lane}");
    let b: Value = app
        .get_json(&format!("/api/v1/bookings/{booking}"), Some(&citizen))
        .await;
    assert_eq!(b["status"], "referred");
}

/// A live hearing of an urgent booking near its deadline is announced once on the dashboard.
#[tokio::test]
async fn an_urgent_deadline_near_is_announced_once() {
    use crate::booking::{at, body, book, long_session};
    use futures::StreamExt;
    let app = TestApp::spawn().await;
    let (brigade, officer_id, _) = app.login_officer().await;
    let phone = "13700000011";
    let (_, citizen_id) = app.login_citizen(phone).await;
    let officer = long_session(&app, "officer", &officer_id).await;
    let citizen = long_session(&app, "citizen", &citizen_id).await;
    let mut b = body(&brigade, &at(16, 16));
    b["phone"] = json!(phone);
    b["urgent"] = json!({"kind": "licence", "registration_date": "2015-11-16"});
    let booking = book(&app, &citizen, b).await.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        app.post("/api/v1/urgent/claim", Some(&officer), json!({}))
            .await
            .status(),
        200
    );
    let r = app
        .post(
            "/api/v1/hearings",
            Some(&officer),
            json!({"booking_id": booking}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let sweep = || remote_hearing::hearing::lifecycle::sweep_deadlines(&app.state);
    assert_eq!(sweep().await.unwrap(), 0, "the deadline is 15 hours away");
    let resp = app
        .client
        .get(app.url("/api/v1/officer/events"))
        .bearer_auth(&officer)
        .send()
        .await
        .unwrap();
    let mut stream = resp.bytes_stream();
    let mut seen = String::new();
    while !seen.contains("event: ready") {
        let chunk = tokio::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    // 22:30 local: within two hours of 23:59:59.
    app.clock.set(
        chrono::DateTime::parse_from_rfc3339("2026-11-16T22:30:00+08:00")
            .unwrap()
            .into(),
    );
    assert_eq!(sweep().await.unwrap(), 1);
    assert_eq!(sweep().await.unwrap(), 0, "once");
    while !seen.contains("event: urgent_deadline_near") {
        let chunk = tokio::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(
        seen.contains(&id) && seen.contains("2026-11-16T15:59:59"),
        "{seen}"
    );
}

// ---- over the call's signalling socket (two test clients) ----

pub(crate) type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub(crate) async fn ws_join(app: &TestApp, grant: &Value) -> Ws {
    use futures::SinkExt;
    let path = grant["ws_url"].as_str().unwrap();
    let url = if path.starts_with("ws") {
        path.to_string()
    } else {
        format!("ws://{}{path}", app.addr)
    };
    let (mut ws, _) = tokio::time::timeout(
        Duration::from_secs(10),
        tokio_tungstenite::connect_async(url),
    )
    .await
    .unwrap()
    .unwrap();
    let join = json!({"type": "join", "token": grant["join_token"]}).to_string();
    ws.send(tokio_tungstenite::tungstenite::Message::Text(join.into()))
        .await
        .unwrap();
    let j = ws_recv(&mut ws).await;
    assert_eq!(j["type"], "joined", "{j}");
    ws
}

pub(crate) async fn ws_recv(ws: &mut Ws) -> Value {
    use futures::StreamExt;
    loop {
        let m = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("frame in time")
            .expect("open")
            .expect("ok");
        match m {
            tokio_tungstenite::tungstenite::Message::Text(t) => {
                return serde_json::from_str(t.as_str()).unwrap();
            }
            tokio_tungstenite::tungstenite::Message::Close(c) => panic!("closed: {c:?}"),
            _ => continue,
        }
    }
}

/// The next `hearing` frame of a step (skipping peer frames and status-only frames).
pub(crate) async fn hearing_frame(ws: &mut Ws) -> Value {
    loop {
        let v = ws_recv(ws).await;
        if v["type"] == "hearing" && !v["step"].is_null() {
            return v;
        }
    }
}

async fn leave(ws: &mut Ws) {
    use futures::SinkExt;
    ws.send(tokio_tungstenite::tungstenite::Message::Text(
        json!({"type": "leave"}).to_string().into(),
    ))
    .await
    .unwrap();
}

pub(crate) async fn wait_status(w: &World, id: &str, status: &str) -> Value {
    for _ in 0..100 {
        let v: Value = w
            .app
            .get_json(&format!("/api/v1/hearings/{id}"), Some(&w.officer))
            .await;
        if v["status"] == status {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("hearing never became {status}");
}

#[tokio::test]
async fn over_signalling_steps_are_pushed_and_an_interrupted_call_resumes() {
    let w = world_with(|c| {
        c.hearing.presence_poll_ms = 50;
        c.call.media_enabled = false;
    })
    .await;
    let id = w.open().await["id"].as_str().unwrap().to_string();
    let cg: Value = w.join_with_sms_code(&id).await.json().await.unwrap();
    let og: Value = w
        .app
        .post_json(
            &format!("/api/v1/hearings/{id}/join-token"),
            Some(&w.officer),
            json!({}),
        )
        .await;
    let mut c = ws_join(&w.app, &cg).await;
    let mut o = ws_join(&w.app, &og).await;
    // Both connected: the hearing is in the call.
    wait_status(&w, &id, "in_call").await;
    for s in ["identity", "inquiry", "notice"] {
        let v = w.ok_step(&id, body_of(s)).await;
        assert_eq!(
            v["steps"].as_array().unwrap().last().unwrap()["both_connected"],
            true
        );
        for ws in [&mut c, &mut o] {
            let f = hearing_frame(ws).await;
            assert_eq!(f["step"], s, "{f}");
        }
    }
    // Both leave mid-procedure: interrupted; steps refused until the officer resumes.
    leave(&mut c).await;
    leave(&mut o).await;
    wait_status(&w, &id, "interrupted").await;
    expect_error(
        w.step(&id, &w.citizen, body_of("notice_ack")).await,
        409,
        "invalid_state",
    )
    .await;
    let r = w
        .app
        .post(
            &format!("/api/v1/hearings/{id}/resume"),
            Some(&w.officer),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    // Both rejoin with their tokens; the procedure goes on to the end.
    let mut c = ws_join(&w.app, &cg).await;
    let mut o = ws_join(&w.app, &og).await;
    wait_status(&w, &id, "in_call").await;
    for s in &STEPS[3..] {
        w.ok_step(&id, body_of(s)).await;
        let f = hearing_frame(&mut c).await;
        assert_eq!(f["step"], *s);
    }
    let f = hearing_frame(&mut o).await;
    let _ = f;
    let v = wait_status(&w, &id, "completed").await;
    let names: Vec<&str> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        &names[..5],
        [
            "opened",
            "call_started",
            "interrupted",
            "resumed",
            "call_started"
        ]
    );
}
