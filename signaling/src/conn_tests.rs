//! In-memory tests of the connection protocol and presence (no network, virtual time).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use futures::channel::mpsc::{UnboundedReceiver, UnboundedSender, unbounded};
use tokio::task::JoinHandle;

use crate::conn::{Ended, Frame, JoinGrant, JoinRefused, JoinVerifier, ReadError, serve};
use crate::media::{MediaEngine, MediaError, MediaEvent, MediaEventSink, MediaRoom};
use crate::msg::{Candidate, PeerState, Role, ServerMsg};
use crate::room::{Hub, HubConfig, Participant};

struct Tokens;

#[async_trait]
impl JoinVerifier for Tokens {
    async fn verify(&self, hearing_id: &str, token: &str) -> Result<JoinGrant, JoinRefused> {
        let (role, h) = token
            .split_once(':')
            .ok_or(JoinRefused::new("token_invalid", "bad"))?;
        let role = Role::parse(role).ok_or(JoinRefused::new("token_invalid", "bad"))?;
        let _ = hearing_id;
        Ok(JoinGrant {
            participant: Participant {
                hearing_id: h.to_owned(),
                role,
                participant_id: format!("{}-1", role.as_str()),
            },
            ice_servers: vec![],
        })
    }
}

#[derive(Default)]
struct FakeMedia {
    log: Arc<Mutex<Vec<String>>>,
}

struct FakeRoom {
    log: Arc<Mutex<Vec<String>>>,
    events: MediaEventSink,
}

impl MediaEngine for FakeMedia {
    fn open_room(&self, hearing_id: &str, events: MediaEventSink) -> Arc<dyn MediaRoom> {
        self.log.lock().unwrap().push(format!("open {hearing_id}"));
        Arc::new(FakeRoom {
            log: self.log.clone(),
            events,
        })
    }
}

#[async_trait]
impl MediaRoom for FakeRoom {
    async fn offer(
        &self,
        role: Role,
        _: &str,
        conn: u64,
        sdp: String,
    ) -> Result<String, MediaError> {
        self.log
            .lock()
            .unwrap()
            .push(format!("offer {} {conn}", role.as_str()));
        (self.events)(
            role,
            MediaEvent::LocalCandidate(Candidate {
                candidate: "candidate:srv".into(),
                sdp_mid: Some("0".into()),
                sdp_mline_index: Some(0),
                username_fragment: None,
            }),
        );
        Ok(format!("answer-to-{sdp}"))
    }
    async fn restart(&self, role: Role, conn: u64, sdp: String) -> Result<String, MediaError> {
        let r = format!("restart {} {conn}", role.as_str());
        self.log.lock().unwrap().push(r);
        Ok(format!("restart-answer-to-{sdp}"))
    }
    async fn candidate(&self, role: Role, _: u64, c: Candidate) -> Result<(), MediaError> {
        self.log
            .lock()
            .unwrap()
            .push(format!("cand {} {}", role.as_str(), c.candidate));
        Ok(())
    }
    async fn remove(&self, role: Role) {
        self.log
            .lock()
            .unwrap()
            .push(format!("remove {}", role.as_str()));
    }
    async fn close(&self) {
        self.log.lock().unwrap().push("close".into());
    }
}

/// The transport's "frame over my limit" read error.
pub(crate) struct TooLarge;

impl ReadError for TooLarge {
    fn too_large(&self) -> bool {
        true
    }
}

pub(crate) struct Client {
    tx: UnboundedSender<Result<Frame, TooLarge>>,
    rx: UnboundedReceiver<Frame>,
    task: JoinHandle<Ended>,
}

