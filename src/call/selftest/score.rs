//! The self-test's report (what the citizen's page measured) and its score: Good / Okay / Bad
//! with advice codes the pages turn into plain words (docs/call.md "Self-test" has the table).
//!
//! Network (from the page's `getStats()` against the echo peer):
//! - good: connected, RTT ≤ 300 ms, loss ≤ 2 %, upload and download ≥ 300 kbit/s;
//! - okay: connected, RTT ≤ 800 ms, loss ≤ 8 %, upload and download ≥ 100 kbit/s (audio and
//!   small video hold);
//! - bad: not connected, or worse than okay.
//!
//! Devices cap the score: no working microphone → bad (the hearing is spoken); no camera →
//! at most okay (the call goes on audio-only); the test tone not heard → at most okay.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Good / Okay / Bad, ordered worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Score {
    Bad,
    Okay,
    Good,
}

impl Score {
    pub fn as_str(self) -> &'static str {
        match self {
            Score::Bad => "bad",
            Score::Okay => "okay",
            Score::Good => "good",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CameraCheck {
    Ok,
    Denied,
    Missing,
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MicCheck {
    Ok,
    /// Permission given, but no sound reached the meter during the test.
    Silent,
    Denied,
    Missing,
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SpeakerCheck {
    Heard,
    NotHeard,
    Skipped,
}

/// The path the media test connected over (the selected ICE candidate pair).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MediaPath {
    /// Direct UDP (host, server-reflexive or peer-reflexive candidate).
    Udp,
    /// Direct ICE-TCP.
    Tcp,
    /// Through the TURN server, client to TURN over UDP, TCP or TLS.
    RelayUdp,
    RelayTcp,
    RelayTls,
    /// No ICE/DTLS connection to the echo peer.
    Failed,
}

/// The local candidate type of the selected pair, as the browser names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CandidateType {
    Host,
    Srflx,
    Prflx,
    Relay,
}

/// What the citizen's page measured (`POST /api/v1/bookings/{id}/selftest`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SelfTestReport {
    pub camera: CameraCheck,
    pub microphone: MicCheck,
    pub speaker: SpeakerCheck,
    pub path: MediaPath,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidate: Option<CandidateType>,
    /// Round-trip time of the selected candidate pair, ms (0–60000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 60000)]
    pub rtt_ms: Option<u32>,
    /// Packets lost, percent of those sent, the worse direction (0–100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 100)]
    pub loss_pct: Option<f64>,
    /// Sent to and received back from the echo peer, kbit/s (0–1000000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 1000000)]
    pub up_kbps: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 1000000)]
    pub down_kbps: Option<u32>,
}

/// A reason the score is not Good, as a stable code (the pages say it in words).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Advice {
    /// No media connection: change network (4G), turn off VPN/proxy.
    NoConnection,
    /// RTT over the Good bound: move closer to the router or switch to 4G.
    HighDelay,
    /// Loss over the Good bound: move closer to the router, better signal.
    PacketLoss,
    /// kbit/s under the Good bound: close other apps using the network, switch to 4G.
    LowBandwidth,
    CameraUnavailable,
    MicUnavailable,
    MicSilent,
    SpeakerNotHeard,
}

pub const GOOD_RTT_MS: u32 = 300;
pub const OKAY_RTT_MS: u32 = 800;
pub const GOOD_LOSS_PCT: f64 = 2.0;
pub const OKAY_LOSS_PCT: f64 = 8.0;
pub const GOOD_KBPS: u32 = 300;
pub const OKAY_KBPS: u32 = 100;

impl SelfTestReport {
    /// The field out of its range, if any (for a 422 naming it).
    pub fn invalid_field(&self) -> Option<&'static str> {
        if self.rtt_ms.is_some_and(|v| v > 60_000) {
            return Some("rtt_ms");
        }
        if self
            .loss_pct
            .is_some_and(|v| !v.is_finite() || !(0.0..=100.0).contains(&v))
        {
            return Some("loss_pct");
        }
        if self.up_kbps.is_some_and(|v| v > 1_000_000) {
            return Some("up_kbps");
        }
        if self.down_kbps.is_some_and(|v| v > 1_000_000) {
            return Some("down_kbps");
        }
        None
    }
}

