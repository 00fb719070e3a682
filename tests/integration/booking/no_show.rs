//! No-shows: three in a month blacklist for a month; the job marks overdue bookings.

use chrono::Duration;
use serde_json::{Value, json};

use super::{at, body, book, long_session};
use crate::helpers::{TestApp, expect_error};

#[tokio::test]
async fn three_no_shows_in_a_month_blacklist_for_a_month() {
    let app = TestApp::spawn().await;
    let (brigade, officer_id, _) = app.login_officer().await;
    let officer = long_session(&app, "officer", &officer_id).await;
    let (_, alice_id) = app.login_citizen("13800000001").await;
    let alice = long_session(&app, "citizen", &alice_id).await;
    for day in [17, 18, 19] {
        let r = book(&app, &alice, body(&brigade, &at(day, 9))).await;
        assert_eq!(r.status(), 201, "day {day}");
        let id = r.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        // Too early to mark.
        expect_error(
            app.post(
                &format!("/api/v1/bookings/{id}/no-show"),
                Some(&officer),
                json!({}),
            )
            .await,
            409,
            "invalid_state",
        )
        .await;
        app.clock.advance(Duration::days(1));
        let r = app
            .post(
                &format!("/api/v1/bookings/{id}/no-show"),
                Some(&officer),
                json!({}),
            )
            .await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.json::<Value>().await.unwrap()["status"], "no_show");
    }
    // now: 2026-11-19 09:00; the third no-show (19th) suspends until 2026-12-19.
    expect_error(
        book(&app, &alice, body(&brigade, &at(21, 9))).await,
        409,
        "blacklisted",
    )
    .await;
    app.clock.advance(Duration::days(29)); // 2026-12-18
    expect_error(
        book(&app, &alice, body(&brigade, &at(49, 9))).await,
        409,
        "blacklisted",
    )
    .await;
    app.clock.advance(Duration::days(1)); // 2026-12-19
    assert_eq!(
        book(&app, &alice, body(&brigade, &at(50, 9)))
            .await
            .status(),
        201
    );
}

#[tokio::test]
async fn no_show_job_marks_overdue_bookings() {
    let app = TestApp::spawn().await;
    let (brigade, officer_id, _) = app.login_officer().await;
    let officer = long_session(&app, "officer", &officer_id).await;
    let (alice, _) = app.login_citizen("13800000001").await;
    let r = book(&app, &alice, body(&brigade, &at(17, 9))).await;
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // End of slot 10:00 + 15 min grace.
    app.clock.set(
        chrono::DateTime::parse_from_rfc3339("2026-11-17T10:14:00+08:00")
            .unwrap()
            .to_utc(),
    );
    assert_eq!(
        remote_hearing::booking::jobs::mark_overdue(&app.state)
            .await
            .unwrap(),
        0
    );
    app.clock.advance(Duration::minutes(2));
    assert_eq!(
        remote_hearing::booking::jobs::mark_overdue(&app.state)
            .await
            .unwrap(),
        1
    );
    let b: Value = app
        .get_json(&format!("/api/v1/bookings/{id}"), Some(&officer))
        .await;
    assert_eq!(b["status"], "no_show");
}