impl Client {
    fn connect(hub: &Arc<Hub>, hearing: &str) -> Client {
        let (tx, in_rx) = unbounded();
        let (out_tx, rx) = unbounded();
        let task = tokio::spawn(serve(
            out_tx,
            in_rx,
            hub.clone(),
            Arc::new(Tokens),
            hearing.to_owned(),
        ));
        Client { tx, rx, task }
    }
    pub(crate) async fn join(hub: &Arc<Hub>, role: &str) -> (Client, ServerMsg) {
        let mut c = Client::connect(hub, "h1");
        c.text(&format!(r#"{{"type":"join","token":"{role}:h1"}}"#));
        let m = c.msg().await;
        (c, m)
    }
    fn too_large(&self) {
        let _ = self.tx.unbounded_send(Err(TooLarge));
    }
    pub(crate) fn text(&self, s: &str) {
        let _ = self.tx.unbounded_send(Ok(Frame::Text(s.to_owned())));
    }
    async fn frame(&mut self) -> Frame {
        loop {
            let f = tokio::time::timeout(Duration::from_secs(300), self.rx.next())
                .await
                .expect("timed out waiting for a frame")
                .expect("socket closed");
            if !matches!(f, Frame::Ping(_)) {
                return f;
            }
        }
    }
    pub(crate) async fn msg(&mut self) -> ServerMsg {
        match self.frame().await {
            Frame::Text(t) => serde_json::from_str(&t).expect("server frame parses"),
            other => panic!("expected text, got {other:?}"),
        }
    }
    pub(crate) async fn closed_with(&mut self) -> u16 {
        loop {
            match self.frame().await {
                Frame::Close(Some((code, _))) => return code,
                Frame::Close(None) => return 0,
                _ => continue,
            }
        }
    }
    /// Waits `secs` of virtual time, pinging every 5 s so that the socket stays alive.
    async fn idle(&mut self, secs: u64) {
        for _ in 0..secs / 5 {
            tokio::time::sleep(Duration::from_secs(5)).await;
            self.text(r#"{"type":"ping"}"#);
            assert_eq!(self.msg().await, ServerMsg::Pong);
        }
    }

    pub(crate) async fn ended(self) -> Ended {
        drop(self.tx);
        tokio::time::timeout(Duration::from_secs(300), self.task)
            .await
            .expect("task end timed out")
            .expect("task panicked")
    }
}

pub(crate) fn hub() -> (Arc<Hub>, Arc<Mutex<Vec<String>>>) {
    let media = FakeMedia::default();
    let log = media.log.clone();
    (Hub::new(HubConfig::default(), Arc::new(media)), log)
}

fn peer(m: ServerMsg) -> PeerState {
    match m {
        ServerMsg::Peer { state } => state,
        other => panic!("expected peer, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn join_presence_and_leave() {
    let (hub, log) = hub();
    let (mut c, j) = Client::join(&hub, "citizen").await;
    assert!(matches!(
        j,
        ServerMsg::Joined {
            role: Role::Citizen,
            peer_present: false,
            ..
        }
    ));
    let (mut o, j) = Client::join(&hub, "officer").await;
    assert!(matches!(
        j,
        ServerMsg::Joined {
            role: Role::Officer,
            peer_present: true,
            ..
        }
    ));
    assert_eq!(peer(c.msg().await), PeerState::Joined);
    assert!(hub.presence("h1").both_connected());

    assert_eq!(hub.push_hearing("h1", "in_call", Some("identity")), 2);
    for cl in [&mut c, &mut o] {
        assert_eq!(
            cl.msg().await,
            ServerMsg::Hearing {
                status: "in_call".into(),
                step: Some("identity".into())
            }
        );
    }
    c.text(r#"{"type":"ping"}"#);
    assert_eq!(c.msg().await, ServerMsg::Pong);

    o.text(r#"{"type":"leave"}"#);
    assert_eq!(o.closed_with().await, 1000);
    assert_eq!(o.ended().await, Ended::Left);
    assert_eq!(peer(c.msg().await), PeerState::Left);
    c.text(r#"{"type":"leave"}"#);
    assert_eq!(c.ended().await, Ended::Left);
    assert_eq!(hub.room_count(), 0);
    tokio::time::sleep(Duration::from_millis(10)).await;
    let _ = log;
}

#[tokio::test(start_paused = true)]
async fn drop_grace_and_rejoin() {
    let (hub, log) = hub();
    let (mut c, _) = Client::join(&hub, "citizen").await;
    let (o, _) = Client::join(&hub, "officer").await;
    assert_eq!(peer(c.msg().await), PeerState::Joined);
    // the officer's socket dies without leave
    assert!(matches!(o.ended().await, Ended::Dropped(_)));
    assert_eq!(peer(c.msg().await), PeerState::Reconnecting);
    // comes back within the grace period (the citizen keeps its socket alive meanwhile)
    c.idle(60).await;
    let (o2, j) = Client::join(&hub, "officer").await;
    assert!(matches!(
        j,
        ServerMsg::Joined {
            peer_present: true,
            ..
        }
    ));
    assert_eq!(peer(c.msg().await), PeerState::Joined);
    // drops again and stays away: after 120 s the citizen sees left
    assert!(matches!(o2.ended().await, Ended::Dropped(_)));
    assert_eq!(peer(c.msg().await), PeerState::Reconnecting);
    let _ = (&log, c);
}

#[tokio::test(start_paused = true)]
async fn grace_expiry_reports_left() {
    let (hub, log) = hub();
    let (mut c, _) = Client::join(&hub, "citizen").await;
    let (o, _) = Client::join(&hub, "officer").await;
    assert_eq!(peer(c.msg().await), PeerState::Joined);
    assert!(matches!(o.ended().await, Ended::Dropped(_)));
    assert_eq!(peer(c.msg().await), PeerState::Reconnecting);
    // keep the citizen alive with pings while the grace period runs out
    let mut saw_left = false;
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_secs(5)).await;
        c.text(r#"{"type":"ping"}"#);
        loop {
            match c.msg().await {
                ServerMsg::Pong => break,
                ServerMsg::Peer {
                    state: PeerState::Left,
                } => saw_left = true,
                other => panic!("unexpected {other:?}"),
            }
        }
        if saw_left {
            break;
        }
    }
    assert!(saw_left);
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert!(log.lock().unwrap().iter().all(|l| l != "close"));
}

#[tokio::test(start_paused = true)]
async fn second_connection_replaces_the_first() {
    let (hub, _) = hub();
    let (mut c1, _) = Client::join(&hub, "citizen").await;
    let (mut o, _) = Client::join(&hub, "officer").await;
    assert_eq!(peer(c1.msg().await), PeerState::Joined);
    let (_c2, j) = Client::join(&hub, "citizen").await;
    assert!(matches!(
        j,
        ServerMsg::Joined {
            peer_present: true,
            ..
        }
    ));
    assert!(matches!(c1.msg().await, ServerMsg::Error { code, .. } if code == "replaced"));
    assert_eq!(c1.closed_with().await, 4001);
    assert!(matches!(c1.ended().await, Ended::Closed(4001, _)));
    // the officer saw no flicker: nothing queued for it
    o.text(r#"{"type":"ping"}"#);
    assert_eq!(o.msg().await, ServerMsg::Pong);
    assert!(hub.presence("h1").both_connected());
}

#[tokio::test(start_paused = true)]
async fn join_is_required_first_and_checked() {
    let (hub, _) = hub();
    let mut c = Client::connect(&hub, "h1");
    c.text(r#"{"type":"ping"}"#);
    assert!(matches!(c.msg().await, ServerMsg::Error { code, .. } if code == "join_required"));
    assert_eq!(c.closed_with().await, 1008);

    let mut c = Client::connect(&hub, "h1");
    c.text(r#"{"type":"join","token":"nonsense"}"#);
    assert!(matches!(c.msg().await, ServerMsg::Error { code, .. } if code == "token_invalid"));
    assert_eq!(c.closed_with().await, 4003);

    // a token for another hearing
    let mut c = Client::connect(&hub, "h2");
    c.text(r#"{"type":"join","token":"citizen:h1"}"#);
    assert!(matches!(c.msg().await, ServerMsg::Error { code, .. } if code == "token_invalid"));

    let mut c = Client::connect(&hub, "h1");
    assert!(matches!(c.msg().await, ServerMsg::Error { code, .. } if code == "join_timeout"));
    assert_eq!(c.closed_with().await, 4008);
    assert_eq!(c.ended().await, Ended::NoJoin("timeout"));
}

#[tokio::test(start_paused = true)]
async fn bad_frames_get_errors_then_abuse_closes() {
    let (hub, _) = hub();
    let (mut c, _) = Client::join(&hub, "citizen").await;
    c.text("{not json");
    assert!(matches!(c.msg().await, ServerMsg::Error { code, .. } if code == "bad_frame"));
    c.text(r#"{"type":"dance"}"#);
    assert!(matches!(c.msg().await, ServerMsg::Error { code, .. } if code == "bad_frame"));
    c.text(r#"{"type":"join","token":"citizen:h1"}"#);
    assert!(matches!(c.msg().await, ServerMsg::Error { code, .. } if code == "already_joined"));
    for _ in 0..20 {
        c.text("garbage");
    }
    assert_eq!(c.closed_with().await, 1008);
    assert!(matches!(c.ended().await, Ended::Closed(1008, _)));
}

#[tokio::test(start_paused = true)]
async fn oversized_frame_closes_1009() {
    let (hub, _) = hub();
    let (mut c, _) = Client::join(&hub, "citizen").await;
    c.text(&"x".repeat(70 * 1024));
    assert_eq!(c.closed_with().await, 1009);
}

/// A frame the transport refused for its size (over 1 MiB, say) closes with 1009 too, before
/// and after the join, instead of dropping the connection.
#[tokio::test(start_paused = true)]
async fn transport_size_error_closes_1009() {
    let (hub, _) = hub();
    let mut c = Client::connect(&hub, "h1");
    c.too_large();
    assert_eq!(c.closed_with().await, 1009);
    assert_eq!(c.ended().await, Ended::NoJoin("too_big"));
    let (mut c, _) = Client::join(&hub, "citizen").await;
    c.too_large();
    assert_eq!(c.closed_with().await, 1009);
    assert!(matches!(c.ended().await, Ended::Closed(1009, _)));
}

#[tokio::test(start_paused = true)]
async fn rate_limit_answers_then_closes() {
    let (hub, _) = hub();
    let (mut c, _) = Client::join(&hub, "citizen").await;
    for _ in 0..200 {
        c.text(r#"{"type":"ping"}"#);
    }
    let mut pongs = 0;
    let mut limited = 0;
    loop {
        match c.frame().await {
            Frame::Text(t) if t.contains("pong") => pongs += 1,
            Frame::Text(t) if t.contains("rate_limited") => limited += 1,
            Frame::Text(t) if t.contains("abuse") => {}
            Frame::Close(Some((code, _))) => {
                assert_eq!(code, 1008);
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(pongs, 60);
    assert!(limited >= 1);
}

#[tokio::test(start_paused = true)]
async fn silent_peer_is_dropped_within_15s() {
    let (hub, _) = hub();
    let (mut c, _) = Client::join(&hub, "citizen").await;
    let start = tokio::time::Instant::now();
    let mut pings = 0;
    loop {
        let f = tokio::time::timeout(Duration::from_secs(60), c.rx.next())
            .await
            .unwrap()
            .unwrap();
        match f {
            Frame::Ping(_) => pings += 1,
            Frame::Close(Some((1001, _))) => break,
            other => panic!("{other:?}"),
        }
    }
    assert!(pings >= 2);
    assert!(start.elapsed() <= Duration::from_secs(16));
    assert_eq!(c.ended().await, Ended::Dropped("heartbeat_timeout"));
}

#[tokio::test(start_paused = true)]
async fn offer_and_candidates_reach_media() {
    let (hub, log) = hub();
    let (mut c, _) = Client::join(&hub, "citizen").await;
    c.text(r#"{"type":"candidate","candidate":"candidate:cli","sdpMid":"0","sdpMLineIndex":0}"#);
    c.text(r#"{"type":"offer","sdp":"v=0 offer"}"#);
    let mut got_answer = false;
    let mut got_cand = false;
    while !(got_answer && got_cand) {
        match c.msg().await {
            ServerMsg::Answer { sdp } => {
                assert_eq!(sdp, "answer-to-v=0 offer");
                got_answer = true
            }
            ServerMsg::Candidate(cand) => {
                assert_eq!(cand.candidate, "candidate:srv");
                got_cand = true
            }
            other => panic!("{other:?}"),
        }
    }
    c.text(r#"{"type":"leave"}"#);
    assert_eq!(c.ended().await, Ended::Left);
    tokio::time::sleep(Duration::from_millis(10)).await;
    let log = log.lock().unwrap().clone();
    assert_eq!(log[0], "open h1");
    assert!(log.contains(&"cand citizen candidate:cli".to_owned()));
    assert!(log.contains(&"close".to_owned()), "{log:?}");
}

#[tokio::test(start_paused = true)]
async fn end_hearing_closes_both() {
    let (hub, log) = hub();
    let (mut c, _) = Client::join(&hub, "citizen").await;
    let (mut o, _) = Client::join(&hub, "officer").await;
    assert_eq!(peer(c.msg().await), PeerState::Joined);
    c.text(r#"{"type":"offer","sdp":"x"}"#);
    while !matches!(c.msg().await, ServerMsg::Answer { .. }) {}
    hub.end_hearing("h1").await;
    assert_eq!(o.closed_with().await, 4009);
    assert_eq!(c.closed_with().await, 4009);
    let log = log.lock().unwrap().clone();
    assert!(log.contains(&"close".to_owned()), "{log:?}");
    assert_eq!(hub.room_count(), 0);
}
