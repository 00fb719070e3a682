//! The media room's seats and links: per sending seat its upstream video SSRC, its connection
//! and early candidates; per (receiver, sender) pair a [`Link`], the receiver's outgoing audio and
//! video tracks that carry that sender's media, with their own sequence/timestamp continuity.
//!
//! A link outlives the receiver's peer connection (a reconnecting receiver's new connection is
//! bound to the same tracks, so its streams continue) and the sender's (a reconnecting sender's
//! new SSRC is mapped onto the same outgoing sequence). Owns no peer connection and does no I/O.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex};

use webrtc::track::track_local::track_local_static_rtp::TrackLocalStaticRTP;

use super::{opus_cap, vp8_cap};
use crate::msg::{Candidate, Role};

/// The continuity state of one forwarded stream (seq/ts rewriting across reconnects).
/// Public for the micro-benchmarks (`benches/primitives.rs`).
#[derive(Default)]
pub struct Continuity {
    pub src: Option<u32>,
    pub seq_off: u16,
    pub ts_off: u32,
    pub last_seq: Option<u16>,
    pub last_ts: u32,
}

impl Continuity {
    /// Maps an incoming (ssrc, seq, ts) to outgoing (seq, ts).
    pub fn map(&mut self, ssrc: u32, seq: u16, ts: u32, ts_gap: u32) -> (u16, u32) {
        if self.src != Some(ssrc) {
            if let Some(last) = self.last_seq {
                self.seq_off = last.wrapping_add(1).wrapping_sub(seq);
                self.ts_off = self.last_ts.wrapping_add(ts_gap).wrapping_sub(ts);
            }
            self.src = Some(ssrc);
        }
        let out = (seq.wrapping_add(self.seq_off), ts.wrapping_add(self.ts_off));
        let newer = self.last_seq.is_none_or(|l| out.0.wrapping_sub(l) < 0x8000);
        if newer {
            self.last_seq = Some(out.0);
            self.last_ts = out.1;
        }
        out
    }
}

/// The tracks that carry one sender's media to one receiver. Track ids are `<sender>-audio` and
/// `<sender>-video`, their stream id `<sender>-stream`: the receiver tells senders apart by it.
pub(crate) struct Link {
    pub audio: Arc<TrackLocalStaticRTP>,
    pub video: Arc<TrackLocalStaticRTP>,
    pub audio_map: Mutex<Continuity>,
    pub video_map: Mutex<Continuity>,
}

impl Link {
    fn new(sender: Role) -> Link {
        let stream = format!("{}-stream", sender.as_str());
        Link {
            audio: Arc::new(TrackLocalStaticRTP::new(
                opus_cap(),
                format!("{}-audio", sender.as_str()),
                stream.clone(),
            )),
            video: Arc::new(TrackLocalStaticRTP::new(
                vp8_cap(),
                format!("{}-video", sender.as_str()),
                stream,
            )),
            audio_map: Default::default(),
            video_map: Default::default(),
        }
    }
}

/// One seat of the media room.
#[derive(Default)]
pub(crate) struct Seat {
    /// SSRC of the seat's current upstream video (0: none yet).
    pub video_ssrc: AtomicU32,
    /// The seat announced audio-only: its video RTP is dropped, not relayed nor recorded.
    pub video_off: AtomicBool,
    /// Bytes of video RTP (payload and fixed header) relayed from this seat so far: its rate
    /// is what its receivers' estimates are compared with (`super::remb`).
    pub video_bytes: AtomicU64,
    /// The signalling connection whose peer connection is current (stale events are dropped).
    pub current_conn: AtomicU64,
    /// Candidates that arrived before the offer was applied.
    pub early: Mutex<Vec<(u64, Candidate)>>,
    /// When the seat's media was last handed to the recorder: milliseconds since the engine's
    /// start, plus one (0: never).
    pub recorded_at: AtomicU64,
    /// What the seat sent to the server, for its link quality ([`super::stats`]).
    pub link_in: super::stats::Inbound,
    /// The links this seat sends on (a snapshot, swapped whole when a receiver is added, so the
    /// forwarding loop takes the lock only to clone an `Arc`).
    outs: Mutex<Arc<Vec<Arc<Link>>>>,
}

impl Seat {
    /// The links this seat's media goes out on now.
    pub fn outs(&self) -> Arc<Vec<Arc<Link>>> {
        lock(&self.outs).clone()
    }

    /// Makes `conn_seq` the seat's current connection: a new peer connection (`peer::offer`) or
    /// an ICE restart of the same one (`restart::restart`, after which webrtc-rs may pause the
    /// media). The media before no longer counts as recorded (the live check of every step,
    /// Art. 47): the seat is recorded again with the first packet of this connection that the
    /// recorder takes ([`Seat::stamp_recorded`]).
    pub fn switch_conn(&self, conn_seq: u64) {
        self.current_conn.store(conn_seq, SeqCst);
        self.recorded_at.store(0, SeqCst);
    }

