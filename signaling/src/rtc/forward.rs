//! What happens to a seat's incoming media: each track forwarded to every receiver's link of this
//! seat and to the recorder, and the RTCP of each direction read (PLI/FIR from a receiver relayed
//! to the sender, sender reports and REMB taken in).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use webrtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use webrtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use webrtc::rtcp::sender_report::SenderReport as RtcpSr;
use webrtc::rtp_transceiver::rtp_codec::RTPCodecType;
use webrtc::rtp_transceiver::rtp_receiver::RTCRtpReceiver;
use webrtc::rtp_transceiver::rtp_sender::RTCRtpSender;
use webrtc::track::track_local::TrackLocalWriter;
use webrtc::track::track_remote::TrackRemote;

use super::seats::Seat;
use super::{RtcRoom, Shared};
use crate::msg::Role;

/// What a forwarding task needs (no strong reference to the room itself).
pub(crate) struct Parts {
    pub shared: Arc<Shared>,
    pub seat: Arc<Seat>,
    pub recorder: Arc<super::record::SegmentRecorder>,
    pub me: Weak<RtcRoom>,
    /// The signalling connection of the peer connection this media comes on (`peer::Peer::conn`).
    pub conn: Arc<AtomicU64>,
}

pub(crate) async fn forward(
    parts: Parts,
    role: Role,
    pid: String,
    track: Arc<TrackRemote>,
    receiver: Arc<RTCRtpReceiver>,
) {
    let video = track.kind() == RTPCodecType::Video;
    let codec = track.codec();
    let mime = codec.capability.mime_type.to_ascii_lowercase();
    let codec_name = mime.rsplit('/').next().unwrap_or_default().to_owned();
    let tap = parts.recorder.open_track(
        &parts.shared,
        role,
        &pid,
        if video { "video" } else { "audio" },
        &codec_name,
        codec.capability.clock_rate,
        codec.payload_type,
    );
    if video {
        parts.seat.video_ssrc.store(track.ssrc(), Ordering::Relaxed);
    }
    tokio::spawn(read_receiver_rtcp(
        receiver,
        tap.clone(),
        parts.shared.clone(),
    ));
    let gap = if video { 3000 } else { 960 };
    if video && let Some(room) = parts.me.upgrade() {
        room.request_keyframe(role).await;
    }
    let mut forwarded = 0u64;
    let mut dropped = 0u64;
    while let Ok((mut pkt, _)) = track.read_rtp().await {
        parts.seat.link_in.rtp(video, &pkt);
        if video && parts.seat.video_off.load(Ordering::Acquire) {
            // announced audio-only: this video goes nowhere (issue 14 §2)
            dropped += 1;
            continue;
        }
        // recorded only when the recorder took the packet (not dropped behind a stalled disk)
        if let Some(t) = &tap
            && t.rtp(&pkt, (parts.shared.cfg.clock)())
        {
            parts
                .seat
                .stamp_recorded(&parts.conn, parts.shared.mono_ms());
        }
        if video {
            let n = pkt.payload.len() as u64 + 12;
            parts.seat.video_bytes.fetch_add(n, Ordering::Relaxed);
        }
        let (ssrc, seq, ts) = (
            pkt.header.ssrc,
            pkt.header.sequence_number,
            pkt.header.timestamp,
        );
        pkt.header.extension = false;
        pkt.header.extension_profile = 0;
        pkt.header.extensions.clear();
        // (the padding of the extensions just removed; the server's own are added on write)
        pkt.header.extensions_padding = 0;
        // one outgoing stream per receiver, each with its own continuity
        for link in parts.seat.outs().iter() {
            let (out, map) = if video {
                (&link.video, &link.video_map)
            } else {
                (&link.audio, &link.audio_map)
            };
            let (seq, ts) = map
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .map(ssrc, seq, ts, gap);
            let mut p = pkt.clone();
            p.header.sequence_number = seq;
            p.header.timestamp = ts;
            let _ = if video {
                // stamped with the server's send time: the receiver estimates its own downlink
                // from it (REMB, [`super::remb`])
                out.write_rtp_with_extensions(&p, &[super::remb::send_time()])
                    .await
            } else {
                out.write_rtp(&p).await
            };
            forwarded += 1;
        }
    }
    metrics::counter!("media_forwarded_packets_total").increment(forwarded);
    metrics::counter!("media_video_dropped_packets_total").increment(dropped);
}

/// Drains RTCP of a send track; on a video track (`relay`: the room, the receiver, the source)
/// PLI/FIR from the receiver are relayed to the source's sender, and its REMBs noted
/// ([`super::remb`]).
pub(crate) async fn read_sender_rtcp(
    sender: Arc<RTCRtpSender>,
    relay: Option<(Weak<RtcRoom>, Role, Role)>,
) {
    let mut last_relay: Option<tokio::time::Instant> = None;
    while let Ok((pkts, _)) = sender.read_rtcp().await {
        let Some((room, receiver, source)) = &relay else {
            continue;
        };
        if let Some(room) = room.upgrade() {
            super::remb::heard(&room, *receiver, *source, &pkts);
        }
        let wants_key = pkts.iter().any(|p| {
            let a = p.as_any();
            a.downcast_ref::<PictureLossIndication>().is_some()
                || a.downcast_ref::<FullIntraRequest>().is_some()
        });
        let due = last_relay.is_none_or(|t| t.elapsed() >= Duration::from_millis(300));
        if wants_key && due {
            last_relay = Some(tokio::time::Instant::now());
            if let Some(room) = room.upgrade() {
                room.request_keyframe(*source).await;
                metrics::counter!("media_pli_relayed_total").increment(1);
            }
        }
    }
}

/// Reads RTCP from a participant's incoming track; sender reports go to the recording.
async fn read_receiver_rtcp(
    receiver: Arc<RTCRtpReceiver>,
    tap: Option<super::record::TrackTap>,
    shared: Arc<Shared>,
) {
    while let Ok((pkts, _)) = receiver.read_rtcp().await {
        let Some(t) = &tap else { continue };
        for p in &pkts {
            if let Some(sr) = p.as_any().downcast_ref::<RtcpSr>() {
                t.sr(
                    sr.ssrc,
                    sr.ntp_time,
                    sr.rtp_time,
                    sr.packet_count,
                    sr.octet_count,
                    (shared.cfg.clock)(),
                );
            }
        }
    }
}