/// The score of a report and the advice for each reason it is not Good (worst first).
pub fn score(r: &SelfTestReport) -> (Score, Vec<Advice>) {
    let mut advice = Vec::new();
    let mut s = Score::Good;
    let mut cap = |to: Score, a: Advice, advice: &mut Vec<Advice>| {
        s = s.min(to);
        advice.push(a);
    };
    if r.path == MediaPath::Failed {
        cap(Score::Bad, Advice::NoConnection, &mut advice);
    } else {
        let rtt = r.rtt_ms.unwrap_or(u32::MAX);
        if rtt > GOOD_RTT_MS {
            let to = if rtt > OKAY_RTT_MS {
                Score::Bad
            } else {
                Score::Okay
            };
            cap(to, Advice::HighDelay, &mut advice);
        }
        let loss = r.loss_pct.unwrap_or(100.0);
        if loss > GOOD_LOSS_PCT {
            let to = if loss > OKAY_LOSS_PCT {
                Score::Bad
            } else {
                Score::Okay
            };
            cap(to, Advice::PacketLoss, &mut advice);
        }
        let kbps = r.up_kbps.unwrap_or(0).min(r.down_kbps.unwrap_or(0));
        if kbps < GOOD_KBPS {
            let to = if kbps < OKAY_KBPS {
                Score::Bad
            } else {
                Score::Okay
            };
            cap(to, Advice::LowBandwidth, &mut advice);
        }
    }
    match r.microphone {
        MicCheck::Ok => {}
        MicCheck::Silent => cap(Score::Bad, Advice::MicSilent, &mut advice),
        _ => cap(Score::Bad, Advice::MicUnavailable, &mut advice),
    }
    if r.camera != CameraCheck::Ok {
        cap(Score::Okay, Advice::CameraUnavailable, &mut advice);
    }
    if r.speaker == SpeakerCheck::NotHeard {
        cap(Score::Okay, Advice::SpeakerNotHeard, &mut advice);
    }
    (s, advice)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> SelfTestReport {
        SelfTestReport {
            camera: CameraCheck::Ok,
            microphone: MicCheck::Ok,
            speaker: SpeakerCheck::Heard,
            path: MediaPath::Udp,
            candidate: Some(CandidateType::Host),
            rtt_ms: Some(40),
            loss_pct: Some(0.0),
            up_kbps: Some(900),
            down_kbps: Some(850),
        }
    }

    #[test]
    fn the_bounds_of_each_score() {
        assert_eq!(score(&good()), (Score::Good, vec![]));
        let at = |f: &dyn Fn(&mut SelfTestReport)| {
            let mut r = good();
            f(&mut r);
            score(&r)
        };
        assert_eq!(at(&|r| r.rtt_ms = Some(300)).0, Score::Good);
        assert_eq!(
            at(&|r| r.rtt_ms = Some(301)),
            (Score::Okay, vec![Advice::HighDelay])
        );
        assert_eq!(at(&|r| r.rtt_ms = Some(801)).0, Score::Bad);
        assert_eq!(at(&|r| r.loss_pct = Some(2.0)).0, Score::Good);
        assert_eq!(
            at(&|r| r.loss_pct = Some(5.0)),
            (Score::Okay, vec![Advice::PacketLoss])
        );
        assert_eq!(at(&|r| r.loss_pct = Some(8.5)).0, Score::Bad);
        assert_eq!(
            at(&|r| r.down_kbps = Some(150)),
            (Score::Okay, vec![Advice::LowBandwidth])
        );
        assert_eq!(at(&|r| r.up_kbps = Some(99)).0, Score::Bad);
        assert_eq!(
            at(&|r| r.path = MediaPath::Failed),
            (Score::Bad, vec![Advice::NoConnection])
        );
        // a relayed path is no fault in itself
        assert_eq!(at(&|r| r.path = MediaPath::RelayTcp).0, Score::Good);
        // missing figures count as the worst
        assert_eq!(at(&|r| r.rtt_ms = None).0, Score::Bad);
    }

    #[test]
    fn devices_cap_the_score() {
        let mut r = good();
        r.camera = CameraCheck::Missing;
        assert_eq!(score(&r), (Score::Okay, vec![Advice::CameraUnavailable]));
        r.speaker = SpeakerCheck::NotHeard;
        assert_eq!(score(&r).1.len(), 2);
        r.microphone = MicCheck::Denied;
        assert_eq!(score(&r).0, Score::Bad);
        let mut r = good();
        r.speaker = SpeakerCheck::Skipped;
        assert_eq!(score(&r).0, Score::Good);
    }

    #[test]
    fn out_of_range_figures_are_named() {
        let mut r = good();
        r.loss_pct = Some(f64::NAN);
        assert_eq!(r.invalid_field(), Some("loss_pct"));
        r.loss_pct = Some(101.0);
        assert_eq!(r.invalid_field(), Some("loss_pct"));
        let mut r = good();
        r.rtt_ms = Some(70_000);
        assert_eq!(r.invalid_field(), Some("rtt_ms"));
    }
}
