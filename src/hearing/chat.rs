//! The hearing's side of text in the call (issue 14 §4, `signaling::chat`): a message is a
//! `chat` event of the hearing's record — `{from, text}` by the sending party, with the call's
//! presence like every entry — appended in one transaction and on disk (the commit barrier)
//! before the call relays it, so the record has every message either party saw. Only an open
//! or in-call hearing takes messages (`chat_closed` otherwise).

use std::sync::{Arc, Weak};

use async_trait::async_trait;
use serde_json::json;
use signaling::{ChatRecorder, ChatRefused, ChatSealed, Role};

use super::Hearing;
use super::service::seal_event;
use crate::error::ApiResult;

/// Installed on the call's hub in `startup`. Holds the hearing area weakly: the hub is part of
/// the hearing's state (through `Call`), and a strong reference back would make a cycle that
/// keeps the whole state — its database pools included — alive after the server stops.
pub struct HearingChat(Weak<super::Inner>);

impl HearingChat {
    pub fn new(hearing: &Hearing) -> HearingChat {
        HearingChat(Arc::downgrade(&hearing.0))
    }
}

fn refused(code: String, message: &str) -> ChatRefused {
    ChatRefused {
        code,
        message: message.into(),
    }
}

/// What a recorder of the call (`kind`: `chat`, `video`) answers: the server is stopping.
pub(super) fn stopping(kind: &str) -> ChatRefused {
    refused(format!("{kind}_unavailable"), "the server is stopping")
}

/// What a recorder of the call (`kind`: `chat`, `video`) answers for the outcome of sealing
/// its `noun` (`message`, `change`): the sealed value, `{kind}_closed` when the hearing takes
/// no more entries, `{kind}_not_recorded` (logged) when sealing failed.
pub(super) fn answer<T>(
    kind: &str,
    noun: &str,
    hearing_id: &str,
    outcome: ApiResult<Option<T>>,
) -> Result<T, ChatRefused> {
    match outcome {
        Ok(Some(sealed)) => Ok(sealed),
        Ok(None) => Err(refused(
            format!("{kind}_closed"),
            "the hearing is not in progress: nothing more can be added to its record",
        )),
        Err(e) => {
            tracing::error!(hearing = %hearing_id, error = %e, kind, "sealing failed");
            Err(refused(
                format!("{kind}_not_recorded"),
                &format!("the {noun} could not be recorded; send it again"),
            ))
        }
    }
}

#[async_trait]
impl ChatRecorder for HearingChat {
    async fn record(
        &self,
        hearing_id: &str,
        from: Role,
        participant_id: &str,
        text: &str,
    ) -> Result<ChatSealed, ChatRefused> {
        let Some(inner) = self.0.upgrade() else {
            return Err(stopping("chat"));
        };
        let outcome = seal(&Hearing(inner), hearing_id, from, participant_id, text).await;
        answer("chat", "message", hearing_id, outcome)
    }
}

/// Appends the `chat` entry and waits until it is on disk; `None` when the hearing is unknown
/// or takes no more entries.
async fn seal(
    state: &Hearing,
    hearing_id: &str,
    from: Role,
    participant_id: &str,
    text: &str,
) -> ApiResult<Option<ChatSealed>> {
    let payload = json!({"from": from.as_str(), "text": text});
    let by = (from.as_str(), participant_id);
    let Some((seq, at)) = seal_event(state, hearing_id, "chat", by, payload).await? else {
        return Ok(None);
    };
    metrics::counter!("hearing_chat_messages_total").increment(1);
    Ok(Some(ChatSealed {
        seq,
        at: crate::clock::from_ms(at).to_rfc3339(),
    }))
}
