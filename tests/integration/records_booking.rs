//! Booking from the system of record (issue 16): with `records.provider = "fake"` the citizen
//! picks record numbers and the fine, points, camera capture, the licence's points, the
//! unhandled count and the urgent expiry come from the platform; typed facts are refused; a
//! record another booking holds is refused; the platform down writes nothing. With `manual`
//! the typed path stays, flagged `facts_source: "citizen"`. The plate is the record's
//! (`plate_mismatch`), and a resumed booking never holds a record another booking claimed
//! while it was interrupted.

use serde_json::{Value, json};

use crate::{
    booking::{at, body, book, my_bookings, remaining},
    helpers::{TestApp, expect_error, expect_json},
    records::{A, B, C, app_with, give_identity, start_fake},
    records_writeback::{REC, records_world},
};

/// Seeded driver whose licence (first issued 2012-11-18) and vehicle 鲁A7Q208 (inspection due
/// 2026-11-18) expire within the urgent window of the tests' Monday 2026-11-16.
const D: &str = "370104199011200047";

/// The vehicle a seeded record was recorded on (tests/data/records-fake.json).
pub(crate) fn plate_of(record: &str) -> &'static str {
    match &record[..7] {
        "3701031" => "鲁AD67890",
        "3701121" => "鲁A3K521",
        "3701041" => "鲁A7Q208",
        _ => "鲁A12345",
    }
}

pub(crate) fn pick(brigade: &str, slot: &str, records: &[&str]) -> Value {
    let plate = records.first().map_or("鲁A12345", |r| plate_of(r));
    json!({"brigade_id": brigade, "slot_start": slot, "plate": plate, "record_nos": records})
}

#[tokio::test]
async fn a_booking_takes_the_platforms_facts_never_the_typed_ones() {
    let fake = start_fake().await;
    let app = app_with(fake.url.clone()).await;
    let brigade = app.create_brigade(5).await;
    let slot = at(17, 10);
    let (token, _) = app.login_citizen("13800138101").await;
    // No identity yet: the platform cannot be asked.
    let r = book(&app, &token, pick(&brigade, &slot, &["3701021000123456"])).await;
    expect_error(r, 409, "identity_missing").await;
    give_identity(&app, &token, A).await;

    // Typed facts are refused where the record decides.
    let r = book(&app, &token, body(&brigade, &slot)).await;
    let e = expect_error(r, 422, "invalid_field").await;
    assert_eq!(e["error"]["field"], "violations");
    let mut typed = pick(&brigade, &slot, &["3701021000123456"]);
    typed["current_points"] = json!(0);
    let e = expect_error(book(&app, &token, typed).await, 422, "invalid_field").await;
    assert_eq!(e["error"]["field"], "current_points");
    let e = expect_error(
        book(&app, &token, pick(&brigade, &slot, &["3701031000200001"])).await,
        422,
        "invalid_field",
    )
    .await;
    assert_eq!(e["error"]["field"], "record_nos", "another driver's record");

    // The plate is the record's, never a typed one: another vehicle is refused.
    let mut other_car = pick(&brigade, &slot, &["3701021000123456"]);
    other_car["plate"] = json!("鲁B54321");
    let e = expect_error(book(&app, &token, other_car).await, 422, "plate_mismatch").await;
    assert_eq!(e["error"]["field"], "plate");
    assert_eq!(e["error"]["params"]["record_no"], "3701021000123456");
    assert_eq!(e["error"]["params"]["record_plate"], "鲁A12345");

    // Ineligible by the record's facts: the fine, no camera, the licence's points.
    for (record, why) in [
        ("3701021000123457", "fine_over_limit"),
        ("3701021000123458", "not_camera_captured"),
        ("3701021000123459", "points_limit"),
    ] {
        let r = book(&app, &token, pick(&brigade, &slot, &[record])).await;
        let e = expect_error(r, 409, "ineligible_case").await;
        assert!(e.to_string().contains(why), "{record}: {e}");
    }
    assert_eq!(remaining(&app, &brigade, &slot).await, 5, "nothing written");

    let r = book(&app, &token, pick(&brigade, &slot, &["3701021000123456"])).await;
    let v: Value = expect_json(r, 201).await;
    assert_eq!(v["facts_source"], "records");
    assert_eq!(v["current_points"], 3);
    assert_eq!(v["unhandled_count"], 4);
    assert_eq!(v["violations"][0]["fine_yuan"], 100);
    assert_eq!(v["violations"][0]["points"], 3);
    assert_eq!(v["violations"][0]["behaviour"], "机动车违反禁止标线指示的");
    let first = v["id"].as_str().unwrap().to_string();

    // Another account of the same driver cannot pick a record the first booking holds.
    let (other, _) = app.login_citizen("13800138102").await;
    give_identity(&app, &other, A).await;
    let r = book(
        &app,
        &other,
        pick(&brigade, &at(18, 10), &["3701021000123456"]),
    )
    .await;
    let e = expect_error(r, 409, "record_already_booked").await;
    assert_eq!(e["error"]["params"]["record_no"], "3701021000123456");
    // Once the first is cancelled, the record is free again.
    let r = app
        .delete(&format!("/api/v1/bookings/{first}"), Some(&token))
        .await;
    assert_eq!(r.status(), 200);
    let r = book(
        &app,
        &other,
        pick(&brigade, &at(18, 10), &["3701021000123456"]),
    )
    .await;
    assert_eq!(r.status(), 201);

    // Six unhandled: nothing can be booked.
    let (third, _) = app.login_citizen("13800138103").await;
    give_identity(&app, &third, C).await;
    let r = book(&app, &third, pick(&brigade, &slot, &["3701121000300000"])).await;
    let e = expect_error(r, 409, "ineligible_case").await;
    assert!(e.to_string().contains("too_many_unhandled"), "{e}");
}

