//! The media engine over the `webrtc` crate (pinned `=0.17.2`, see docs/architecture.md).
//!
//! Owns the server-side peer connections: one per participant (seat), each pre-loaded with send
//! tracks (Opus + VP8), one pair per other seat it has a media slot for ([`seats`]), so the call
//! needs no renegotiation when another participant arrives or comes back. Incoming RTP is
//! forwarded to every receiver's link of that sender (sequence numbers and timestamps kept
//! continuous per forwarded stream across reconnects) and handed to the recorder; PLI/FIR from a
//! receiver are relayed to the sender of that stream, the receivers' link estimates (REMB) are
//! passed back to the senders ([`remb`]); a keyframe is requested from every sender a
//! receiver gets when the receiver connects, and from a sender when its video starts. The
//! self-test's echo peer ([`echo`]) uses the same API object (ports, NAT settings, codecs). The
//! video of a seat that announced audio-only is dropped ([`crate::video`]). Each seat's link is
//! sampled every few seconds ([`stats`]).

mod api;
mod echo;
pub mod estimate;
mod forward;
mod peer;
mod record;
mod remb;
mod restart;
mod seats;
#[cfg(test)]
mod srtp_tests;
mod stats;

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use async_trait::async_trait;
use tokio::sync::mpsc;
use webrtc::api::API;
use webrtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;

use crate::media::{MediaEngine, MediaError, MediaEventSink, MediaRoom};
use crate::msg::{Candidate, Role};

pub use api::build_api;
pub(crate) use api::{opus_cap, vp8_cap};
pub use estimate::RembLimits;
pub use record::FinishedSegment;
pub use seats::Continuity;

/// Unix time in microseconds, from the server's injectable clock.
pub type ClockFn = Arc<dyn Fn() -> i64 + Send + Sync>;

/// Network and recording settings of the media engine.
#[derive(Clone)]
pub struct RtcConfig {
    /// UDP port range for ICE host candidates (0, 0: any port).
    pub udp_port_min: u16,
    pub udp_port_max: u16,
    /// Public addresses to announce instead of the host's (1:1 NAT).
    pub nat_1to1_ips: Vec<String>,
    /// Offer loopback candidates (tests on one machine).
    pub include_loopback: bool,
    /// Only gather candidates on these local addresses (empty: all).
    pub bind_ips: Vec<IpAddr>,
    /// Where recordings go (`None`: no recording).
    pub recordings_dir: Option<PathBuf>,
    /// The node recording here, written as each segment's owner (`recordings::owner`); empty:
    /// segments without an owner (one process per directory).
    pub node_id: String,
    /// How often each seat's link is sampled ([`crate::link`]; `[call.link] sample_every_s`).
    pub link_every: std::time::Duration,
    /// The receivers' link estimate passed back to senders ([`remb`], `max_bps` 0: not passed).
    pub remb: RembLimits,
    pub clock: ClockFn,
}

impl std::fmt::Debug for RtcConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RtcConfig")
            .field("udp_port_min", &self.udp_port_min)
            .field("udp_port_max", &self.udp_port_max)
            .field("nat_1to1_ips", &self.nat_1to1_ips)
            .field("include_loopback", &self.include_loopback)
            .field("bind_ips", &self.bind_ips)
            .field("recordings_dir", &self.recordings_dir)
            .field("node_id", &self.node_id)
            .field("link_every", &self.link_every)
            .field("remb", &self.remb)
            .finish()
    }
}

pub(crate) struct Shared {
    pub api: API,
    pub cfg: RtcConfig,
    pub finished: mpsc::UnboundedSender<FinishedSegment>,
    pub live_peers: AtomicU64,
    pub segment_seq: AtomicU64,
    /// Segments reported on `finished` so far.
    pub finished_count: AtomicU64,
    /// The engine's start, the origin of [`seats::Seat::recorded_at`] (a monotonic clock: how
    /// recent the recorded media is does not follow the injectable wall clock).
    pub started: std::time::Instant,
}

