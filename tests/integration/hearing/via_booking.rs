//! Hearings of bookings made through booking's API: a normal booking heard at its slot, a
//! claimed urgent booking opened early, and the urgent deadline announced on the dashboard.

use remote_hearing::identity::Role;
use serde_json::{Value, json};

use super::{STEPS, body_of, is_citizen_step, officer_events, read_events_until};
use crate::helpers::{TestApp, expect_error};

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
    super::decision::give_identity(&app, &citizen).await;
    let mut b = body(&brigade, &at(17, 10));
    b["phone"] = json!(phone);
    let r = book(&app, &citizen, b).await;
    assert_eq!(r.status(), 201);
    let booking = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Today is too early; 10 minutes before the slot is fine.
    let r = app.open_hearing(&officer, &booking).await;
    expect_error(r, 409, "outside_hearing_window").await;
    app.clock.set(
        chrono::DateTime::parse_from_rfc3339("2026-11-17T09:50:00+08:00")
            .unwrap()
            .into(),
    );
    let r = app.open_hearing(&officer, &booking).await;
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
        if s == "identity" {
            body = crate::evidence::identity_body(&app, &citizen, &officer, &id).await;
        }
        if s == "notice" {
            body["proposed_fine_yuan"] = json!(100);
            body["proposed_points"] = json!(3);
            body["records"][0]["record_no"] = json!("3701001");
        }
        if s == "ruling" {
            body["fine_yuan"] = json!(100);
            body["points"] = json!(3);
        }
        super::signatures::sign_auto(&app, token, &id, &mut body).await;
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
    let r = app.open_hearing(&officer, &booking).await;
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
    let r = app.open_hearing(&other, &booking).await;
    expect_error(r, 409, "outside_hearing_window").await;
    let r = app.open_hearing(&officer, &booking).await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    for s in super::STEPS.into_iter().take(5) {
        let token = if is_citizen_step(s) {
            &citizen
        } else {
            &officer
        };
        let mut body = if s == "identity" {
            crate::evidence::identity_body(&app, &citizen, &officer, &id).await
        } else {
            body_of(s)
        };
        super::signatures::sign_auto(&app, token, &id, &mut body).await;
        let r = app
            .post(&format!("/api/v1/hearings/{id}/steps"), Some(token), body)
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
    let r = app.open_hearing(&officer, &booking).await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let sweep = || remote_hearing::hearing::lifecycle::sweep_deadlines(&app.state);
    assert_eq!(sweep().await.unwrap(), 0, "the deadline is 15 hours away");
    let (mut stream, mut seen) = officer_events(&app, &officer).await;
    // 22:30 local: within two hours of 23:59:59.
    app.clock.set(
        chrono::DateTime::parse_from_rfc3339("2026-11-16T22:30:00+08:00")
            .unwrap()
            .into(),
    );
    assert_eq!(sweep().await.unwrap(), 1);
    assert_eq!(sweep().await.unwrap(), 0, "once");
    read_events_until(&mut stream, &mut seen, "event: urgent_deadline_near").await;
    assert!(
        seen.contains(&id) && seen.contains("2026-11-16T15:59:59"),
        "{seen}"
    );
}
