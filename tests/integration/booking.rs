//! Booking through the HTTP API: every rule's refusal code with nothing written, ownership,
//! officer views, the admin API, no-shows and the blacklist, and seats under concurrency.
//! The clock starts on Monday 2026-11-16 09:00 Asia/Shanghai (helpers::default_now).

use chrono::Duration;
use remote_hearing::{booking::admin::BrigadeSettings, identity::Role};
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_error, expect_json};

/// A local Shanghai time on November/December 2026 as RFC 3339.
pub fn at(day: u32, hour: u32) -> String {
    let (m, d) = if day > 30 { (12, day - 30) } else { (11, day) };
    format!("2026-{m:02}-{d:02}T{hour:02}:00:00+08:00")
}

pub fn body(brigade: &str, slot: &str) -> Value {
    json!({
        "brigade_id": brigade, "slot_start": slot, "plate": "鲁A12345",
        "violations": [{"record_no": "3701001", "fine_yuan": 100, "points": 3}],
        "unhandled_count": 1, "current_points": 0
    })
}

pub async fn book(app: &TestApp, token: &str, b: Value) -> reqwest::Response {
    app.post("/api/v1/bookings", Some(token), b).await
}

pub async fn remaining(app: &TestApp, brigade: &str, slot: &str) -> i64 {
    let date = &slot[..10];
    let v: Value = app
        .get_json(
            &format!("/api/v1/brigades/{brigade}/slots?from={date}&to={date}"),
            None,
        )
        .await;
    v.as_array()
        .unwrap()
        .iter()
        .find(|s| s["start"] == slot)
        .map(|s| s["remaining"].as_i64().unwrap())
        .unwrap_or(-1)
}

pub async fn my_bookings(app: &TestApp, token: &str) -> Vec<Value> {
    app.get_json::<Vec<Value>>("/api/v1/bookings", Some(token))
        .await
}

/// Citizens with sessions made directly in the store (no SMS throttles): (token, id) each.
pub async fn citizens(app: &TestApp, n: usize) -> Vec<(String, String)> {
    let now = app.state.clock.now_ms();
    let mut out = Vec::new();
    for i in 0..n {
        let id = remote_hearing::ids::new_id();
        let token = format!("tok-{id}-{i}");
        sqlx::query(
            "INSERT INTO citizens (id, phone, phone_bound, created_at) VALUES ($1, NULL, 0, $2)",
        )
        .bind(&id)
        .bind(now)
        .execute(&app.state.db.write)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO sessions (token_hash, role, subject_id, created_at, expires_at) VALUES ($1, 'citizen', $2, $3, $4)",
        )
        .bind(remote_hearing::ids::token_hash(&token))
        .bind(&id)
        .bind(now)
        .bind(now + 365 * 86_400_000)
        .execute(&app.state.db.write)
        .await
        .unwrap();
        out.push((token, id));
    }
    out
}