impl Shared {
    /// Milliseconds since the engine started, plus one (so that 0 means "never").
    pub(crate) fn mono_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis())
            .unwrap_or(u64::MAX - 1)
            .saturating_add(1)
    }

    /// A new server peer connection, counted in `live_peers` and the `media_peers` gauge (the
    /// closing side takes it off again).
    pub(crate) async fn new_peer(
        &self,
    ) -> Result<Arc<webrtc::peer_connection::RTCPeerConnection>, MediaError> {
        let pc = self
            .api
            .new_peer_connection(
                webrtc::peer_connection::configuration::RTCConfiguration::default(),
            )
            .await
            .map_err(peer::merr("media_error"))?;
        self.live_peers.fetch_add(1, Ordering::Relaxed);
        metrics::gauge!("media_peers").increment(1.0);
        Ok(Arc::new(pc))
    }
}

/// The `webrtc`-crate media engine.
pub struct RtcEngine {
    shared: Arc<Shared>,
}

impl RtcEngine {
    /// The engine and the stream of finished (finalised) recording segments.
    pub fn new(
        cfg: RtcConfig,
    ) -> Result<(RtcEngine, mpsc::UnboundedReceiver<FinishedSegment>), MediaError> {
        let api = build_api(&cfg)?;
        let (tx, rx) = mpsc::unbounded_channel();
        Ok((
            RtcEngine {
                shared: Arc::new(Shared {
                    api,
                    cfg,
                    finished: tx,
                    live_peers: AtomicU64::new(0),
                    segment_seq: AtomicU64::new(0),
                    finished_count: AtomicU64::new(0),
                    started: std::time::Instant::now(),
                }),
            },
            rx,
        ))
    }

    /// Server-side peer connections currently open (for tests and metrics).
    pub fn live_peers(&self) -> u64 {
        self.shared.live_peers.load(Ordering::Relaxed)
    }

    /// Segments finalised and sent on the `finished` channel so far (a barrier for callers
    /// that must wait until the consumer has seen them).
    pub fn segments_finished(&self) -> u64 {
        self.shared.finished_count.load(Ordering::Acquire)
    }
}

impl MediaEngine for RtcEngine {
    fn open_room(&self, hearing_id: &str, events: MediaEventSink) -> Arc<dyn MediaRoom> {
        let now = (self.shared.cfg.clock)();
        let n = self.shared.segment_seq.fetch_add(1, Ordering::Relaxed);
        let segment = format!("seg-{}-{n}", now / 1000);
        RtcRoom::new(self.shared.clone(), hearing_id, segment, events)
    }
}

/// One hearing's media: a seat per participant, a link per (receiver, sender) pair, a peer
/// connection per connected participant, one recording segment.
pub struct RtcRoom {
    pub(crate) shared: Arc<Shared>,
    pub(crate) hearing_id: String,
    pub(crate) segment: String,
    pub(crate) events: MediaEventSink,
    pub(crate) seats: seats::Seats,
    pub(crate) peers: tokio::sync::Mutex<HashMap<Role, peer::Peer>>,
    pub(crate) closed: AtomicBool,
    pub(crate) recorder: Arc<record::SegmentRecorder>,
    /// The receivers' link estimates and what each sender was told ([`remb`]).
    pub(crate) estimates: std::sync::Mutex<estimate::Estimates>,
    pub(crate) remb_started: AtomicBool,
    pub(crate) me: Weak<RtcRoom>,
}

