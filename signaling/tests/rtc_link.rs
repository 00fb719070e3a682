//! Link quality with real WebRTC peers through the hub: the officer gets `link` frames about
//! both seats with plausible figures on loopback (RTT measured, no loss, bitrate both ways), the
//! citizen never does; a citizen whose video skips sequence numbers turns poor, and back when it
//! stops, each change handed to the link recorder.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use signaling::media::MediaRoom;
use signaling::room::{Outbound, Participant};
use signaling::rtc::RtcEngine;
use signaling::{Hub, HubConfig, Level, LinkRecorder, LinkReport, Role, ServerMsg};
use tokio::sync::mpsc;
use webrtc::media::Sample;
use webrtc::rtp::header::Header;
use webrtc::rtp::packet::Packet;
use webrtc::track::track_local::TrackLocalWriter;

use common::{Client, client, client_rtp_video, load_media, server_config};

#[derive(Default)]
struct Kept(Mutex<Vec<LinkReport>>);

#[async_trait]
impl LinkRecorder for Kept {
    async fn record(&self, _: &str, report: LinkReport) {
        self.0.lock().unwrap().push(report);
    }
}

/// A `link` frame's fields.
#[derive(Debug, Clone, Copy)]
struct Seen {
    role: Role,
    rtt_ms: Option<u32>,
    loss_pct: f64,
    kbps_in: u32,
    kbps_out: u32,
    level: Level,
}

/// Applies the server's candidates from the seat's frames to its client; `link` frames go to
/// `links`.
fn route(
    mut rx: mpsc::Receiver<Outbound>,
    pc: Arc<webrtc::peer_connection::RTCPeerConnection>,
    links: mpsc::UnboundedSender<Seen>,
) {
    tokio::spawn(async move {
        while let Some(o) = rx.recv().await {
            match o {
                Outbound::Msg(ServerMsg::Candidate(c)) => {
                    let _ = pc
                        .add_ice_candidate(
                            webrtc::ice_transport::ice_candidate::RTCIceCandidateInit {
                                candidate: c.candidate,
                                sdp_mid: c.sdp_mid,
                                sdp_mline_index: c.sdp_mline_index,
                                username_fragment: None,
                            },
                        )
                        .await;
                }
                Outbound::Msg(ServerMsg::Link {
                    role,
                    rtt_ms,
                    loss_pct,
                    kbps_in,
                    kbps_out,
                    level,
                    ..
                }) => {
                    let v = serde_json::to_value(loss_pct).unwrap();
                    let _ = links.send(Seen {
                        role,
                        rtt_ms,
                        loss_pct: v.as_f64().unwrap(),
                        kbps_in,
                        kbps_out,
                        level,
                    });
                }
                _ => {}
            }
        }
    });
}

async fn join(
    hub: &Arc<Hub>,
    role: Role,
    cl: &mut Client,
) -> (Arc<dyn MediaRoom>, mpsc::UnboundedReceiver<Seen>) {
    let p = Participant {
        hearing_id: "h-link".into(),
        role,
        participant_id: format!("{}-1", role.as_str()),
    };
    let a = hub.attach(&p);
    let (ltx, lrx) = mpsc::unbounded_channel();
    route(a.rx, cl.pc.clone(), ltx);
    let media = hub.media("h-link").expect("room");
    let offer = cl.offer().await;
    let answer = media.offer(role, &p.participant_id, a.conn, offer).await;
    cl.answer(answer.expect("answer")).await;
    let mut cands = std::mem::replace(&mut cl.candidates, mpsc::unbounded_channel().1);
    let (m, seq) = (media.clone(), a.conn);
    tokio::spawn(async move {
        while let Some(c) = cands.recv().await {
            let _ = m.candidate(role, seq, c).await;
        }
    });
    (media, lrx)
}

/// Sends ≈ 800 kbit/s of video packets, skipping every fifth sequence number while `lossy`.
fn pump_rtp(cl: &Client, lossy: Arc<AtomicBool>, stop: Arc<AtomicBool>) {
    let video = cl.rtp_video.clone().expect("an RTP video track");
    let audio = cl.audio.clone();
    let media = Arc::new(load_media());
    tokio::spawn(async move {
        let seq = AtomicU16::new(1);
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        let mut ts = 0u32;
        let mut ai = 0usize;
        while !stop.load(Ordering::Relaxed) {
            tick.tick().await;
            let a = &media.audio[ai % media.audio.len()];
            ai += 1;
            let _ = audio
                .write_sample(&Sample {
                    data: a.clone(),
                    duration: Duration::from_millis(20),
                    ..Default::default()
                })
                .await;
            ts = ts.wrapping_add(1800);
            for i in 0..2 {
                let s = seq.fetch_add(1, Ordering::Relaxed);
                if lossy.load(Ordering::Relaxed) && s.is_multiple_of(5) {
                    continue; // never sent: a gap the server sees
                }
                let p = Packet {
                    header: Header {
                        version: 2,
                        marker: i == 1,
                        sequence_number: s,
                        timestamp: ts,
                        ..Default::default()
                    },
                    payload: Bytes::from(vec![0x10u8; 1000]),
                };
                let _ = video.write_rtp(&p).await;
            }
        }
    });
}

