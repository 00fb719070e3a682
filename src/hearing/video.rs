//! The hearing's side of audio-only (issue 14 §2, `signaling::video`): a seat that stops or
//! resumes sending video is a `video_off` / `video_on` event of the hearing's record —
//! `{role, reason}` by that seat (`no_camera`, `camera_denied`, `by_hand`, `weak_link`), with
//! the call's presence like every entry — appended and on disk (the commit barrier) before the
//! other seats are told. Only an open or in-call hearing takes entries; otherwise the change
//! is refused to the sender (`video_closed`), which keeps its video off all the same.

use std::sync::{Arc, Weak};

use async_trait::async_trait;
use serde_json::json;
use signaling::{ChatRefused, Role, VideoRecorder, VideoState};

use super::Hearing;
use super::{
    chat::{answer, stopping},
    service::seal_event,
};
use crate::error::ApiResult;

/// Installed on the call's hub in `startup`; holds the hearing area weakly (see
/// [`super::chat::HearingChat`]).
pub struct HearingVideo(Weak<super::Inner>);

impl HearingVideo {
    pub fn new(hearing: &Hearing) -> HearingVideo {
        HearingVideo(Arc::downgrade(&hearing.0))
    }
}

#[async_trait]
impl VideoRecorder for HearingVideo {
    async fn record(
        &self,
        hearing_id: &str,
        from: Role,
        participant_id: &str,
        state: VideoState,
    ) -> Result<Option<i64>, ChatRefused> {
        let Some(inner) = self.0.upgrade() else {
            return Err(stopping("video"));
        };
        let outcome = seal(&Hearing(inner), hearing_id, from, participant_id, state).await;
        answer("video", "change", hearing_id, outcome)
    }
}

/// Appends the entry and waits until it is on disk; `None` when the hearing is unknown or
/// takes no more entries.
async fn seal(
    state: &Hearing,
    hearing_id: &str,
    from: Role,
    participant_id: &str,
    v: VideoState,
) -> ApiResult<Option<Option<i64>>> {
    let name = if v.video { "video_on" } else { "video_off" };
    let payload = json!({"role": from.as_str(), "reason": v.reason.as_str()});
    let by = (from.as_str(), participant_id);
    let sealed = seal_event(state, hearing_id, name, by, payload).await?;
    if sealed.is_some() {
        metrics::counter!("hearing_video_state_total", "entry" => name).increment(1);
    }
    Ok(sealed.map(|(seq, _)| seq))
}
