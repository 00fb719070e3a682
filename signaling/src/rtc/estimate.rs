//! The receivers' link estimates of one media room, and what the server tells each sender
//! (issue 14 §2, docs/call.md "Link estimate"). Pure: no I/O, time is passed in (milliseconds of
//! a monotonic clock).
//!
//! A browser that receives a seat's video reports what its downlink takes (REMB, `goog-remb`),
//! naming the streams it covers. Each report is kept per (receiver, sender) pair and goes stale
//! after [`RembLimits::stale_ms`]. A receiver's estimate is shared evenly between the senders
//! whose video it reports (two video streams into one downlink get half each). A sender is told
//! the smallest share over the seats that receive its video plus [`RembLimits::audio_bps`] (a
//! browser's estimate counts video only, the sender applies the value to all it sends), clamped
//! to [`RembLimits::min_bps`]..[`RembLimits::max_bps`], at most every [`RembLimits::min_gap_ms`]:
//! at once when it differs from the last value written by more than [`RembLimits::change_pct`],
//! otherwise again every [`RembLimits::refresh_ms`] (a REMB lost on a lossy uplink is repeated).
//! When no receiver reports any more (it left, or its video went away), the sender's cap is
//! lifted: [`RembLimits::max_bps`] is written a few times, then nothing.
//!
//! Only a receiver that cannot take what arrives limits the sender. A browser's receive-side
//! estimate follows what it receives (it starts at that rate, drops to 0.85 × it on overuse and
//! never rises above 1.5 × it), so it also reads low when the sender is held back by its own
//! uplink, and passing that on would hold a sender back for a link that is fine (measured: a
//! receiver on a good link that started while the sender was in a dip reported a third of what
//! arrived and grew by a few kbit/s a second). A sender becomes limited when the smallest share
//! is below 90 % of the video the server receives from it *and* one of its receivers' reports
//! fell (by more than 3 %, an overuse: the receiver's link is congested) within `stale_ms`. It
//! stays limited (the cap then grows as the receivers' estimates grow) until no report about it
//! fell for [`QUIET_MS`] and the share is at least 120 % of what arrives (room to spare: the cap
//! is lifted). Lifting sooner, as soon as the share reached 140 %, was measured to make the
//! sender flood the narrow link again within seconds: a receiver's estimate rises above what
//! arrives whenever the sender undershoots its cap.

use std::collections::HashMap;

use crate::msg::Role;

/// Bounds and pace of the estimates passed on to senders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RembLimits {
    /// Floor of what a sender is told (bit/s): below it video is useless anyway, and the
    /// client's audio-only rule takes over.
    pub min_bps: u64,
    /// Ceiling (bit/s), also the value that lifts a cap; 0: estimates are not passed on.
    pub max_bps: u64,
    /// Added to the video share: what the sender's audio takes on the wire (Opus ≈ 32 kbit/s
    /// and 50 packets/s of headers). Chromium's receive-side estimate covers video only, while
    /// its sender caps its whole target (audio included) at the REMB: without it a capped sender
    /// has less left for video than the receiver can take, the receiver, whose estimate never
    /// exceeds 1.5 × what arrives, reports less again, and the pair settles far below the link.
    pub audio_bps: u64,
    /// A receiver's report older than this no longer counts.
    pub stale_ms: u64,
    /// At most one REMB per sender in this time.
    pub min_gap_ms: u64,
    /// An unchanged value is written again after this time.
    pub refresh_ms: u64,
    /// A new value differing by more than this percentage is written at once.
    pub change_pct: u64,
}

impl Default for RembLimits {
    fn default() -> Self {
        RembLimits {
            min_bps: 30_000,
            max_bps: 2_500_000,
            audio_bps: 64_000,
            stale_ms: 3_000,
            min_gap_ms: 500,
            refresh_ms: 2_000,
            change_pct: 10,
        }
    }
}

/// A limited sender is released only after its receivers' reports stopped falling this long.
pub const QUIET_MS: u64 = 20_000;

/// How many times a lifted cap (`max_bps`) is written before the sender is forgotten.
const LIFTS: u8 = 3;

#[derive(Debug, Clone, Copy)]
struct Sent {
    bps: u64,
    at: u64,
    /// Times `max_bps` was written since the last real estimate.
    lifts: u8,
}

/// The reports heard and the values written, per room.
#[derive(Debug, Default)]
pub struct Estimates {
    /// (receiver, sender) → (bit/s, when heard).
    heard: HashMap<(Role, Role), (u64, u64)>,
    sent: HashMap<Role, Sent>,
    /// Senders whose receivers cannot take what they send.
    limited: std::collections::HashSet<Role>,
    /// (receiver, sender) → when its report last fell by more than 3 %.
    fell: HashMap<(Role, Role), u64>,
}