/// A session of a year for `subject` (tests that move the clock by days outlive normal ones).
pub async fn long_session(app: &TestApp, role: &str, subject: &str) -> String {
    let now = app.state.clock.now_ms();
    let token = format!("long-{}", remote_hearing::ids::new_id());
    sqlx::query("INSERT INTO sessions (token_hash, role, subject_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(remote_hearing::ids::token_hash(&token))
        .bind(role)
        .bind(subject)
        .bind(now)
        .bind(now + 365 * 86_400_000)
        .execute(&app.state.db.write)
        .await
        .unwrap();
    token
}

/// A unique phone for citizen `i` of a test.
pub fn phone(i: usize) -> String {
    format!("1390000{i:04}")
}

#[tokio::test]
async fn book_list_get_cancel_with_ownership() {
    let app = TestApp::spawn().await;
    let (brigade, _, officer) = app.login_officer().await;
    let (_, _, other_officer) = app.login_officer().await;
    let (alice, _) = app.login_citizen("13800000001").await;
    let (bob, _) = app.login_citizen("13800000002").await;
    let slot = at(17, 9);
    assert_eq!(remaining(&app, &brigade, &slot).await, 4);

    let r = book(&app, &alice, body(&brigade, &slot)).await;
    let b: Value = expect_json(r, 201).await;
    let id = b["id"].as_str().unwrap().to_string();
    assert_eq!(b["status"], "booked");
    assert_eq!(b["slot_start"], slot);
    assert_eq!(b["slot_end"], at(17, 10));
    assert_eq!(b["urgent"], false);
    assert_eq!(b["plate"], "鲁A12345");
    assert!(b.get("deadline").is_none());
    assert_eq!(remaining(&app, &brigade, &slot).await, 3);

    assert_eq!(my_bookings(&app, &alice).await.len(), 1);
    assert!(my_bookings(&app, &bob).await.is_empty());
    let r = app
        .get(&format!("/api/v1/bookings/{id}"), Some(&alice))
        .await;
    assert_eq!(r.status(), 200);
    // Another citizen: 404 for reading and cancelling.
    expect_error(
        app.get(&format!("/api/v1/bookings/{id}"), Some(&bob)).await,
        404,
        "not_found",
    )
    .await;
    expect_error(
        app.delete(&format!("/api/v1/bookings/{id}"), Some(&bob))
            .await,
        404,
        "not_found",
    )
    .await;
    // Officers: own brigade by date; another brigade's booking is 404.
    let day: Vec<Value> = app
        .get_json("/api/v1/bookings?date=2026-11-17", Some(&officer))
        .await;
    assert_eq!(day.len(), 1);
    assert_eq!(day[0]["id"], id);
    let today: Vec<Value> = app.get_json("/api/v1/bookings", Some(&officer)).await;
    assert!(today.is_empty());
    assert_eq!(
        app.get(&format!("/api/v1/bookings/{id}"), Some(&officer))
            .await
            .status(),
        200
    );
    expect_error(
        app.get(&format!("/api/v1/bookings/{id}"), Some(&other_officer))
            .await,
        404,
        "not_found",
    )
    .await;
    let none: Vec<Value> = app
        .get_json("/api/v1/bookings?date=2026-11-17", Some(&other_officer))
        .await;
    assert!(none.is_empty());
    expect_error(
        app.delete(&format!("/api/v1/bookings/{id}"), Some(&officer))
            .await,
        403,
        "forbidden",
    )
    .await;

    let r = app
        .delete(&format!("/api/v1/bookings/{id}"), Some(&alice))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "cancelled");
    assert_eq!(remaining(&app, &brigade, &slot).await, 4);
    expect_error(
        app.delete(&format!("/api/v1/bookings/{id}"), Some(&alice))
            .await,
        409,
        "invalid_state",
    )
    .await;
    expect_error(app.get("/api/v1/bookings", None).await, 401, "unauthorized").await;

    let brigades: Vec<Value> = app.get_json("/api/v1/brigades", None).await;
    let me = brigades.iter().find(|b| b["id"] == brigade).unwrap();
    assert_eq!(me["timezone"], "Asia/Shanghai");
    assert_eq!(me["address"], "测试路1号");
}

#[tokio::test]
async fn date_rules_answer_in_order_and_write_nothing() {
    let app = TestApp::spawn().await;
    let (brigade, _, _) = app.login_officer().await;
    let (alice, _) = app.login_citizen("13800000001").await;
    let admin_id = app.create_staff(Role::Admin, "900777", None).await;
    let _ = admin_id;
    let admin = app.login_staff("900777").await;
    let r = app
        .client
        .put(app.url(&format!(
            "/api/v1/admin/brigades/{brigade}/closed-dates/2026-11-19"
        )))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);

    // now = 2026-11-16 09:00 local
    let cases = [
        (at(16, 8), "slot_in_past"),
        (at(16, 9), "slot_in_past"),
        (at(16, 10), "same_day_not_allowed"),
        (at(24, 9), "too_far_ahead"), // today + 8
        (at(19, 9), "brigade_closed"),
    ];
    for (slot, code) in cases {
        expect_error(book(&app, &alice, body(&brigade, &slot)).await, 409, code).await;
        assert!(
            my_bookings(&app, &alice).await.is_empty(),
            "{code} wrote a booking"
        );
    }
    // A closed date that is also 8 days ahead answers too_far_ahead (order).
    let r = app
        .client
        .put(app.url(&format!(
            "/api/v1/admin/brigades/{brigade}/closed-dates/2026-11-24"
        )))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    expect_error(
        book(&app, &alice, body(&brigade, &at(24, 9))).await,
        409,
        "too_far_ahead",
    )
    .await;
    // The closed day lists no slots; today's slots are listed.
    let v: Vec<Value> = app
        .get_json(
            &format!("/api/v1/brigades/{brigade}/slots?from=2026-11-19&to=2026-11-19"),
            None,
        )
        .await;
    assert!(v.is_empty());
    assert_eq!(remaining(&app, &brigade, &at(16, 19)).await, 4);
    // today + 7 is allowed.
    assert_eq!(
        book(&app, &alice, body(&brigade, &at(23, 19)))
            .await
            .status(),
        201
    );
    // Just after local midnight the 17th is "today".
    app.clock.set(
        chrono::DateTime::parse_from_rfc3339("2026-11-17T00:00:01+08:00")
            .unwrap()
            .to_utc(),
    );
    let (bob, _) = app.login_citizen("13800000002").await;
    expect_error(
        book(&app, &bob, body(&brigade, &at(17, 9))).await,
        409,
        "same_day_not_allowed",
    )
    .await;
}

