//! Test helpers: a Rust WebRTC client (the `webrtc` crate) that sends the committed sample
//! media and counts what it receives.

#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;
use webrtc::api::APIBuilder;
use webrtc::api::interceptor_registry::register_default_interceptors;
use webrtc::api::media_engine::{MIME_TYPE_OPUS, MIME_TYPE_VP8, MediaEngine};
use webrtc::api::setting_engine::SettingEngine;
use webrtc::ice_transport::ice_candidate::{RTCIceCandidate, RTCIceCandidateInit};
use webrtc::interceptor::registry::Registry;
use webrtc::media::Sample;
use webrtc::peer_connection::RTCPeerConnection;
use webrtc::peer_connection::configuration::RTCConfiguration;
use webrtc::peer_connection::peer_connection_state::RTCPeerConnectionState;
use webrtc::peer_connection::sdp::session_description::RTCSessionDescription;
use webrtc::rtcp::payload_feedbacks::receiver_estimated_maximum_bitrate::ReceiverEstimatedMaximumBitrate as Remb;
use webrtc::rtp_transceiver::rtp_codec::{RTCRtpCodecCapability, RTPCodecType};
use webrtc::track::track_local::TrackLocal;
use webrtc::track::track_local::track_local_static_rtp::TrackLocalStaticRTP;
use webrtc::track::track_local::track_local_static_sample::TrackLocalStaticSample;
use webrtc::track::track_remote::TrackRemote;

use signaling::Candidate;
use signaling::rtc::RtcConfig;

/// `tests/data/media` of the workspace (this file is also used by the server's tests).
pub fn media_dir() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let direct = here.join("tests/data/media");
    if direct.exists() {
        direct
    } else {
        here.join("../tests/data/media")
    }
}

/// The sample media: VP8 frames (30 fps) and Opus packets (20 ms).
pub struct SampleMedia {
    pub video: Vec<Bytes>,
    pub audio: Vec<Bytes>,
}

pub fn load_media() -> SampleMedia {
    load_sample("video.ivf")
}

/// The sample audio with the video of `video` (an IVF file in `tests/data/media`).
pub fn load_sample(video: &str) -> SampleMedia {
    let ivf = std::fs::read(media_dir().join(video)).expect("sample video");
    let ivf = recordings::ivf::parse_ivf(&ivf).expect("sample video parses");
    let ogg = std::fs::read(media_dir().join("audio.ogg")).expect("sample audio");
    let pages = recordings::ogg::parse_ogg(&ogg).expect("sample audio parses");
    SampleMedia {
        video: ivf
            .frames
            .into_iter()
            .map(|(_, f)| Bytes::from(f))
            .collect(),
        audio: pages
            .into_iter()
            .skip(2)
            .filter(|p| !p.packet.is_empty())
            .map(|p| Bytes::from(p.packet))
            .collect(),
    }
}

pub fn server_config(recordings: Option<PathBuf>) -> RtcConfig {
    RtcConfig {
        udp_port_min: 0,
        udp_port_max: 0,
        nat_1to1_ips: vec![],
        include_loopback: true,
        bind_ips: vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
        recordings_dir: recordings,
        node_id: "test-node".into(),
        link_every: std::time::Duration::from_secs(1),
        remb: Default::default(),
        clock: Arc::new(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_micros() as i64)
                .unwrap_or(0)
        }),
    }
}

/// Counters of what a client received.
#[derive(Default)]
pub struct Received {
    pub audio_packets: AtomicU64,
    pub video_packets: AtomicU64,
    pub video_keyframes: AtomicU64,
    /// Per received stream id (the sending seat, `<role>-stream`): audio and video packets and
    /// video keyframes.
    pub by_stream: std::sync::Mutex<std::collections::BTreeMap<String, [u64; 3]>>,
    /// Per received stream id: the SSRC of its video.
    pub video_ssrcs: std::sync::Mutex<std::collections::BTreeMap<String, u32>>,
    /// REMBs that came back on the client's video send track: (media SSRCs, bit/s).
    pub rembs: std::sync::Mutex<Vec<(Vec<u32>, f32)>>,
}

