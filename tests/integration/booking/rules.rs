//! Every booking rule's refusal code, with nothing written: dates, input, case eligibility,
//! one active booking, the vehicle's driver limit, the bound phone.

use remote_hearing::identity::Role;
use serde_json::{Value, json};

use super::{at, body, book, citizens, my_bookings, phone, remaining};
use crate::helpers::{TestApp, expect_error};

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
