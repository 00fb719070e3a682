//! Seats under concurrency: many requests for few seats, non-owners of one vehicle.

use remote_hearing::booking::admin::BrigadeSettings;
use serde_json::{Value, json};

use super::{at, body, citizens, phone, remaining};
use crate::helpers::TestApp;

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
