//! Two real WebRTC clients call each other through the server-side peers (no WebSocket here: the
//! signalling is wired directly to the media room), with recording; and a connect/disconnect soak.

mod common;

use std::sync::Arc;
use std::time::Duration;

use signaling::media::{MediaEngine, MediaEvent, MediaRoom};
use signaling::rtc::RtcEngine;
use signaling::{Candidate, Role};
use tokio::sync::mpsc;

use common::{Client, History, client, load_media, recorded_within, rss_and_fds, server_config};

type Routes = [mpsc::UnboundedSender<Candidate>; 2];

/// Opens a media room whose events go to the tests' channels (candidates) and to the clients'
/// histories (everything).
fn open(
    engine: &RtcEngine,
    hearing: &str,
    histories: [History; 2],
) -> (Arc<dyn MediaRoom>, [mpsc::UnboundedReceiver<Candidate>; 2]) {
    let (c_tx, c_rx) = mpsc::unbounded_channel();
    let (o_tx, o_rx) = mpsc::unbounded_channel();
    let routes: Routes = [c_tx, o_tx];
    let room = engine.open_room(
        hearing,
        Arc::new(move |role: Role, ev| {
            let i = if role == Role::Citizen { 0 } else { 1 };
            match ev {
                MediaEvent::LocalCandidate(c) => {
                    histories[i].push(format_args!("server candidate {}", c.candidate));
                    let _ = routes[i].send(c);
                }
                MediaEvent::State(s) => histories[i].push(format_args!("server peer {s}")),
                MediaEvent::Link(_) => {}
            }
        }),
    );
    (room, [c_rx, o_rx])
}