impl Received {
    /// Audio, video packets and keyframes received from the stream `stream_id`.
    pub fn of_stream(&self, stream_id: &str) -> [u64; 3] {
        self.by_stream
            .lock()
            .unwrap()
            .get(stream_id)
            .copied()
            .unwrap_or_default()
    }
    fn count(&self, stream_id: &str, i: usize) {
        self.by_stream
            .lock()
            .unwrap()
            .entry(stream_id.to_owned())
            .or_default()[i] += 1;
    }
}

pub struct Client {
    pub pc: Arc<RTCPeerConnection>,
    pub video: Arc<TrackLocalStaticSample>,
    /// The video track instead of `video` when made by [`client_rtp_video`]: the test writes
    /// its RTP packets (and sequence numbers) itself.
    pub rtp_video: Option<Arc<TrackLocalStaticRTP>>,
    pub audio: Arc<TrackLocalStaticSample>,
    pub received: Arc<Received>,
    pub candidates: mpsc::UnboundedReceiver<Candidate>,
    pub connected: tokio::sync::watch::Receiver<bool>,
    /// ICE and peer connection state changes, with the time since the client was made: shown
    /// when it does not connect.
    pub history: History,
}

/// A shared log of timed events (state changes, candidates) for failure messages.
#[derive(Clone)]
pub struct History {
    start: std::time::Instant,
    events: Arc<std::sync::Mutex<Vec<String>>>,
}

impl History {
    pub fn new() -> History {
        History {
            start: std::time::Instant::now(),
            events: Default::default(),
        }
    }
    pub fn push(&self, what: impl std::fmt::Display) {
        let line = format!("{:>6} ms {what}", self.start.elapsed().as_millis());
        self.events.lock().unwrap().push(line);
    }
    pub fn dump(&self) -> String {
        self.events.lock().unwrap().join("\n")
    }
}

impl Default for History {
    fn default() -> Self {
        History::new()
    }
}

/// A client's `webrtc` API as a browser would have it — the library's default codecs and
/// interceptors, not the server's — gathering loopback host candidates only. Also used by the
/// media load generator (benches/media_load).
pub fn loopback_api() -> webrtc::api::API {
    client_api(true, |ip| ip.is_loopback())
}

/// A client's `webrtc` API (the library's default codecs and interceptors, no mDNS) gathering
/// host candidates only on the addresses `keep` accepts (loopback ones only when `loopback`).
pub fn client_api(
    loopback: bool,
    keep: impl Fn(std::net::IpAddr) -> bool + Send + Sync + 'static,
) -> webrtc::api::API {
    let mut m = MediaEngine::default();
    m.register_default_codecs().unwrap();
    let registry = register_default_interceptors(Registry::new(), &mut m).unwrap();
    let mut s = SettingEngine::default();
    s.set_include_loopback_candidate(loopback);
    s.set_ip_filter(Box::new(keep));
    s.set_ice_multicast_dns_mode(webrtc::ice::mdns::MulticastDnsMode::Disabled);
    APIBuilder::new()
        .with_media_engine(m)
        .with_interceptor_registry(registry)
        .with_setting_engine(s)
        .build()
}

pub async fn client(name: &str) -> Client {
    client_with(name, false).await
}

/// A client whose video track is written packet by packet (`Client::rtp_video`).
pub async fn client_rtp_video(name: &str) -> Client {
    client_with(name, true).await
}

