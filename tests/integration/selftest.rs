//! The self-test (issue 14 §3): a Rust WebRTC client offers to the echo peer over
//! `POST /api/v1/selftest/echo`, sends the sample media and gets it back; one echo per user at
//! a time and a few a minute (429 with stable codes); bad and oversize offers are 4xx; the echo
//! closes by itself. The result is scored, kept with the booking, read by its citizen and the
//! officers of its brigade, and another citizen's booking is 404.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::{Value, json};

use crate::booking::{at, body, book};
use crate::call::rtc_client;
use crate::helpers::{TestApp, expect_error, expect_json};

async fn app(echo_s: u64) -> TestApp {
    TestApp::builder()
        .config(move |c| {
            c.call.include_loopback = true;
            c.call.bind_ips = vec!["127.0.0.1".into()];
            c.call.turn_urls = vec!["turn:turn.example.org:3478".into()];
            c.call.turn_secret = secrecy::SecretString::from("turn-secret");
            c.call.selftest.echo_s = echo_s;
            c.call.selftest.echoes_per_minute = 2;
        })
        .spawn()
        .await
}

/// A client's complete offer (gathering finished: the candidates are in the SDP).
async fn full_offer(cl: &rtc_client::Client) -> String {
    let offer = cl.pc.create_offer(None).await.unwrap();
    let mut done = cl.pc.gathering_complete_promise().await;
    cl.pc.set_local_description(offer).await.unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(5), done.recv()).await;
    cl.pc.local_description().await.unwrap().sdp
}

