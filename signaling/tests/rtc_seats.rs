//! Seats, not pairs: three real WebRTC clients (citizen, officer, interpreter) in one call
//! through the server-side peers. Each offers two media slots and must receive both other
//! seats' audio and video (told apart by stream id); the recording has one capture per
//! participant and track and one WebM per participant.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use signaling::media::{MediaEngine, MediaEvent, MediaRoom};
use signaling::rtc::RtcEngine;
use signaling::{Candidate, Role};
use tokio::sync::mpsc;
use webrtc::ice_transport::ice_candidate::RTCIceCandidateInit;
use webrtc::rtp_transceiver::RTCRtpTransceiverInit;
use webrtc::rtp_transceiver::rtp_codec::RTPCodecType;
use webrtc::rtp_transceiver::rtp_transceiver_direction::RTCRtpTransceiverDirection;

use common::{Client, client, load_media, server_config};

const SEATS: [Role; 3] = [Role::Citizen, Role::Officer, Role::Interpreter];

/// A media room whose local candidates go to one channel per seat.
fn open(
    engine: &RtcEngine,
    hearing: &str,
) -> (
    Arc<dyn MediaRoom>,
    HashMap<Role, mpsc::UnboundedReceiver<Candidate>>,
) {
    let (mut txs, mut rxs) = (HashMap::new(), HashMap::new());
    for r in SEATS {
        let (tx, rx) = mpsc::unbounded_channel();
        txs.insert(r, tx);
        rxs.insert(r, rx);
    }
    let room = engine.open_room(
        hearing,
        Arc::new(move |role: Role, ev| {
            if let (MediaEvent::LocalCandidate(c), Some(tx)) = (ev, txs.get(&role)) {
                let _ = tx.send(c);
            }
        }),
    );
    (room, rxs)
}

/// A client with `extra` receive-only audio and video slots beyond its sendrecv pair.
async fn seat_client(role: Role, extra: usize) -> Client {
    let c = client(role.as_str()).await;
    for _ in 0..extra {
        for kind in [RTPCodecType::Audio, RTPCodecType::Video] {
            let init = RTCRtpTransceiverInit {
                direction: RTCRtpTransceiverDirection::Recvonly,
                send_encodings: vec![],
            };
            c.pc.add_transceiver_from_kind(kind, Some(init))
                .await
                .unwrap();
        }
    }
    c
}

/// Offer/answer and trickle both ways; returns the pump tasks.
async fn connect(
    room: &Arc<dyn MediaRoom>,
    role: Role,
    conn: u64,
    cl: &mut Client,
    mut server_cands: mpsc::UnboundedReceiver<Candidate>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let offer = cl.offer().await;
    let pid = format!("{}-id", role.as_str());
    let answer = tokio::time::timeout(Duration::from_secs(10), room.offer(role, &pid, conn, offer))
        .await
        .expect("answer in time")
        .expect("answer");
    cl.answer(answer).await;
    let mut client_cands = std::mem::replace(&mut cl.candidates, mpsc::unbounded_channel().1);
    let r = room.clone();
    let up = tokio::spawn(async move {
        while let Some(c) = client_cands.recv().await {
            let _ = r.candidate(role, conn, c).await;
        }
    });
    let pc = cl.pc.clone();
    let down = tokio::spawn(async move {
        while let Some(c) = server_cands.recv().await {
            let init = RTCIceCandidateInit {
                candidate: c.candidate,
                sdp_mid: c.sdp_mid,
                sdp_mline_index: c.sdp_mline_index,
                username_fragment: None,
            };
            let _ = pc.add_ice_candidate(init).await;
        }
    });
    vec![up, down]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_seats_each_receive_both_others_and_each_is_recorded() {
    let media = Arc::new(load_media());
    let dir = tempfile::tempdir().unwrap();
    let (engine, mut finished) =
        RtcEngine::new(server_config(Some(dir.path().to_owned()))).unwrap();
    let (room, mut cands) = open(&engine, "hearing-3");
    let mut clients = Vec::new();
    let mut tasks = Vec::new();
    for (i, role) in SEATS.into_iter().enumerate() {
        let mut c = seat_client(role, 1).await;
        let rx = cands.remove(&role).unwrap();
        tasks.extend(connect(&room, role, i as u64 + 1, &mut c, rx).await);
        clients.push((role, c));
    }
    for (_, c) in &mut clients {
        c.wait_connected(Duration::from_secs(15)).await;
    }
    assert_eq!(engine.live_peers(), 3);

    let pumps: Vec<_> = clients
        .iter()
        .map(|(_, c)| c.pump(media.clone(), Duration::from_secs(3)))
        .collect();
    tokio::time::timeout(Duration::from_secs(15), async {
        for p in pumps {
            let _ = p.await;
        }
    })
    .await
    .expect("pumps end");
    tokio::time::sleep(Duration::from_millis(500)).await;

    for (me, c) in &clients {
        for other in SEATS.into_iter().filter(|o| me.sees(*o)) {
            let [a, v, k] = c.received.of_stream(&format!("{}-stream", other.as_str()));
            eprintln!("{me:?} from {other:?}: audio={a} video={v} keyframes={k}");
            assert!(a > 100, "{me:?} got {a} audio packets from {other:?}");
            assert!(v > 60, "{me:?} got {v} video packets from {other:?}");
            assert!(k >= 1, "{me:?} got no keyframe from {other:?}");
        }
        let own = c.received.of_stream(&format!("{}-stream", me.as_str()));
        assert_eq!(own, [0, 0, 0], "{me:?} got its own media back");
    }

    room.close().await;
    let seg = tokio::time::timeout(Duration::from_secs(30), finished.recv())
        .await
        .expect("segment finished in time")
        .expect("segment");
    assert_eq!(engine.live_peers(), 0);
    let m = seg.result.expect("finalised");
    assert!(!m.truncated);
    // one capture per participant and kind, each with data
    assert_eq!(m.tracks.len(), 6, "{:#?}", m.tracks);
    for role in SEATS {
        for kind in ["audio", "video"] {
            let t = m
                .tracks
                .iter()
                .find(|t| t.participant == role.as_str() && t.kind == kind)
                .unwrap_or_else(|| panic!("no {role:?} {kind} capture"));
            assert_eq!(t.participant_id, format!("{}-id", role.as_str()));
            assert!(t.packets > 50, "{role:?} {kind}: {} packets", t.packets);
        }
    }
    // one WebM per participant, with both tracks
    let mut names: Vec<_> = m.playback.iter().map(|p| p.file.name.clone()).collect();
    names.sort();
    assert_eq!(names, ["citizen.webm", "interpreter.webm", "officer.webm"]);
    for p in &m.playback {
        assert!(p.video_frames > 30 && p.audio_frames > 100, "{p:#?}");
        let (sha, bytes) = recordings::hash_file(&seg.dir.join(&p.file.name)).unwrap();
        assert_eq!(
            (sha.as_str(), bytes),
            (p.file.sha256.as_str(), p.file.bytes)
        );
        assert!(bytes > 10_000, "{}: {bytes} bytes", p.file.name);
    }
    for t in tasks {
        t.abort();
    }
    for (_, c) in &clients {
        let _ = c.pc.close().await;
    }
}
