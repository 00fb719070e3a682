//! The call over a real socket: signalling (tokio-tungstenite), presence, limits, a WebRTC call
//! between two Rust peers through the server with recording, and the recordings API.

use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use remote_hearing::call::tokens;
use remote_hearing::identity::Role as StaffRole;
use serde_json::{Value, json};
use signaling::Role;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::helpers::TestApp;

#[path = "../../signaling/tests/common/mod.rs"]
pub(crate) mod rtc_client;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const T: Duration = Duration::from_secs(10);

async fn app() -> TestApp {
    TestApp::builder()
        .config(|c| {
            c.call.include_loopback = true;
            c.call.bind_ips = vec!["127.0.0.1".into()];
            c.call.stun_urls = vec!["stun:stun.example.org:3478".into()];
            c.call.turn_urls = vec!["turn:turn.example.org:3478".into()];
            c.call.turn_secret = secrecy::SecretString::from("turn-secret");
        })
        .spawn()
        .await
}

fn token(app: &TestApp, hearing: &str, role: Role, pid: &str) -> String {
    tokens::mint(&app.state, hearing, role, pid)
        .unwrap()
        .join_token
}

async fn open(app: &TestApp, hearing: &str) -> Ws {
    let url = format!("ws://{}/ws/hearings/{hearing}", app.addr);
    let (ws, _) = tokio::time::timeout(T, tokio_tungstenite::connect_async(url))
        .await
        .expect("connect in time")
        .expect("websocket");
    ws
}

async fn send(ws: &mut Ws, v: Value) {
    tokio::time::timeout(T, ws.send(Message::Text(v.to_string().into())))
        .await
        .unwrap()
        .unwrap();
}

/// The next JSON frame (skipping pings/pongs); panics on close.
async fn recv(ws: &mut Ws) -> Value {
    loop {
        let m = tokio::time::timeout(T, ws.next())
            .await
            .expect("frame in time")
            .expect("open")
            .expect("ok");
        match m {
            Message::Text(t) => return serde_json::from_str(t.as_str()).unwrap(),
            Message::Close(c) => panic!("closed: {c:?}"),
            _ => continue,
        }
    }
}

