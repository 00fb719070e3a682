//! A booking's fates decided by the brigade (issue 12 §5): the officer cancels or moves a booking
//! with a reason (SMS to the citizen), closing a date with bookings lists them, and a booking
//! whose hearing was never opened becomes `missed_by_brigade` (never a no-show) with an apology.

use chrono::Duration;
use remote_hearing::identity::Role;
use serde_json::{Value, json};

use super::{at, body, book, citizens, long_session, phone, remaining};
use crate::helpers::{TestApp, expect_error, expect_json};
use crate::sms::sms_with;

async fn booked(app: &TestApp, token: &str, brigade: &str, slot: &str) -> String {
    let r = book(app, token, body(brigade, slot)).await;
    let v: Value = expect_json(r, 201).await;
    v["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn the_officer_cancels_a_booking_with_a_reason_and_the_citizen_is_told() {
    let app = TestApp::spawn().await;
    let (brigade, _, officer) = app.login_officer().await;
    let (_, _, stranger) = app.login_officer().await;
    let phone = "13800000021";
    let (alice, _) = app.login_citizen(phone).await;
    let slot = at(17, 9);
    let id = booked(&app, &alice, &brigade, &slot).await;
    assert_eq!(remaining(&app, &brigade, &slot).await, 3);
    let path = format!("/api/v1/bookings/{id}/cancel-by-brigade");
    let reason = json!({"reason": "民警临时出警，无法按时办理"});

    // Another brigade's officer: 404; the citizen: 403; bad reasons: 422, nothing written.
    expect_error(
        app.post(&path, Some(&stranger), reason.clone()).await,
        404,
        "not_found",
    )
    .await;
    expect_error(
        app.post(&path, Some(&alice), reason.clone()).await,
        403,
        "forbidden",
    )
    .await;
    for bad in [
        json!({"reason": "  "}),
        json!({"reason": "长".repeat(501)}),
        json!({"reason": "a\u{0007}b"}),
    ] {
        let e = expect_error(
            app.post(&path, Some(&officer), bad).await,
            422,
            "invalid_field",
        )
        .await;
        assert_eq!(e["error"]["field"], "reason");
    }
    let v: Value = app
        .get_json(&format!("/api/v1/bookings/{id}"), Some(&alice))
        .await;
    assert_eq!(v["status"], "booked");

    let v: Value = expect_json(app.post(&path, Some(&officer), reason.clone()).await, 200).await;
    assert_eq!(v["status"], "cancelled_by_brigade");
    assert_eq!(v["reason"], "民警临时出警，无法按时办理");
    assert_eq!(
        remaining(&app, &brigade, &slot).await,
        4,
        "the seat is freed"
    );
    expect_error(
        app.post(&path, Some(&officer), reason).await,
        409,
        "invalid_state",
    )
    .await;

    // The citizen sees the fate and its reason, is told by SMS, and may book the same date again
    // (the brigade's cancellation is not the citizen's).
    let v: Value = app
        .get_json(&format!("/api/v1/bookings/{id}"), Some(&alice))
        .await;
    assert_eq!(v["status"], "cancelled_by_brigade");
    assert_eq!(v["reason"], "民警临时出警，无法按时办理");
    let text = sms_with(&app, phone, "取消").await;
    assert!(
        text.contains("民警临时出警") && text.contains("/citizen/") && text.contains("不计爽约"),
        "{text}"
    );
    booked(&app, &alice, &brigade, &at(17, 10)).await;
}

#[tokio::test]
async fn the_officer_moves_a_booking_to_another_slot() {
    let app = TestApp::spawn().await;
    let (brigade, _, officer) = app.login_officer().await;
    let (_, _, stranger) = app.login_officer().await;
    let alice_phone = "13800000022";
    let (alice, _) = app.login_citizen(alice_phone).await;
    let id = booked(&app, &alice, &brigade, &at(17, 9)).await;
    let path = format!("/api/v1/bookings/{id}/move-by-brigade");
    let to = |slot: String| json!({"slot_start": slot, "reason": "原时段民警外出"});

    expect_error(
        app.post(&path, Some(&stranger), to(at(18, 10))).await,
        404,
        "not_found",
    )
    .await;
    let e = expect_error(
        app.post(
            &path,
            Some(&officer),
            to("2026-11-18T10:17:00+08:00".into()),
        )
        .await,
        422,
        "invalid_field",
    )
    .await;
    assert_eq!(e["error"]["field"], "slot_start");
    expect_error(
        app.post(&path, Some(&officer), to(at(16, 9))).await,
        409,
        "slot_in_past",
    )
    .await;
    expect_error(
        app.post(&path, Some(&officer), to(at(17, 9))).await,
        422,
        "invalid_field",
    )
    .await;
    // A full slot refuses, nothing moves.
    for (i, (token, _)) in citizens(&app, 4).await.into_iter().enumerate() {
        let mut b = body(&brigade, &at(19, 9));
        b["phone"] = json!(phone(100 + i));
        b["owner"] = json!(true); // not the 3-non-owner limit of the plate
        assert_eq!(book(&app, &token, b).await.status(), 201);
    }
    expect_error(
        app.post(&path, Some(&officer), to(at(19, 9))).await,
        409,
        "slot_full",
    )
    .await;

    let v: Value = expect_json(app.post(&path, Some(&officer), to(at(18, 10))).await, 200).await;
    assert_eq!(v["status"], "booked");
    assert_eq!(v["slot_start"], at(18, 10));
    assert_eq!(v["moved_from"], at(17, 9));
    assert_eq!(v["reason"], "原时段民警外出");
    assert_eq!(remaining(&app, &brigade, &at(17, 9)).await, 4);
    assert_eq!(remaining(&app, &brigade, &at(18, 10)).await, 3);
    let text = sms_with(&app, alice_phone, "改至").await;
    assert!(
        text.contains("11月17日 09:00")
            && text.contains("11月18日 10:00")
            && text.contains("原时段民警外出"),
        "{text}"
    );
    let mine: Value = app
        .get_json(&format!("/api/v1/bookings/{id}"), Some(&alice))
        .await;
    assert_eq!(mine["slot_start"], at(18, 10));
}

#[tokio::test]
async fn closing_a_date_with_bookings_lists_them_until_each_is_moved_or_cancelled() {
    let app = TestApp::spawn().await;
    app.create_staff(Role::Admin, "900877", None).await;
    let admin = app.login_staff("900877").await;
    let (brigade, _, officer) = app.login_officer().await;
    let (alice, _) = app.login_citizen("13800000023").await;
    let (bob, _) = app.login_citizen("13800000024").await;
    let a = booked(&app, &alice, &brigade, &at(17, 9)).await;
    let b = booked(&app, &bob, &brigade, &at(17, 10)).await;
    let close = format!("/api/v1/admin/brigades/{brigade}/closed-dates/2026-11-17");
    let put = || app.client.put(app.url(&close)).bearer_auth(&admin).send();

    let e = expect_error(put().await.unwrap(), 409, "date_has_bookings").await;
    let listed: Vec<&str> = e["error"]["params"]["bookings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, vec![a.as_str(), b.as_str()]);
    assert_eq!(e["error"]["params"]["bookings"][0]["slot_start"], at(17, 9));
    // The settings route refuses the same way; nothing is closed.
    let r = app
        .client
        .patch(app.url(&format!("/api/v1/admin/brigades/{brigade}")))
        .bearer_auth(&admin)
        .json(&json!({"closed_dates": ["2026-11-17"]}))
        .send()
        .await
        .unwrap();
    expect_error(r, 409, "date_has_bookings").await;
    let v: Value = app
        .get_json(&format!("/api/v1/admin/brigades/{brigade}"), Some(&admin))
        .await;
    assert_eq!(v["closed_dates"], json!([]));

    let r = app
        .post(
            &format!("/api/v1/bookings/{a}/cancel-by-brigade"),
            Some(&officer),
            json!({"reason": "节假日调休"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let e = expect_error(put().await.unwrap(), 409, "date_has_bookings").await;
    assert_eq!(
        e["error"]["params"]["bookings"].as_array().unwrap().len(),
        1
    );
    let r = app
        .post(
            &format!("/api/v1/bookings/{b}/move-by-brigade"),
            Some(&officer),
            json!({"slot_start": at(18, 11), "reason": "节假日调休"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(put().await.unwrap().status(), 204);
}

#[tokio::test]
async fn a_booking_the_brigade_never_opened_is_missed_by_the_brigade_not_a_no_show() {
    let app = TestApp::spawn().await;
    let (brigade, officer_id, _) = app.login_officer().await;
    let officer = long_session(&app, "officer", &officer_id).await;
    let phone = "13800000025";
    let (_, alice_id) = app.login_citizen(phone).await;
    let alice = long_session(&app, "citizen", &alice_id).await;
    let id = booked(&app, &alice, &brigade, &at(17, 9)).await;
    // The booking's own no-show is refused: only an opened hearing records one.
    app.clock.set(
        chrono::DateTime::parse_from_rfc3339("2026-11-17T09:30:00+08:00")
            .unwrap()
            .to_utc(),
    );
    let no_show = app
        .post(
            &format!("/api/v1/bookings/{id}/no-show"),
            Some(&officer),
            json!({}),
        )
        .await;
    let e = expect_error(no_show, 409, "hearing_not_opened").await;
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("10 minutes")
    );

    // End of slot 10:00 + 15 min grace.
    app.clock.set(
        chrono::DateTime::parse_from_rfc3339("2026-11-17T10:14:00+08:00")
            .unwrap()
            .to_utc(),
    );
    let pass = || remote_hearing::booking::jobs::mark_overdue(&app.state);
    assert_eq!(pass().await.unwrap(), 0);
    app.clock.advance(Duration::minutes(2));
    assert_eq!(pass().await.unwrap(), 1);
    assert_eq!(pass().await.unwrap(), 0);
    let v: Value = app
        .get_json(&format!("/api/v1/bookings/{id}"), Some(&alice))
        .await;
    assert_eq!(v["status"], "missed_by_brigade");
    assert_eq!(v["reason"], "hearing_not_opened");
    let no_shows: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM booking_no_shows WHERE booking_id = $1")
            .bind(&id)
            .fetch_one(&app.state.db.read)
            .await
            .unwrap();
    assert_eq!(no_shows, 0, "never a no-show");
    let text = sms_with(&app, phone, "很抱歉").await;
    assert!(
        text.contains("11月17日 09:00") && text.contains("不计爽约") && text.contains("/citizen/"),
        "{text}"
    );
    // The citizen books again at once.
    booked(&app, &alice, &brigade, &at(18, 9)).await;
}
