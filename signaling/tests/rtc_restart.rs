//! The keep-the-peer-connection rule of an ICE restart (docs/call.md "Address change"), with a
//! real `webrtc` client against the server-side media room (signalling wired directly): a
//! restart from a new signalling connection is answered on the same server peer connection
//! (same DTLS fingerprint, new ICE credentials, no new peer connection) and ICE connects again;
//! a plain offer on a new connection still replaces it; bad restarts get stable codes.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use signaling::media::{MediaEngine, MediaEvent, MediaRoom};
use signaling::rtc::RtcEngine;
use signaling::{Candidate, Role};
use tokio::sync::mpsc;
use webrtc::ice_transport::ice_candidate::RTCIceCandidateInit;
use webrtc::peer_connection::offer_answer_options::RTCOfferOptions;

use common::{client, load_media, recorded_within, server_config};

fn attr<'a>(sdp: &'a str, name: &str) -> Option<&'a str> {
    sdp.lines().find_map(|l| l.trim_end().strip_prefix(name))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ice_restart_from_a_new_connection_keeps_the_peer_connection() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, _finished) = RtcEngine::new(server_config(Some(dir.path().to_owned()))).unwrap();
    let (tx, mut server_cands) = mpsc::unbounded_channel::<Candidate>();
    let room: Arc<dyn MediaRoom> = engine.open_room(
        "h-restart",
        Arc::new(move |_role: Role, ev| {
            if let MediaEvent::LocalCandidate(c) = ev {
                let _ = tx.send(c);
            }
        }),
    );
    let mut cl = client("citizen").await;
    // trickle both ways; the client's candidates go to the current signalling connection
    let conn = Arc::new(AtomicU64::new(1));
    let mut client_cands = std::mem::replace(&mut cl.candidates, mpsc::unbounded_channel().1);
    let (r, c2) = (room.clone(), conn.clone());
    tokio::spawn(async move {
        while let Some(c) = client_cands.recv().await {
            let _ = r
                .candidate(Role::Citizen, c2.load(Ordering::Acquire), c)
                .await;
        }
    });
    let pc = cl.pc.clone();
    tokio::spawn(async move {
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

    // nothing to restart yet
    let offer = cl.offer().await;
    let e = room
        .restart(Role::Citizen, 1, offer.clone())
        .await
        .unwrap_err();
    assert_eq!(e.code, "restart_unavailable");
    let first = room.offer(Role::Citizen, "p", 1, offer).await.unwrap();
    cl.answer(first.clone()).await;
    cl.wait_connected(Duration::from_secs(15)).await;
    assert_eq!(engine.live_peers(), 1);
    // the citizen's media is recorded; then it pauses (nothing in flight at the restart)
    let media = Arc::new(load_media());
    let pump = cl.pump(media.clone(), Duration::from_secs(30));
    assert!(
        recorded_within(&room, Role::Citizen, Duration::from_millis(500)).await,
        "recorded before"
    );
    pump.abort();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        room.recorded_ago(Role::Citizen).is_some(),
        "the stamp of the media before"
    );

    // the signalling socket is replaced (conn 2): an ICE restart of the same client peer connection
    conn.store(2, Ordering::Release);
    let restart = cl
        .pc
        .create_offer(Some(RTCOfferOptions {
            ice_restart: true,
            ..Default::default()
        }))
        .await
        .unwrap();
    cl.pc.set_local_description(restart).await.unwrap();
    let sdp = cl.pc.local_description().await.unwrap().sdp;
    let second = room.restart(Role::Citizen, 2, sdp).await.unwrap();
    assert_eq!(
        engine.live_peers(),
        1,
        "a restart makes no new peer connection"
    );
    assert_eq!(
        attr(&first, "a=fingerprint:"),
        attr(&second, "a=fingerprint:"),
        "the restart was answered by another peer connection"
    );
    assert_ne!(attr(&first, "a=ice-ufrag:"), attr(&second, "a=ice-ufrag:"));
    // the media before the restart no longer counts as the seat's recording (the live check)
    assert_eq!(room.recorded_ago(Role::Citizen), None, "after the restart");
    cl.answer(second).await;
    // ICE connects again on the same peer connections
    let h = cl.history.clone();
    let again = tokio::time::timeout(Duration::from_secs(15), async {
        while h.dump().matches("citizen: ice connected").count() < 2 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(again.is_ok(), "ICE did not reconnect:\n{}", h.dump());
    // media on the restarted path is recorded again
    let pump = cl.pump(media, Duration::from_secs(30));
    assert!(
        recorded_within(&room, Role::Citizen, Duration::from_millis(500)).await,
        "recorded after"
    );
    pump.abort();

    // a restart offer of another peer connection (another DTLS certificate), garbage, and a
    // seat without a peer connection: stable codes, the peer connection untouched
    let other = client("intruder").await;
    let e = room
        .restart(Role::Citizen, 3, other.offer().await)
        .await
        .unwrap_err();
    assert_eq!(e.code, "bad_sdp");
    let e = room
        .restart(Role::Citizen, 3, "v=0\r\nnot sdp".into())
        .await
        .unwrap_err();
    assert_eq!(e.code, "bad_sdp");
    let e = room
        .restart(Role::Officer, 3, other.offer().await)
        .await
        .unwrap_err();
    assert_eq!(e.code, "restart_unavailable");
    assert_eq!(engine.live_peers(), 1);

    // a plain offer on a new connection still replaces the peer connection
    let fresh = client("citizen-2").await;
    let third = room
        .offer(Role::Citizen, "p", 4, fresh.offer().await)
        .await
        .unwrap();
    assert_ne!(
        attr(&first, "a=fingerprint:"),
        attr(&third, "a=fingerprint:")
    );
    assert_eq!(engine.live_peers(), 1);
    room.close().await;
    assert_eq!(engine.live_peers(), 0);
}
