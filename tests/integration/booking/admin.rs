//! The admin API for brigade schedules, and the booking metrics.

use remote_hearing::identity::Role;
use serde_json::{Value, json};

use super::{at, body, book};
use crate::helpers::{TestApp, expect_error, expect_json};

#[tokio::test]
async fn admin_manages_brigade_schedules() {
    let app = TestApp::spawn().await;
    app.create_staff(Role::Admin, "900888", None).await;
    let admin = app.login_staff("900888").await;
    let (_, _, officer) = app.login_officer().await;
    let settings = json!({"name": "周五半天", "week_hours": "mon-thu=09:00-12:00;fri=09:00-11:00", "seats": 2,
        "closed_dates": ["2026-11-18"]});
    expect_error(
        app.post("/api/v1/admin/brigades", Some(&officer), settings.clone())
            .await,
        403,
        "forbidden",
    )
    .await;
    let r = app
        .post("/api/v1/admin/brigades", Some(&admin), settings)
        .await;
    let v: Value = expect_json(r, 201).await;
    let id = v["id"].as_str().unwrap().to_string();
    assert_eq!(
        v["week_hours"],
        "mon=09:00-12:00;tue=09:00-12:00;wed=09:00-12:00;thu=09:00-12:00;fri=09:00-11:00"
    );
    assert_eq!(v["closed_dates"], json!(["2026-11-18"]));
    let slots = |from: &'static str, to: &'static str| {
        let (app, id) = (&app, id.clone());
        async move {
            app.get_json::<Vec<Value>>(
                &format!("/api/v1/brigades/{id}/slots?from={from}&to={to}"),
                None,
            )
            .await
        }
    };
    // Mon 16 .. Sun 22: Mon, Tue 3 each; Wed closed; Thu 3; Fri 2; weekend closed.
    assert_eq!(slots("2026-11-16", "2026-11-22").await.len(), 3 + 3 + 3 + 2);
    let r = app
        .client
        .patch(app.url(&format!("/api/v1/admin/brigades/{id}")))
        .bearer_auth(&admin)
        .json(&json!({"seats": 5, "slot_minutes": 30}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let s = slots("2026-11-17", "2026-11-17").await;
    assert_eq!(s.len(), 6);
    assert_eq!(s[0]["capacity"], 5);
    assert_eq!(s[1]["start"], "2026-11-17T09:30:00+08:00");
    let bad = app
        .client
        .patch(app.url(&format!("/api/v1/admin/brigades/{id}")))
        .bearer_auth(&admin)
        .json(&json!({"hours": "25:00-26:00"}))
        .send()
        .await
        .unwrap();
    expect_error(bad, 422, "invalid_field").await;
    let r = app
        .client
        .delete(app.url(&format!(
            "/api/v1/admin/brigades/{id}/closed-dates/2026-11-18"
        )))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(slots("2026-11-18", "2026-11-18").await.len(), 6);
    // Every admin action is an entry on the admin chain (issue 15 §1); the refused one is not.
    let steps: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT step, actor_role, payload FROM audit_entries WHERE hearing_id = 'admin' ORDER BY hearing_seq",
    )
    .fetch_all(&app.state.db.read)
    .await
    .unwrap();
    let names: Vec<&str> = steps.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "brigade_created",
            "brigade_updated",
            "brigade_date_reopened"
        ]
    );
    assert!(steps.iter().all(|s| s.1 == "admin"));
    let updated: Value = serde_json::from_str(&steps[1].2).unwrap();
    assert_eq!(
        (updated["id"].as_str(), updated["seats"].as_i64()),
        (Some(id.as_str()), Some(5))
    );
}

#[tokio::test]
async fn metrics_count_outcomes_and_refusals() {
    let app = TestApp::spawn().await;
    let (brigade, _, _) = app.login_officer().await;
    let (alice, _) = app.login_citizen("13800000001").await;
    assert_eq!(
        book(&app, &alice, body(&brigade, &at(17, 9)))
            .await
            .status(),
        201
    );
    expect_error(
        book(&app, &alice, body(&brigade, &at(17, 10))).await,
        409,
        "active_booking_exists",
    )
    .await;
    let m = app.metrics().await;
    assert!(m.contains("bookings_total{outcome=\"booked\"}"), "{m}");
    assert!(
        m.contains("booking_refusals_total{code=\"active_booking_exists\"}"),
        "{m}"
    );
}