impl RtcRoom {
    fn new(
        shared: Arc<Shared>,
        hearing_id: &str,
        segment: String,
        events: MediaEventSink,
    ) -> Arc<RtcRoom> {
        let recorder = Arc::new(record::SegmentRecorder::new(&shared, hearing_id, &segment));
        let every = shared.cfg.link_every;
        let room = Arc::new_cyclic(|me| RtcRoom {
            hearing_id: hearing_id.to_owned(),
            segment,
            events,
            seats: seats::Seats::default(),
            peers: tokio::sync::Mutex::new(HashMap::new()),
            closed: AtomicBool::new(false),
            recorder,
            estimates: Default::default(),
            remb_started: AtomicBool::new(false),
            shared,
            me: me.clone(),
        });
        stats::spawn_sampler(Arc::downgrade(&room), every);
        room
    }

    /// What a forwarding task of `role`'s media needs; `conn`: its peer connection's
    /// signalling connection.
    pub(crate) fn clone_parts(&self, role: Role, conn: Arc<AtomicU64>) -> forward::Parts {
        forward::Parts {
            shared: self.shared.clone(),
            seat: self.seats.seat(role),
            recorder: self.recorder.clone(),
            me: self.me.clone(),
            conn,
        }
    }

    /// Asks `source`'s peer for a keyframe (a receiver joined, or relayed PLI/FIR).
    pub(crate) async fn request_keyframe(&self, source: Role) {
        let ssrc = self.seats.seat(source).video_ssrc.load(Ordering::Relaxed);
        if ssrc == 0 {
            return;
        }
        let pc = {
            let peers = self.peers.lock().await;
            peers.get(&source).map(|p| p.pc.clone())
        };
        if let Some(pc) = pc {
            let pli = PictureLossIndication {
                sender_ssrc: 0,
                media_ssrc: ssrc,
            };
            if pc.write_rtcp(&[Box::new(pli)]).await.is_ok() {
                metrics::counter!("media_keyframe_requests_total").increment(1);
            }
        }
    }
}

#[async_trait]
impl MediaRoom for RtcRoom {
    async fn offer(
        &self,
        role: Role,
        participant_id: &str,
        conn_seq: u64,
        sdp: String,
    ) -> Result<String, MediaError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(MediaError::new("room_closed", "the call is over"));
        }
        peer::offer(self, role, participant_id, conn_seq, sdp).await
    }

    async fn restart(&self, role: Role, conn_seq: u64, sdp: String) -> Result<String, MediaError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(MediaError::new("room_closed", "the call is over"));
        }
        restart::restart(self, role, conn_seq, sdp).await
    }

    async fn candidate(
        &self,
        role: Role,
        conn_seq: u64,
        candidate: Candidate,
    ) -> Result<(), MediaError> {
        peer::candidate(self, role, conn_seq, candidate).await
    }

    fn recorded_ago(&self, role: Role) -> Option<std::time::Duration> {
        if self.closed.load(Ordering::Acquire) {
            return None;
        }
        let at = self.seats.find(role)?.recorded_at.load(Ordering::Acquire);
        (at != 0)
            .then(|| std::time::Duration::from_millis(self.shared.mono_ms().saturating_sub(at)))
    }

    fn set_video(&self, role: Role, on: bool) {
        let seat = self.seats.seat(role);
        let was_off = seat.video_off.swap(!on, Ordering::AcqRel);
        if on
            && was_off
            && let Some(room) = self.me.upgrade()
        {
            // the receivers need a keyframe to show the video again
            tokio::spawn(async move { room.request_keyframe(role).await });
        }
    }

    async fn remove(&self, role: Role) {
        let old = self.peers.lock().await.remove(&role);
        remb::forget(self, role);
        if let Some(p) = old {
            p.close(&self.shared).await;
        }
    }

    async fn close(&self) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        let olds: Vec<_> = self.peers.lock().await.drain().map(|(_, p)| p).collect();
        for p in olds {
            p.close(&self.shared).await;
        }
        self.recorder
            .finish(&self.shared, &self.hearing_id, &self.segment)
            .await;
    }
}

impl Drop for RtcRoom {
    fn drop(&mut self) {
        if !self.closed.load(Ordering::Acquire) {
            tracing::warn!(hearing_id = %self.hearing_id, "media room dropped without close");
        }
    }
}
