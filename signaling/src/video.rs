//! Audio-only (issue 14 §2): a seat announces that it sends no video, and why, with a
//! `media {video, reason}` frame. The hub keeps each seat's announced state for the room's
//! lifetime (a reconnect keeps it), hands it to the media room — which then drops that seat's
//! video RTP instead of relaying or recording it — has the server's [`VideoRecorder`] seal a
//! `video_off` / `video_on` entry into the hearing's record, and relays
//! `media {role, video, reason, seq}` to every seat that sees the sender (the sender included,
//! its acknowledgement). A seat joining later is told the other seats' audio-only states. An
//! unchanged state is acknowledged without a new entry. Each connection may announce at most
//! [`MEDIA_BURST`] changes at once and one every [`MEDIA_EVERY_S`] seconds after that.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::chat::ChatRefused;
use crate::msg::{Role, ServerMsg};
use crate::room::{Hub, Participant};

/// `media` frames one connection may send in a burst, and the seconds per frame after that.
pub const MEDIA_BURST: f64 = 5.0;
pub const MEDIA_EVERY_S: f64 = 2.0;

/// Why a seat's video is off (or, with `video: true`, why it came back).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VideoReason {
    /// The device has no camera.
    NoCamera,
    /// The user (or the browser) refused the camera.
    CameraDenied,
    /// The participant pressed 关闭视频 / 打开视频.
    ByHand,
    /// The client's outgoing estimate stayed below the threshold (or, on, above it again).
    WeakLink,
}

impl VideoReason {
    pub fn as_str(self) -> &'static str {
        match self {
            VideoReason::NoCamera => "no_camera",
            VideoReason::CameraDenied => "camera_denied",
            VideoReason::ByHand => "by_hand",
            VideoReason::WeakLink => "weak_link",
        }
    }
    /// Whether `video: true` may carry this reason (a missing or refused camera cannot turn on).
    pub fn may_turn_on(self) -> bool {
        matches!(self, VideoReason::ByHand | VideoReason::WeakLink)
    }
}

/// A seat's announced video state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoState {
    pub video: bool,
    pub reason: VideoReason,
}

/// Seals a video state change into the hearing's record; implemented by the server. `Ok` is
/// the entry's audit `seq`.
#[async_trait]
pub trait VideoRecorder: Send + Sync {
    async fn record(
        &self,
        hearing_id: &str,
        from: Role,
        participant_id: &str,
        state: VideoState,
    ) -> Result<Option<i64>, ChatRefused>;
}

/// Applies, seals and relays `p`'s announced state. `Some(frame)` is for the sender alone.
pub(crate) async fn announce(hub: &Hub, p: &Participant, state: VideoState) -> Option<ServerMsg> {
    let changed = hub.set_video_state(&p.hearing_id, p.role, state);
    // The media room learns it first: from now on no video of this seat is relayed.
    if let Some(m) = hub.media(&p.hearing_id) {
        m.set_video(p.role, state.video);
    }
    let seq = match (changed, hub.video_recorder()) {
        (false, _) | (true, None) => None,
        (true, Some(r)) => {
            match r
                .record(&p.hearing_id, p.role, &p.participant_id, state)
                .await
            {
                Ok(seq) => seq,
                Err(e) => return Some(ServerMsg::error(&e.code, e.message)),
            }
        }
    };
    let msg = ServerMsg::Media {
        role: p.role,
        video: state.video,
        reason: state.reason,
        seq,
    };
    if changed {
        hub.push_from(&p.hearing_id, p.role, &msg);
        metrics::counter!("signaling_video_state_total", "video" => if state.video { "on" } else { "off" })
            .increment(1);
        None
    } else {
        Some(msg)
    }
}
