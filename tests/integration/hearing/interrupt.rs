//! `POST /api/v1/hearings/{id}/interrupt` (issue 12 §5): the officer ends a hearing for now with
//! a reason; nothing else is accepted until the officer resumes it.

use serde_json::{Value, json};

use super::{World, body_of, world};
use crate::helpers::expect_error;

async fn interrupt(w: &World, id: &str, token: &str, body: Value) -> reqwest::Response {
    w.app
        .post(
            &format!("/api/v1/hearings/{id}/interrupt"),
            Some(token),
            body,
        )
        .await
}

#[tokio::test]
async fn the_officer_interrupts_with_a_reason_and_resumes() {
    let w = world().await;
    let id = w.open().await["id"].as_str().unwrap().to_string();
    w.ok_step(&id, body_of("identity")).await;

    // Bad input: an unknown reason, remarks too long, unknown fields.
    for (body, field) in [
        (json!({"reason": "bored"}), "reason"),
        (
            json!({"reason": "technical_failure", "remarks": "x".repeat(501)}),
            "remarks",
        ),
    ] {
        let e = expect_error(
            interrupt(&w, &id, &w.officer, body).await,
            422,
            "invalid_field",
        )
        .await;
        assert_eq!(e["error"]["field"], field);
    }
    let r = interrupt(
        &w,
        &id,
        &w.officer,
        json!({"reason": "technical_failure", "x": 1}),
    )
    .await;
    assert_eq!(r.status(), 422);
    // Only the hearing's officer.
    let r = interrupt(&w, &id, &w.citizen, json!({"reason": "citizen_vanished"})).await;
    assert!(r.status() == 401 || r.status() == 403, "{}", r.status());

    let r = interrupt(
        &w,
        &id,
        &w.officer,
        json!({"reason": "citizen_vanished", "remarks": "画面中断超过五分钟"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "interrupted");
    let payload: String = sqlx::query_scalar(
        "SELECT payload FROM hearing_steps WHERE hearing_id = $1 AND step = 'interrupted'",
    )
    .bind(&id)
    .fetch_one(&w.app.state.db.read)
    .await
    .unwrap();
    let p: Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(p["reason"], "citizen_vanished");
    assert_eq!(p["remarks"], "画面中断超过五分钟");
    assert_eq!(p["by"], "officer");

    // Interrupted: no step, no second interruption.
    expect_error(
        w.step(&id, &w.officer, body_of("inquiry")).await,
        409,
        "invalid_state",
    )
    .await;
    expect_error(
        interrupt(&w, &id, &w.officer, json!({"reason": "technical_failure"})).await,
        409,
        "invalid_state",
    )
    .await;

    // Resumed: the procedure continues where it stopped.
    let r = w
        .app
        .post(
            &format!("/api/v1/hearings/{id}/resume"),
            Some(&w.officer),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let v = w.ok_step(&id, body_of("inquiry")).await;
    assert_eq!(v["steps"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_hearing_idle_without_a_live_call_is_interrupted_by_the_server() {
    let w = super::world_with(|c| c.hearing.idle_ms = 600_000).await;
    let id = w.open().await["id"].as_str().unwrap().to_string();
    let sweep = || remote_hearing::hearing::interrupt::sweep_idle(&w.app.state);
    // Opened, the citizen never joined: the no-show rules' case, not an idle one.
    w.app.clock.advance(chrono::Duration::seconds(601));
    assert_eq!(sweep().await.unwrap(), 0);
    assert_eq!(w.join_with_sms_code(&id).await.status(), 200);
    w.ok_step(&id, body_of("identity")).await;
    // Not idle long enough after the last step.
    w.app.clock.advance(chrono::Duration::seconds(599));
    assert_eq!(sweep().await.unwrap(), 0);
    w.app.clock.advance(chrono::Duration::seconds(2));
    assert_eq!(sweep().await.unwrap(), 1);
    let v: Value = w
        .app
        .get_json(&format!("/api/v1/hearings/{id}"), Some(&w.officer))
        .await;
    assert_eq!(v["status"], "interrupted");
    let (by, payload): (String, String) = sqlx::query_as(
        "SELECT by_role, payload FROM hearing_steps WHERE hearing_id = $1 AND step = 'interrupted'",
    )
    .bind(&id)
    .fetch_one(&w.app.state.db.read)
    .await
    .unwrap();
    assert_eq!(by, "system");
    let p: Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(p["reason"], "idle");
    assert_eq!(sweep().await.unwrap(), 0, "once");
}