impl Estimates {
    /// `receiver` reported `bps` for the stream of `sender` at `now`.
    pub fn heard(&mut self, receiver: Role, sender: Role, bps: u64, now: u64) {
        if let Some((prev, _)) = self.heard.get(&(receiver, sender))
            && bps.saturating_mul(100) < prev.saturating_mul(97)
        {
            self.fell.insert((receiver, sender), now);
        }
        self.heard.insert((receiver, sender), (bps, now));
    }

    /// A seat left: its reports and what it was told are dropped (as receiver and as sender).
    pub fn forget(&mut self, role: Role) {
        self.heard.retain(|(r, s), _| *r != role && *s != role);
        self.sent.remove(&role);
        self.limited.remove(&role);
        self.fell.retain(|(r, s), _| *r != role && *s != role);
    }

    /// What `sender` should send now (bit/s, clamped), or `None` when no receiver reported it
    /// within `stale_ms`.
    pub fn target(&self, sender: Role, now: u64, l: &RembLimits) -> Option<u64> {
        self.share(sender, now, l)
            .map(|b| b.saturating_add(l.audio_bps))
            .map(|b| b.clamp(l.min_bps, l.max_bps.max(l.min_bps)))
    }

    /// The smallest share of the receivers' estimates that `sender`'s video gets (bit/s).
    fn share(&self, sender: Role, now: u64, l: &RembLimits) -> Option<u64> {
        let fresh = |at: u64| now.saturating_sub(at) <= l.stale_ms;
        self.heard
            .iter()
            .filter(|((_, s), (_, at))| *s == sender && fresh(*at))
            .map(|((r, _), (bps, _))| {
                let shared_by = self
                    .heard
                    .iter()
                    .filter(|((r2, _), (_, at))| r2 == r && fresh(*at))
                    .count()
                    .max(1) as u64;
                bps / shared_by
            })
            .min()
    }

    /// Whether a report about `sender` fell within `ms` before `now`.
    fn fell_within(&self, sender: Role, now: u64, ms: u64) -> bool {
        self.fell
            .iter()
            .any(|((_, s), at)| *s == sender && now.saturating_sub(*at) <= ms)
    }

    /// Whether `sender`, whose video reaches the server at `incoming` bit/s (0: unknown, none
    /// now), is limited by its receivers (see the module's doc).
    fn limits(&mut self, sender: Role, now: u64, incoming: u64, l: &RembLimits) -> bool {
        match self.share(sender, now, l) {
            None => {
                self.limited.remove(&sender);
            }
            Some(_) if incoming == 0 => {}
            Some(s) if s.saturating_mul(10) < incoming.saturating_mul(9) => {
                if self.fell_within(sender, now, l.stale_ms) {
                    self.limited.insert(sender);
                }
            }
            Some(s)
                if s.saturating_mul(10) >= incoming.saturating_mul(12)
                    && !self.fell_within(sender, now, QUIET_MS) =>
            {
                self.limited.remove(&sender);
            }
            Some(_) => {}
        }
        self.limited.contains(&sender)
    }

    /// The value to write to `sender` now, if one is due; it is then counted as written.
    /// `incoming`: the bit rate of its video at the server now (0: unknown).
    pub fn due(&mut self, sender: Role, now: u64, incoming: u64, l: &RembLimits) -> Option<u64> {
        if l.max_bps == 0 {
            return None;
        }
        let target = if self.limits(sender, now, incoming, l) {
            self.target(sender, now, l)
        } else {
            None
        };
        let last = self.sent.get(&sender).copied();
        let next = match (target, last) {
            (None, None) => return None,
            (Some(t), None) => Sent {
                bps: t,
                at: now,
                lifts: 0,
            },
            (_, Some(s)) if now.saturating_sub(s.at) < l.min_gap_ms => return None,
            (Some(t), Some(s)) => {
                let changed = t.abs_diff(s.bps).saturating_mul(100) > s.bps * l.change_pct;
                if !changed && s.lifts == 0 && now.saturating_sub(s.at) < l.refresh_ms {
                    return None;
                }
                Sent {
                    bps: t,
                    at: now,
                    lifts: 0,
                }
            }
            (None, Some(s)) => {
                if s.lifts >= LIFTS {
                    self.sent.remove(&sender);
                    return None;
                }
                if s.lifts > 0 && now.saturating_sub(s.at) < l.refresh_ms {
                    return None;
                }
                Sent {
                    bps: l.max_bps,
                    at: now,
                    lifts: s.lifts + 1,
                }
            }
        };
        self.sent.insert(sender, next);
        Some(next.bps)
    }
}

#[cfg(test)]
#[path = "estimate_tests.rs"]
mod tests;
