//! The booking follows its hearing (issue 12 §5): an interrupted hearing frees the booking
//! (`interrupted`, never a no-show) so that the citizen can book again at once; the officer may
//! resume the same local day, after which the booking follows the hearing again.

use chrono::TimeDelta;
use serde_json::{Value, json};

use super::{World, booking_status, world};
use crate::booking::{at, body, long_session};
use crate::helpers::{expect_error, expect_json};

async fn interrupt(w: &World, id: &str, reason: &str) {
    let r = w
        .app
        .post(
            &format!("/api/v1/hearings/{id}/interrupt"),
            Some(&w.officer),
            json!({"reason": reason}),
        )
        .await;
    assert_eq!(r.status(), 200);
}

async fn resume(w: &World, id: &str) -> reqwest::Response {
    w.app
        .post(
            &format!("/api/v1/hearings/{id}/resume"),
            Some(&w.officer),
            json!({}),
        )
        .await
}

async fn my_booking(w: &World, id: &str) -> Value {
    w.app
        .get_json(&format!("/api/v1/bookings/{id}"), Some(&w.citizen))
        .await
}

#[tokio::test]
async fn an_interrupted_hearing_frees_the_booking_and_a_resume_takes_it_back() {
    let w = world().await;
    let id = w.open().await["id"].as_str().unwrap().to_string();
    assert_eq!(booking_status(&w.app, &w.booking).await, "in_hearing");
    interrupt(&w, &id, "technical_failure").await;
    let b = my_booking(&w, &w.booking).await;
    assert_eq!(b["status"], "interrupted");
    assert_eq!(b["reason"], "technical_failure");

    // Freed: the citizen books again at once (one active booking: this one is not).
    let r = w
        .app
        .post(
            "/api/v1/bookings",
            Some(&w.citizen),
            body(&w.brigade, &at(17, 9)),
        )
        .await;
    let new: Value = expect_json(r, 201).await;
    let new_id = new["id"].as_str().unwrap();
    // Now the hearing cannot take the old booking back: the citizen holds another.
    let e = expect_error(resume(&w, &id).await, 409, "citizen_rebooked").await;
    assert_eq!(e["error"]["params"]["booking_id"], new_id);
    let h: Value = w
        .app
        .get_json(&format!("/api/v1/hearings/{id}"), Some(&w.officer))
        .await;
    assert_eq!(h["status"], "interrupted", "nothing written");

    // The citizen cancels the new booking: the resume goes through and the booking follows.
    assert_eq!(
        w.app
            .delete(&format!("/api/v1/bookings/{new_id}"), Some(&w.citizen))
            .await
            .status(),
        200
    );
    let h: Value = expect_json(resume(&w, &id).await, 200).await;
    assert_eq!(h["status"], "open");
    let b = my_booking(&w, &w.booking).await;
    assert_eq!(b["status"], "in_hearing");
    assert!(b.get("reason").is_none(), "{b}");
    let no_shows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM booking_no_shows")
        .fetch_one(&w.app.state.db.read)
        .await
        .unwrap();
    assert_eq!(no_shows, 0, "an interruption is never a no-show");
}

#[tokio::test]
async fn a_hearing_resumes_only_on_the_day_it_was_interrupted() {
    let w = world().await;
    // A session that outlives the 15 hours the clock moves.
    let officer = long_session(&w.app, "officer", &w.officer_id).await;
    let w = World { officer, ..w };
    let id = w.open().await["id"].as_str().unwrap().to_string();
    interrupt(&w, &id, "citizen_asked_to_stop").await;
    // 2026-11-16 09:00 Shanghai + 14 h 59 min: 23:59 the same local day.
    w.app.clock.advance(TimeDelta::minutes(14 * 60 + 59));
    let r = resume(&w, &id).await;
    assert_eq!(r.status(), 200);
    interrupt(&w, &id, "citizen_asked_to_stop").await;
    // Two minutes later it is the next local day.
    w.app.clock.advance(TimeDelta::minutes(2));
    let e = expect_error(resume(&w, &id).await, 409, "resume_day_passed").await;
    assert_eq!(e["error"]["params"]["interrupted_on"], "2026-11-16");
    assert_eq!(booking_status(&w.app, &w.booking).await, "interrupted");
}

#[tokio::test]
async fn a_call_both_parties_left_frees_the_booking_too() {
    let w = world().await;
    let id = w.open().await["id"].as_str().unwrap().to_string();
    let state = &w.app.state.hearing;
    remote_hearing::hearing::lifecycle::presence_changed(state, &id, true, false).await;
    remote_hearing::hearing::lifecycle::presence_changed(state, &id, false, true).await;
    let b = my_booking(&w, &w.booking).await;
    assert_eq!(b["status"], "interrupted");
    assert_eq!(b["reason"], "call_lost");
    assert_eq!(resume(&w, &id).await.status(), 200);
    assert_eq!(booking_status(&w.app, &w.booking).await, "in_hearing");
}