async fn echo(app: &TestApp, token: &str, sdp: &str) -> reqwest::Response {
    app.post("/api/v1/selftest/echo", Some(token), json!({ "sdp": sdp }))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_echo_peer_sends_the_media_back_within_its_limits() {
    let app = app(4).await;
    let (token, _) = app.login_citizen("13800138301").await;
    // the call's ICE servers, TURN credentials included
    let setup: Value = app.get_json("/api/v1/selftest", Some(&token)).await;
    assert_eq!(setup["echo_seconds"], 4);
    let turn = &setup["ice_servers"][0];
    assert_eq!(turn["urls"][0], "turn:turn.example.org:3478");
    assert!(turn["username"].as_str().is_some_and(|u| u.contains(':')));

    let mut cl = rtc_client::client("selftest").await;
    let sdp = full_offer(&cl).await;
    assert!(sdp.contains("a=candidate"), "a complete offer");
    let ans: Value = expect_json(echo(&app, &token, &sdp).await, 200).await;
    assert_eq!(ans["echo_seconds"], 4);
    assert!(ans["sdp"].as_str().unwrap().contains("a=candidate"));
    // while it runs, a second echo of the same user is refused
    let other = rtc_client::client("selftest-2").await;
    let sdp2 = full_offer(&other).await;
    let r = echo(&app, &token, &sdp2).await;
    assert!(r.headers().contains_key("retry-after"));
    expect_error(r, 429, "selftest_busy").await;
    let _ = other.pc.close().await;

    cl.answer(ans["sdp"].as_str().unwrap().to_owned()).await;
    cl.wait_connected(Duration::from_secs(10)).await;
    let media = Arc::new(rtc_client::load_media());
    let pump = cl.pump(media, Duration::from_secs(2));
    let _ = tokio::time::timeout(Duration::from_secs(10), pump).await;
    // what was sent comes back: audio and video, a keyframe among it
    let r = &cl.received;
    let mut got = (0, 0, 0);
    for _ in 0..50 {
        got = (
            r.audio_packets.load(Ordering::Relaxed),
            r.video_packets.load(Ordering::Relaxed),
            r.video_keyframes.load(Ordering::Relaxed),
        );
        if got.0 > 50 && got.1 > 30 && got.2 >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(got.0 > 50 && got.1 > 30 && got.2 >= 1, "echoed {got:?}");
    // the echo closes by itself (4 s) and frees the user's slot
    let mut running = usize::MAX;
    for _ in 0..100 {
        running = app.state.call.selftest_running.count();
        if running == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(running, 0, "the echo closed");
    let _ = cl.pc.close().await;

    // bad input: not SDP, garbage SDP, too large, unknown fields
    expect_error(echo(&app, &token, "hello").await, 400, "bad_sdp").await;
    let r = echo(&app, &token, "v=0\r\nthis is not an offer\r\n").await;
    expect_error(r, 400, "bad_sdp").await;
    let big = format!("v=0\r\na={}", "x".repeat(33_000));
    expect_error(echo(&app, &token, &big).await, 413, "sdp_too_large").await;
    let huge = format!("v=0\r\na={}", "x".repeat(50_000));
    expect_error(echo(&app, &token, &huge).await, 413, "body_too_large").await;
    let r = app
        .post(
            "/api/v1/selftest/echo",
            Some(&token),
            json!({"sdp": "v=0", "x": 1}),
        )
        .await;
    expect_error(r, 422, "invalid_field").await;
    // no session: 401
    expect_error(echo(&app, "nope", &sdp).await, 401, "unauthorized").await;
    // two echoes a minute: the first and the garbage offer counted; the next is throttled
    let last = rtc_client::client("selftest-3").await;
    let sdp3 = full_offer(&last).await;
    let r = echo(&app, &token, &sdp3).await;
    expect_error(r, 429, "selftest_throttled").await;
    let _ = last.pc.close().await;
}

fn report() -> Value {
    json!({"camera": "ok", "microphone": "ok", "speaker": "heard", "path": "relay_tcp",
        "candidate": "relay", "rtt_ms": 420, "loss_pct": 1.5, "up_kbps": 640, "down_kbps": 610})
}

#[tokio::test]
async fn the_result_is_kept_with_the_booking_for_its_officers() {
    let app = app(10).await;
    let (brigade, _, officer) = app.login_officer().await;
    let (_, _, other_officer) = app.login_officer().await;
    let (alice, _) = app.login_citizen("13800138302").await;
    let (bob, _) = app.login_citizen("13800138303").await;
    let b: Value = expect_json(book(&app, &alice, body(&brigade, &at(17, 9))).await, 201).await;
    let id = b["id"].as_str().unwrap();
    let path = format!("/api/v1/bookings/{id}/selftest");

    // nothing yet
    let list: Value = app.get_json(&path, Some(&officer)).await;
    assert_eq!(list, json!([]));
    let v: Value = expect_json(app.post(&path, Some(&alice), report()).await, 201).await;
    assert_eq!(v["score"], "okay");
    assert_eq!(v["advice"], json!(["high_delay"]));
    assert_eq!(v["report"]["path"], "relay_tcp");
    assert_eq!(v["booking_id"], id);
    let mut bad = report();
    bad["path"] = json!("failed");
    bad["speaker"] = json!("not_heard");
    let v2: Value = expect_json(app.post(&path, Some(&alice), bad).await, 201).await;
    assert_eq!(v2["score"], "bad");
    assert_eq!(v2["advice"], json!(["no_connection", "speaker_not_heard"]));

    // the officer of the brigade and the citizen read them, newest first
    for who in [&officer, &alice] {
        let list: Vec<Value> = app.get_json(&path, Some(who)).await;
        assert_eq!(list.len(), 2);
        assert_eq!(list[0]["id"], v2["id"]);
        assert_eq!(list[1]["report"]["rtt_ms"], 420);
    }
    // another citizen's booking, another brigade: 404, nothing written
    expect_error(
        app.post(&path, Some(&bob), report()).await,
        404,
        "not_found",
    )
    .await;
    expect_error(app.get(&path, Some(&bob)).await, 404, "not_found").await;
    expect_error(app.get(&path, Some(&other_officer)).await, 404, "not_found").await;
    let r = app
        .post("/api/v1/bookings/nope/selftest", Some(&alice), report())
        .await;
    expect_error(r, 404, "not_found").await;
    // an officer may read but not send
    expect_error(
        app.post(&path, Some(&officer), report()).await,
        403,
        "forbidden",
    )
    .await;
    // bad input: an unknown value, a figure out of range, an unknown field, too large
    let mut x = report();
    x["path"] = json!("carrier_pigeon");
    let e = expect_error(app.post(&path, Some(&alice), x).await, 422, "invalid_field").await;
    assert_eq!(e["error"]["field"], "path");
    let mut x = report();
    x["loss_pct"] = json!(250);
    let e = expect_error(app.post(&path, Some(&alice), x).await, 422, "invalid_field").await;
    assert_eq!(e["error"]["field"], "loss_pct");
    let mut x = report();
    x["extra"] = json!("y".repeat(5000));
    expect_error(
        app.post(&path, Some(&alice), x).await,
        413,
        "body_too_large",
    )
    .await;
    let list: Vec<Value> = app.get_json(&path, Some(&officer)).await;
    assert_eq!(list.len(), 2, "refused results are not kept");
}
