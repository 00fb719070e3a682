//! Two server processes on one database and one Redis prefix (the scale-out of
//! docs/architecture.md): a hearing's call lives on the process where it was first joined, a
//! socket landing elsewhere gets `wrong_node` with that process's URL (close 4010), steps and
//! the end of the hearing decided on the other process reach the call over the Redis bus,
//! officer events cross processes, a stopped or dead process's hearings are taken over, and a
//! process that never saw a closed hearing refuses joins from the database.

use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::hearing::{STEPS, World, Ws, body_of, hearing_frame, wait_status, world_with, ws_join};
use crate::helpers::TestApp;

const T: Duration = Duration::from_secs(10);
/// Short claims so that renewal and expiry are observable in a test.
const TTL_MS: u64 = 1500;

fn tweak(c: &mut remote_hearing::config::Config) {
    c.hearing.presence_poll_ms = 50;
    c.call.media_enabled = false;
    c.call.node_ttl_ms = TTL_MS;
}

async fn bus_ready(app: &TestApp) {
    let mut rx = app.state.call.bus_ready.subscribe();
    tokio::time::timeout(T, rx.wait_for(|r| *r))
        .await
        .expect("call bus subscribed")
        .unwrap();
}

/// A world (hearing fixtures on process A) and a second process B beside it.
async fn two() -> (World, TestApp) {
    let w = world_with(tweak).await;
    let b = TestApp::builder()
        .peer_of(&w.app)
        .config(tweak)
        .spawn()
        .await;
    bus_ready(&w.app).await;
    bus_ready(&b).await;
    assert_ne!(w.app.state.call.node.id, b.state.call.node.id);
    (w, b)
}

fn ws_url(app: &TestApp, id: &str) -> String {
    format!("ws://{}/ws/hearings/{id}", app.addr)
}

/// Connects to `url`, sends `join`, returns the socket and the first frame.
async fn join_at(url: &str, token: &Value) -> (Ws, Value) {
    let (mut ws, _) = tokio::time::timeout(T, tokio_tungstenite::connect_async(url))
        .await
        .expect("connect in time")
        .expect("websocket");
    let join = json!({"type": "join", "token": token}).to_string();
    ws.send(Message::Text(join.into())).await.unwrap();
    let first = next_text(&mut ws).await.expect("a frame before close");
    (ws, first)
}

/// The next JSON frame; `None` at close.
async fn next_text(ws: &mut Ws) -> Option<Value> {
    loop {
        match tokio::time::timeout(T, ws.next())
            .await
            .expect("frame in time")
        {
            Some(Ok(Message::Text(t))) => return Some(serde_json::from_str(t.as_str()).unwrap()),
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
            Some(Ok(_)) => continue,
        }
    }
}

/// Reads until the close frame; returns its code.
async fn close_code(ws: &mut Ws) -> u16 {
    loop {
        match tokio::time::timeout(T, ws.next())
            .await
            .expect("close in time")
        {
            Some(Ok(Message::Close(Some(c)))) => return u16::from(c.code),
            Some(Ok(Message::Close(None))) | None | Some(Err(_)) => return 0,
            Some(Ok(_)) => continue,
        }
    }
}

/// The officer's join grant, minted by `app`.
async fn officer_grant(w: &World, app: &TestApp, id: &str) -> Value {
    let r = app
        .post(
            &format!("/api/v1/hearings/{id}/join-token"),
            Some(&w.officer),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn claim_value(app: &TestApp, id: &str) -> Option<String> {
    let key = remote_hearing::call::nodes::key(&app.state, id);
    redis::cmd("GET")
        .arg(key)
        .query_async(&mut app.state.kv.conn())
        .await
        .unwrap()
}

/// An officer SSE stream on `app`, read until `ready`.
async fn events(
    w: &World,
    app: &TestApp,
) -> impl futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin {
    let resp = app
        .client
        .get(app.url("/api/v1/officer/events"))
        .bearer_auth(&w.officer)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mut stream = Box::pin(resp.bytes_stream());
    let mut seen = String::new();
    while !seen.contains("event: ready") {
        let chunk = tokio::time::timeout(T, stream.next()).await.unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk.unwrap().unwrap()));
    }
    stream
}

/// Reads the SSE stream until every `needle` was seen; returns what was read.
async fn read_until(
    stream: &mut (impl futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin),
    needles: &[&str],
) -> String {
    let mut seen = String::new();
    while !needles.iter().all(|n| seen.contains(n)) {
        let chunk = tokio::time::timeout(T, stream.next())
            .await
            .unwrap_or_else(|_| panic!("{needles:?} not in {seen}"));
        seen.push_str(&String::from_utf8_lossy(&chunk.unwrap().unwrap()));
    }
    seen
}