    /// Stamps the seat's media as recorded at `now_ms`, when it came on the connection `conn`
    /// and that is the seat's current one: a replaced connection's media, which goes on arriving
    /// until it is closed, never makes the seat look recorded. Sequentially consistent, as
    /// [`Seat::switch_conn`] is: a stamp either sees the switch on its second look and takes
    /// itself back, or lands before the switch clears it.
    pub fn stamp_recorded(&self, conn: &AtomicU64, now_ms: u64) {
        let current = || conn.load(SeqCst) == self.current_conn.load(SeqCst);
        if !current() {
            return;
        }
        self.recorded_at.store(now_ms, SeqCst);
        if !current() {
            // switched meanwhile: take this stamp back, unless the new connection stamped since
            let _ = self.recorded_at.compare_exchange(now_ms, 0, SeqCst, SeqCst);
        }
    }
}

/// The seats and links of one media room.
#[derive(Default)]
pub(crate) struct Seats {
    seats: Mutex<HashMap<Role, Arc<Seat>>>,
    links: Mutex<HashMap<(Role, Role), Arc<Link>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock only means another thread panicked mid-update; the value is still usable.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Seats {
    /// The seat of `role` when it was ever used.
    pub fn find(&self, role: Role) -> Option<Arc<Seat>> {
        lock(&self.seats).get(&role).cloned()
    }

    /// The seat of `role`, made on first use.
    pub fn seat(&self, role: Role) -> Arc<Seat> {
        lock(&self.seats).entry(role).or_default().clone()
    }

    /// The link from `sender` to `receiver`, made (and added to the sender's outs) on first use.
    pub fn link(&self, receiver: Role, sender: Role) -> Arc<Link> {
        let mut links = lock(&self.links);
        if let Some(l) = links.get(&(receiver, sender)) {
            return l.clone();
        }
        let l = Arc::new(Link::new(sender));
        links.insert((receiver, sender), l.clone());
        let seat = self.seat(sender);
        let mut outs = lock(&seat.outs);
        let mut next = Vec::clone(&outs);
        next.push(l.clone());
        *outs = Arc::new(next);
        l
    }

    /// The senders a receiver's peer connection carries when its offer has `slots` media slots
    /// (pairs of audio and video m-lines): the other seats it sees ([`Role::sees`]: never the
    /// supervisor for the citizen) in [`Role::ALL`] order. A two-party client offers one slot
    /// and gets the other party.
    pub fn senders_for(receiver: Role, slots: usize) -> Vec<Role> {
        receiver.others().take(slots.max(1)).collect()
    }
}

/// Media slots of an offer: the larger of its audio and video m-line counts.
pub(crate) fn offer_slots(sdp: &str) -> usize {
    let count = |kind: &str| sdp.lines().filter(|l| l.starts_with(kind)).count();
    count("m=audio ").max(count("m=video "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn senders_fill_slots_in_seat_order() {
        assert_eq!(Seats::senders_for(Role::Citizen, 1), [Role::Officer]);
        assert_eq!(Seats::senders_for(Role::Officer, 0), [Role::Citizen]);
        assert_eq!(
            Seats::senders_for(Role::Citizen, 2),
            [Role::Officer, Role::Interpreter]
        );
        assert_eq!(
            Seats::senders_for(Role::Interpreter, 2),
            [Role::Citizen, Role::Officer]
        );
        // The citizen never receives the supervisor; the supervisor receives everyone.
        assert_eq!(
            Seats::senders_for(Role::Citizen, 9),
            [Role::Officer, Role::Interpreter, Role::Agent]
        );
        assert_eq!(
            Seats::senders_for(Role::Supervisor, 9),
            [Role::Citizen, Role::Officer, Role::Interpreter, Role::Agent]
        );
    }

    #[test]
    fn links_are_per_pair_and_reused() {
        let s = Seats::default();
        let a = s.link(Role::Citizen, Role::Officer);
        let b = s.link(Role::Interpreter, Role::Officer);
        assert!(Arc::ptr_eq(&a, &s.link(Role::Citizen, Role::Officer)));
        assert!(!Arc::ptr_eq(&a, &b));
        let outs = s.seat(Role::Officer).outs();
        assert_eq!(outs.len(), 2);
        assert!(s.seat(Role::Citizen).outs().is_empty());
    }

    #[test]
    fn offer_slots_counts_m_lines() {
        let sdp = "v=0\r\nm=video 9 UDP\r\nm=audio 9 UDP\r\nm=audio 9 UDP\r\nm=video 9 UDP\r\n";
        assert_eq!(offer_slots(sdp), 2);
        assert_eq!(offer_slots("v=0\r\nm=audio 9 UDP\r\n"), 1);
    }
}
