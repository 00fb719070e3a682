//! Link quality (issue 14 §2): the media room measures each seat's link from the server's own
//! data every few seconds ([`LinkSample`], `crate::rtc` `stats`); the hub classifies it
//! ([`level_of`], [`Classifier`]: good / fair / poor with hysteresis, thresholds in
//! [`LinkThresholds`]), pushes a `link` frame about that seat to the seats that oversee the call
//! (officer and supervisor, never the citizen: [`Role::sees_links`]) and hands every sample to
//! the server's [`LinkRecorder`], which seals the changes into poor and out of it and tells the
//! officer's lists. This module is pure apart from the hub glue at the end.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::msg::{Role, ServerMsg};
use crate::room::Hub;

/// A seat's link as measured over one window by the server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkSample {
    /// Round trip between the server and the seat (from the receiver reports the seat sends
    /// about the server's streams to it); `None` while none was measured.
    pub rtt_ms: Option<u32>,
    /// Packets lost from the seat to the server (sequence gaps), per mille.
    pub loss_in_permille: u32,
    /// Packets lost from the server to the seat (its receiver reports), per mille.
    pub loss_out_permille: Option<u32>,
    /// What the server received from the seat (all media) and of it video, kbit/s.
    pub kbps_in: u32,
    pub kbps_video_in: u32,
    /// What the server sent to the seat, kbit/s.
    pub kbps_out: u32,
}

impl LinkSample {
    /// The worse direction's loss, per mille.
    pub fn loss_permille(&self) -> u32 {
        self.loss_in_permille
            .max(self.loss_out_permille.unwrap_or(0))
    }
}

/// A link's level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Good,
    Fair,
    Poor,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Good => "good",
            Level::Fair => "fair",
            Level::Poor => "poor",
        }
    }
}

/// When a link is fair or poor (`[call.link]`; docs/call.md "Link quality").
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LinkThresholds {
    /// Loss (the worse direction, %) above which the link is poor / fair.
    pub poor_loss_pct: f64,
    pub fair_loss_pct: f64,
    /// Round trip (ms) above which the link is poor / fair.
    pub poor_rtt_ms: u32,
    pub fair_rtt_ms: u32,
    /// Video received from a seat that has not announced audio-only (kbit/s) below which the
    /// link is poor / fair.
    pub poor_video_kbps: u32,
    pub fair_video_kbps: u32,
    /// Consecutive samples a worse level must hold before it is taken (a few seconds with the
    /// sampling interval) and a better one before it is taken back.
    pub worse_after: u32,
    pub better_after: u32,
    /// Seconds between two samples of a seat.
    pub sample_every_s: u64,
}

impl Default for LinkThresholds {
    fn default() -> Self {
        LinkThresholds {
            poor_loss_pct: 5.0,
            fair_loss_pct: 2.0,
            poor_rtt_ms: 400,
            fair_rtt_ms: 250,
            poor_video_kbps: 150,
            fair_video_kbps: 300,
            worse_after: 2,
            better_after: 3,
            sample_every_s: 3,
        }
    }
}

/// The level of one sample on its own. `video_on`: the seat has not announced audio-only (its
/// video bitrate then counts).
pub fn level_of(s: &LinkSample, video_on: bool, t: &LinkThresholds) -> Level {
    let loss_pct = f64::from(s.loss_permille()) / 10.0;
    let rtt = s.rtt_ms.unwrap_or(0);
    let video = |limit: u32| video_on && s.kbps_video_in < limit;
    if loss_pct > t.poor_loss_pct || rtt > t.poor_rtt_ms || video(t.poor_video_kbps) {
        Level::Poor
    } else if loss_pct > t.fair_loss_pct || rtt > t.fair_rtt_ms || video(t.fair_video_kbps) {
        Level::Fair
    } else {
        Level::Good
    }
}

/// One seat's level with hysteresis: the first sample sets it; after that a different level
/// is taken once it held for `worse_after` (worse) or `better_after` (better) samples in a
/// row.
#[derive(Debug, Clone, Default)]
pub struct Classifier {
    level: Option<Level>,
    pending: Option<(Level, u32)>,
}

impl Classifier {
    /// The level now (`None` before the first sample).
    pub fn level(&self) -> Option<Level> {
        self.level
    }

    /// Takes one sample's level; `Some(new)` when the level changed (the first one included).
    pub fn push(&mut self, now: Level, t: &LinkThresholds) -> Option<Level> {
        let Some(cur) = self.level else {
            self.level = Some(now);
            return Some(now);
        };
        if now == cur {
            self.pending = None;
            return None;
        }
        let n = match self.pending {
            Some((l, n)) if l == now => n + 1,
            _ => 1,
        };
        let need = if now > cur {
            t.worse_after
        } else {
            t.better_after
        };
        if n >= need.max(1) {
            self.pending = None;
            self.level = Some(now);
            Some(now)
        } else {
            self.pending = Some((now, n));
            None
        }
    }
}

/// What the hub tells the server about a seat's link after each sample.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkReport {
    pub role: Role,
    pub sample: LinkSample,
    pub audio_only: bool,
    pub level: Level,
    /// The level before, when this sample changed it (`Some(None)`: the first level).
    pub changed_from: Option<Option<Level>>,
}

