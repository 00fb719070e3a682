//! What the hub hands to the server's recorders: the chat recorder, the recorder of audio-only
//! changes, and each seat's announced video state.

use std::sync::Arc;

use super::Hub;
use crate::chat::ChatRecorder;
use crate::msg::Role;
use crate::video::{VideoRecorder, VideoState};

impl Hub {
    /// Installs the server's chat recorder (once; later calls are ignored). Without one, chat
    /// frames are refused with `chat_unavailable`.
    pub fn set_chat_recorder(&self, r: Arc<dyn ChatRecorder>) {
        let _ = self.chat.set(r);
    }

    pub(crate) fn chat_recorder(&self) -> Option<&Arc<dyn ChatRecorder>> {
        self.chat.get()
    }

    /// Installs the server's recorder of audio-only changes (once; later calls are ignored).
    /// Without one, changes are relayed but not sealed.
    pub fn set_video_recorder(&self, r: Arc<dyn VideoRecorder>) {
        let _ = self.video.set(r);
    }

    pub(crate) fn video_recorder(&self) -> Option<&Arc<dyn VideoRecorder>> {
        self.video.get()
    }

    /// Records a seat's announced video state; whether it changed (a first announcement of
    /// video on is no change).
    pub(crate) fn set_video_state(&self, hearing_id: &str, role: Role, state: VideoState) -> bool {
        let mut rooms = self.lock();
        let Some(room) = rooms.get_mut(hearing_id) else {
            return false;
        };
        let before = room.video.insert(role, state);
        match before {
            // while video is on the reason does not matter; while off, a new reason is news
            Some(b) => b.video != state.video || (!state.video && b.reason != state.reason),
            None => !state.video,
        }
    }

    /// A seat's announced video state (`None`: never announced).
    pub fn video_state(&self, hearing_id: &str, role: Role) -> Option<VideoState> {
        self.lock().get(hearing_id)?.video.get(&role).copied()
    }
}
