//! One synthetic participant: a `webrtc` client that joins a hearing through the real signalling
//! socket, sends pre-encoded VP8 and Opus in real time with its own packetizer (so it knows the
//! send time of every sequence number), and measures what arrives from each other seat (told
//! apart by the stream id the server gives it, `<role>-stream`; a receive-only audio and video
//! slot per seat beyond the first, docs/call.md "Seats").

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use signaling::msg::ServerMsg;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;
use webrtc::api::API;
use webrtc::api::media_engine::{MIME_TYPE_OPUS, MIME_TYPE_VP8};
use webrtc::ice_transport::ice_candidate::{RTCIceCandidate, RTCIceCandidateInit};
use webrtc::peer_connection::RTCPeerConnection;
use webrtc::peer_connection::configuration::RTCConfiguration;
use webrtc::peer_connection::peer_connection_state::RTCPeerConnectionState;
use webrtc::peer_connection::sdp::session_description::RTCSessionDescription;
use webrtc::rtp::codecs::{opus::OpusPayloader, vp8::Vp8Payloader};
use webrtc::rtp::packetizer::{Packetizer, new_packetizer};
use webrtc::rtp::sequence::new_fixed_sequencer;
use webrtc::rtp_transceiver::RTCRtpTransceiverInit;
use webrtc::rtp_transceiver::rtp_codec::{RTCRtpCodecCapability, RTPCodecType};
use webrtc::rtp_transceiver::rtp_transceiver_direction::RTCRtpTransceiverDirection;
use webrtc::track::track_local::track_local_static_rtp::TrackLocalStaticRTP;
use webrtc::track::track_local::{TrackLocal, TrackLocalWriter};
use webrtc::track::track_remote::TrackRemote;
use webrtc::util::MarshalSize;

use crate::common::SampleMedia;
use crate::support;

const AUDIO: usize = 0;
const VIDEO: usize = 1;

/// Microseconds since the benchmark started (0 is never a send time: times start at 1).
pub fn now_us() -> u64 {
    static BASE: OnceLock<Instant> = OnceLock::new();
    BASE.get_or_init(Instant::now).elapsed().as_micros() as u64 + 1
}

/// The measurement window, as send times: packets sent inside it are counted.
pub static WINDOW: [AtomicU64; 2] = [AtomicU64::new(u64::MAX), AtomicU64::new(u64::MAX)];

/// What the server adds to each forwarded stream's sequence numbers: 0 for ours (it forwards
/// them as sent); Janus's videocall plugin renumbers each relayed stream from 1 (its RTP switching
/// context), and the packetizer here starts at 0, so 1 there (checked on the packet sizes: every
/// received packet is the one sent with the sequence number one below).
pub static SEQ_OFFSET: AtomicU16 = AtomicU16::new(0);

fn in_window(t: u64) -> bool {
    t >= WINDOW[0].load(Ordering::Relaxed) && t <= WINDOW[1].load(Ordering::Relaxed)
}

/// Send time of each sequence number of one outgoing stream (sequence numbers start at 0).
pub struct SendLog {
    times: Vec<AtomicU64>,
    /// RTP packet sizes (header + payload) by sequence number.
    sizes: Vec<AtomicU32>,
}

impl SendLog {
    fn new() -> Arc<SendLog> {
        Arc::new(SendLog {
            times: (0..65536).map(|_| AtomicU64::new(0)).collect(),
            sizes: (0..65536).map(|_| AtomicU32::new(0)).collect(),
        })
    }
    /// Packets, and their bytes, whose send time lies in the window.
    pub fn sent_in_window(&self) -> (u64, u64) {
        self.times
            .iter()
            .zip(&self.sizes)
            .filter(|(t, _)| {
                let t = t.load(Ordering::Relaxed);
                t != 0 && in_window(t)
            })
            .fold((0, 0), |(n, b), (_, s)| {
                (n + 1, b + s.load(Ordering::Relaxed) as u64)
            })
    }
}

/// What arrived on one incoming stream: distinct sequence numbers sent inside the window, and
/// their one-way latency through the server (µs).
#[derive(Default)]
pub struct RecvStream {
    pub received: AtomicU64,
    /// RTP bytes (header + payload) of those packets, as they arrived.
    pub bytes: AtomicU64,
    pub latencies_us: Mutex<Vec<u32>>,
}

/// What one seat receives from each other seat (by role), audio and video.
pub type Recv = HashMap<String, [Arc<RecvStream>; 2]>;
/// The other seats' send logs, by role.
pub type Partners = HashMap<String, [Arc<SendLog>; 2]>;

pub struct Synth {
    pub role: String,
    pub pc: Arc<RTCPeerConnection>,
    tracks: [Arc<TrackLocalStaticRTP>; 2],
    pub sent: [Arc<SendLog>; 2],
    pub recv: Arc<Recv>,
    /// The other seats' send logs, set once all exist.
    pub partner: Arc<OnceLock<Partners>>,
    pub ws_tx: mpsc::UnboundedSender<String>,
    leave: String,
    pub connected: watch::Receiver<bool>,
}

