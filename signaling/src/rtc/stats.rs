//! Each seat's link from the server's own data ([`crate::link`]), sampled every few seconds.
//!
//! Inbound (seat → server): the forwarding loop counts every RTP packet it reads per kind
//! ([`Inbound`]): packets, bytes (payload plus a 12-byte header) and the extended highest
//! sequence number, so that the packets expected but never received (after NACK
//! retransmissions) are the loss. Outbound (server → seat) and the round trip come from the
//! seat's peer connection's `get_stats()`: bytes sent, and the RTT and fraction lost that the
//! library's stats interceptor derives from the receiver reports the seat sends about the
//! server's streams (only streams that carried media in the window count, so a stale report of
//! a silent stream does not). A sample is reported as [`MediaEvent::Link`] for seats whose peer
//! connection is connected; a new peer connection starts a new window.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use webrtc::peer_connection::RTCPeerConnection;
use webrtc::peer_connection::peer_connection_state::RTCPeerConnectionState;
use webrtc::rtp::packet::Packet;
use webrtc::stats::StatsReportType;

use super::RtcRoom;
use crate::link::LinkSample;
use crate::media::MediaEvent;
use crate::msg::Role;

/// One incoming stream kind's counters (across the seat's SSRCs over reconnects).
#[derive(Debug, Default, Clone, Copy)]
struct Stream {
    ssrc: Option<u32>,
    base_ext: i64,
    max_ext: i64,
    /// Packets expected on the SSRCs before the current one.
    expected_before: u64,
    received: u64,
    bytes: u64,
}

impl Stream {
    fn packet(&mut self, ssrc: u32, seq: u16, bytes: usize) {
        if self.ssrc != Some(ssrc) {
            if self.ssrc.is_some() {
                self.expected_before += self.current_expected();
            }
            self.ssrc = Some(ssrc);
            self.base_ext = i64::from(seq);
            self.max_ext = i64::from(seq);
        } else {
            // the extended number nearest to the highest so far (wraps at 2^16)
            let delta = i64::from(seq.wrapping_sub(self.max_ext as u16) as i16);
            let ext = self.max_ext + delta;
            self.max_ext = self.max_ext.max(ext);
            self.base_ext = self.base_ext.min(ext);
        }
        self.received += 1;
        self.bytes += bytes as u64;
    }

    fn current_expected(&self) -> u64 {
        u64::try_from(self.max_ext - self.base_ext + 1).unwrap_or(0)
    }

    fn expected(&self) -> u64 {
        self.expected_before
            + if self.ssrc.is_some() {
                self.current_expected()
            } else {
                0
            }
    }
}

/// What a seat sent to the server, counted by the forwarding loop.
#[derive(Debug, Default)]
pub(crate) struct Inbound {
    audio: Mutex<Stream>,
    video: Mutex<Stream>,
}

/// Cumulative inbound figures: (expected, received, bytes) of audio and of video.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Totals {
    audio: (u64, u64, u64),
    video: (u64, u64, u64),
}

impl Inbound {
    /// Counts one RTP packet read from the seat.
    pub fn rtp(&self, video: bool, pkt: &Packet) {
        let s = if video { &self.video } else { &self.audio };
        s.lock().unwrap_or_else(|e| e.into_inner()).packet(
            pkt.header.ssrc,
            pkt.header.sequence_number,
            pkt.payload.len() + 12,
        );
    }

    fn totals(&self) -> Totals {
        let get = |m: &Mutex<Stream>| {
            let s = *m.lock().unwrap_or_else(|e| e.into_inner());
            (s.expected(), s.received, s.bytes)
        };
        Totals {
            audio: get(&self.audio),
            video: get(&self.video),
        }
    }
}

/// The previous sample's cumulative figures of one seat.
struct Prev {
    at: Instant,
    pc: usize,
    inbound: Totals,
    /// Bytes sent per outgoing SSRC.
    sent: HashMap<u32, u64>,
}

/// The outgoing side of a peer connection from its stats: bytes per SSRC, and per SSRC the
/// receiver's latest RTT (ms) and fraction lost.
struct Outbound {
    sent: HashMap<u32, u64>,
    remote: HashMap<u32, (Option<f64>, f64)>,
}

async fn outbound(pc: &RTCPeerConnection) -> Outbound {
    let report = pc.get_stats().await;
    let mut o = Outbound {
        sent: HashMap::new(),
        remote: HashMap::new(),
    };
    for r in report.reports.values() {
        match r {
            StatsReportType::OutboundRTP(s) => {
                o.sent.insert(s.ssrc, s.bytes_sent + s.header_bytes_sent);
            }
            StatsReportType::RemoteInboundRTP(s) => {
                o.remote
                    .insert(s.ssrc, (s.round_trip_time, s.fraction_lost));
            }
            _ => {}
        }
    }
    o
}

fn kbps(bytes: u64, secs: f64) -> u32 {
    if secs <= 0.0 {
        return 0;
    }
    (bytes as f64 * 8.0 / 1000.0 / secs).round() as u32
}