/// Reads until the close frame; returns its code.
async fn closed(ws: &mut Ws) -> u16 {
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

async fn join(app: &TestApp, hearing: &str, role: Role, pid: &str) -> (Ws, Value) {
    let mut ws = open(app, hearing).await;
    send(
        &mut ws,
        json!({"type": "join", "token": token(app, hearing, role, pid)}),
    )
    .await;
    let j = recv(&mut ws).await;
    (ws, j)
}

#[tokio::test]
async fn signalling_presence_hearing_push_and_leave() {
    let app = app().await;
    let (mut c, j) = join(&app, "h1", Role::Citizen, "cit-1").await;
    assert_eq!(j["type"], "joined");
    assert_eq!(j["role"], "citizen");
    assert_eq!(j["peer_present"], false);
    let ice = &j["ice_servers"];
    assert_eq!(ice[0]["urls"][0], "stun:stun.example.org:3478");
    let user = ice[1]["username"].as_str().unwrap();
    assert!(user.ends_with(":cit-1"), "{user}");
    assert_eq!(ice[1]["credential"].as_str().unwrap().len(), 28);

    let (mut o, j) = join(&app, "h1", Role::Officer, "off-1").await;
    assert_eq!(j["peer_present"], true);
    assert_eq!(
        recv(&mut c).await,
        json!({"type": "peer", "state": "joined"})
    );
    assert!(app.state.call.presence("h1").both_connected());

    app.state
        .call
        .push_hearing("h1", "in_call", Some("identity"));
    for ws in [&mut c, &mut o] {
        assert_eq!(
            recv(ws).await,
            json!({"type": "hearing", "status": "in_call", "step": "identity"})
        );
    }
    send(&mut c, json!({"type": "ping"})).await;
    assert_eq!(recv(&mut c).await, json!({"type": "pong"}));
    send(&mut c, json!({"type": "dance"})).await;
    assert_eq!(recv(&mut c).await["code"], "bad_frame");

    // the officer's socket drops without leave: reconnecting, then back with the same token
    drop(o);
    assert_eq!(
        recv(&mut c).await,
        json!({"type": "peer", "state": "reconnecting"})
    );
    let (mut o, j) = join(&app, "h1", Role::Officer, "off-1").await;
    assert_eq!(j["peer_present"], true);
    assert_eq!(
        recv(&mut c).await,
        json!({"type": "peer", "state": "joined"})
    );

    send(&mut o, json!({"type": "leave"})).await;
    assert_eq!(closed(&mut o).await, 1000);
    assert_eq!(recv(&mut c).await, json!({"type": "peer", "state": "left"}));
}

#[tokio::test]
async fn signalling_refuses_bad_tokens_big_frames_and_replaces_connections() {
    let app = app().await;
    // no token / forged / another hearing's token
    let mut ws = open(&app, "h2").await;
    send(&mut ws, json!({"type": "join", "token": "v1.e30.AAAA"})).await;
    assert_eq!(recv(&mut ws).await["code"], "token_invalid");
    assert_eq!(closed(&mut ws).await, 4003);
    let mut ws = open(&app, "h2").await;
    send(
        &mut ws,
        json!({"type": "join", "token": token(&app, "h1", Role::Citizen, "c")}),
    )
    .await;
    assert_eq!(recv(&mut ws).await["code"], "token_invalid");
    assert_eq!(closed(&mut ws).await, 4003);
    let mut ws = open(&app, "h2").await;
    send(&mut ws, json!({"type": "offer", "sdp": "v=0"})).await;
    assert_eq!(recv(&mut ws).await["code"], "join_required");
    // an expired token
    let t = token(&app, "h2", Role::Citizen, "c");
    app.clock.advance(chrono::Duration::hours(5));
    let mut ws = open(&app, "h2").await;
    send(&mut ws, json!({"type": "join", "token": t})).await;
    assert_eq!(recv(&mut ws).await["code"], "token_invalid");

    // a frame over 64 KiB closes with 1009
    let (mut c, _) = join(&app, "h2", Role::Citizen, "c").await;
    send(
        &mut c,
        json!({"type": "offer", "sdp": "a".repeat(70 * 1024)}),
    )
    .await;
    assert_eq!(closed(&mut c).await, u16::from(CloseCode::Size));

    // a second connection of the same participant replaces the first
    let (mut c1, _) = join(&app, "h2", Role::Citizen, "c").await;
    let (mut c2, j) = join(&app, "h2", Role::Citizen, "c").await;
    assert_eq!(j["type"], "joined");
    assert_eq!(recv(&mut c1).await["code"], "replaced");
    assert_eq!(closed(&mut c1).await, 4001);
    send(&mut c2, json!({"type": "ping"})).await;
    assert_eq!(recv(&mut c2).await["type"], "pong");

    // the hearing ends: sockets closed with 4009, tokens refused
    app.state.call.end_hearing("h2").await;
    assert_eq!(closed(&mut c2).await, 4009);
    let mut ws = open(&app, "h2").await;
    send(
        &mut ws,
        json!({"type": "join", "token": token(&app, "h2", Role::Citizen, "c")}),
    )
    .await;
    assert_eq!(recv(&mut ws).await["code"], "hearing_closed");
}

/// Wires one WebRTC client to the server through a signalling socket.
pub(crate) async fn call_client(
    app: &TestApp,
    hearing: &str,
    role: Role,
    pid: &str,
) -> (rtc_client::Client, tokio::task::JoinHandle<()>) {
    let (ws, j) = join(app, hearing, role, pid).await;
    assert_eq!(j["type"], "joined");
    rtc_over(ws, role).await
}

/// Wires one WebRTC client through an already joined signalling socket (offer, trickle ICE,
/// answer); the task drives the socket until it closes.
pub(crate) async fn rtc_over(
    mut ws: Ws,
    role: Role,
) -> (rtc_client::Client, tokio::task::JoinHandle<()>) {
    let mut cl = rtc_client::client(role.as_str()).await;
    let offer = cl.offer().await;
    send(&mut ws, json!({"type": "offer", "sdp": offer})).await;
    let mut cands = std::mem::replace(&mut cl.candidates, tokio::sync::mpsc::unbounded_channel().1);
    let pc = cl.pc.clone();
    let task = tokio::spawn(async move {
        loop {
            tokio::select! {
                c = cands.recv() => match c {
                    Some(c) => { let _ = ws.send(Message::Text(json!({"type": "candidate", "candidate": c.candidate,
                        "sdpMid": c.sdp_mid, "sdpMLineIndex": c.sdp_mline_index}).to_string().into())).await; }
                    None => return,
                },
                m = ws.next() => {
                    let Some(Ok(Message::Text(t))) = m else {
                        if matches!(m, Some(Ok(_))) { continue } else { return }
                    };
                    let v: Value = serde_json::from_str(t.as_str()).unwrap_or_default();
                    match v["type"].as_str() {
                        Some("answer") => {
                            let sdp = v["sdp"].as_str().unwrap_or_default().to_owned();
                            let desc = webrtc::peer_connection::sdp::session_description::RTCSessionDescription::answer(sdp).unwrap();
                            pc.set_remote_description(desc).await.unwrap();
                        }
                        Some("candidate") => {
                            let _ = pc.add_ice_candidate(webrtc::ice_transport::ice_candidate::RTCIceCandidateInit {
                                candidate: v["candidate"].as_str().unwrap_or_default().to_owned(),
                                sdp_mid: v["sdpMid"].as_str().map(str::to_owned),
                                sdp_mline_index: v["sdpMLineIndex"].as_u64().map(|i| i as u16),
                                username_fragment: None,
                            }).await;
                        }
                        _ => {}
                    }
                }
            }
        }
    });
    (cl, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webrtc_call_through_the_server_is_recorded_and_listed() {
    let app = app().await;
    let media = Arc::new(rtc_client::load_media());
    let (mut citizen, t1) = call_client(&app, "h3", Role::Citizen, "cit-3").await;
    let (mut officer, t2) = call_client(&app, "h3", Role::Officer, "off-3").await;
    citizen.wait_connected(Duration::from_secs(15)).await;
    officer.wait_connected(Duration::from_secs(15)).await;
    let p1 = citizen.pump(media.clone(), Duration::from_secs(3));
    let p2 = officer.pump(media.clone(), Duration::from_secs(3));
    let _ = tokio::time::timeout(Duration::from_secs(10), async { (p1.await, p2.await) }).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    for c in [&citizen, &officer] {
        let r = &c.received;
        assert!(r.audio_packets.load(std::sync::atomic::Ordering::Relaxed) > 100);
        assert!(r.video_packets.load(std::sync::atomic::Ordering::Relaxed) > 60);
        assert!(r.video_keyframes.load(std::sync::atomic::Ordering::Relaxed) >= 1);
    }
    app.state.call.end_hearing("h3").await;
    t1.abort();
    t2.abort();
    let _ = citizen.pc.close().await;
    let _ = officer.pc.close().await;

    // the recordings job indexes the finished segment
    app.create_staff(StaffRole::Auditor, "AUD-1", None).await;
    let auditor = app.login_staff("AUD-1").await;
    let mut list = Value::Null;
    for _ in 0..100 {
        list = app
            .get_json("/api/v1/hearings/h3/recordings", Some(&auditor))
            .await;
        if list.as_array().is_some_and(|a| a.len() == 9) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let items = list.as_array().expect("a list");
    // 4 captures, 4 playable copies, 2 WebM (one per participant), 1 manifest
    assert_eq!(items.len(), 11, "{list}");
    let manifest = items.iter().find(|i| i["kind"] == "manifest").unwrap();
    let m: Value = app
        .get_json(
            &format!("/api/v1/recordings/{}", manifest["id"].as_str().unwrap()),
            Some(&auditor),
        )
        .await;
    assert_eq!(m["hearing_id"], "h3");
    assert_eq!(m["tracks"].as_array().unwrap().len(), 4);
    // every listed file's digest matches the downloaded bytes and the manifest
    for it in items {
        let resp = app
            .get(
                &format!("/api/v1/recordings/{}", it["id"].as_str().unwrap()),
                Some(&auditor),
            )
            .await;
        assert_eq!(resp.status(), 200);
        let bytes = resp.bytes().await.unwrap();
        assert_eq!(bytes.len() as u64, it["bytes"].as_u64().unwrap());
        let digest = hex::encode(ring::digest::digest(&ring::digest::SHA256, &bytes));
        assert_eq!(digest, it["sha256"].as_str().unwrap());
        match it["format"].as_str().unwrap() {
            "ivf" => {
                assert!(recordings::ivf::parse_ivf(&bytes).is_some_and(|i| i.frames.len() > 30))
            }
            "ogg" => assert!(recordings::ogg::parse_ogg(&bytes).is_some_and(|p| p.len() > 100)),
            "webm" => {
                assert!(bytes.starts_with(&[0x1a, 0x45, 0xdf, 0xa3]), "EBML header");
                assert_eq!(it["kind"], "video");
            }
            _ => {}
        }
        if it["kind"] != "manifest" {
            let listed = m["tracks"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|t| t["files"].as_array().unwrap().clone())
                .chain(
                    m["playback"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|p| p["file"].clone()),
                );
            assert!(
                listed.into_iter().any(|f| f["sha256"] == it["sha256"]),
                "{it} not in the manifest"
            );
        }
    }
    // range requests
    let video = items.iter().find(|i| i["format"] == "ivf").unwrap();
    let r = app
        .client
        .get(app.url(&format!(
            "/api/v1/recordings/{}",
            video["id"].as_str().unwrap()
        )))
        .bearer_auth(&auditor)
        .header("range", "bytes=0-3")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(&r.bytes().await.unwrap()[..], b"DKIF");
    // the browsers' copy: video/webm, ranges (the <video> element seeks with them)
    let webm = items.iter().find(|i| i["format"] == "webm").unwrap();
    let r = app
        .client
        .get(app.url(&format!(
            "/api/v1/recordings/{}",
            webm["id"].as_str().unwrap()
        )))
        .bearer_auth(&auditor)
        .header("range", "bytes=0-3")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(r.headers()["content-type"], "video/webm");
    assert_eq!(&r.bytes().await.unwrap()[..], [0x1a, 0x45, 0xdf, 0xa3]);
    // at rest every file but the manifest is sealed with the hearing's key (issue 15 §3): the
    // bytes on disk are not the plaintext, a range in the middle is
    for it in items {
        let (rel,): (String,) = sqlx::query_as("SELECT rel_path FROM recordings WHERE id = $1")
            .bind(it["id"].as_str().unwrap())
            .fetch_one(&app.state.db.read)
            .await
            .unwrap();
        let head =
            recordings::sealed::read_header(&app.state.call.recordings_dir.join(rel)).unwrap();
        assert_eq!(
            recordings::sealed::is_sealed(&head),
            it["kind"] != "manifest",
            "{it}"
        );
    }
    let url = app.url(&format!(
        "/api/v1/recordings/{}",
        webm["id"].as_str().unwrap()
    ));
    let whole = app
        .client
        .get(url.clone())
        .bearer_auth(&auditor)
        .send()
        .await
        .unwrap();
    let whole = whole.bytes().await.unwrap();
    let (a, b) = (whole.len() / 3, whole.len() / 3 * 2);
    let r = app
        .client
        .get(url.clone())
        .bearer_auth(&auditor)
        .header("range", format!("bytes={a}-{b}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(r.bytes().await.unwrap(), whole.slice(a..=b));
    let r = app
        .client
        .get(url)
        .bearer_auth(&auditor)
        .header("range", format!("bytes={}-", whole.len()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 416);
    // citizens may not list; unknown ids are 404
    let (cit, _) = app.login_citizen("13800138000").await;
    assert_eq!(
        app.get("/api/v1/hearings/h3/recordings", Some(&cit))
            .await
            .status(),
        403
    );
    assert_eq!(
        app.get("/api/v1/recordings/nope", Some(&auditor))
            .await
            .status(),
        404
    );
}
