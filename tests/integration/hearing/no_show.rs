//! No-shows: recorded by the officer after the wait and 10 minutes after the join code went out
//! (issue 12 §5), swept after the slot, never for a citizen who joined; a hearing without a code
//! is interrupted by the sweep instead (the booking is freed, and the citizen gets the apology).

use chrono::TimeDelta;
use serde_json::Value;

use super::{body_of, booking_status, world};
use crate::helpers::{expect_error, expect_json};

#[tokio::test]
async fn no_show_after_the_wait() {
    let w = world().await;
    let id = w.open().await["id"].as_str().unwrap().to_string();
    let r = w.no_show(&id, &w.officer).await;
    expect_error(r, 409, "too_early").await;
    // The slot starts in 10 minutes; the wait is 10 minutes after that.
    w.app.clock.advance(TimeDelta::minutes(21));
    // No code went out: refused, with the reason.
    let e = expect_error(w.no_show(&id, &w.officer).await, 409, "code_not_sent").await;
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("10 minutes")
    );
    let path = format!("/api/v1/hearings/{id}");
    let seen: Value = w.app.get_json(&path, Some(&w.citizen)).await;
    assert_eq!(seen["code_sent_at"], Value::Null, "no code yet");
    w.send_code(&id).await;
    // The citizen's waiting room learns when the code went out.
    let seen: Value = w.app.get_json(&path, Some(&w.citizen)).await;
    let at = chrono::DateTime::parse_from_rfc3339(seen["code_sent_at"].as_str().unwrap()).unwrap();
    let now = remote_hearing::clock::Clock::now_ms(w.app.clock.as_ref());
    assert_eq!(at.timestamp_millis(), now);
    let e = expect_error(
        w.no_show(&id, &w.officer).await,
        409,
        "code_sent_too_recently",
    )
    .await;
    assert_eq!(e["error"]["params"]["minutes_left"], 10);
    w.app.clock.advance(TimeDelta::minutes(10));
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
    w.send_code(&id).await;
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
async fn a_hearing_whose_code_never_went_out_is_interrupted_not_a_no_show() {
    let w = world().await;
    let id = w.open().await["id"].as_str().unwrap().to_string();
    let sweep = || remote_hearing::hearing::lifecycle::sweep_no_shows(&w.app.state);
    w.app.clock.advance(TimeDelta::minutes(71));
    assert_eq!(sweep().await.unwrap(), 0);
    let v: Value = w
        .app
        .get_json(&format!("/api/v1/hearings/{id}"), Some(&w.officer))
        .await;
    assert_eq!(v["status"], "interrupted");
    assert_eq!(booking_status(&w.app, &w.booking).await, "interrupted");
    let b: Value = w
        .app
        .get_json(&format!("/api/v1/bookings/{}", w.booking), Some(&w.citizen))
        .await;
    assert_eq!(b["reason"], "code_not_sent");
    // The brigade's failing: the citizen is told, with the link to book again.
    let text = crate::sms::sms_with(&w.app, &w.phone, "不计爽约").await;
    assert!(text.contains("请重新预约"), "{text}");
    let no_shows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM booking_no_shows")
        .fetch_one(&w.app.state.db.read)
        .await
        .unwrap();
    assert_eq!(no_shows, 0);
}
