//! The receivers' link estimate passed back to the senders (issue 14 §2, docs/call.md "Link
//! estimate"): REMB packets a receiving browser sends about the server's outgoing video streams
//! are noted per (receiver, sender) pair ([`heard`]), and a task per room ([`start`]) writes each
//! sending seat a REMB for its upstream video SSRC when [`super::estimate::Estimates::due`] says
//! so. The publisher's congestion control (Chromium's GoogCC) takes it as a cap on its target
//! bitrate, so it sends what the weakest receiver's link can take.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use webrtc::api::media_engine::MediaEngine;
use webrtc::rtcp::packet::Packet;
use webrtc::rtcp::payload_feedbacks::receiver_estimated_maximum_bitrate::ReceiverEstimatedMaximumBitrate as Remb;
use webrtc::rtp::extension::HeaderExtension;
use webrtc::rtp::extension::abs_send_time_extension::AbsSendTimeExtension;
use webrtc::rtp_transceiver::rtp_codec::{RTCRtpHeaderExtensionCapability, RTPCodecType};

use super::RtcRoom;
use super::seats::Seat;
use crate::msg::Role;

/// How often the room's task looks whether a REMB is due (the pace itself is the estimate's).
const TICK: Duration = Duration::from_millis(250);

/// The abs-send-time header extension of a video packet the server sends now. Chromium, as a
/// receiver of packets without a transport-wide sequence number (the server sends none: it
/// runs no send-side estimator), estimates its downlink from the arrival times against these
/// send times (`RemoteBitrateEstimatorAbsSendTime`) and sends REMB; without them it falls back
/// to RTP timestamps, which measure the publisher's pacing and uplink as well, and its estimate
/// sinks far below the link (measured: to the 30 kbit/s floor on a 300 kbit/s link).
pub(crate) fn send_time() -> HeaderExtension {
    HeaderExtension::AbsSendTime(AbsSendTimeExtension::new(std::time::SystemTime::now()))
}

/// Registers the abs-send-time header extension for video: the server's send time on the video
/// it forwards ([`send_time`]).
pub(crate) fn register_send_time(m: &mut MediaEngine) -> Result<(), webrtc::Error> {
    m.register_header_extension(
        RTCRtpHeaderExtensionCapability {
            uri: webrtc::sdp::extmap::ABS_SEND_TIME_URI.to_owned(),
        },
        RTPCodecType::Video,
        None,
    )
}

/// Notes the REMBs among `pkts`, read from `receiver`'s send track of `sender`'s video.
pub(crate) fn heard(
    room: &RtcRoom,
    receiver: Role,
    sender: Role,
    pkts: &[Box<dyn Packet + Send + Sync>],
) {
    let Some(bps) = pkts
        .iter()
        .rev()
        .filter_map(|p| p.as_any().downcast_ref::<Remb>())
        .map(|r| r.bitrate)
        .find(|b| b.is_finite() && *b >= 0.0)
    else {
        return;
    };
    metrics::counter!("media_remb_received_total").increment(1);
    tracing::debug!(
        receiver = receiver.as_str(),
        sender = sender.as_str(),
        bps,
        "remb heard"
    );
    let now = room.shared.mono_ms();
    lock(room).heard(receiver, sender, bps as u64, now);
}

/// The seat `role` left the room: its estimates are dropped.
pub(crate) fn forget(room: &RtcRoom, role: Role) {
    lock(room).forget(role);
}

fn lock(room: &RtcRoom) -> std::sync::MutexGuard<'_, super::estimate::Estimates> {
    // a poisoned lock only means a panic elsewhere mid-update; the map is still usable
    room.estimates.lock().unwrap_or_else(|e| e.into_inner())
}

/// Starts the room's REMB task once (it ends with the room).
pub(crate) fn start(room: &RtcRoom) {
    if room.shared.cfg.remb.max_bps == 0 || room.remb_started.swap(true, Ordering::AcqRel) {
        return;
    }
    tokio::spawn(run(room.me.clone()));
}

/// Each sender's video rate at the server, measured over windows of at least this long.
const RATE_WINDOW_MS: u64 = 1_000;

/// A sender's relayed video bytes at the start of the current window, and the last rate.
#[derive(Default, Clone, Copy)]
struct Rate {
    bytes: u64,
    at: u64,
    bps: u64,
}

async fn run(me: Weak<RtcRoom>) {
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut rates: HashMap<Role, Rate> = HashMap::new();
    loop {
        tick.tick().await;
        let Some(room) = me.upgrade() else { return };
        if room.closed.load(Ordering::Acquire) {
            return;
        }
        for sender in Role::ALL {
            let Some(seat) = room.seats.find(*sender) else {
                continue;
            };
            let (bytes, now) = (
                seat.video_bytes.load(Ordering::Relaxed),
                room.shared.mono_ms(),
            );
            let r = rates.entry(*sender).or_insert(Rate {
                bytes,
                at: now,
                bps: 0,
            });
            if now.saturating_sub(r.at) >= RATE_WINDOW_MS {
                r.bps = bytes.saturating_sub(r.bytes) * 8 * 1000 / now.saturating_sub(r.at);
                (r.bytes, r.at) = (bytes, now);
                tracing::trace!(sender = sender.as_str(), bps = r.bps, "video rate");
            }
            let incoming = r.bps;
            write_due(&room, *sender, &seat, incoming).await;
        }
    }
}

/// Writes `sender` the estimate when one is due and it sends video (`incoming` bit/s).
async fn write_due(room: &Arc<RtcRoom>, sender: Role, seat: &Seat, incoming: u64) {
    // also while its video is off: the reports about it go stale and the cap is lifted, so
    // that its estimate can grow back and the client's audio-only rule turn video on again
    let ssrc = seat.video_ssrc.load(Ordering::Relaxed);
    if ssrc == 0 {
        return;
    }
    let limits = room.shared.cfg.remb;
    let now = room.shared.mono_ms();
    let Some(bps) = lock(room).due(sender, now, incoming, &limits) else {
        return;
    };
    let pc = {
        let peers = room.peers.lock().await;
        peers.get(&sender).map(|p| p.pc.clone())
    };
    let Some(pc) = pc else { return };
    let remb = Remb {
        sender_ssrc: 0,
        bitrate: bps as f32,
        ssrcs: vec![ssrc],
    };
    if pc.write_rtcp(&[Box::new(remb)]).await.is_ok() {
        metrics::counter!("media_remb_sent_total").increment(1);
        tracing::debug!(hearing_id = %room.hearing_id, sender = sender.as_str(), bps, "remb");
    }
}