#[tokio::test]
async fn the_platform_down_at_booking_is_503_and_nothing_is_written() {
    let fake = start_fake().await;
    let app = app_with(fake.url.clone()).await;
    let brigade = app.create_brigade(5).await;
    let slot = at(17, 10);
    let (token, _) = app.login_citizen("13800138104").await;
    give_identity(&app, &token, B).await;
    fake.fault("status:503", 2).await;
    let r = book(&app, &token, pick(&brigade, &slot, &["3701031000200001"])).await;
    expect_error(r, 503, "records_unavailable").await;
    fake.fault("malformed", 1).await;
    let r = book(&app, &token, pick(&brigade, &slot, &["3701031000200001"])).await;
    expect_error(r, 502, "records_invalid").await;
    assert!(my_bookings(&app, &token).await.is_empty());
    assert_eq!(remaining(&app, &brigade, &slot).await, 5);
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM record_claims")
        .fetch_one(&app.state.db.read)
        .await
        .unwrap();
    assert_eq!(n, 0);
    // Back up: the same request books.
    let r = book(&app, &token, pick(&brigade, &slot, &["3701031000200001"])).await;
    assert_eq!(r.status(), 201);
}

#[tokio::test]
async fn the_urgent_expiry_comes_from_the_licence_and_vehicle_in_the_record() {
    let fake = start_fake().await;
    let app = app_with(fake.url.clone()).await;
    let brigade = app.create_brigade(5).await;
    let (token, _) = app.login_citizen("13800138105").await;
    give_identity(&app, &token, D).await;
    let urgent = |slot: &str, urgent: Value| {
        let mut b = pick(&brigade, slot, &["3701041000400001"]);
        b["plate"] = json!("鲁A7Q208");
        b["urgent"] = urgent;
        b
    };
    // A typed date is refused; the licence needs its file number.
    let r = book(
        &app,
        &token,
        urgent(
            &at(17, 10),
            json!({"kind": "licence", "registration_date": "2012-11-18"}),
        ),
    )
    .await;
    let e = expect_error(r, 422, "invalid_field").await;
    assert_eq!(e["error"]["field"], "urgent.registration_date");
    let r = book(
        &app,
        &token,
        urgent(&at(17, 10), json!({"kind": "licence"})),
    )
    .await;
    let e = expect_error(r, 422, "invalid_field").await;
    assert_eq!(e["error"]["field"], "urgent.licence_file_no");
    // The licence's first issue 2012-11-18: expiry 2026-11-18, within three days.
    let lic = json!({"kind": "licence", "licence_file_no": "370100456789"});
    let v: Value = expect_json(book(&app, &token, urgent(&at(17, 10), lic)).await, 201).await;
    assert_eq!(v["urgent"], true);
    assert_eq!(v["deadline"], "2026-11-18T23:59:59+08:00");
    let id = v["id"].as_str().unwrap();
    let r = app
        .delete(&format!("/api/v1/bookings/{id}"), Some(&token))
        .await;
    assert_eq!(r.status(), 200);
    // The vehicle's inspection due date in the record (2026-11-18).
    let insp = json!({"kind": "inspection", "plate_type": "02"});
    let v: Value = expect_json(book(&app, &token, urgent(&at(18, 10), insp)).await, 201).await;
    assert_eq!(v["urgent_kind"], "inspection");
    assert_eq!(v["deadline"], "2026-11-18T23:59:59+08:00");

    // Driver A's licence was first issued in April: not urgent by the record.
    let (a, _) = app.login_citizen("13800138106").await;
    give_identity(&app, &a, A).await;
    let mut b = pick(&brigade, &at(17, 11), &["3701021000123456"]);
    b["urgent"] = json!({"kind": "licence", "licence_file_no": "370100123456"});
    expect_error(book(&app, &a, b).await, 409, "not_urgent_eligible").await;
}

