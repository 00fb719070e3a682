//! No-shows: three in a month blacklist for a month. A no-show is recorded only on a hearing the
//! officer opened whose join code went out at least 10 minutes before (issue 12 §5); a booking
//! never opened is the brigade's (`fate.rs`).

use chrono::{DateTime, Duration};
use serde_json::{Value, json};

use super::{at, body, book, long_session};
use crate::helpers::{TestApp, expect_error, expect_json};

fn local(s: &str) -> DateTime<chrono::Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

#[tokio::test]
async fn three_no_shows_in_a_month_blacklist_for_a_month() {
    let app = TestApp::spawn().await;
    let (brigade, officer_id, _) = app.login_officer().await;
    let officer = long_session(&app, "officer", &officer_id).await;
    let (_, alice_id) = app.login_citizen("13800000001").await;
    let alice = long_session(&app, "citizen", &alice_id).await;
    for day in [17, 18, 19] {
        let r = book(&app, &alice, body(&brigade, &at(day, 9))).await;
        let id = expect_json::<Value>(r, 201).await["id"]
            .as_str()
            .unwrap()
            .to_string();
        // 08:50 on the day: the officer opens the hearing and sends the code.
        app.clock
            .set(local(&format!("2026-11-{day}T08:50:00+08:00")));
        let h: Value = expect_json(app.open_hearing(&officer, &id).await, 201).await;
        let hid = h["id"].as_str().unwrap().to_string();
        let no_show_path = format!("/api/v1/hearings/{hid}/no-show");
        let no_show = || app.post(&no_show_path, Some(&officer), json!({}));
        let r = app
            .post(
                &format!("/api/v1/hearings/{hid}/sms-code"),
                Some(&officer),
                json!({}),
            )
            .await;
        assert!(r.status().is_success(), "sms-code {}", r.status());
        // Too early: the slot (09:00) plus the wait (10 min) has not passed.
        expect_error(no_show().await, 409, "too_early").await;
        app.clock.advance(Duration::minutes(21));
        let v: Value = expect_json(no_show().await, 200).await;
        assert_eq!(v["status"], "no_show");
        let b: Value = app
            .get_json(&format!("/api/v1/bookings/{id}"), Some(&alice))
            .await;
        assert_eq!(b["status"], "no_show");
    }
    // now: 2026-11-19 09:11; the third no-show (19th) suspends until 2026-12-19.
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
