//! Whether a hearing's call is live (Administrative Penalty Law Art. 47, whole-process
//! recording): both parties connected to the call and both parties' media reaching the recorder
//! (within `hearing.live_media_ms`). A step is accepted only then (409 `call_not_live`, nothing
//! written), unless `hearing.require_live_call` is off, which only a non-production deployment
//! may do (`startup::checks::live_call`); every entry then says so.
//!
//! The process holding the call judges it from its own rooms; another process reads the
//! snapshot the holder's presence watcher writes to Redis on every poll
//! (`<prefix>:hearing:<id>:live`, expiring after a few polls), so it may lag by one poll.

use super::Hearing;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{
    error::HearingError,
    ports::{self, Peer},
};

/// One party's side of the call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Side {
    /// The party's signalling connection is up (not reconnecting, not gone).
    pub connected: bool,
    /// The party's media reaches the recorder.
    pub recording: bool,
}

impl Side {
    fn ok(self) -> bool {
        self.connected && self.recording
    }
}

/// Both parties' sides.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Live {
    pub citizen: Side,
    pub officer: Side,
}

impl Live {
    pub fn is_live(&self) -> bool {
        self.citizen.ok() && self.officer.ok()
    }

    /// What is missing, as `(party, what)` with `what` `connection` or `recording`.
    pub fn missing(&self) -> Vec<(&'static str, &'static str)> {
        let mut out = vec![];
        for (party, side) in [("citizen", self.citizen), ("officer", self.officer)] {
            if !side.connected {
                out.push((party, "connection"));
            } else if !side.recording {
                out.push((party, "recording"));
            }
        }
        out
    }

    /// The refusal of a step on a call that is not live.
    pub fn refusal(&self) -> HearingError {
        let missing = self.missing();
        let text: Vec<String> = missing
            .iter()
            .map(|(p, w)| match *w {
                "connection" => format!("the {p} is not connected"),
                _ => format!("the {p}'s recording is not running"),
            })
            .collect();
        let params: Vec<_> = missing
            .iter()
            .map(|(p, w)| json!({"party": p, "missing": w}))
            .collect();
        HearingError::CallNotLive {
            message: format!(
                "the call is not live ({}); a step needs both parties connected and recorded",
                text.join("; ")
            ),
            missing: serde_json::Value::Array(params),
        }
    }
}

fn key(state: &Hearing, id: &str) -> String {
    state.kv.key(&format!("hearing:{id}:live"))
}

/// The call as this process sees it (its own room only).
pub fn local(state: &Hearing, id: &str) -> Live {
    let seen = ports::presence(state, id);
    let fresh = std::time::Duration::from_millis(state.config.live_media_ms);
    let side = |peer: Peer, role: signaling::Role| Side {
        connected: peer == Peer::Joined,
        recording: state
            .call
            .hub
            .recorded_ago(id, role)
            .is_some_and(|ago| ago <= fresh),
    };
    Live {
        citizen: side(seen.citizen, signaling::Role::Citizen),
        officer: side(seen.officer, signaling::Role::Officer),
    }
}

/// The call wherever it is held: this process's room, or the holder's snapshot in Redis (none:
/// nobody is connected anywhere).
pub async fn observe(state: &Hearing, id: &str) -> Live {
    if state.call.hub.has_room(id) {
        return local(state, id);
    }
    let text: redis::RedisResult<Option<String>> = redis::cmd("GET")
        .arg(key(state, id))
        .query_async(&mut state.kv.conn())
        .await;
    match text {
        Ok(Some(t)) => serde_json::from_str(&t).unwrap_or_default(),
        Ok(None) => Live::default(),
        Err(e) => {
            tracing::warn!(hearing = id, error = %e, "reading the call's live snapshot failed");
            Live::default()
        }
    }
}

/// Publishes this process's view of the calls it holds (the presence watcher, every poll).
pub async fn publish(state: &Hearing, calls: &[(String, Live)]) {
    if calls.is_empty() {
        return;
    }
    let ttl = state.config.presence_poll_ms.max(50) * 4;
    let mut pipe = redis::pipe();
    for (id, live) in calls {
        let v = serde_json::to_string(live).unwrap_or_default();
        pipe.cmd("SET")
            .arg(key(state, id))
            .arg(v)
            .arg("PX")
            .arg(ttl)
            .ignore();
    }
    if let Err(e) = pipe.query_async::<()>(&mut state.kv.conn()).await {
        tracing::warn!(error = %e, "publishing the calls' live snapshots failed");
    }
}

/// Refuses a step unless the call is live (or the deployment does not require it).
pub async fn require(state: &Hearing, id: &str) -> Result<(), HearingError> {
    if !state.config.require_live_call {
        return Ok(());
    }
    let live = observe(state, id).await;
    if live.is_live() {
        Ok(())
    } else {
        // How stale each party's recorded media is here (ms; none: no room or nothing
        // recorded in this process): what an operator needs to tell a dropped stream from a
        // dropped party.
        let ago = |role| state.call.hub.recorded_ago(id, role).map(|d| d.as_millis());
        tracing::warn!(
            hearing = id,
            missing = ?live.missing(),
            citizen_recorded_ms_ago = ?ago(signaling::Role::Citizen),
            officer_recorded_ms_ago = ?ago(signaling::Role::Officer),
            "a step was refused: the call is not live"
        );
        Err(live.refusal())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn says_who_is_missing() {
        let up = Side {
            connected: true,
            recording: true,
        };
        let l = Live {
            citizen: Side {
                connected: true,
                recording: false,
            },
            officer: up,
        };
        assert!(!l.is_live());
        assert_eq!(l.missing(), [("citizen", "recording")]);
        let l = Live {
            citizen: Side::default(),
            officer: up,
        };
        let e: crate::error::AppError = l.refusal().into();
        assert_eq!((e.status.as_u16(), e.code), (409, "call_not_live"));
        assert!(
            e.message.contains("the citizen is not connected"),
            "{}",
            e.message
        );
        assert!(
            Live {
                citizen: up,
                officer: up
            }
            .is_live()
        );
    }
}