#[tokio::test]
async fn bad_input_is_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let (brigade, _, _) = app.login_officer().await;
    let (alice, _) = app.login_citizen("13800000001").await;
    let slot = at(17, 9);
    let cases: Vec<(Value, &str)> = vec![
        (json!({"plate": "XX12345"}), "plate"),
        (json!({"phone": "12345"}), "phone"),
        (json!({"brigade_id": "no-such-brigade"}), "brigade_id"),
        (json!({"slot_start": "tomorrow"}), "slot_start"),
        (
            json!({"slot_start": at(17, 12).replace(":00:00", ":30:00")}),
            "slot_start",
        ),
        (
            json!({"slot_start": "2026-11-17T07:00:00+08:00"}),
            "slot_start",
        ),
        (
            json!({"violations": [{"record_no": "1", "fine_yuan": -1, "points": 1}]}),
            "violations[0].fine_yuan",
        ),
        (
            json!({"violations": [{"record_no": "1", "fine_yuan": 1, "points": -1}]}),
            "violations[0].points",
        ),
        (json!({"violations": []}), "violations"),
        (json!({"current_points": -3}), "current_points"),
        (
            json!({"urgent": {"kind": "licence", "registration_date": "2030-01-01"}}),
            "urgent.registration_date",
        ),
        (
            json!({"urgent": {"kind": "boat", "registration_date": "2020-01-01"}}),
            "urgent.kind",
        ),
    ];
    for (patch, field) in cases {
        let mut b = body(&brigade, &slot);
        for (k, v) in patch.as_object().unwrap() {
            b[k] = v.clone();
        }
        let e = expect_error(book(&app, &alice, b).await, 422, "invalid_field").await;
        assert_eq!(e["error"]["field"], field, "{e}");
    }
    assert!(my_bookings(&app, &alice).await.is_empty());
    assert_eq!(remaining(&app, &brigade, &slot).await, 4);
    let r = app.get("/api/v1/brigades/nope/slots", None).await;
    assert_eq!(r.status(), 404);
    let r = app
        .get(
            &format!("/api/v1/brigades/{brigade}/slots?from=2026-11-20&to=2026-11-17"),
            None,
        )
        .await;
    assert_eq!(r.status(), 422);
}

#[tokio::test]
async fn case_eligibility_refusals() {
    let app = TestApp::spawn().await;
    let (brigade, _, _) = app.login_officer().await;
    let (alice, _) = app.login_citizen("13800000001").await;
    let slot = at(17, 9);
    let cases: Vec<Value> = vec![
        json!({"violations": [{"record_no": "1", "fine_yuan": 201, "points": 1}]}),
        json!({"unhandled_count": 6}),
        json!({"current_points": 9, "violations": [{"record_no": "1", "fine_yuan": 200, "points": 3}]}),
        json!({"current_points": 6, "violations": [{"record_no": "1", "fine_yuan": 50, "points": 3},
            {"record_no": "2", "fine_yuan": 50, "points": 3}], "unhandled_count": 2}),
    ];
    for patch in cases {
        let mut b = body(&brigade, &slot);
        for (k, v) in patch.as_object().unwrap() {
            b[k] = v.clone();
        }
        expect_error(book(&app, &alice, b).await, 409, "ineligible_case").await;
    }
    assert!(my_bookings(&app, &alice).await.is_empty());
    assert_eq!(remaining(&app, &brigade, &slot).await, 4);
    let mut b = body(&brigade, &slot);
    b["current_points"] = json!(8);
    b["unhandled_count"] = json!(5);
    b["violations"] = json!([{"record_no": "1", "fine_yuan": 200, "points": 3}]);
    assert_eq!(book(&app, &alice, b).await.status(), 201);
}

