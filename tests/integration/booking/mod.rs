//! Booking through the HTTP API: the helpers the booking, hearing and urgent tests share; one
//! file per area below. The clock starts on Monday 2026-11-16 09:00 Asia/Shanghai
//! (helpers::default_now).

mod admin;
mod fate;
mod no_show;
mod ownership;
mod rules;
mod seats;
mod writer;

use serde_json::{Value, json};

use crate::helpers::TestApp;

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