/// The sample between `prev` and `now` (pure, for the tests).
fn sample(prev: &Prev, now: &Prev, out: &Outbound) -> LinkSample {
    let secs = now.at.duration_since(prev.at).as_secs_f64();
    let d = |a: (u64, u64, u64), b: (u64, u64, u64)| {
        (
            b.0.saturating_sub(a.0),
            b.1.saturating_sub(a.1),
            b.2.saturating_sub(a.2),
        )
    };
    let (ea, ra, ba) = d(prev.inbound.audio, now.inbound.audio);
    let (ev, rv, bv) = d(prev.inbound.video, now.inbound.video);
    let expected = ea + ev;
    let lost = expected.saturating_sub(ra + rv);
    let loss_in_permille = (lost * 1000)
        .checked_div(expected)
        .map_or(0, |p| u32::try_from(p).unwrap_or(1000));
    let mut sent = 0u64;
    let (mut rtt, mut lost_out): (Option<f64>, Option<f64>) = (None, None);
    for (ssrc, bytes) in &now.sent {
        let delta = bytes.saturating_sub(prev.sent.get(ssrc).copied().unwrap_or(0));
        sent += delta;
        if delta == 0 {
            continue; // a silent stream: its last report is stale
        }
        if let Some((r, f)) = out.remote.get(ssrc) {
            if let Some(r) = r {
                rtt = Some(rtt.map_or(*r, |x| x.max(*r)));
            }
            lost_out = Some(lost_out.map_or(*f, |x| x.max(*f)));
        }
    }
    LinkSample {
        // whole milliseconds, rounded up: a measured round trip is never shown as 0
        rtt_ms: rtt.map(|r| (r.ceil() as u32).max(1)),
        loss_in_permille,
        loss_out_permille: lost_out.map(|f| (f * 1000.0).round() as u32),
        kbps_in: kbps(ba + bv, secs),
        kbps_video_in: kbps(bv, secs),
        kbps_out: kbps(sent, secs),
    }
}

/// Samples the room's seats every `every` until the room closes or is dropped.
pub(crate) fn spawn_sampler(room: Weak<RtcRoom>, every: Duration) {
    let Ok(rt) = tokio::runtime::Handle::try_current() else {
        return;
    };
    rt.spawn(async move {
        let mut prev: HashMap<Role, Prev> = HashMap::new();
        let mut tick = tokio::time::interval(every.max(Duration::from_millis(200)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(room) = room.upgrade() else { return };
            if room.closed.load(Ordering::Acquire) {
                return;
            }
            let pcs: Vec<(Role, Arc<RTCPeerConnection>)> = {
                let peers = room.peers.lock().await;
                peers.iter().map(|(r, p)| (*r, p.pc.clone())).collect()
            };
            prev.retain(|r, _| pcs.iter().any(|(x, _)| x == r));
            for (role, pc) in pcs {
                if pc.connection_state() != RTCPeerConnectionState::Connected {
                    prev.remove(&role);
                    continue;
                }
                let out = outbound(&pc).await;
                let now = Prev {
                    at: Instant::now(),
                    pc: Arc::as_ptr(&pc) as usize,
                    inbound: room.seats.seat(role).link_in.totals(),
                    sent: out.sent.clone(),
                };
                match prev.insert(role, now) {
                    Some(p) if p.pc == Arc::as_ptr(&pc) as usize => {
                        if let Some(now) = prev.get(&role) {
                            (room.events)(role, MediaEvent::Link(sample(&p, now, &out)));
                        }
                    }
                    _ => {} // a new peer connection: its first window starts now
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_gaps_wraps_and_new_ssrcs() {
        let mut s = Stream::default();
        for seq in [65533u16, 65534, 65535, 0, 1, 3, 4] {
            s.packet(7, seq, 100);
        }
        // 65533..=4 is 8 numbers, 7 received (2 is missing); the wrap is followed
        assert_eq!((s.expected(), s.received), (8, 7));
        s.packet(7, 2, 100); // late
        assert_eq!((s.expected(), s.received), (8, 8));
        // a reconnect: a new SSRC starting anywhere
        s.packet(9, 1000, 100);
        s.packet(9, 1002, 100);
        assert_eq!((s.expected(), s.received), (11, 10));
        assert_eq!(s.bytes, 1000);
    }

    #[test]
    fn a_window_gives_rates_loss_and_the_live_streams_rtt() {
        let t0 = Instant::now();
        let prev = Prev {
            at: t0,
            pc: 1,
            inbound: Totals {
                audio: (100, 100, 10_000),
                video: (1000, 1000, 1_000_000),
            },
            sent: HashMap::from([(1, 0), (2, 5000)]),
        };
        let now = Prev {
            at: t0 + Duration::from_secs(2),
            pc: 1,
            inbound: Totals {
                audio: (200, 200, 20_000),
                video: (1900, 1810, 1_200_000),
            },
            sent: HashMap::from([(1, 250_000), (2, 5000)]),
        };
        let out = Outbound {
            sent: now.sent.clone(),
            remote: HashMap::from([(1, (Some(31.2), 0.01)), (2, (Some(900.0), 0.5))]),
        };
        let s = sample(&prev, &now, &out);
        // 1000 expected, 910 received
        assert_eq!(s.loss_in_permille, 90);
        assert_eq!(s.kbps_in, 840, "(10 kB + 200 kB) in 2 s");
        assert_eq!(s.kbps_video_in, 800);
        assert_eq!(s.kbps_out, 1000);
        // stream 2 sent nothing: its old report does not count
        assert_eq!(s.rtt_ms, Some(32));
        assert_eq!(s.loss_out_permille, Some(10));
    }
}