#[tokio::test]
async fn one_active_booking_and_no_rebook_after_cancel() {
    let app = TestApp::spawn().await;
    let (brigade, _, _) = app.login_officer().await;
    let (other_brigade, _, _) = app.login_officer().await;
    let (alice, _) = app.login_citizen("13800000001").await;
    let r = book(&app, &alice, body(&brigade, &at(17, 9))).await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    expect_error(
        book(&app, &alice, body(&other_brigade, &at(18, 9))).await,
        409,
        "active_booking_exists",
    )
    .await;
    assert_eq!(my_bookings(&app, &alice).await.len(), 1);
    assert_eq!(
        app.delete(&format!("/api/v1/bookings/{id}"), Some(&alice))
            .await
            .status(),
        200
    );
    // Same brigade, same date, any slot: refused; nothing written.
    expect_error(
        book(&app, &alice, body(&brigade, &at(17, 15))).await,
        409,
        "rebook_after_cancel",
    )
    .await;
    assert_eq!(remaining(&app, &brigade, &at(17, 15)).await, 4);
    // Another date or another brigade is fine.
    assert_eq!(
        book(&app, &alice, body(&brigade, &at(18, 9)))
            .await
            .status(),
        201
    );
}

#[tokio::test]
async fn vehicle_driver_limit_counts_non_owners() {
    let app = TestApp::spawn().await;
    let (brigade, _, _) = app.login_officer().await;
    let people = citizens(&app, 5).await;
    for (i, (t, _)) in people.iter().take(3).enumerate() {
        let mut b = body(&brigade, &at(17, 9 + i as u32));
        b["phone"] = json!(phone(i));
        assert_eq!(book(&app, t, b).await.status(), 201);
    }
    let mut b = body(&brigade, &at(18, 9));
    b["phone"] = json!(phone(3));
    expect_error(
        book(&app, &people[3].0, b.clone()).await,
        409,
        "vehicle_driver_limit",
    )
    .await;
    assert!(my_bookings(&app, &people[3].0).await.is_empty());
    // The owner is not limited.
    b["owner"] = json!(true);
    assert_eq!(book(&app, &people[3].0, b).await.status(), 201);
    // Another plate is fine.
    let mut b = body(&brigade, &at(18, 10));
    b["phone"] = json!(phone(4));
    b["plate"] = json!("鲁B54321");
    assert_eq!(book(&app, &people[4].0, b).await.status(), 201);
}

#[tokio::test]
async fn first_booking_binds_the_phone() {
    let app = TestApp::spawn().await;
    let (brigade, _, _) = app.login_officer().await;
    // A citizen without a phone (e.g. WeChat login): `phone` is required.
    let people = citizens(&app, 2).await;
    let (t, _) = &people[0];
    let e = expect_error(
        book(&app, t, body(&brigade, &at(17, 9))).await,
        422,
        "invalid_field",
    )
    .await;
    assert_eq!(e["error"]["field"], "phone");
    let mut b = body(&brigade, &at(17, 9));
    b["phone"] = json!("+8613911112222");
    let r = book(&app, t, b).await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        app.delete(&format!("/api/v1/bookings/{id}"), Some(t))
            .await
            .status(),
        200
    );
    // Bound: a different phone is refused; the same or none is fine.
    let mut b = body(&brigade, &at(18, 9));
    b["phone"] = json!("13933334444");
    expect_error(
        book(&app, t, b.clone()).await,
        409,
        "phone_binding_immutable",
    )
    .await;
    assert!(
        my_bookings(&app, t)
            .await
            .iter()
            .all(|b| b["status"] == "cancelled")
    );
    b["phone"] = json!("13911112222");
    assert_eq!(book(&app, t, b).await.status(), 201);
    // A refused first booking binds nothing.
    let (t2, _) = &people[1];
    let mut b = body(&brigade, &at(16, 10));
    b["phone"] = json!("13955556666");
    expect_error(book(&app, t2, b).await, 409, "same_day_not_allowed").await;
    let mut b = body(&brigade, &at(18, 10));
    b["phone"] = json!("13977778888");
    assert_eq!(book(&app, t2, b).await.status(), 201);
    // SMS login: the login phone binds with the first booking.
    let (carol, _) = app.login_citizen("13800000003").await;
    let me: Value = app.get_json("/api/v1/auth/me", Some(&carol)).await;
    assert_eq!(me["phone_bound"], false);
    assert_eq!(
        book(&app, &carol, body(&brigade, &at(19, 9)))
            .await
            .status(),
        201
    );
    let me: Value = app.get_json("/api/v1/auth/me", Some(&carol)).await;
    assert_eq!(me["phone_bound"], true);
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

