//! Urgent bookings and the Redis urgent lane through the HTTP API: the expiry rule, claim,
//! renew, release, an expired lease returning its item (MockClock), removal on cancel, the
//! rebuild after Redis loses the keys, the sweeper's alert, and the no-show job sparing a
//! claimed booking. The clock starts on Monday 2026-11-16 09:00 Asia/Shanghai.

use chrono::Duration;
use remote_hearing::identity::Role;
use serde_json::{Value, json};

use crate::{
    booking::{at, body, book, citizens, long_session, my_bookings, phone},
    helpers::{TestApp, expect_error, expect_json},
};

pub(crate) fn urgent(brigade: &str, slot: &str, reg: &str) -> Value {
    let mut b = body(brigade, slot);
    b["urgent"] = json!({"kind": "licence", "registration_date": reg});
    b
}

/// A second officer of `brigade`, logged in.
pub(crate) async fn officer_of(app: &TestApp, brigade: &str, badge: &str) -> (String, String) {
    let id = app.create_staff(Role::Officer, badge, Some(brigade)).await;
    (id, app.login_staff(badge).await)
}

pub(crate) async fn lane(app: &TestApp, officer: &str) -> Value {
    let r = app.get("/api/v1/urgent", Some(officer)).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

pub(crate) async fn new_urgent(
    app: &TestApp,
    token: &str,
    brigade: &str,
    slot: &str,
    reg: &str,
) -> String {
    let r = book(app, token, urgent(brigade, slot, reg)).await;
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn urgent_expiry_rule() {
    let app = TestApp::spawn().await;
    let (brigade, _, _) = app.login_officer().await;
    let people = citizens(&app, 4).await;
    let with_phone = |i: usize, mut b: Value| {
        b["phone"] = json!(phone(i));
        b
    };
    // Expiry today: may book today's later slot; the deadline is the end of today.
    let r = book(
        &app,
        &people[0].0,
        with_phone(0, urgent(&brigade, &at(16, 15), "2015-11-16")),
    )
    .await;
    let b: Value = expect_json(r, 201).await;
    assert_eq!(b["urgent"], true);
    assert_eq!(b["deadline"], "2026-11-16T23:59:59+08:00");
    assert_eq!(b["urgent_kind"], "licence");
    // Expiry in 4 days: refused, nothing written.
    let (t, _) = &people[1];
    let e = book(
        &app,
        t,
        with_phone(1, urgent(&brigade, &at(16, 15), "2015-11-20")),
    )
    .await;
    expect_error(e, 409, "not_urgent_eligible").await;
    // The slot must start before the deadline (expiry tomorrow, slot the day after).
    let e = book(
        &app,
        t,
        with_phone(1, urgent(&brigade, &at(18, 9), "2015-11-17")),
    )
    .await;
    expect_error(e, 409, "not_urgent_eligible").await;
    // Past anniversary: the next one is a year away.
    let e = book(
        &app,
        t,
        with_phone(1, urgent(&brigade, &at(16, 15), "2015-11-15")),
    )
    .await;
    expect_error(e, 409, "not_urgent_eligible").await;
    // Started slot: slot_in_past comes first.
    let e = book(
        &app,
        t,
        with_phone(1, urgent(&brigade, &at(16, 9), "2015-11-16")),
    )
    .await;
    expect_error(e, 409, "slot_in_past").await;
    assert!(my_bookings(&app, t).await.is_empty());
    // Expiry in 3 days (inspection): accepted, deadline on the 19th.
    let mut b = with_phone(1, urgent(&brigade, &at(18, 9), "2015-11-19"));
    b["urgent"]["kind"] = json!("inspection");
    let r = book(&app, t, b).await;
    assert_eq!(r.status(), 201);
    assert_eq!(
        r.json::<Value>().await.unwrap()["deadline"],
        "2026-11-19T23:59:59+08:00"
    );
}

#[tokio::test]
async fn claim_renew_release_and_cancel() {
    let app = TestApp::spawn().await;
    let (brigade, o1_id, o1) = app.login_officer().await;
    let (o2_id, o2) = officer_of(&app, &brigade, "880002").await;
    let (_, _, stranger) = app.login_officer().await;
    let (alice, _) = app.login_citizen("13800000001").await;
    let (bob, _) = app.login_citizen("13800000002").await;
    let later = new_urgent(&app, &alice, &brigade, &at(16, 15), "2015-11-17").await;
    let sooner = new_urgent(&app, &bob, &brigade, &at(16, 16), "2015-11-16").await;

    let l = lane(&app, &o1).await;
    assert_eq!(l["depth"], 2);
    assert_eq!(l["items"][0]["booking_id"], sooner);
    assert_eq!(l["items"][0]["deadline"], "2026-11-16T23:59:59+08:00");
    assert_eq!(l["items"][1]["booking_id"], later);
    // Each item carries its own booking (the case the officer reads in the lane).
    for (i, id) in [(0, &sooner), (1, &later)] {
        assert_eq!(l["items"][i]["booking"]["id"], *id, "{l}");
    }
    assert_eq!(lane(&app, &stranger).await["depth"], 0);

    // Claims take the earliest deadline first; an empty lane answers 204.
    let r = app.post("/api/v1/urgent/claim", Some(&o1), json!({})).await;
    let c: Value = expect_json(r, 200).await;
    assert_eq!(c["booking_id"], sooner);
    assert_eq!(c["lease_until"], "2026-11-16T09:05:00+08:00");
    let c2: Value = app
        .post_json("/api/v1/urgent/claim", Some(&o2), json!({}))
        .await;
    assert_eq!(c2["booking_id"], later);
    assert_eq!(
        app.post("/api/v1/urgent/claim", Some(&o1), json!({}))
            .await
            .status(),
        204
    );
    let l = lane(&app, &o1).await;
    assert_eq!(l["items"][0]["claimed_by"], o1_id);
    assert_eq!(l["items"][1]["claimed_by"], o2_id);
    let h = remote_hearing::booking::urgent::holder(&app.state, &sooner)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(h.officer_id, o1_id);

    // Only the holder renews or releases.
    let path = |id: &str, what: &str| format!("/api/v1/urgent/{id}/{what}");
    expect_error(
        app.post(&path(&sooner, "renew"), Some(&o2), json!({}))
            .await,
        409,
        "claim_not_held",
    )
    .await;
    expect_error(
        app.post(&path(&sooner, "release"), Some(&o2), json!({}))
            .await,
        409,
        "claim_not_held",
    )
    .await;
    app.clock.advance(Duration::minutes(4));
    let r: Value = app
        .post_json(&path(&sooner, "renew"), Some(&o1), json!({}))
        .await;
    assert_eq!(r["lease_until"], "2026-11-16T09:09:00+08:00");
    assert_eq!(
        app.post(&path(&sooner, "release"), Some(&o1), json!({}))
            .await
            .status(),
        204
    );
    let l = lane(&app, &o1).await;
    assert!(l["items"][0].get("claimed_by").is_none(), "{l}");
    assert_eq!(l["waiting"], 1);

    // Cancelling takes it off the lane.
    assert_eq!(
        app.delete(&format!("/api/v1/bookings/{sooner}"), Some(&bob))
            .await
            .status(),
        200
    );
    let l = lane(&app, &o1).await;
    assert_eq!(l["depth"], 1);
    assert_eq!(l["items"][0]["booking_id"], later);
    // The hearing module's removal.
    assert!(
        remote_hearing::booking::urgent::remove(&app.state, &later)
            .await
            .unwrap()
    );
    assert_eq!(lane(&app, &o1).await["depth"], 0);
    expect_error(
        app.post("/api/v1/urgent/claim", Some(&alice), json!({}))
            .await,
        403,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn an_expired_lease_returns_its_item() {
    let app = TestApp::spawn().await;
    let (brigade, _, o1) = app.login_officer().await;
    let (o2_id, o2) = officer_of(&app, &brigade, "880003").await;
    let (alice, _) = app.login_citizen("13800000001").await;
    let id = new_urgent(&app, &alice, &brigade, &at(16, 15), "2015-11-17").await;
    let c: Value = app
        .post_json("/api/v1/urgent/claim", Some(&o1), json!({}))
        .await;
    assert_eq!(c["booking_id"], id);
    assert_eq!(
        app.post("/api/v1/urgent/claim", Some(&o2), json!({}))
            .await
            .status(),
        204
    );
    // The lease (300 s) runs out without a renewal.
    app.clock.advance(Duration::seconds(300));
    let l = lane(&app, &o2).await;
    assert_eq!(l["waiting"], 1, "{l}");
    assert!(l["items"][0].get("claimed_by").is_none());
    assert!(
        remote_hearing::booking::urgent::holder(&app.state, &id)
            .await
            .unwrap()
            .is_none()
    );
    expect_error(
        app.post(&format!("/api/v1/urgent/{id}/renew"), Some(&o1), json!({}))
            .await,
        409,
        "claim_not_held",
    )
    .await;
    let c: Value = app
        .post_json("/api/v1/urgent/claim", Some(&o2), json!({}))
        .await;
    assert_eq!(c["booking_id"], id);
    assert_eq!(lane(&app, &o1).await["items"][0]["claimed_by"], o2_id);
}

#[tokio::test]
async fn redis_loss_is_repaired_by_the_rebuild() {
    // The sweeper job's own rebuild (urgent_loss.rs) is kept out of the way: one check a minute.
    let app = TestApp::builder()
        .config(|c| c.booking.lane_check_ms = 60_000)
        .spawn()
        .await;
    let (brigade, _, officer) = app.login_officer().await;
    app.create_staff(Role::Admin, "900555", None).await;
    let admin = app.login_staff("900555").await;
    let (alice, _) = app.login_citizen("13800000001").await;
    let (bob, _) = app.login_citizen("13800000002").await;
    let a = new_urgent(&app, &alice, &brigade, &at(16, 15), "2015-11-17").await;
    let b = new_urgent(&app, &bob, &brigade, &at(16, 16), "2015-11-18").await;
    assert_eq!(lane(&app, &officer).await["depth"], 2);

    // Lose every key of this app (its own prefix only: other tests share the server).
    let mut conn = app.state.kv.conn();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}:*", app.state.kv.prefix()))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(!keys.is_empty());
    let _: i64 = redis::cmd("DEL")
        .arg(&keys)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(lane(&app, &officer).await["depth"], 0);

    let r = app
        .post("/api/v1/admin/urgent/rebuild", Some(&admin), json!({}))
        .await;
    let r: Value = expect_json(r, 200).await;
    assert_eq!(
        (
            r["added"].as_u64(),
            r["restored"].as_u64(),
            r["dropped"].as_u64()
        ),
        (Some(2), Some(0), Some(0))
    );
    let l = lane(&app, &officer).await;
    let ids: Vec<&str> = l["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["booking_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [a.as_str(), b.as_str()]);
    assert_eq!(l["items"][1]["deadline"], "2026-11-18T23:59:59+08:00");
    // Idempotent; officers may not rebuild.
    let r: Value = app
        .post_json("/api/v1/admin/urgent/rebuild", Some(&admin), json!({}))
        .await;
    assert_eq!(r["added"], 0);
    expect_error(
        app.post("/api/v1/admin/urgent/rebuild", Some(&officer), json!({}))
            .await,
        403,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn sweeper_alerts_once_near_the_deadline() {
    let app = TestApp::spawn().await;
    let (brigade, _, _) = app.login_officer().await;
    let (alice, _) = app.login_citizen("13800000001").await;
    new_urgent(&app, &alice, &brigade, &at(16, 19), "2015-11-16").await;
    let alerts = || async {
        let m = app.metrics().await;
        m.lines()
            .find(|l| l.starts_with("urgent_deadline_alerts_total") && l.contains(&brigade))
            .and_then(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    remote_hearing::booking::urgent::sweep_once(&app.state)
        .await
        .unwrap();
    assert_eq!(alerts().await, 0.0);
    let m = app.metrics().await;
    assert!(
        m.lines().any(|l| l.starts_with("urgent_queue_depth")
            && l.contains(&brigade)
            && l.ends_with(" 1")),
        "{m}"
    );
    // Two hours before the end of the day.
    app.clock.set(
        chrono::DateTime::parse_from_rfc3339("2026-11-16T22:00:00+08:00")
            .unwrap()
            .to_utc(),
    );
    remote_hearing::booking::urgent::sweep_once(&app.state)
        .await
        .unwrap();
    remote_hearing::booking::urgent::sweep_once(&app.state)
        .await
        .unwrap();
    assert_eq!(alerts().await, 1.0);
}

#[tokio::test]
async fn no_show_job_spares_a_claimed_urgent_booking() {
    let app = TestApp::builder()
        .config(|c| c.booking.lease_s = 6 * 3600)
        .spawn()
        .await;
    let (brigade, officer_id, _) = app.login_officer().await;
    let officer = long_session(&app, "officer", &officer_id).await;
    let (alice, _) = app.login_citizen("13800000001").await;
    let (bob, _) = app.login_citizen("13800000002").await;
    let claimed = new_urgent(&app, &alice, &brigade, &at(16, 10), "2015-11-16").await;
    let c: Value = app
        .post_json("/api/v1/urgent/claim", Some(&officer), json!({}))
        .await;
    assert_eq!(c["booking_id"], claimed);
    let free = new_urgent(&app, &bob, &brigade, &at(16, 10), "2015-11-17").await;
    app.clock.set(
        chrono::DateTime::parse_from_rfc3339("2026-11-16T11:16:00+08:00")
            .unwrap()
            .to_utc(),
    );
    assert_eq!(
        remote_hearing::booking::jobs::mark_overdue(&app.state)
            .await
            .unwrap(),
        1
    );
    let status = |id: String| {
        let (app, officer) = (&app, officer.clone());
        async move {
            app.get_json::<Value>(&format!("/api/v1/bookings/{id}"), Some(&officer))
                .await["status"]
                .clone()
        }
    };
    assert_eq!(status(claimed.clone()).await, "booked");
    // Never opened by the brigade: missed, not a no-show (issue 12 §5).
    assert_eq!(status(free.clone()).await, "missed_by_brigade");
    // The missed booking left the lane; the claimed one stays.
    let l = lane(&app, &officer).await;
    assert_eq!(l["depth"], 1);
    assert_eq!(l["items"][0]["booking_id"], claimed);
}
