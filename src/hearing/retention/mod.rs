//! Retention under PIPL and 公安机关现场执法视音频记录工作规定 Art. 13 (issue 15 §3): how long a
//! closed hearing's recordings and personal data are kept, the evidence hold that keeps them
//! for good, and the sweep that deletes what is due with a `retention` audit entry per action.
//!
//! Classes (`[retention]`, checked at start by [`RetentionConfig::check`]):
//! - `recordings`: the call's recordings, `recordings_days` after the hearing closed (at least
//!   183: the rule's six months);
//! - `personal_data`: the hearing's phone, participants' names and phones, the ID-card still
//!   and signatures, step payloads and the audit payloads of its chain (version-2 leaves are
//!   erased, so every proof stays valid), `personal_data_days` after it closed (never before
//!   the recordings); the citizen's identity when none of their hearings keeps it.
//! - The decision document and the proof of service are the case file (案卷): kept.
//!
//! A hearing under an evidence hold ([`holds`]) is skipped by both; lifting the hold (auditor)
//! lets the next sweep take it.

mod api;
pub mod holds;
pub mod mine;
pub mod sweep;

use serde::Deserialize;

pub use api::router;
pub use sweep::{Report, run_job, run_once};

#[doc(hidden)]
pub use holds::HoldView;

/// The audit chain of retention actions (each entry names its hearing): a closed hearing's own
/// chain ends with its terminal entry, so what happens to it later is told on this one.
pub const CHAIN: &str = "retention";

const DAY_MS: i64 = 86_400_000;

/// `[retention]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct RetentionConfig {
    /// Days after a hearing closed until its recordings are deleted (≥ 183).
    pub recordings_days: u32,
    /// Days after a hearing closed until its personal data is erased (≥ `recordings_days`).
    pub personal_data_days: u32,
    /// Seconds between sweeps (0: no sweep in `serve`; `remote-hearing retention run` still works).
    pub interval_s: u64,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            recordings_days: 183,
            personal_data_days: 365,
            interval_s: 3600,
        }
    }
}

impl RetentionConfig {
    /// The law's floor and the classes' order; a configuration below them does not start.
    pub fn check(&self) -> Result<(), String> {
        if self.recordings_days < 183 {
            return Err(format!(
                "retention.recordings_days = {}: recordings are kept at least six months (183 days; \
                 公安机关现场执法视音频记录工作规定 Art. 13)",
                self.recordings_days
            ));
        }
        if self.personal_data_days < self.recordings_days {
            return Err(format!(
                "retention.personal_data_days = {} is below retention.recordings_days = {}: the \
                 recordings hold personal data too",
                self.personal_data_days, self.recordings_days
            ));
        }
        Ok(())
    }

    /// Hearings closed before these instants (ms) are due: (recordings, personal data).
    pub fn cutoffs(&self, now_ms: i64) -> (i64, i64) {
        (
            now_ms - i64::from(self.recordings_days) * DAY_MS,
            now_ms - i64::from(self.personal_data_days) * DAY_MS,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_and_the_order_of_the_classes() {
        assert!(RetentionConfig::default().check().is_ok());
        let short = RetentionConfig {
            recordings_days: 182,
            ..RetentionConfig::default()
        };
        assert!(short.check().unwrap_err().contains("six months"));
        let inverted = RetentionConfig {
            recordings_days: 400,
            personal_data_days: 365,
            interval_s: 0,
        };
        assert!(inverted.check().unwrap_err().contains("personal_data_days"));
    }

    #[test]
    fn cutoffs_count_whole_days_back() {
        let c = RetentionConfig::default();
        let now = 1_000 * DAY_MS;
        assert_eq!(c.cutoffs(now), (817 * DAY_MS, 635 * DAY_MS));
    }
}