#[tokio::test]
async fn manual_keeps_the_typed_path_flagged_citizen() {
    let app = TestApp::spawn().await;
    let brigade = app.create_brigade(5).await;
    let (token, _) = app.login_citizen("13800138107").await;
    let r = book(&app, &token, pick(&brigade, &at(17, 10), &["3701001"])).await;
    expect_error(r, 409, "records_manual").await;
    let v: Value = expect_json(book(&app, &token, body(&brigade, &at(17, 10))).await, 201).await;
    assert_eq!(v["facts_source"], "citizen");
    assert_eq!(v["violations"][0]["fine_yuan"], 100);
}

async fn holder(app: &TestApp, record: &str) -> String {
    sqlx::query_scalar("SELECT booking_id FROM record_claims WHERE record_no = $1")
        .bind(record)
        .fetch_one(&app.state.db.read)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_resumed_booking_never_holds_a_record_another_booking_claimed_meanwhile() {
    let fake = start_fake().await;
    let w = records_world(&fake).await;
    let id = w.open().await["id"].as_str().unwrap().to_string();
    let (interrupt, resume) = (
        format!("/api/v1/hearings/{id}/interrupt"),
        format!("/api/v1/hearings/{id}/resume"),
    );
    let r = w
        .app
        .post(
            &interrupt,
            Some(&w.officer),
            json!({"reason": "technical_failure"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    // Interrupted, the booking freed its record: another booking of it goes through.
    let (other, _) = w.app.login_citizen("13800138111").await;
    give_identity(&w.app, &other, B).await;
    let r = book(&w.app, &other, pick(&w.brigade, &at(17, 11), &[REC])).await;
    let new: Value = expect_json(r, 201).await;
    let new_id = new["id"].as_str().unwrap().to_string();
    assert_eq!(holder(&w.app, REC).await, new_id);

    // The hearing cannot take the record back: refused, nothing written.
    let e = expect_error(
        w.app.post(&resume, Some(&w.officer), json!({})).await,
        409,
        "record_already_booked",
    )
    .await;
    assert_eq!(e["error"]["params"]["record_no"], REC);
    let h: Value = w
        .app
        .get_json(&format!("/api/v1/hearings/{id}"), Some(&w.officer))
        .await;
    assert_eq!(h["status"], "interrupted");
    assert_eq!(holder(&w.app, REC).await, new_id);

    // The new booking is cancelled: the resume takes the record back, and holds it.
    let r = w
        .app
        .delete(&format!("/api/v1/bookings/{new_id}"), Some(&other))
        .await;
    assert_eq!(r.status(), 200);
    let h: Value = expect_json(w.app.post(&resume, Some(&w.officer), json!({})).await, 200).await;
    assert_eq!(h["status"], "open");
    assert_eq!(holder(&w.app, REC).await, w.booking);
    let (third, _) = w.app.login_citizen("13800138112").await;
    give_identity(&w.app, &third, B).await;
    let r = book(&w.app, &third, pick(&w.brigade, &at(17, 12), &[REC])).await;
    expect_error(r, 409, "record_already_booked").await;
}