impl LinkReport {
    /// The `link` frame of this report.
    pub fn frame(&self) -> ServerMsg {
        ServerMsg::Link {
            role: self.role,
            rtt_ms: self.sample.rtt_ms,
            loss_pct: crate::msg::Permille(self.sample.loss_permille()),
            kbps_in: self.sample.kbps_in,
            kbps_out: self.sample.kbps_out,
            audio_only: self.audio_only,
            level: self.level,
        }
    }
}

/// Keeps the links with the hearing (seals level changes into and out of poor, tells the
/// officer's lists); implemented by the server. Called after every sample, without a lock.
#[async_trait]
pub trait LinkRecorder: Send + Sync {
    async fn record(&self, hearing_id: &str, report: LinkReport);
}

/// A sample of `role`'s link in `hearing_id` (from the media room): classified, pushed to the
/// seats that see links, handed to the recorder.
pub(crate) fn sampled(hub: &Hub, hearing_id: &str, role: Role, sample: LinkSample) {
    let Some(report) = hub.classify_link(hearing_id, role, sample) else {
        return;
    };
    let frame = report.frame();
    hub.push_to(hearing_id, Role::sees_links, &frame);
    metrics::counter!("signaling_link_samples_total", "level" => report.level.as_str())
        .increment(1);
    if let Some(r) = hub.link_recorder().cloned() {
        let hid = hearing_id.to_owned();
        tokio::spawn(async move { r.record(&hid, report).await });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(rtt: u32, loss_permille: u32, video_kbps: u32) -> LinkSample {
        LinkSample {
            rtt_ms: Some(rtt),
            loss_in_permille: loss_permille,
            loss_out_permille: None,
            kbps_in: video_kbps + 40,
            kbps_video_in: video_kbps,
            kbps_out: 500,
        }
    }

    #[test]
    fn one_sample_levels() {
        let t = LinkThresholds::default();
        assert_eq!(level_of(&s(20, 0, 800), true, &t), Level::Good);
        assert_eq!(level_of(&s(20, 30, 800), true, &t), Level::Fair, "3 % loss");
        assert_eq!(level_of(&s(20, 60, 800), true, &t), Level::Poor, "6 % loss");
        assert_eq!(
            level_of(&s(20, 50, 800), true, &t),
            Level::Fair,
            "5 % is not > 5 %"
        );
        assert_eq!(level_of(&s(300, 0, 800), true, &t), Level::Fair);
        assert_eq!(level_of(&s(450, 0, 800), true, &t), Level::Poor);
        assert_eq!(
            level_of(&s(20, 0, 100), true, &t),
            Level::Poor,
            "video starved"
        );
        assert_eq!(level_of(&s(20, 0, 200), true, &t), Level::Fair);
        // audio-only: no video expected, the bitrate does not count
        assert_eq!(level_of(&s(20, 0, 0), false, &t), Level::Good);
        // no RTT measured yet: judged on the rest
        let mut x = s(0, 0, 800);
        x.rtt_ms = None;
        assert_eq!(level_of(&x, true, &t), Level::Good);
        // loss towards the seat counts as much as from it
        x.loss_out_permille = Some(80);
        assert_eq!(level_of(&x, true, &t), Level::Poor);
    }

    #[test]
    fn hysteresis_needs_consecutive_samples() {
        let t = LinkThresholds::default();
        let mut c = Classifier::default();
        assert_eq!(c.level(), None);
        assert_eq!(
            c.push(Level::Good, &t),
            Some(Level::Good),
            "the first sets it"
        );
        // one bad sample is not enough; a good one in between starts over
        assert_eq!(c.push(Level::Poor, &t), None);
        assert_eq!(c.push(Level::Good, &t), None);
        assert_eq!(c.push(Level::Poor, &t), None);
        assert_eq!(c.push(Level::Poor, &t), Some(Level::Poor), "two in a row");
        assert_eq!(c.level(), Some(Level::Poor));
        // getting better takes three in a row
        assert_eq!(c.push(Level::Good, &t), None);
        assert_eq!(c.push(Level::Good, &t), None);
        assert_eq!(
            c.push(Level::Fair, &t),
            None,
            "a different level starts over"
        );
        assert_eq!(c.push(Level::Fair, &t), None);
        assert_eq!(c.push(Level::Fair, &t), Some(Level::Fair));
        assert_eq!(c.push(Level::Fair, &t), None, "no change, no report");
    }

    #[test]
    fn thresholds_parse_with_defaults_and_refuse_unknown_keys() {
        let t: LinkThresholds = serde_json::from_str(r#"{"poor_rtt_ms": 500}"#).unwrap();
        assert_eq!(t.poor_rtt_ms, 500);
        assert_eq!(t.poor_loss_pct, 5.0);
        assert!(serde_json::from_str::<LinkThresholds>(r#"{"poor_rt_ms": 500}"#).is_err());
    }

    #[test]
    fn the_frame_has_the_worse_loss_in_percent() {
        let mut x = s(35, 12, 600);
        x.loss_out_permille = Some(4);
        let r = LinkReport {
            role: Role::Citizen,
            sample: x,
            audio_only: false,
            level: Level::Good,
            changed_from: None,
        };
        let j = serde_json::to_value(r.frame()).unwrap();
        assert_eq!(
            j,
            serde_json::json!({"type": "link", "role": "citizen", "rtt_ms": 35, "loss_pct": 1.2,
                "kbps_in": 640, "kbps_out": 500, "audio_only": false, "level": "good"})
        );
    }
}
