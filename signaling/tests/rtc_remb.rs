//! The receiver's link estimate passed back to the sender (issue 14 §2, docs/call.md "Link
//! estimate"), with two real WebRTC clients through the server-side peers: the citizen reports
//! a REMB about the officer's video it receives; once that estimate falls below what the officer
//! sends, the officer's video send track gets the server's REMB for its own SSRC, never above
//! what the citizen reported, following it down,
//! floored at the configured minimum, and lifted to the ceiling once the citizen stops
//! reporting. The officer reports nothing, so the citizen is told nothing.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use signaling::Role;
use signaling::rtc::{RembLimits, RtcEngine};
use webrtc::rtcp::payload_feedbacks::receiver_estimated_maximum_bitrate::ReceiverEstimatedMaximumBitrate as Remb;
use webrtc::rtp_transceiver::rtp_codec::RTPCodecType;

use common::{Client, client, join_room, load_sample, open_room, server_config};

/// The SSRC of `c`'s own video send track.
async fn video_ssrc(c: &Client) -> u32 {
    for s in c.pc.get_senders().await {
        if let Some(t) = s.track().await
            && t.kind() == RTPCodecType::Video
        {
            return s.get_parameters().await.encodings[0].ssrc;
        }
    }
    panic!("no video sender");
}

/// Waits until a REMB for `ssrc` satisfying `ok` reached `c` (at most `within`); returns it.
async fn wait_remb(c: &Client, ssrc: u32, within: Duration, ok: impl Fn(f32) -> bool) -> f32 {
    let found = tokio::time::timeout(within, async {
        loop {
            let got = c
                .received
                .rembs
                .lock()
                .unwrap()
                .iter()
                .rev()
                .find_map(|(s, b)| (s.contains(&ssrc) && ok(*b)).then_some(*b));
            if let Some(b) = got {
                return b;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    match found {
        Ok(b) => b,
        Err(_) => panic!(
            "no such REMB for {ssrc} within {within:?}; got {:?}",
            c.received.rembs.lock().unwrap()
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_receivers_estimate_reaches_the_sender() {
    // ≈ 500 kbit/s of video: more than the citizen reports, so its link limits the officer
    let media = Arc::new(load_sample("video-500k.ivf"));
    let mut cfg = server_config(None);
    cfg.remb = RembLimits {
        min_bps: 30_000,
        max_bps: 2_500_000,
        audio_bps: 0,
        ..RembLimits::default()
    };
    let (engine, _finished) = RtcEngine::new(cfg).unwrap();
    let mut citizen = client("citizen").await;
    let mut officer = client("officer").await;
    let (room, mut cands) = open_room(&engine, "hearing-remb", &[Role::Citizen, Role::Officer]);
    let c_rx = cands.remove(&Role::Citizen).unwrap();
    let o_rx = cands.remove(&Role::Officer).unwrap();
    let mut tasks = join_room(&room, Role::Citizen, 1, &mut citizen, c_rx).await;
    tasks.extend(join_room(&room, Role::Officer, 2, &mut officer, o_rx).await);
    citizen.wait_connected(Duration::from_secs(15)).await;
    officer.wait_connected(Duration::from_secs(15)).await;
    tasks.push(citizen.pump(media.clone(), Duration::from_secs(60)));
    tasks.push(officer.pump(media.clone(), Duration::from_secs(60)));

    // the officer's video as the citizen receives it (the server's outgoing SSRC)
    let relayed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Some(s) = citizen
                .received
                .video_ssrcs
                .lock()
                .unwrap()
                .get("officer-stream")
            {
                return *s;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the citizen receives the officer's video");
    let own = video_ssrc(&officer).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        officer.received.rembs.lock().unwrap().is_empty(),
        "no REMB before any receiver reported"
    );

    // the citizen reports every 300 ms what its link takes (0: stops reporting)
    let report = Arc::new(AtomicU64::new(400_000));
    let (r, pc) = (report.clone(), citizen.pc.clone());
    tasks.push(tokio::spawn(async move {
        loop {
            let bps = r.load(Ordering::Relaxed);
            if bps > 0 {
                let remb = Remb {
                    sender_ssrc: 1,
                    bitrate: bps as f32,
                    ssrcs: vec![relayed],
                };
                let _ = pc.write_rtcp(&[Box::new(remb)]).await;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }));

    // 400 kbit/s, steady: below what the officer sends, but not falling (no overuse at the
    // citizen): the officer is not limited
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        officer.received.rembs.lock().unwrap().is_empty(),
        "a steady estimate does not limit the sender"
    );
    // it falls to 200 kbit/s: the officer is limited to it
    report.store(200_000, Ordering::Relaxed);
    let b = wait_remb(&officer, own, Duration::from_secs(10), |_| true).await;
    assert_eq!(b, 200_000.0, "the officer is told the citizen's estimate");
    for (_, b) in officer.received.rembs.lock().unwrap().iter() {
        assert!(
            *b <= 200_000.0,
            "never more than the receiver reported: {b}"
        );
    }

    report.store(80_000, Ordering::Relaxed);
    wait_remb(&officer, own, Duration::from_secs(5), |b| b == 80_000.0).await;

    report.store(5_000, Ordering::Relaxed);
    wait_remb(&officer, own, Duration::from_secs(5), |b| b == 30_000.0).await;
    assert!(
        officer
            .received
            .rembs
            .lock()
            .unwrap()
            .iter()
            .all(|(_, b)| *b >= 30_000.0),
        "never below the floor"
    );

    // the citizen stops reporting: after the estimate went stale the cap is lifted
    report.store(0, Ordering::Relaxed);
    wait_remb(&officer, own, Duration::from_secs(10), |b| b == 2_500_000.0).await;

    assert!(
        citizen.received.rembs.lock().unwrap().is_empty(),
        "the officer reported nothing about the citizen's video: {:?}",
        citizen.received.rembs.lock().unwrap()
    );
    for t in tasks {
        t.abort();
    }
    room.close().await;
}