/// Sends all `(token, body)` bookings at once; returns how many were created and asserts that
/// every other answer is 409 `refusal`.
async fn race(app: &TestApp, requests: Vec<(String, Value)>, refusal: &'static str) -> usize {
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|(token, b)| {
            let (client, url) = (app.client.clone(), app.url("/api/v1/bookings"));
            tokio::spawn(async move {
                let r = client
                    .post(url)
                    .bearer_auth(token)
                    .json(&b)
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                let v: Value = r.json().await.unwrap_or(Value::Null);
                (
                    status,
                    v["error"]["code"].as_str().unwrap_or("").to_string(),
                )
            })
        })
        .collect();
    let mut created = 0;
    for t in tasks {
        match t.await.unwrap() {
            (201, _) => created += 1,
            (409, code) => assert_eq!(code, refusal),
            other => panic!("unexpected answer {other:?}"),
        }
    }
    created
}

#[tokio::test]
async fn two_hundred_concurrent_requests_for_ten_seats() {
    let app = TestApp::spawn().await;
    let brigade = remote_hearing::booking::admin::create_brigade(
        &app.state,
        &BrigadeSettings {
            name: Some("并发".into()),
            seats: Some(10),
            weekdays: Some("mon-sun".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let people = citizens(&app, 200).await;
    let slot = at(17, 9);
    let requests = people
        .into_iter()
        .enumerate()
        .map(|(i, (t, _))| {
            let mut b = body(&brigade, &slot);
            b["phone"] = json!(phone(i));
            b["owner"] = json!(true);
            (t, b)
        })
        .collect();
    let created = race(&app, requests, "slot_full").await;
    assert_eq!(created, 10);
    assert_eq!(remaining(&app, &brigade, &slot).await, 0);
    let (rows,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM bookings WHERE brigade_id = $1")
        .bind(&brigade)
        .fetch_one(&app.state.db.read)
        .await
        .unwrap();
    assert_eq!(rows, 10);
}

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
    let m = app.get("/metrics", None).await.text().await.unwrap();
    assert!(m.contains("bookings_total{outcome=\"booked\"}"), "{m}");
    assert!(
        m.contains("booking_refusals_total{code=\"active_booking_exists\"}"),
        "{m}"
    );
}

#[tokio::test]
async fn concurrent_non_owners_of_one_vehicle_stop_at_three() {
    let app = TestApp::spawn().await;
    let (brigade, _, _) = app.login_officer().await;
    let people = citizens(&app, 12).await;
    let requests = people
        .into_iter()
        .enumerate()
        .map(|(i, (t, _))| {
            let mut b = body(&brigade, &at(17, 9 + (i as u32 % 10)));
            b["phone"] = json!(phone(i));
            (t, b)
        })
        .collect();
    let created = race(&app, requests, "vehicle_driver_limit").await;
    assert_eq!(created, 3);
}

#[tokio::test]
async fn a_phone_bound_to_another_citizen_is_refused() {
    let app = TestApp::spawn().await;
    let (brigade, _, _) = app.login_officer().await;
    let (_alice, _) = app.login_citizen("13800000001").await;
    let people = citizens(&app, 1).await;
    let mut b = body(&brigade, &at(17, 9));
    b["phone"] = json!("13800000001");
    let e = expect_error(book(&app, &people[0].0, b).await, 409, "phone_in_use").await;
    assert_eq!(e["error"]["field"], "phone");
    assert!(my_bookings(&app, &people[0].0).await.is_empty());
    assert_eq!(remaining(&app, &brigade, &at(17, 9)).await, 4);
}
