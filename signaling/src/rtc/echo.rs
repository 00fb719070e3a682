//! The self-test's echo peer: one short-lived server-side peer connection that sends every RTP
//! packet it receives from the client straight back on the same kind of track, so the client
//! measures a real ICE/DTLS/SRTP path to this server (the same API object, ports, NAT settings
//! and codecs as the call) with its own `getStats()`: which path connected, RTT, loss, kbit/s.
//!
//! The peer answers a complete (non-trickle) offer, carries its own candidates in the answer,
//! closes after `max` or as soon as the client's connection fails or closes, and reports what it
//! echoed on [`Echo::done`]. Nothing is recorded.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{Notify, oneshot};
use webrtc::peer_connection::RTCPeerConnection;
use webrtc::peer_connection::peer_connection_state::RTCPeerConnectionState;
use webrtc::peer_connection::sdp::session_description::RTCSessionDescription;
use webrtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use webrtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use webrtc::rtp_transceiver::rtp_codec::RTPCodecType;
use webrtc::track::track_local::track_local_static_rtp::TrackLocalStaticRTP;
use webrtc::track::track_local::{TrackLocal, TrackLocalWriter};
use webrtc::track::track_remote::TrackRemote;

use super::{RtcEngine, Shared, opus_cap, peer::merr, vp8_cap};
use crate::media::{Echo, EchoEngine, EchoOutcome, MediaError};

/// At most this long to gather the server's candidates before answering (as the call does).
const GATHER_WAIT: Duration = Duration::from_secs(2);
/// Keyframe requests relayed to the client at most this often.
const PLI_EVERY: Duration = Duration::from_millis(300);

/// What the echo's tasks share.
#[derive(Default)]
struct Counters {
    connected: AtomicBool,
    packets: AtomicU64,
    bytes: AtomicU64,
    /// The client's video SSRC (0: none yet), for keyframe requests.
    video_ssrc: AtomicU32,
}

#[async_trait]
impl EchoEngine for RtcEngine {
    async fn echo(&self, sdp: String, max: Duration) -> Result<Echo, MediaError> {
        echo(&self.shared, sdp, max).await
    }
}

async fn echo(shared: &Arc<Shared>, sdp: String, max: Duration) -> Result<Echo, MediaError> {
    let offer = RTCSessionDescription::offer(sdp).map_err(merr("bad_sdp"))?;
    let pc = shared.new_peer().await?;
    metrics::counter!("media_selftest_echoes_total").increment(1);
    let stop = Arc::new(Notify::new());
    let counters = Arc::new(Counters::default());
    match answer(&pc, offer, &stop, &counters).await {
        Ok(sdp) => {
            let (tx, done) = oneshot::channel();
            tokio::spawn(close_after(shared.clone(), pc, max, stop, counters, tx));
            Ok(Echo { answer: sdp, done })
        }
        Err(e) => {
            close(shared, &pc).await;
            Err(e)
        }
    }
}

async fn close(shared: &Shared, pc: &RTCPeerConnection) {
    if let Err(e) = pc.close().await {
        tracing::debug!(error = %e, "echo peer close");
    }
    shared.live_peers.fetch_sub(1, Ordering::Relaxed);
    metrics::gauge!("media_peers").decrement(1.0);
}

/// Closes the echo after `max`, or earlier when the client's connection failed or closed.
async fn close_after(
    shared: Arc<Shared>,
    pc: Arc<RTCPeerConnection>,
    max: Duration,
    stop: Arc<Notify>,
    counters: Arc<Counters>,
    done: oneshot::Sender<EchoOutcome>,
) {
    tokio::select! {
        _ = tokio::time::sleep(max) => {}
        _ = stop.notified() => {}
    }
    close(&shared, &pc).await;
    let _ = done.send(EchoOutcome {
        connected: counters.connected.load(Ordering::Acquire),
        packets: counters.packets.load(Ordering::Relaxed),
        bytes: counters.bytes.load(Ordering::Relaxed),
    });
}

