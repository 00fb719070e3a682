//! Text in the call (issue 14 §4): for a citizen who cannot hear or speak, or when audio fails.
//! A `chat {text}` frame is handed to the server's [`ChatRecorder`] first, which seals it into
//! the hearing's record; only a sealed message is relayed, as `chat {from, text, seq, at}`, to
//! every connected seat (the sender included, which is its acknowledgement). A refused or
//! failed seal goes back to the sender as an `error` frame and reaches nobody else, so the call
//! never shows a message the record does not have. Each connection may send at most
//! [`CHAT_BURST`] messages at once and [`CHAT_PER_SEC`] a second after that.

use async_trait::async_trait;

use crate::msg::{Role, ServerMsg};
use crate::room::{Hub, Participant};

/// Chat messages one connection may send in a burst, and refilled per second.
pub const CHAT_BURST: f64 = 5.0;
pub const CHAT_PER_SEC: f64 = 1.0;

/// A sealed message: its audit `seq` and its time (RFC 3339).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatSealed {
    pub seq: Option<i64>,
    pub at: String,
}

/// Why a message was not sealed (sent back to the sender as `error {code, message}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatRefused {
    pub code: String,
    pub message: String,
}

/// Seals a chat message into the hearing's record; implemented by the server.
#[async_trait]
pub trait ChatRecorder: Send + Sync {
    async fn record(
        &self,
        hearing_id: &str,
        from: Role,
        participant_id: &str,
        text: &str,
    ) -> Result<ChatSealed, ChatRefused>;
}

/// Seals `text` and relays it to the room. `Some(error)` is for the sender alone.
pub(crate) async fn relay(hub: &Hub, p: &Participant, text: String) -> Option<ServerMsg> {
    let Some(recorder) = hub.chat_recorder() else {
        return Some(ServerMsg::error(
            "chat_unavailable",
            "this server does not record chat",
        ));
    };
    match recorder
        .record(&p.hearing_id, p.role, &p.participant_id, &text)
        .await
    {
        Ok(sealed) => {
            let msg = ServerMsg::Chat {
                from: p.role,
                text,
                seq: sealed.seq,
                at: sealed.at,
            };
            hub.push_from(&p.hearing_id, p.role, &msg);
            metrics::counter!("signaling_chat_total").increment(1);
            None
        }
        Err(r) => Some(ServerMsg::error(&r.code, r.message)),
    }
}