#[tokio::test]
async fn the_other_process_redirects_relays_steps_and_forwards_events() {
    let (w, b) = two().await;
    let a = &w.app;
    let id = w.open().await["id"].as_str().unwrap().to_string();
    let mut sse_b = events(&w, &b).await;
    let cg: Value = w.join_with_sms_code(&id).await.json().await.unwrap();
    let mut c = ws_join(a, &cg).await;
    let held = claim_value(a, &id).await.expect("claimed");
    assert!(held.starts_with(&a.state.call.node.id), "{held}");

    // A grant minted by B points at A; an officer who lands on B anyway is sent to A.
    let og = officer_grant(&w, &b, &id).await;
    assert_eq!(og["ws_url"], ws_url(a, &id));
    let (mut o, err) = join_at(&ws_url(&b, &id), &og["join_token"]).await;
    assert_eq!(err["type"], "error");
    assert_eq!(err["code"], "wrong_node", "{err}");
    assert_eq!(err["node_url"], ws_url(a, &id));
    assert_eq!(close_code(&mut o).await, 4010);
    let (mut o, j) = join_at(err["node_url"].as_str().unwrap(), &og["join_token"]).await;
    assert_eq!(j["type"], "joined", "{j}");
    wait_status(&w, &id, "in_call").await;
    // A's presence events reach the officer's stream on B.
    read_until(
        &mut sse_b,
        &["event: citizen_joined", "event: call_started", &id],
    )
    .await;

    // A step accepted by B reaches both sockets on A; one accepted by A too (fast path).
    let r = b
        .post(
            &format!("/api/v1/hearings/{id}/steps"),
            Some(&w.officer),
            w.body_for(&id, "identity").await,
        )
        .await;
    assert_eq!(r.status(), 200);
    for ws in [&mut c, &mut o] {
        let f = hearing_frame(ws).await;
        assert_eq!(
            (f["status"].as_str(), f["step"].as_str()),
            (Some("in_call"), Some("identity"))
        );
    }
    w.ok_step(&id, body_of("inquiry")).await;
    assert_eq!(hearing_frame(&mut c).await["step"], "inquiry");
    read_until(&mut sse_b, &["\"step\":\"inquiry\""]).await;
    // B's presence watcher left the call alone (it has no room for it).
    let v = wait_status(&w, &id, "in_call").await;
    let names: Vec<&str> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["step"].as_str().unwrap())
        .collect();
    assert!(!names.contains(&"interrupted"), "{names:?}");
    assert_eq!(b.state.call.hub.room_count(), 0);
}

