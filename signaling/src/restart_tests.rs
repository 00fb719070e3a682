//! In-memory tests of ICE restarts over the signalling protocol (no network, virtual time):
//! `offer {ice_restart}` goes to the media room's `restart` (the keep-the-peer-connection path,
//! also from a new socket after a drop), a plain offer still goes to `offer`, and restarts are
//! limited to one per 2 s per seat across the seat's connections.

use std::time::Duration;

use crate::conn_tests::{Client, hub};
use crate::media::{MediaEngine, MediaEventSink, NoMedia};
use crate::msg::{Role, ServerMsg};

const RESTART: &str = r#"{"type":"offer","sdp":"v=0 again","ice_restart":true}"#;

fn code(m: ServerMsg) -> String {
    match m {
        ServerMsg::Error { code, .. } => code,
        other => panic!("expected error, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn restart_on_a_new_socket_goes_to_the_same_seat_and_is_rate_limited() {
    let (hub, log) = hub();
    let (c, _) = Client::join(&hub, "citizen").await;
    let (mut o, _) = Client::join(&hub, "officer").await;
    let mut c = c;
    c.text(r#"{"type":"offer","sdp":"v=0 first"}"#);
    loop {
        if let ServerMsg::Answer { sdp } = c.msg().await {
            assert_eq!(sdp, "answer-to-v=0 first");
            break;
        }
    }
    // the citizen's network breaks: its socket drops, it comes back on a new one within the
    // grace period and restarts ICE there
    drop(c);
    let _ = o.msg().await; // peer reconnecting
    let (mut c2, joined) = Client::join(&hub, "citizen").await;
    assert!(matches!(joined, ServerMsg::Joined { .. }), "{joined:?}");
    c2.text(RESTART);
    loop {
        match c2.msg().await {
            ServerMsg::Answer { sdp } => {
                assert_eq!(sdp, "restart-answer-to-v=0 again");
                break;
            }
            ServerMsg::Candidate(_) | ServerMsg::Peer { .. } => continue,
            other => panic!("{other:?}"),
        }
    }
    {
        let log = log.lock().unwrap();
        let restarts: Vec<_> = log.iter().filter(|l| l.starts_with("restart ")).collect();
        assert_eq!(restarts.len(), 1, "{log:?}");
        assert!(restarts[0].starts_with("restart citizen "), "{log:?}");
        let offers = log.iter().filter(|l| l.starts_with("offer ")).count();
        assert_eq!(offers, 1, "the restart must not reach `offer`: {log:?}");
    }
    // a second restart within 2 s, even from yet another socket: refused, not passed on
    tokio::time::sleep(Duration::from_millis(500)).await;
    c2.text(RESTART);
    assert_eq!(code(c2.msg().await), "rate_limited");
    drop(c2);
    let (mut c3, _) = Client::join(&hub, "citizen").await;
    c3.text(RESTART);
    assert_eq!(code(c3.msg().await), "rate_limited");
    // the other seat has its own allowance
    o.text(RESTART);
    loop {
        match o.msg().await {
            ServerMsg::Answer { .. } => break,
            ServerMsg::Peer { .. } | ServerMsg::Candidate(_) => continue,
            other => panic!("{other:?}"),
        }
    }
    // 2 s after the last accepted one: allowed again
    tokio::time::sleep(Duration::from_millis(1600)).await;
    c3.text(RESTART);
    loop {
        match c3.msg().await {
            ServerMsg::Answer { .. } => break,
            ServerMsg::Candidate(_) | ServerMsg::Peer { .. } => continue,
            other => panic!("{other:?}"),
        }
    }
    let log = log.lock().unwrap();
    assert_eq!(
        log.iter().filter(|l| l.starts_with("restart ")).count(),
        3,
        "{log:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn restart_without_a_media_engine_is_refused_with_a_code() {
    // `NoMedia` (and any engine without restarts) answers restart_unavailable, never panics
    let sink: MediaEventSink = std::sync::Arc::new(|_, _| {});
    let room = NoMedia.open_room("h", sink);
    let e = room
        .restart(Role::Citizen, 1, "v=0".into())
        .await
        .unwrap_err();
    assert_eq!(e.code, "restart_unavailable");
    // a malformed restart flag is a bad frame
    let (hub, _log) = hub();
    let (mut c, _) = Client::join(&hub, "citizen").await;
    c.text(r#"{"type":"offer","sdp":"v=0","ice_restart":"yes"}"#);
    assert_eq!(code(c.msg().await), "bad_frame");
}
