//! Book, list, get and cancel: the citizen's ownership and the officers' views by brigade.

use serde_json::Value;

use super::{at, body, book, my_bookings, remaining};
use crate::helpers::{TestApp, expect_error, expect_json};

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