#[tokio::test]
async fn a_stopped_or_dead_process_hands_its_hearings_over() {
    let (mut w, b) = two().await;
    let id = w.open().await["id"].as_str().unwrap().to_string();
    let cg: Value = w.join_with_sms_code(&id).await.json().await.unwrap();
    let mut c = ws_join(&w.app, &cg).await;
    let og = officer_grant(&w, &b, &id).await;
    // Renewed while the room lives: still A's after more than one TTL.
    let until = Instant::now() + Duration::from_millis(TTL_MS * 3 / 2);
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (mut o, err) = join_at(&ws_url(&b, &id), &og["join_token"]).await;
    assert_eq!(err["code"], "wrong_node", "{err}");
    assert_eq!(close_code(&mut o).await, 4010);

    // A stops: its sockets are told to reconnect (1012) and its claim is released.
    w.app.shutdown().await;
    assert_eq!(close_code(&mut c).await, 1012);
    assert_eq!(claim_value(&b, &id).await, None);
    let (_c, j) = join_at(&ws_url(&b, &id), &cg["join_token"]).await;
    assert_eq!(j["type"], "joined", "{j}");
    let (_o, j) = join_at(&ws_url(&b, &id), &og["join_token"]).await;
    assert_eq!(j["type"], "joined", "{j}");
    let held = claim_value(&b, &id).await.unwrap();
    assert!(held.starts_with(&b.state.call.node.id), "{held}");

    // A dead process's claim (never renewed) is taken over once it expires.
    let stale = "h-stale";
    let key = remote_hearing::call::nodes::key(&b.state, stale);
    let _: () = redis::cmd("SET")
        .arg(&key)
        .arg("dead-node http://127.0.0.1:9")
        .arg("PX")
        .arg(800)
        .query_async(&mut b.state.kv.conn())
        .await
        .unwrap();
    let token = remote_hearing::call::tokens::mint(&b.state, stale, signaling::Role::Citizen, "c")
        .unwrap()
        .join_token;
    let (mut s, err) = join_at(&ws_url(&b, stale), &json!(token)).await;
    assert_eq!(err["code"], "wrong_node");
    assert_eq!(err["node_url"], "ws://127.0.0.1:9/ws/hearings/h-stale");
    assert_eq!(close_code(&mut s).await, 4010);
    let deadline = Instant::now() + T;
    loop {
        let (_s, j) = join_at(&ws_url(&b, stale), &json!(token)).await;
        if j["type"] == "joined" {
            break;
        }
        assert_eq!(j["code"], "wrong_node", "{j}");
        assert!(Instant::now() < deadline, "the stale claim never expired");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn closing_on_the_other_process_ends_the_call_and_a_fresh_process_refuses() {
    let (w, b) = two().await;
    let id = w.open().await["id"].as_str().unwrap().to_string();
    let cg: Value = w.join_with_sms_code(&id).await.json().await.unwrap();
    let mut c = ws_join(&w.app, &cg).await;
    let og = officer_grant(&w, &w.app, &id).await;
    let mut o = ws_join(&w.app, &og).await;
    wait_status(&w, &id, "in_call").await;
    // Every step goes through B; the hearing completes there.
    for s in STEPS {
        let token = if crate::hearing::is_citizen_step(s) {
            &w.citizen
        } else {
            &w.officer
        };
        let r = b
            .post(
                &format!("/api/v1/hearings/{id}/steps"),
                Some(token),
                w.body_for(&id, s).await,
            )
            .await;
        assert_eq!(r.status(), 200, "{s}");
        assert_eq!(hearing_frame(&mut c).await["step"], s);
    }
    // The call held by A ends: both sockets closed with 4009, A's room and claim gone.
    for ws in [&mut c, &mut o] {
        assert_eq!(close_code(ws).await, 4009);
    }
    let deadline = Instant::now() + T;
    while claim_value(&b, &id).await.is_some() || w.app.state.call.hub.room_count() > 0 {
        assert!(Instant::now() < deadline, "A kept the room or the claim");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A process that never saw the hearing refuses from the database.
    let fresh = TestApp::builder()
        .peer_of(&w.app)
        .config(tweak)
        .spawn()
        .await;
    let (mut s, err) = join_at(&ws_url(&fresh, &id), &cg["join_token"]).await;
    assert_eq!(err["code"], "hearing_closed", "{err}");
    assert_eq!(close_code(&mut s).await, 4009);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_call_is_sealed_by_its_process_when_the_other_closes_the_hearing() {
    use crate::call::{call_client, rtc_client};
    use std::sync::Arc;
    let w = world_with(|c| {
        tweak(c);
        c.call.media_enabled = true;
        c.call.include_loopback = true;
        c.call.bind_ips = vec!["127.0.0.1".into()];
    })
    .await;
    let b = TestApp::builder()
        .peer_of(&w.app)
        .config(tweak)
        .spawn()
        .await;
    bus_ready(&w.app).await;
    bus_ready(&b).await;
    let id = w.open().await["id"].as_str().unwrap().to_string();
    let (mut citizen, t1) = call_client(&w.app, &id, signaling::Role::Citizen, "cit").await;
    let (mut officer, t2) = call_client(&w.app, &id, signaling::Role::Officer, "off").await;
    citizen.wait_connected(T).await;
    officer.wait_connected(T).await;
    let media = Arc::new(rtc_client::load_media());
    let p1 = citizen.pump(media.clone(), Duration::from_secs(1));
    let p2 = officer.pump(media, Duration::from_secs(1));
    let _ = tokio::time::timeout(T, async { (p1.await, p2.await) }).await;
    wait_status(&w, &id, "in_call").await;
    // B closes the hearing (a disputed statement refers it).
    for s in crate::hearing::STEPS.into_iter().take(5) {
        let token = if crate::hearing::is_citizen_step(s) {
            &w.citizen
        } else {
            &w.officer
        };
        let r = b
            .post(
                &format!("/api/v1/hearings/{id}/steps"),
                Some(token),
                w.body_for(&id, s).await,
            )
            .await;
        assert_eq!(r.status(), 200, "{s}");
    }
    let body = json!({"step": "statement", "disputed": true, "text": "当时不是本人驾驶"});
    let r = b
        .post(
            &format!("/api/v1/hearings/{id}/steps"),
            Some(&w.citizen),
            body,
        )
        .await;
    assert_eq!(r.status(), 200);
    // A ends its room, finalises the segment, indexes it and seals it into the audit log.
    let deadline = Instant::now() + Duration::from_secs(30);
    let sealed = loop {
        let v: Value = b
            .get_json(&format!("/api/v1/hearings/{id}"), Some(&w.officer))
            .await;
        let events = v["events"].as_array().cloned().unwrap_or_default();
        if let Some(e) = events
            .into_iter()
            .find(|e| e["step"] == "recordings_sealed")
        {
            break e;
        }
        assert!(Instant::now() < deadline, "never sealed: {v}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(w.app.state.call.hub.room_count(), 0);
    let files: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM recordings WHERE hearing_id = $1")
        .bind(&id)
        .fetch_one(&b.state.db.read)
        .await
        .unwrap();
    assert_eq!(
        files, 11,
        "4 captures, 4 copies, 2 WebM, 1 manifest; sealed: {sealed}"
    );
    t1.abort();
    t2.abort();
    let _ = citizen.pc.close().await;
    let _ = officer.pc.close().await;
}