/// Offer/answer and trickle between a client and the room; returns the candidate pump tasks.
async fn connect(
    room: &Arc<dyn MediaRoom>,
    role: Role,
    conn: u64,
    cl: &mut Client,
    mut server_cands: mpsc::UnboundedReceiver<Candidate>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let offer = cl.offer().await;
    cl.history.push("offer made");
    let answer = tokio::time::timeout(Duration::from_secs(10), room.offer(role, "p", conn, offer))
        .await
        .expect("answer in time")
        .expect("answer");
    cl.history.push("answer received");
    // the server's candidates come with the answer (trickled too): no race with its first check
    assert!(answer.contains("a=candidate:"), "answer without candidates");
    cl.answer(answer).await;
    cl.history.push("answer applied");
    let mut tasks = Vec::new();
    let mut client_cands = std::mem::replace(&mut cl.candidates, mpsc::unbounded_channel().1);
    let (r, h) = (room.clone(), cl.history.clone());
    tasks.push(tokio::spawn(async move {
        while let Some(c) = client_cands.recv().await {
            h.push(format_args!("client candidate {}", c.candidate));
            if let Err(e) = r.candidate(role, conn, c).await {
                h.push(format_args!("client candidate refused: {e:?}"));
            }
        }
    }));
    let (pc, h) = (cl.pc.clone(), cl.history.clone());
    tasks.push(tokio::spawn(async move {
        while let Some(c) = server_cands.recv().await {
            h.push("server candidate applied");
            let _ = pc
                .add_ice_candidate(webrtc::ice_transport::ice_candidate::RTCIceCandidateInit {
                    candidate: c.candidate,
                    sdp_mid: c.sdp_mid,
                    sdp_mline_index: c.sdp_mline_index,
                    username_fragment: None,
                })
                .await;
        }
    }));
    tasks
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_peers_exchange_media_through_the_server_and_it_is_recorded() {
    let media = Arc::new(load_media());
    assert!(media.video.len() >= 100 && media.audio.len() >= 150);
    let dir = tempfile::tempdir().unwrap();
    let (engine, mut finished) =
        RtcEngine::new(server_config(Some(dir.path().to_owned()))).unwrap();
    let mut citizen = client("citizen").await;
    let mut officer = client("officer").await;
    let histories = [citizen.history.clone(), officer.history.clone()];
    let (room, [c_rx, o_rx]) = open(&engine, "hearing-1", histories);
    let mut tasks = connect(&room, Role::Citizen, 1, &mut citizen, c_rx).await;
    tasks.extend(connect(&room, Role::Officer, 2, &mut officer, o_rx).await);
    citizen.wait_connected(Duration::from_secs(15)).await;
    officer.wait_connected(Duration::from_secs(15)).await;
    assert_eq!(engine.live_peers(), 2);

    let p1 = citizen.pump(media.clone(), Duration::from_secs(3));
    let p2 = officer.pump(media.clone(), Duration::from_secs(3));
    tokio::time::timeout(Duration::from_secs(10), async {
        let _ = p1.await;
        let _ = p2.await;
    })
    .await
    .expect("pumps end");
    tokio::time::sleep(Duration::from_millis(500)).await;
    for (name, c) in [("citizen", &citizen), ("officer", &officer)] {
        let r = &c.received;
        let (a, v, k) = (
            r.audio_packets.load(std::sync::atomic::Ordering::Relaxed),
            r.video_packets.load(std::sync::atomic::Ordering::Relaxed),
            r.video_keyframes.load(std::sync::atomic::Ordering::Relaxed),
        );
        eprintln!("{name} received audio={a} video={v} keyframes={k}");
        assert!(a > 100, "{name} got {a} audio packets");
        assert!(v > 60, "{name} got {v} video packets");
        assert!(k >= 1, "{name} got no keyframe");
    }

    room.close().await;
    let seg = tokio::time::timeout(Duration::from_secs(30), finished.recv())
        .await
        .expect("segment finished in time")
        .expect("segment");
    assert_eq!(engine.live_peers(), 0);
    let m = seg.result.expect("finalised");
    assert_eq!(m.hearing_id, "hearing-1");
    assert!(!m.truncated);
    assert_eq!(m.tracks.len(), 4, "{:#?}", m.tracks);
    for t in &m.tracks {
        assert!(
            t.packets > 50,
            "{} {} has {} packets",
            t.participant,
            t.kind,
            t.packets
        );
        for f in &t.files {
            let (sha, bytes) = recordings::hash_file(&seg.dir.join(&f.name)).unwrap();
            assert_eq!((sha.as_str(), bytes), (f.sha256.as_str(), f.bytes));
        }
        let play = &t.files[1];
        let data = std::fs::read(seg.dir.join(&play.name)).unwrap();
        if t.kind == "video" {
            let ivf = recordings::ivf::parse_ivf(&data).expect("ivf parses");
            assert_eq!((ivf.width, ivf.height), (320, 240));
            assert!(ivf.frames.len() > 30, "{} frames", ivf.frames.len());
            assert_eq!(ivf.header_frames as usize, ivf.frames.len());
        } else {
            let pages = recordings::ogg::parse_ogg(&data).expect("ogg parses");
            assert!(pages.len() > 100);
        }
    }
    // one WebM per participant, listed (and hashed) in the manifest
    assert_eq!(m.playback.len(), 2, "{:#?}", m.playback);
    for p in &m.playback {
        assert_eq!((p.kind.as_str(), p.file.format.as_str()), ("video", "webm"));
        assert!(p.video_frames > 30, "{} video frames", p.video_frames);
        assert!(p.audio_frames > 100, "{} audio frames", p.audio_frames);
        assert_eq!(p.captures.len(), 2);
        let path = seg.dir.join(&p.file.name);
        let (sha, bytes) = recordings::hash_file(&path).unwrap();
        assert_eq!(
            (sha.as_str(), bytes),
            (p.file.sha256.as_str(), p.file.bytes)
        );
        let data = std::fs::read(&path).unwrap();
        assert!(data.starts_with(&[0x1a, 0x45, 0xdf, 0xa3]), "EBML header");
        eprintln!(
            "{}: webm {} bytes, {} ms, sync {}",
            p.participant, p.file.bytes, p.duration_ms, p.sync
        );
    }
    for t in tasks {
        t.abort();
    }
    let _ = citizen.pc.close().await;
    let _ = officer.pc.close().await;
}

async fn one_cycle(engine: &RtcEngine, media: &Arc<common::SampleMedia>, i: usize) {
    let mut cl = client("citizen").await;
    cl.history.push(format_args!("soak cycle {i}"));
    let histories = [cl.history.clone(), History::new()];
    let (room, [c_rx, _o]) = open(engine, &format!("soak-{i}"), histories);
    let tasks = connect(&room, Role::Citizen, 1, &mut cl, c_rx).await;
    cl.wait_connected(Duration::from_secs(15)).await;
    let _ = cl.pump(media.clone(), Duration::from_millis(100)).await;
    let _ = cl.pc.close().await;
    room.remove(Role::Citizen).await;
    room.close().await;
    for t in tasks {
        t.abort();
    }
}

/// Connect/disconnect cycles: peers, tasks and sockets must all go away.
/// `SOAK_CYCLES=200 cargo test -p signaling --test rtc_call soak -- --nocapture` for the full run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_connect_disconnect_frees_everything() {
    let cycles: usize = std::env::var("SOAK_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let media = Arc::new(load_media());
    let (engine, _finished) = RtcEngine::new(server_config(None)).unwrap();
    let warm = 5.min(cycles);
    for i in 0..warm {
        one_cycle(&engine, &media, i).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (rss0, fds0) = rss_and_fds();
    let start = std::time::Instant::now();
    for i in warm..cycles {
        one_cycle(&engine, &media, i).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (rss1, fds1) = rss_and_fds();
    eprintln!(
        "soak: {} cycles in {:.1}s; RSS {} kB -> {} kB ({:+} kB); fds {} -> {}",
        cycles - warm,
        start.elapsed().as_secs_f64(),
        rss0,
        rss1,
        rss1 as i64 - rss0 as i64,
        fds0,
        fds1
    );
    assert_eq!(engine.live_peers(), 0);
    assert!(fds1 <= fds0 + 8, "file descriptors leak: {fds0} -> {fds1}");
}

/// A room whose citizen (on a first connection) and officer are connected, and a second client
/// of the citizen, not connected yet: the start of the connection-replacing tests.
struct Replacing {
    engine: RtcEngine,
    _finished: mpsc::UnboundedReceiver<signaling::rtc::FinishedSegment>,
    room: Arc<dyn MediaRoom>,
    first: Client,
    officer: Client,
    second: Client,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// A call of a citizen (`first`) and an officer, and a `second` client of `who` not yet
/// connected: the one that will replace `who`'s connection.
async fn replacing(hearing: &str, recordings: Option<std::path::PathBuf>, who: Role) -> Replacing {
    let (engine, _finished) = RtcEngine::new(server_config(recordings)).unwrap();
    let mut first = client("citizen").await;
    let mut officer = client("officer").await;
    let second = client(if who == Role::Officer {
        "officer"
    } else {
        "citizen"
    })
    .await;
    let histories = [first.history.clone(), officer.history.clone()];
    let (room, [c_rx, o_rx]) = open(&engine, hearing, histories);
    let mut tasks = connect(&room, Role::Citizen, 1, &mut first, c_rx).await;
    tasks.extend(connect(&room, Role::Officer, 2, &mut officer, o_rx).await);
    first.wait_connected(Duration::from_secs(15)).await;
    officer.wait_connected(Duration::from_secs(15)).await;
    Replacing {
        engine,
        _finished,
        room,
        first,
        officer,
        second,
        tasks,
    }
}

/// A second connection of the same participant replaces the first: the old server peer is closed
/// (outside the room's peer lock — its state handler may wait for that lock), the new one
/// connects without renegotiating the other side and receives the other party's media.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replacing_connection_takes_over_the_media() {
    let media = Arc::new(load_media());
    let mut w = replacing("replace-1", None, Role::Citizen).await;
    assert_eq!(w.engine.live_peers(), 2);

    // The same participant on a new connection; the room's candidate route still points at the
    // first client, so the second connects with the candidates its answer carries.
    let (_keep, no_trickle) = mpsc::unbounded_channel();
    w.tasks
        .extend(connect(&w.room, Role::Citizen, 3, &mut w.second, no_trickle).await);
    w.second.wait_connected(Duration::from_secs(15)).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while w.engine.live_peers() != 2 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(w.engine.live_peers(), 2, "the replaced peer was not closed");

    let _ = w.officer.pump(media.clone(), Duration::from_secs(2)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let r = &w.second.received;
    let (a, v) = (
        r.audio_packets.load(std::sync::atomic::Ordering::Relaxed),
        r.video_packets.load(std::sync::atomic::Ordering::Relaxed),
    );
    assert!(
        a > 50 && v > 30,
        "the new connection got audio={a} video={v}"
    );
    let old = w
        .first
        .received
        .audio_packets
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        old < a,
        "the replaced connection still got the media ({old} ≥ {a})"
    );
    tokio::time::timeout(Duration::from_secs(10), w.room.close())
        .await
        .expect("room closes");
    assert_eq!(w.engine.live_peers(), 0);
    for t in w.tasks {
        t.abort();
    }
    for c in [&w.first, &w.officer, &w.second] {
        let _ = c.pc.close().await;
    }
}

/// The live check of every step (Art. 47) reads how recently a seat's media was recorded: once a
/// participant's connection is replaced, the old connection's media no longer counts, and the
/// seat is recorded again only when the new connection's media reaches the recorder.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_connection_no_longer_counts_as_recorded() {
    replaced_connection_stops_counting(Role::Citizen).await;
}

/// The same for the officer's seat: a refreshed dashboard must not run steps on the media of
/// the connection it left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_officer_connection_no_longer_counts_as_recorded() {
    replaced_connection_stops_counting(Role::Officer).await;
}

async fn replaced_connection_stops_counting(who: Role) {
    let media = Arc::new(load_media());
    let dir = tempfile::tempdir().unwrap();
    let mut w = replacing("replace-rec", Some(dir.path().to_owned()), who).await;
    let original = if who == Role::Officer {
        &w.officer
    } else {
        &w.first
    };
    let old = original.pump(media.clone(), Duration::from_secs(30));
    assert!(
        recorded_within(&w.room, who, Duration::from_millis(500)).await,
        "the first connection is recorded"
    );

    // The same participant on a new connection: from its offer on, the seat is not recorded,
    // although the first client goes on sending.
    let (_keep, no_trickle) = mpsc::unbounded_channel();
    w.tasks
        .extend(connect(&w.room, who, 3, &mut w.second, no_trickle).await);
    assert_eq!(w.room.recorded_ago(who), None, "right after the new offer");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(w.room.recorded_ago(who), None, "300 ms later");

    w.second.wait_connected(Duration::from_secs(15)).await;
    let new = w.second.pump(media.clone(), Duration::from_secs(30));
    assert!(
        recorded_within(&w.room, who, Duration::from_millis(500)).await,
        "the new connection is recorded"
    );
    for t in w.tasks.into_iter().chain([old, new]) {
        t.abort();
    }
    tokio::time::timeout(Duration::from_secs(10), w.room.close())
        .await
        .expect("room closes");
    for c in [&w.first, &w.officer, &w.second] {
        let _ = c.pc.close().await;
    }
}

/// Audio-only (issue 14 §2): a seat that announced no video and sends it anyway gets it
/// dropped, not relayed (its audio still goes through); once it announces video again, the
/// other seat gets its video, from a keyframe.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn video_announced_off_is_dropped_not_relayed() {
    use std::sync::atomic::Ordering::Relaxed;
    let media = Arc::new(load_media());
    let (engine, _finished) = RtcEngine::new(server_config(None)).unwrap();
    let mut citizen = client("citizen").await;
    let mut officer = client("officer").await;
    let histories = [citizen.history.clone(), officer.history.clone()];
    let (room, [c_rx, o_rx]) = open(&engine, "hearing-ao", histories);
    room.set_video(Role::Citizen, false);
    let mut tasks = connect(&room, Role::Citizen, 1, &mut citizen, c_rx).await;
    tasks.extend(connect(&room, Role::Officer, 2, &mut officer, o_rx).await);
    citizen.wait_connected(Duration::from_secs(15)).await;
    officer.wait_connected(Duration::from_secs(15)).await;

    // The citizen said "no video" but sends it: the officer gets its audio only.
    let p1 = citizen.pump(media.clone(), Duration::from_secs(3));
    let p2 = officer.pump(media.clone(), Duration::from_secs(3));
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        let _ = p1.await;
        let _ = p2.await;
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let [a, v, _] = officer.received.of_stream("citizen-stream");
    eprintln!("video off: officer got citizen audio={a} video={v}");
    assert!(a > 100, "the citizen's audio is relayed ({a} packets)");
    assert_eq!(v, 0, "the citizen's announced-off video is not relayed");
    let [_, v_back, _] = citizen.received.of_stream("officer-stream");
    assert!(v_back > 60, "the officer's video still reaches the citizen");

    // Video announced on again: relayed, starting from a keyframe.
    room.set_video(Role::Citizen, true);
    let p1 = citizen.pump(media.clone(), Duration::from_secs(3));
    let _ = tokio::time::timeout(Duration::from_secs(10), p1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let [_, v, k] = officer.received.of_stream("citizen-stream");
    eprintln!("video on: officer got citizen video={v} keyframes={k}");
    assert!(v > 60, "the citizen's video is relayed again ({v} packets)");
    assert!(k >= 1, "with a keyframe");
    assert!(officer.received.video_packets.load(Relaxed) >= v);
    for t in tasks {
        t.abort();
    }
    room.close().await;
    let _ = citizen.pc.close().await;
    let _ = officer.pc.close().await;
}