fn cap(mime: &str, rate: u32, channels: u16) -> RTCRtpCodecCapability {
    RTCRtpCodecCapability {
        mime_type: mime.to_owned(),
        clock_rate: rate,
        channels,
        ..Default::default()
    }
}

/// Joins `hearing` as `role` and offers a media slot per seat of `others`; media flows once ICE
/// connects.
pub async fn connect(
    api: &API,
    addr: &str,
    hearing: &str,
    role: &str,
    others: &[&str],
) -> anyhow::Result<Synth> {
    let ws = support::join(addr, hearing, role).await?;
    let (mut sink, mut stream) = ws.split();
    let (ws_tx, mut ws_rx) = mpsc::unbounded_channel::<String>();
    tokio::spawn(async move {
        while let Some(text) = ws_rx.recv().await {
            if sink.send(Message::text(text)).await.is_err() {
                break;
            }
        }
        let _ = sink.close().await;
    });
    let synth = Synth::new(api, role, others, ws_tx, r#"{"type":"leave"}"#.to_owned()).await?;
    let pc = synth.pc.clone();
    let tx = synth.ws_tx.clone();
    pc.on_ice_candidate(Box::new(move |c: Option<RTCIceCandidate>| {
        let tx = tx.clone();
        Box::pin(async move {
            if let Some(j) = c.and_then(|c| c.to_json().ok()) {
                let frame = serde_json::json!({"type": "candidate", "candidate": j.candidate,
                    "sdpMid": j.sdp_mid, "sdpMLineIndex": j.sdp_mline_index});
                let _ = tx.send(frame.to_string());
            }
        })
    }));
    let offer = pc.create_offer(None).await?;
    pc.set_local_description(offer).await?;
    let sdp = pc
        .local_description()
        .await
        .ok_or_else(|| anyhow::anyhow!("no local description"))?
        .sdp;
    synth
        .ws_tx
        .send(serde_json::json!({"type": "offer", "sdp": sdp}).to_string())?;
    let reader_pc = pc.clone();
    tokio::spawn(async move {
        while let Some(Ok(msg)) = stream.next().await {
            let Message::Text(text) = msg else { continue };
            let _ = apply(&reader_pc, &text).await;
        }
    });
    Ok(synth)
}

impl Synth {
    /// The peer connection of one seat before any signalling: its two send tracks, a receive-only
    /// audio and video slot per seat of `others` beyond the first, and the counters. `ws_tx`
    /// carries frames to the server's socket; `leave` is the frame [`Synth::leave`] sends.
    pub async fn new(
        api: &API,
        role: &str,
        others: &[&str],
        ws_tx: mpsc::UnboundedSender<String>,
        leave: String,
    ) -> anyhow::Result<Synth> {
        let pc = Arc::new(api.new_peer_connection(RTCConfiguration::default()).await?);
        let tracks = [
            Arc::new(TrackLocalStaticRTP::new(
                cap(MIME_TYPE_OPUS, 48000, 2),
                format!("{role}-a"),
                role.to_owned(),
            )),
            Arc::new(TrackLocalStaticRTP::new(
                cap(MIME_TYPE_VP8, 90000, 0),
                format!("{role}-v"),
                role.to_owned(),
            )),
        ];
        for t in &tracks {
            let sender = pc
                .add_track(t.clone() as Arc<dyn TrackLocal + Send + Sync>)
                .await?;
            tokio::spawn(async move { while sender.read_rtcp().await.is_ok() {} });
        }
        for _ in 1..others.len() {
            for kind in [RTPCodecType::Audio, RTPCodecType::Video] {
                let init = RTCRtpTransceiverInit {
                    direction: RTCRtpTransceiverDirection::Recvonly,
                    send_encodings: vec![],
                };
                pc.add_transceiver_from_kind(kind, Some(init)).await?;
            }
        }
        let (state_tx, connected) = watch::channel(false);
        pc.on_peer_connection_state_change(Box::new(move |s| {
            let _ = state_tx.send(s == RTCPeerConnectionState::Connected);
            Box::pin(async {})
        }));
        let recv: Arc<Recv> = Arc::new(
            others
                .iter()
                .map(|r| (r.to_string(), Default::default()))
                .collect(),
        );
        let partner: Arc<OnceLock<Partners>> = Arc::new(OnceLock::new());
        on_track(&pc, recv.clone(), partner.clone());
        Ok(Synth {
            role: role.to_owned(),
            pc,
            tracks,
            sent: [SendLog::new(), SendLog::new()],
            recv,
            partner,
            ws_tx,
            leave,
            connected,
        })
    }
}

/// Applies one server frame (answer, candidate) to the peer connection.
async fn apply(pc: &RTCPeerConnection, text: &str) -> anyhow::Result<()> {
    match serde_json::from_str::<ServerMsg>(text)? {
        ServerMsg::Answer { sdp } => {
            pc.set_remote_description(RTCSessionDescription::answer(sdp)?)
                .await?
        }
        ServerMsg::Candidate(c) => {
            pc.add_ice_candidate(RTCIceCandidateInit {
                candidate: c.candidate,
                sdp_mid: c.sdp_mid,
                sdp_mline_index: c.sdp_mline_index,
                username_fragment: c.username_fragment,
            })
            .await?
        }
        ServerMsg::Error { code, message, .. } => eprintln!("server error {code}: {message}"),
        _ => {}
    }
    Ok(())
}

/// Counts what arrives on each incoming track against its sender's send log (the sender named by
/// the track's stream id, `<role>-stream`).
fn on_track(pc: &RTCPeerConnection, recv: Arc<Recv>, partner: Arc<OnceLock<Partners>>) {
    pc.on_track(Box::new(move |track: Arc<TrackRemote>, _, _| {
        let kind = if track.kind() == RTPCodecType::Video {
            VIDEO
        } else {
            AUDIO
        };
        let stream = track.stream_id();
        let from = stream.strip_suffix("-stream").unwrap_or(&stream).to_owned();
        // a server that names the stream its own way (Janus): the only other seat when 1:1
        let (from, known) = match recv.get(&from) {
            Some(r) => (from, Some(r)),
            None if recv.len() == 1 => recv
                .iter()
                .next()
                .map_or((from, None), |(k, r)| (k.clone(), Some(r))),
            None => (from, None),
        };
        let Some(stats) = known.map(|r| r[kind].clone()) else {
            eprintln!("a track from an unknown stream {stream:?}");
            return Box::pin(async {});
        };
        let partner = partner.clone();
        tokio::spawn(async move {
            let mut seen = vec![0u64; 1024];
            while let Ok((p, _)) = track.read_rtp().await {
                let now = now_us();
                let Some(log) = partner.get().and_then(|m| m.get(&from)) else {
                    continue;
                };
                let offset = SEQ_OFFSET.load(Ordering::Relaxed);
                let seq = p.header.sequence_number.wrapping_sub(offset) as usize;
                let sent = log[kind].times[seq].load(Ordering::Relaxed);
                if sent == 0 || !in_window(sent) || seen[seq / 64] & (1 << (seq % 64)) != 0 {
                    continue;
                }
                seen[seq / 64] |= 1 << (seq % 64);
                stats.received.fetch_add(1, Ordering::Relaxed);
                let size = p.header.marshal_size() + p.payload.len();
                stats.bytes.fetch_add(size as u64, Ordering::Relaxed);
                let lat = now.saturating_sub(sent).min(u32::MAX as u64) as u32;
                stats
                    .latencies_us
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(lat);
            }
        });
        Box::pin(async {})
    }));
}

impl Synth {
    /// Sends the sample media in real time until `stop` is set.
    pub fn pump(
        &self,
        media: Arc<SampleMedia>,
        stop: Arc<AtomicBool>,
    ) -> tokio::task::JoinHandle<()> {
        let (tracks, sent) = (self.tracks.clone(), self.sent.clone());
        tokio::spawn(async move {
            let mut audio = new_packetizer(
                1200,
                111,
                1,
                Box::new(OpusPayloader),
                Box::new(new_fixed_sequencer(0)),
                48000,
            );
            let mut video = new_packetizer(
                1200,
                96,
                2,
                Box::<Vp8Payloader>::default(),
                Box::new(new_fixed_sequencer(0)),
                90000,
            );
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let (mut ai, mut vi, mut ms) = (0usize, 0usize, 0u64);
            while !stop.load(Ordering::Relaxed) {
                tick.tick().await;
                let a = &media.audio[ai % media.audio.len()];
                ai += 1;
                send(&mut audio, a, 960, &tracks[AUDIO], &sent[AUDIO]).await;
                ms += 20;
                while (vi as u64) * 1000 / 30 < ms {
                    let f = &media.video[vi % media.video.len()];
                    vi += 1;
                    send(&mut video, f, 3000, &tracks[VIDEO], &sent[VIDEO]).await;
                }
            }
        })
    }

    pub fn leave(&self) {
        let _ = self.ws_tx.send(self.leave.clone());
    }
}

async fn send(
    p: &mut impl Packetizer,
    payload: &Bytes,
    samples: u32,
    track: &TrackLocalStaticRTP,
    log: &SendLog,
) {
    let Ok(packets) = p.packetize(payload, samples) else {
        return;
    };
    for pkt in packets {
        let seq = pkt.header.sequence_number as usize;
        let size = pkt.header.marshal_size() + pkt.payload.len();
        log.sizes[seq].store(size as u32, Ordering::Relaxed);
        log.times[seq].store(now_us(), Ordering::Relaxed);
        let _ = track.write_rtp(&pkt).await;
    }
}