/// The next `link` frame about `role` for which `ok` holds, within `within`; all seen frames
/// in the panic message otherwise.
async fn wait_for(
    rx: &mut mpsc::UnboundedReceiver<Seen>,
    role: Role,
    within: Duration,
    ok: impl Fn(&Seen) -> bool,
) -> Seen {
    let mut seen = vec![];
    let found = tokio::time::timeout(within, async {
        while let Some(s) = rx.recv().await {
            seen.push(s);
            if s.role == role && ok(&s) {
                return s;
            }
        }
        panic!("the officer's frames ended");
    })
    .await;
    found.unwrap_or_else(|_| panic!("no such link frame about {role:?} in {within:?}: {seen:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_officer_sees_both_links_and_a_lossy_citizen_turns_poor_and_back() {
    let (engine, _finished) = RtcEngine::new(server_config(None)).unwrap();
    let hub = Hub::new(HubConfig::default(), Arc::new(engine));
    let kept = Arc::new(Kept::default());
    hub.set_link_recorder(kept.clone());

    let mut citizen = client_rtp_video("citizen").await;
    let mut officer = client("officer").await;
    let (_m, mut c_links) = join(&hub, Role::Citizen, &mut citizen).await;
    let (_m, mut o_links) = join(&hub, Role::Officer, &mut officer).await;
    citizen.wait_connected(Duration::from_secs(15)).await;
    officer.wait_connected(Duration::from_secs(15)).await;

    let (lossy, stop) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(false)),
    );
    pump_rtp(&citizen, lossy.clone(), stop.clone());
    let o_pump = officer.pump(
        Arc::new(common::load_sample("video-500k.ivf")),
        Duration::from_secs(60),
    );

    // On loopback: RTT measured (> 0, small), nothing lost, media both ways, good.
    let good = wait_for(&mut o_links, Role::Citizen, Duration::from_secs(20), |s| {
        s.level == Level::Good && s.rtt_ms.is_some() && s.kbps_out > 0
    })
    .await;
    assert!(
        good.rtt_ms.unwrap() >= 1 && good.rtt_ms.unwrap() < 200,
        "{good:?}"
    );
    assert_eq!(good.loss_pct, 0.0, "{good:?}");
    assert!(
        good.kbps_in > 500 && good.kbps_in < 1500,
        "≈ 850 kbit/s sent: {good:?}"
    );
    let own = wait_for(&mut o_links, Role::Officer, Duration::from_secs(10), |s| {
        s.kbps_in > 0
    })
    .await;
    assert!(
        own.kbps_out > 0,
        "the officer is told about its own link too: {own:?}"
    );

    // Every fifth video packet missing: ≈ 20 % of the video, poor after two samples.
    lossy.store(true, Ordering::Relaxed);
    let poor = wait_for(&mut o_links, Role::Citizen, Duration::from_secs(20), |s| {
        s.level == Level::Poor
    })
    .await;
    assert!(poor.loss_pct > 5.0 && poor.loss_pct < 30.0, "{poor:?}");
    eprintln!("loopback: {good:?}\nlossy: {poor:?}");

    lossy.store(false, Ordering::Relaxed);
    wait_for(&mut o_links, Role::Citizen, Duration::from_secs(20), |s| {
        s.level == Level::Good
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    o_pump.abort();

    // The recorder was given every sample (on its own task: it may lag the frame a little); the
    // changes say what they changed from.
    let changes = || -> Vec<(Option<Level>, Level)> {
        kept.0
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.role == Role::Citizen)
            .filter_map(|r| r.changed_from.map(|f| (f, r.level)))
            .collect()
    };
    let poor_then_back = |c: &[(Option<Level>, Level)]| {
        c.iter()
            .position(|(_, l)| *l == Level::Poor)
            .is_some_and(|at| {
                c[at + 1..]
                    .iter()
                    .any(|(f, l)| *f == Some(Level::Poor) && *l != Level::Poor)
            })
    };
    for _ in 0..100 {
        if poor_then_back(&changes()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        poor_then_back(&changes()),
        "a change to poor, then out of it: {:?}",
        changes()
    );
    // The citizen never gets the officer's figures (nor its own).
    assert!(c_links.try_recv().is_err(), "the citizen got a link frame");
}
