//! Who may open and see a hearing and when (the opening window), the officer's event stream,
//! and concurrent opens and steps.

use chrono::TimeDelta;
use serde_json::{Value, json};

use super::{body_of, insert_booking, officer_events, read_events_until, world};
use crate::helpers::{TestApp, expect_error};

#[tokio::test]
async fn access_and_the_opening_window() {
    let app = TestApp::spawn().await;
    let (brigade, _, officer) = app.login_officer().await;
    let (_, _, other_officer) = app.login_officer().await;
    let (citizen, citizen_id) = app.login_citizen("13900000001").await;
    let (stranger, _) = app.login_citizen("13900000002").await;
    // Too early: the slot starts in 20 minutes (the window opens 15 minutes before).
    let booking = insert_booking(&app, &brigade, &citizen_id, "13900000001", 20).await;
    let r = app.open_hearing(&officer, &booking).await;
    expect_error(r, 409, "outside_hearing_window").await;
    let r = app.open_hearing(&other_officer, &booking).await;
    expect_error(r, 404, "not_found").await;
    let r = app.open_hearing(&citizen, &booking).await;
    expect_error(r, 403, "forbidden").await;
    app.clock.advance(TimeDelta::minutes(6));
    let r = app.open_hearing(&officer, &booking).await;
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
    let w = world().await;
    let id = w.open().await["id"].as_str().unwrap().to_string();
    // Wait for the subscription (the `ready` event) before causing events.
    let (mut stream, mut seen) = officer_events(&w.app, &w.officer).await;
    let r = w.join_with_sms_code(&id).await;
    assert_eq!(r.status(), 200);
    read_events_until(&mut stream, &mut seen, "event: citizen_waiting").await;
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
