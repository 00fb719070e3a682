//! Content rules, the ruling bound by the notice, and the referred outcomes (a refused
//! confirmation, a disputed statement).

use serde_json::json;

use super::{body_of, booking_status, world};
use crate::helpers::expect_error;

#[tokio::test]
async fn content_rules_and_the_ruling_bound() {
    let w = world().await;
    let id = w.open().await["id"].as_str().unwrap().to_string();
    let r = w
        .step(
            &id,
            &w.officer,
            json!({"step": "identity", "id_number_matches": true, "still_id": "auto"}),
        )
        .await;
    assert_eq!(
        expect_error(r, 422, "invalid_field").await["error"]["field"],
        "face_matches"
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
    w.ok_step(&id, body_of("transcript_ack")).await;
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
        .ok_step(&id, json!({"step": "confirmation", "accept": false, "e_service_consent": false, "signature_id": "auto"}))
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
    for s in super::STEPS.into_iter().take(5) {
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
    let r = w.app.open_hearing(&w.officer, &w.booking).await;
    expect_error(r, 409, "invalid_state").await;
}