/// Wires the echo (send tracks, handlers) and answers the offer, candidates included.
async fn answer(
    pc: &Arc<RTCPeerConnection>,
    offer: RTCSessionDescription,
    stop: &Arc<Notify>,
    counters: &Arc<Counters>,
) -> Result<String, MediaError> {
    let audio = Arc::new(TrackLocalStaticRTP::new(
        opus_cap(),
        "echo-audio".to_owned(),
        "echo".to_owned(),
    ));
    let video = Arc::new(TrackLocalStaticRTP::new(
        vp8_cap(),
        "echo-video".to_owned(),
        "echo".to_owned(),
    ));
    for (track, is_video) in [
        (audio.clone() as Arc<dyn TrackLocal + Send + Sync>, false),
        (video.clone() as Arc<dyn TrackLocal + Send + Sync>, true),
    ] {
        let sender = pc.add_track(track).await.map_err(merr("media_error"))?;
        let (pc, counters) = (Arc::downgrade(pc), counters.clone());
        tokio::spawn(async move {
            // the client's keyframe requests for the echoed video go to its own sender
            let mut last: Option<tokio::time::Instant> = None;
            while let Ok((pkts, _)) = sender.read_rtcp().await {
                let wants = is_video
                    && pkts.iter().any(|p| {
                        let a = p.as_any();
                        a.downcast_ref::<PictureLossIndication>().is_some()
                            || a.downcast_ref::<FullIntraRequest>().is_some()
                    });
                if wants && last.is_none_or(|t| t.elapsed() >= PLI_EVERY) {
                    last = Some(tokio::time::Instant::now());
                    if let Some(pc) = pc.upgrade() {
                        keyframe(&pc, &counters).await;
                    }
                }
            }
        });
    }
    let s = stop.clone();
    let c = counters.clone();
    pc.on_peer_connection_state_change(Box::new(move |st: RTCPeerConnectionState| {
        if st == RTCPeerConnectionState::Connected {
            c.connected.store(true, Ordering::Release);
        }
        if matches!(
            st,
            RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed
        ) {
            s.notify_one();
        }
        Box::pin(async {})
    }));
    let me = Arc::downgrade(pc);
    let c = counters.clone();
    pc.on_track(Box::new(move |track: Arc<TrackRemote>, _, _| {
        let out = if track.kind() == RTPCodecType::Video {
            video.clone()
        } else {
            audio.clone()
        };
        tokio::spawn(echo_track(track, out, me.clone(), c.clone()));
        Box::pin(async {})
    }));
    pc.set_remote_description(offer)
        .await
        .map_err(merr("bad_sdp"))?;
    let answer = pc.create_answer(None).await.map_err(merr("bad_sdp"))?;
    let mut gathered = pc.gathering_complete_promise().await;
    pc.set_local_description(answer)
        .await
        .map_err(merr("media_error"))?;
    let _ = tokio::time::timeout(GATHER_WAIT, gathered.recv()).await;
    let local = pc
        .local_description()
        .await
        .ok_or_else(|| MediaError::new("media_error", "no local description"))?;
    Ok(local.sdp)
}

/// Sends each packet of `track` back on `out` until the track ends.
async fn echo_track(
    track: Arc<TrackRemote>,
    out: Arc<TrackLocalStaticRTP>,
    pc: std::sync::Weak<RTCPeerConnection>,
    counters: Arc<Counters>,
) {
    if track.kind() == RTPCodecType::Video {
        counters.video_ssrc.store(track.ssrc(), Ordering::Relaxed);
        if let Some(pc) = pc.upgrade() {
            keyframe(&pc, &counters).await;
        }
    }
    while let Ok((mut pkt, _)) = track.read_rtp().await {
        counters.packets.fetch_add(1, Ordering::Relaxed);
        counters
            .bytes
            .fetch_add(pkt.payload.len() as u64, Ordering::Relaxed);
        pkt.header.extension = false;
        pkt.header.extension_profile = 0;
        pkt.header.extensions.clear();
        let _ = out.write_rtp(&pkt).await;
    }
}

async fn keyframe(pc: &RTCPeerConnection, counters: &Counters) {
    let ssrc = counters.video_ssrc.load(Ordering::Relaxed);
    if ssrc != 0 {
        let pli = PictureLossIndication {
            sender_ssrc: 0,
            media_ssrc: ssrc,
        };
        let _ = pc.write_rtcp(&[Box::new(pli)]).await;
    }
}
