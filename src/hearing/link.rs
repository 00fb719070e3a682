//! The hearing's side of link quality (issue 14 §2, `signaling::link`): the call's hub
//! classifies each seat's link every few seconds and hands every sample here.
//!
//! Kept with the hearing: a change into poor is a `link_poor` event of the hearing's record, a
//! change out of it `link_recovered` — `{role, level, from, rtt_ms, loss_permille, kbps_in,
//! kbps_out, audio_only}` by the system (the server measured it), with the call's presence like
//! every entry, appended and on disk. Changes between good and fair are not sealed (the `link`
//! frames show them live). Only an open or in-call hearing takes entries.
//!
//! Told to the officer's lists: a `link` event on the brigade's officer events (Redis pub/sub,
//! so it crosses processes) on every level change and otherwise at most every
//! [`REMIND_EVERY`] per seat, so that a list opened later learns the level soon.

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::{Value, json};
use signaling::{Level, LinkRecorder, LinkReport, Role};

use super::Hearing;
use super::{
    events,
    service::{SYSTEM, seal_event},
    store,
};
use crate::error::ApiResult;

/// A seat's unchanged level is told to the lists again after this long.
pub const REMIND_EVERY: Duration = Duration::from_secs(15);

/// Installed on the call's hub in `startup`; holds the hearing area weakly (see
/// [`super::chat::HearingChat`]). One report at a time: the changes are sealed in order.
pub struct HearingLink {
    hearing: Weak<super::Inner>,
    told: tokio::sync::Mutex<HashMap<(String, Role), Instant>>,
}

impl HearingLink {
    pub fn new(hearing: &Hearing) -> HearingLink {
        HearingLink {
            hearing: Arc::downgrade(&hearing.0),
            told: Default::default(),
        }
    }
}

/// The audit event a change seals: into poor, or out of it.
pub fn entry_name(from: Option<Level>, to: Level) -> Option<&'static str> {
    match (from, to) {
        (Some(Level::Poor), Level::Poor) => None,
        (_, Level::Poor) => Some("link_poor"),
        (Some(Level::Poor), _) => Some("link_recovered"),
        _ => None,
    }
}

/// The figures of a report (the `link` frame's, without its type).
fn figures(r: &LinkReport) -> Value {
    let mut v = serde_json::to_value(r.frame()).unwrap_or_default();
    if let Value::Object(m) = &mut v {
        m.remove("type");
    }
    v
}

#[async_trait]
impl LinkRecorder for HearingLink {
    async fn record(&self, hearing_id: &str, report: LinkReport) {
        let Some(inner) = self.hearing.upgrade() else {
            return;
        };
        let state = Hearing(inner);
        let mut told = self.told.lock().await;
        if let Some(from) = report.changed_from
            && let Some(name) = entry_name(from, report.level)
            && let Err(e) = seal(&state, hearing_id, name, from, &report).await
        {
            tracing::error!(hearing = %hearing_id, error = %e, "sealing a link change failed");
        }
        let key = (hearing_id.to_owned(), report.role);
        let due = told.get(&key).is_none_or(|t| t.elapsed() >= REMIND_EVERY);
        if report.changed_from.is_some() || due {
            told.retain(|_, t| t.elapsed() < REMIND_EVERY * 4);
            told.insert(key, Instant::now());
            drop(told);
            tell_lists(&state, hearing_id, &report).await;
        }
    }
}

/// Appends the entry and waits until it is on disk; `false` when the hearing is unknown or
/// takes no more entries.
async fn seal(
    state: &Hearing,
    hearing_id: &str,
    name: &str,
    from: Option<Level>,
    r: &LinkReport,
) -> ApiResult<bool> {
    // the record takes integers only (canonical JSON): loss in per mille there
    let s = &r.sample;
    let payload = json!({
        "role": r.role.as_str(), "level": r.level.as_str(), "from": from.map(Level::as_str),
        "rtt_ms": s.rtt_ms, "loss_permille": s.loss_permille(), "kbps_in": s.kbps_in,
        "kbps_out": s.kbps_out, "audio_only": r.audio_only,
    });
    let sealed = seal_event(state, hearing_id, name, SYSTEM, payload)
        .await?
        .is_some();
    if sealed {
        metrics::counter!("hearing_link_changes_total", "entry" => name.to_owned()).increment(1);
    }
    Ok(sealed)
}

/// `link` on the brigade's officer events (best effort).
async fn tell_lists(state: &Hearing, hearing_id: &str, r: &LinkReport) {
    let h = match store::get(&state.db.read, hearing_id).await {
        Ok(Some(h)) => h,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(hearing = %hearing_id, error = %e, "reading the hearing for a link event");
            return;
        }
    };
    events::publish(state, &h, "link", figures(r)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_changes_into_and_out_of_poor_are_sealed() {
        use Level::*;
        assert_eq!(entry_name(None, Poor), Some("link_poor"));
        assert_eq!(entry_name(Some(Good), Poor), Some("link_poor"));
        assert_eq!(entry_name(Some(Fair), Poor), Some("link_poor"));
        assert_eq!(entry_name(Some(Poor), Fair), Some("link_recovered"));
        assert_eq!(entry_name(Some(Poor), Good), Some("link_recovered"));
        assert_eq!(entry_name(None, Good), None);
        assert_eq!(entry_name(Some(Good), Fair), None);
        assert_eq!(entry_name(Some(Fair), Good), None);
    }
}
