//! The full procedure (SMS code, join, every step, the decision document, the audit bundle
//! verified by `remote-hearing audit verify`), and every out-of-order or wrong-role step.

use std::{process::Command, time::Duration};

use remote_hearing::identity::Role;
use serde_json::{Value, json};

use super::{STEPS, body_of, booking_status, is_citizen_step, world};
use crate::helpers::{expect_error, expect_json};

const BIN: &str = env!("CARGO_BIN_EXE_remote-hearing");

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
    let r = app.open_hearing(&w.officer, &w.booking).await;
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
    assert_eq!(steps.len(), STEPS.len());
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
    let service_seq = steps[8]["audit_seq"].as_i64().unwrap();
    let entries: Value = app
        .get_json(
            &format!("/api/v1/audit/entries?from={service_seq}&limit=1"),
            Some(&auditor),
        )
        .await;
    assert_eq!(entries[0]["step"], "service");
    let total = 12; // opened + 10 steps + hearing_closed
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
    let vkey = app.state.audit.signer.verifier().to_string();
    let out = Command::new(BIN)
        .args(["audit", "verify"])
        .arg(&path)
        .args(["--key", &vkey, "--json"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert!(
        out.status.success(),
        "audit verify: {report} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(report["complete"], true, "{report}");
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