async fn client_with(name: &str, rtp: bool) -> Client {
    let api = loopback_api();
    let pc = Arc::new(
        api.new_peer_connection(RTCConfiguration::default())
            .await
            .unwrap(),
    );
    let cap = |mime: &str, rate: u32, ch: u16| RTCRtpCodecCapability {
        mime_type: mime.to_owned(),
        clock_rate: rate,
        channels: ch,
        ..Default::default()
    };
    let video = Arc::new(TrackLocalStaticSample::new(
        cap(MIME_TYPE_VP8, 90000, 0),
        format!("{name}-v"),
        name.to_owned(),
    ));
    let audio = Arc::new(TrackLocalStaticSample::new(
        cap(MIME_TYPE_OPUS, 48000, 2),
        format!("{name}-a"),
        name.to_owned(),
    ));
    let rtp_video = rtp.then(|| {
        Arc::new(TrackLocalStaticRTP::new(
            cap(MIME_TYPE_VP8, 90000, 0),
            format!("{name}-v"),
            name.to_owned(),
        ))
    });
    let first: Arc<dyn TrackLocal + Send + Sync> = match &rtp_video {
        Some(v) => v.clone(),
        None => video.clone(),
    };
    let received = Arc::new(Received::default());
    for (i, t) in [first, audio.clone()].into_iter().enumerate() {
        let sender = pc.add_track(t).await.unwrap();
        let r = received.clone();
        tokio::spawn(async move {
            while let Ok((pkts, _)) = sender.read_rtcp().await {
                for p in pkts.iter().filter(|_| i == 0) {
                    if let Some(remb) = p.as_any().downcast_ref::<Remb>() {
                        r.rembs
                            .lock()
                            .unwrap()
                            .push((remb.ssrcs.clone(), remb.bitrate));
                    }
                }
            }
        });
    }
    let (ctx, candidates) = mpsc::unbounded_channel();
    pc.on_ice_candidate(Box::new(move |c: Option<RTCIceCandidate>| {
        let ctx = ctx.clone();
        Box::pin(async move {
            if let Some(c) = c
                && let Ok(j) = c.to_json()
            {
                let _ = ctx.send(Candidate {
                    candidate: j.candidate,
                    sdp_mid: j.sdp_mid,
                    sdp_mline_index: j.sdp_mline_index,
                    username_fragment: None,
                });
            }
        })
    }));
    let history = History::new();
    let (wtx, connected) = tokio::sync::watch::channel(false);
    let (h, n) = (history.clone(), name.to_owned());
    pc.on_peer_connection_state_change(Box::new(move |s| {
        h.push(format_args!("{n}: peer connection {s}"));
        // once connected, stays "connected" for `wait_connected` even if it drops later
        wtx.send_if_modified(|c| {
            let was = *c;
            *c |= s == RTCPeerConnectionState::Connected;
            *c != was
        });
        Box::pin(async {})
    }));
    let (h, n) = (history.clone(), name.to_owned());
    pc.on_ice_connection_state_change(Box::new(move |s| {
        h.push(format_args!("{n}: ice {s}"));
        Box::pin(async {})
    }));
    let r = received.clone();
    pc.on_track(Box::new(move |track: Arc<TrackRemote>, receiver, _| {
        let r = r.clone();
        // read the server's RTCP as a browser does: its sender reports make the receiver
        // reports carry LSR/DLSR, from which the server measures the round trip
        tokio::spawn(async move { while receiver.read_rtcp().await.is_ok() {} });
        Box::pin(async move {
            tokio::spawn(async move {
                let video = track.kind() == RTPCodecType::Video;
                let stream = track.stream_id();
                if video {
                    r.video_ssrcs
                        .lock()
                        .unwrap()
                        .insert(stream.clone(), track.ssrc());
                }
                while let Ok((p, _)) = track.read_rtp().await {
                    r.count(&stream, if video { 1 } else { 0 });
                    if video {
                        r.video_packets.fetch_add(1, Ordering::Relaxed);
                        // start of a VP8 frame whose first byte says keyframe
                        let pl = &p.payload[..];
                        if let Some((true, off)) = recordings::ivf::vp8_descriptor(pl)
                            && pl.get(off).is_some_and(|b| b & 1 == 0)
                        {
                            r.count(&stream, 2);
                            r.video_keyframes.fetch_add(1, Ordering::Relaxed);
                        }
                    } else {
                        r.audio_packets.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        })
    }));
    Client {
        pc,
        video,
        rtp_video,
        audio,
        received,
        candidates,
        connected,
        history,
    }
}

impl Client {
    pub async fn offer(&self) -> String {
        let offer = self.pc.create_offer(None).await.unwrap();
        self.pc.set_local_description(offer).await.unwrap();
        self.pc.local_description().await.unwrap().sdp
    }

    pub async fn answer(&self, sdp: String) {
        self.pc
            .set_remote_description(RTCSessionDescription::answer(sdp).unwrap())
            .await
            .unwrap();
    }

    pub async fn add_candidate(&self, c: Candidate) {
        self.pc
            .add_ice_candidate(RTCIceCandidateInit {
                candidate: c.candidate,
                sdp_mid: c.sdp_mid,
                sdp_mline_index: c.sdp_mline_index,
                username_fragment: c.username_fragment,
            })
            .await
            .unwrap();
    }

    pub async fn wait_connected(&mut self, within: Duration) {
        let done = tokio::time::timeout(within, self.connected.wait_for(|c| *c)).await;
        assert!(
            matches!(done, Ok(Ok(_))),
            "client did not connect in time ({within:?}); history:\n{}",
            self.history.dump()
        );
    }

    /// Sends the sample media for `dur` (looping), in real time.
    pub fn pump(&self, media: Arc<SampleMedia>, dur: Duration) -> tokio::task::JoinHandle<()> {
        let (video, audio) = (self.video.clone(), self.audio.clone());
        tokio::spawn(async move {
            let start = tokio::time::Instant::now();
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            let (mut vi, mut ai, mut t) = (0usize, 0usize, 0u64);
            while start.elapsed() < dur {
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
                // 30 fps video on a 20 ms tick: 3 frames every 5 ticks
                t += 20;
                while (vi as u64) * 1000 / 30 < t {
                    let f = &media.video[vi % media.video.len()];
                    vi += 1;
                    let _ = video
                        .write_sample(&Sample {
                            data: f.clone(),
                            duration: Duration::from_millis(33),
                            ..Default::default()
                        })
                        .await;
                }
            }
        })
    }
}

/// RSS (kB) and open file descriptors of this process.
pub fn rss_and_fds() -> (u64, usize) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let fds = std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0);
    (rss, fds)
}

/// A media room of `engine` whose local candidates go to one channel per role.
pub fn open_room(
    engine: &signaling::rtc::RtcEngine,
    hearing: &str,
    roles: &[signaling::Role],
) -> (
    Arc<dyn signaling::media::MediaRoom>,
    std::collections::HashMap<signaling::Role, mpsc::UnboundedReceiver<Candidate>>,
) {
    use signaling::media::{MediaEngine, MediaEvent};
    let (mut txs, mut rxs) = (
        std::collections::HashMap::new(),
        std::collections::HashMap::new(),
    );
    for r in roles {
        let (tx, rx) = mpsc::unbounded_channel();
        txs.insert(*r, tx);
        rxs.insert(*r, rx);
    }
    let room = engine.open_room(
        hearing,
        Arc::new(move |role: signaling::Role, ev| {
            if let (MediaEvent::LocalCandidate(c), Some(tx)) = (ev, txs.get(&role)) {
                let _ = tx.send(c);
            }
        }),
    );
    (room, rxs)
}

/// Offer/answer and trickle both ways between `cl` and the room as `role`; returns the tasks
/// that carry the candidates.
pub async fn join_room(
    room: &Arc<dyn signaling::media::MediaRoom>,
    role: signaling::Role,
    conn: u64,
    cl: &mut Client,
    mut server_cands: mpsc::UnboundedReceiver<Candidate>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let offer = cl.offer().await;
    let answer = tokio::time::timeout(Duration::from_secs(10), room.offer(role, "p", conn, offer))
        .await
        .expect("answer in time")
        .expect("answer");
    cl.answer(answer).await;
    let mut client_cands = std::mem::replace(&mut cl.candidates, mpsc::unbounded_channel().1);
    let r = room.clone();
    let a = tokio::spawn(async move {
        while let Some(c) = client_cands.recv().await {
            let _ = r.candidate(role, conn, c).await;
        }
    });
    let pc = cl.pc.clone();
    let b = tokio::spawn(async move {
        while let Some(c) = server_cands.recv().await {
            let _ = pc
                .add_ice_candidate(RTCIceCandidateInit {
                    candidate: c.candidate,
                    sdp_mid: c.sdp_mid,
                    sdp_mline_index: c.sdp_mline_index,
                    username_fragment: None,
                })
                .await;
        }
    });
    vec![a, b]
}

/// Waits up to 10 s for `role`'s media to have reached the recorder within `fresh` (what the
/// hearing's live check reads).
pub async fn recorded_within(
    room: &Arc<dyn signaling::media::MediaRoom>,
    role: signaling::Role,
    fresh: Duration,
) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while tokio::time::Instant::now() < deadline {
        if room.recorded_ago(role).is_some_and(|d| d < fresh) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}
