//! The urgent lane when Redis loses it (issue 20, finding 4): a flush (simulated by deleting
//! every key under the app's own prefix — other tests share the server), and an outage of a
//! private `redis-server` during which an urgent booking is accepted. The sweeper job must
//! rebuild on its own within seconds, give the claim of a booking in a hearing back to the
//! hearing's officer, and never hand that booking to another officer.

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use chrono::Duration as Span;
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::{
    booking::at,
    helpers::{TestApp, expect_error, expect_json},
    urgent::{new_urgent, officer_of},
};

/// Deletes every key under the app's prefix: what a FLUSHALL looks like to the app.
async fn wipe(app: &TestApp) {
    let mut conn = app.state.kv.conn();
    let pattern = format!("{}:*", app.state.kv.prefix());
    let mut cursor = 0u64;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut conn)
            .await
            .unwrap();
        if !keys.is_empty() {
            let _: i64 = redis::cmd("DEL")
                .arg(&keys)
                .query_async(&mut conn)
                .await
                .unwrap();
        }
        if next == 0 {
            break;
        }
        cursor = next;
    }
}

/// Polls `GET /api/v1/urgent` until `ok` holds (a non-200 answer counts as not yet), for at
/// most 15 s; returns the last lane.
async fn wait_lane(app: &TestApp, officer: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let r = app.get("/api/v1/urgent", Some(officer)).await;
        let last = if r.status() == 200 {
            r.json::<Value>().await.unwrap()
        } else {
            json!({"status": r.status().as_u16()})
        };
        if ok(&last) || Instant::now() > deadline {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn ids(lane: &Value) -> Vec<String> {
    lane["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|i| i["booking_id"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn claimed_by<'a>(lane: &'a Value, id: &str) -> Option<&'a str> {
    lane["items"]
        .as_array()?
        .iter()
        .find(|i| i["booking_id"] == id)?["claimed_by"]
        .as_str()
}

#[tokio::test]
async fn a_flushed_lane_comes_back_with_the_hearings_claims() {
    let app = TestApp::spawn().await;
    let (brigade, o1_id, o1) = app.login_officer().await;
    let (_, o2) = officer_of(&app, &brigade, "880021").await;
    let (_, o3) = officer_of(&app, &brigade, "880022").await;
    let (alice, _) = app.login_citizen("13800000001").await;
    let (bob, _) = app.login_citizen("13800000002").await;
    let (carol, _) = app.login_citizen("13800000003").await;
    let heard = new_urgent(&app, &alice, &brigade, &at(16, 15), "2015-11-16").await;
    let b = new_urgent(&app, &bob, &brigade, &at(16, 16), "2015-11-17").await;
    let c = new_urgent(&app, &carol, &brigade, &at(16, 17), "2015-11-18").await;
    // o1 claims the earliest and opens its hearing; o2 claims the next.
    let cl: Value = app
        .post_json("/api/v1/urgent/claim", Some(&o1), json!({}))
        .await;
    assert_eq!(cl["booking_id"], heard);
    assert_eq!(app.open_hearing(&o1, &heard).await.status(), 201);
    let cl: Value = app
        .post_json("/api/v1/urgent/claim", Some(&o2), json!({}))
        .await;
    assert_eq!(cl["booking_id"], b);

    wipe(&app).await;
    // The sweeper job sees the loss and rebuilds: every active urgent booking is back, and the
    // booking in a hearing is claimed by the hearing's officer.
    let l = wait_lane(&app, &o1, |l| {
        l["depth"] == 3 && claimed_by(l, &heard) == Some(o1_id.as_str())
    })
    .await;
    assert_eq!(l["depth"], 3, "{l}");
    assert_eq!(ids(&l).len(), 3, "{l}");
    assert_eq!(claimed_by(&l, &heard), Some(o1_id.as_str()), "{l}");
    // The hearing's officer still holds the claim: renewing works.
    let r = app
        .post(
            &format!("/api/v1/urgent/{heard}/renew"),
            Some(&o1),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    expect_error(
        app.post(
            &format!("/api/v1/urgent/{heard}/release"),
            Some(&o3),
            json!({}),
        )
        .await,
        409,
        "claim_not_held",
    )
    .await;
    // Another officer gets the waiting ones, never the booking in a hearing — not even once
    // the hearing officer's lease has lapsed.
    app.clock.advance(Span::seconds(301));
    let mut got = vec![];
    for _ in 0..4 {
        let r = app.post("/api/v1/urgent/claim", Some(&o3), json!({})).await;
        if r.status() == 204 {
            break;
        }
        let v: Value = expect_json(r, 200).await;
        got.push(v["booking_id"].as_str().unwrap().to_string());
    }
    got.sort();
    let mut want = vec![b.clone(), c.clone()];
    want.sort();
    assert_eq!(got, want);
    let l = wait_lane(&app, &o1, |_| true).await;
    assert_eq!(claimed_by(&l, &heard), Some(o1_id.as_str()), "{l}");
    let h = remote_hearing::booking::urgent::holder(&app.state, &heard)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(h.officer_id, o1_id);
}

/// A `redis-server` of the test's own on a free port, with its data in a temporary directory.
struct PrivateRedis {
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl PrivateRedis {
    async fn start() -> PrivateRedis {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut r = PrivateRedis {
            port,
            dir: tempfile::tempdir().unwrap(),
            child: None,
        };
        r.spawn().await;
        r
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts the server (loading the dump a `stop` saved) and waits until it answers.
    async fn spawn(&mut self) {
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--save", "", "--appendonly", "no", "--dir"])
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server on PATH (scripts/deps.sh installs it)");
        self.child = Some(child);
        let client = redis::Client::open(self.url()).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(mut c) = client.get_multiplexed_async_connection().await {
                let pong: Result<String, _> = redis::cmd("PING").query_async(&mut c).await;
                if pong.is_ok() {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "private redis-server did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Saves the data and stops the server (a restart keeps the lane and its marker).
    async fn stop(&mut self) {
        let client = redis::Client::open(self.url()).unwrap();
        let mut c = client.get_multiplexed_async_connection().await.unwrap();
        let _: Result<(), _> = redis::cmd("SHUTDOWN").arg("SAVE").query_async(&mut c).await;
        if let Some(mut child) = self.child.take() {
            let deadline = Instant::now() + Duration::from_secs(10);
            while child.try_wait().unwrap().is_none() {
                assert!(Instant::now() < deadline, "redis-server did not stop");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[tokio::test]
async fn an_urgent_booking_accepted_while_redis_is_down_reaches_the_lane() {
    let mut redis = PrivateRedis::start().await;
    let url = redis.url();
    let app = TestApp::builder()
        .config(move |c| c.redis.url = SecretString::from(url))
        .spawn()
        .await;
    let (brigade, _, officer) = app.login_officer().await;
    let (alice, _) = app.login_citizen("13800000001").await;
    let (bob, _) = app.login_citizen("13800000002").await;
    let first = new_urgent(&app, &alice, &brigade, &at(16, 15), "2015-11-17").await;
    let l = wait_lane(&app, &officer, |l| l["depth"] == 1).await;
    assert_eq!(ids(&l), std::slice::from_ref(&first));

    // Redis goes away (its data saved); an urgent booking is accepted meanwhile (the database
    // is the truth), then Redis comes back with the lane as it was, marker included.
    redis.stop().await;
    let during = new_urgent(&app, &bob, &brigade, &at(16, 16), "2015-11-16").await;
    redis.spawn().await;

    let l = wait_lane(&app, &officer, |l| l["depth"] == 2).await;
    assert_eq!(ids(&l), [during, first], "{l}");
}
