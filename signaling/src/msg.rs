//! The signalling messages of API.md (JSON text frames tagged by `type`).
//!
//! Owns the wire format only: parsing is strict (unknown types, unknown fields, wrong types and
//! oversized strings are a [`ParseError`], never a panic) and every string has a length limit.

use serde::{Deserialize, Serialize};

use crate::video::VideoReason;

/// Largest frame accepted on the socket (API.md: larger frames close with 1009).
pub const MAX_FRAME_BYTES: usize = 64 * 1024;
/// Largest SDP accepted in an `offer`.
pub const MAX_SDP_BYTES: usize = 48 * 1024;
/// Largest ICE candidate string.
pub const MAX_CANDIDATE_BYTES: usize = 1024;
/// Largest join token.
pub const MAX_TOKEN_BYTES: usize = 4096;
/// Largest `sdpMid` / `usernameFragment`.
pub const MAX_SHORT_BYTES: usize = 256;
/// Longest chat message, in characters.
pub const MAX_CHAT_CHARS: usize = 500;

/// The role of a participant in a hearing: a call has one seat per role.
///
/// Besides the two parties, a hearing's officer may add an `interpreter`, an `agent` (代理人 or
/// 监护人) and a `supervisor` (法制员): each joins on its own seat, relayed and recorded like the
/// parties (docs/call.md "Seats"). The supervisor watches and listens: the citizen's seat never
/// receives its media nor sees it in presence ([`Role::sees`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Citizen,
    Officer,
    Interpreter,
    Agent,
    Supervisor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Citizen => "citizen",
            Role::Officer => "officer",
            Role::Interpreter => "interpreter",
            Role::Agent => "agent",
            Role::Supervisor => "supervisor",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.iter().copied().find(|r| r.as_str() == s)
    }
    /// Every seat a call can have, in the order a receiver's media slots are filled.
    pub const ALL: &'static [Role] = &[
        Role::Citizen,
        Role::Officer,
        Role::Interpreter,
        Role::Agent,
        Role::Supervisor,
    ];
    /// Whether this seat receives `other`'s media and sees it in presence: every seat sees every
    /// other, except that the citizen never sees or hears the supervisor (issue 19 §2).
    pub fn sees(self, other: Role) -> bool {
        self != other && !(self == Role::Citizen && other == Role::Supervisor)
    }
    /// Whether this seat is told every seat's link quality (`link` frames): the officer and
    /// the supervisor, who run and oversee the call; never the citizen ([`crate::link`]).
    pub fn sees_links(self) -> bool {
        matches!(self, Role::Officer | Role::Supervisor)
    }
    /// The other seats this one sees, in [`Role::ALL`] order (for a citizen or an officer the
    /// first is the other party of a two-party call).
    pub fn others(self) -> impl Iterator<Item = Role> {
        Role::ALL.iter().copied().filter(move |r| self.sees(*r))
    }
}

/// An ICE candidate as browsers serialise `RTCIceCandidate.toJSON()`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Candidate {
    pub candidate: String,
    #[serde(rename = "sdpMid", default, skip_serializing_if = "Option::is_none")]
    pub sdp_mid: Option<String>,
    #[serde(
        rename = "sdpMLineIndex",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub sdp_mline_index: Option<u16>,
    #[serde(
        rename = "usernameFragment",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub username_fragment: Option<String>,
}

/// An ICE server handed to clients (the shape of `RTCIceServer`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// Frames a client sends.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMsg {
    Join {
        token: String,
    },
    Offer {
        sdp: String,
        /// An ICE restart of the participant's existing peer connection (its `sdp` carries new
        /// ICE credentials and the same DTLS fingerprint), possibly on a new signalling socket:
        /// the server answers it on the same server-side peer connection (docs/call.md
        /// "Address change"). Absent: `false`.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        ice_restart: bool,
    },
    Candidate(Candidate),
    /// Subscribes this connection to the seat roster: the server answers `seats` and from then on
    /// sends `seat {role, state}` instead of the aggregated `peer {state}`.
    Seats {},
    /// A text message to everyone in the call (sealed into the record before it is relayed).
    Chat {
        text: String,
    },
    /// This seat sends video or not, and why (audio-only, [`crate::video`]).
    Media {
        video: bool,
        reason: VideoReason,
    },
    // struct variants so that `deny_unknown_fields` applies to them too
    Leave {},
    Ping {},
}

/// The presence states of a seat (in `peer`: of the other seats taken together).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeerState {
    Joined,
    Left,
    Reconnecting,
}

/// One seat in a `seats` roster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatState {
    pub role: Role,
    pub state: PeerState,
}

/// Frames the server sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    Joined {
        role: Role,
        peer_present: bool,
        ice_servers: Vec<IceServer>,
    },
    Answer {
        sdp: String,
    },
    Candidate(Candidate),
    /// The other seats taken together (joined: someone else is connected; reconnecting: nobody
    /// else is connected but someone may come back; left: everyone else has gone). In a
    /// two-party call, exactly the other party's state.
    Peer {
        state: PeerState,
    },
    /// The roster, to a connection that sent `seats`: every other seat that has been taken.
    Seats {
        seats: Vec<SeatState>,
    },
    /// One other seat changed, to a connection that sent `seats`.
    Seat {
        role: Role,
        state: PeerState,
    },
    Hearing {
        status: String,
        step: Option<String>,
    },
    /// A chat message, sealed: to every connected seat, the sender included (its `seq` in the
    /// audit log, `at` RFC 3339).
    Chat {
        from: Role,
        text: String,
        seq: Option<i64>,
        at: String,
    },
    /// A seat's announced video state (audio-only when `video` is false), to every seat that
    /// sees it; `seq` of its `video_off`/`video_on` audit entry when one was sealed.
    Media {
        role: Role,
        video: bool,
        reason: VideoReason,
        seq: Option<i64>,
    },
    /// A seat's link as the server measures it (every few seconds, [`crate::link`]), to the
    /// officer and the supervisor only: round trip (ms, `None` before the first measurement),
    /// loss of the worse direction (%), kbit/s received from and sent to the seat, whether it
    /// announced audio-only, and the level after hysteresis.
    Link {
        role: Role,
        rtt_ms: Option<u32>,
        loss_pct: Permille,
        kbps_in: u32,
        kbps_out: u32,
        audio_only: bool,
        level: crate::link::Level,
    },
    Pong,
    Error {
        code: String,
        message: String,
        /// `wrong_node`: the WebSocket URL of the process that holds the hearing's call.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        node_url: Option<String>,
    },
}

impl ServerMsg {
    pub fn error(code: &str, message: impl Into<String>) -> ServerMsg {
        ServerMsg::Error {
            code: code.to_owned(),
            message: message.into(),
            node_url: None,
        }
    }
    /// The JSON text of this frame.
    pub fn to_json(&self) -> String {
        // Serialising these plain types cannot fail; fall back to a fixed error frame anyway.
        serde_json::to_string(self).unwrap_or_else(|_| {
            r#"{"type":"error","code":"internal","message":"encoding failed"}"#.to_owned()
        })
    }
}

/// A share in per mille, written in JSON as a percentage with one decimal (`12` → `1.2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permille(pub u32);

impl Serialize for Permille {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(f64::from(self.0) / 10.0)
    }
}

impl<'de> Deserialize<'de> for Permille {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let pct = f64::deserialize(d)?;
        if !(0.0..=100.0).contains(&pct) {
            return Err(serde::de::Error::custom("a percentage from 0 to 100"));
        }
        Ok(Permille((pct * 10.0).round() as u32))
    }
}

/// Why a client frame was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("frame too large ({0} bytes)")]
    TooLarge(usize),
    #[error("malformed frame: {0}")]
    Malformed(String),
    #[error("field `{0}` is too long")]
    FieldTooLong(&'static str),
}

impl ParseError {
    /// The stable `code` sent in the `error` frame.
    pub fn code(&self) -> &'static str {
        match self {
            ParseError::TooLarge(_) => "frame_too_large",
            ParseError::Malformed(_) => "bad_frame",
            ParseError::FieldTooLong(_) => "field_too_long",
        }
    }
}

fn check_len(s: &str, max: usize, field: &'static str) -> Result<(), ParseError> {
    if s.len() > max {
        Err(ParseError::FieldTooLong(field))
    } else {
        Ok(())
    }
}

impl ClientMsg {
    /// Parses one text frame strictly.
    pub fn parse(text: &str) -> Result<ClientMsg, ParseError> {
        if text.len() > MAX_FRAME_BYTES {
            return Err(ParseError::TooLarge(text.len()));
        }
        let msg: ClientMsg = serde_json::from_str(text).map_err(|e| {
            let mut s = e.to_string();
            s.truncate(200);
            ParseError::Malformed(s)
        })?;
        msg.validate()?;
        Ok(msg)
    }

    fn validate(&self) -> Result<(), ParseError> {
        match self {
            ClientMsg::Join { token } => check_len(token, MAX_TOKEN_BYTES, "token"),
            ClientMsg::Offer { sdp, .. } => {
                check_len(sdp, MAX_SDP_BYTES, "sdp")?;
                if sdp.trim().is_empty() {
                    return Err(ParseError::Malformed("empty sdp".into()));
                }
                Ok(())
            }
            ClientMsg::Candidate(c) => {
                check_len(&c.candidate, MAX_CANDIDATE_BYTES, "candidate")?;
                if let Some(m) = &c.sdp_mid {
                    check_len(m, MAX_SHORT_BYTES, "sdpMid")?;
                }
                if let Some(u) = &c.username_fragment {
                    check_len(u, MAX_SHORT_BYTES, "usernameFragment")?;
                }
                Ok(())
            }
            ClientMsg::Chat { text } => {
                if text.chars().count() > MAX_CHAT_CHARS {
                    return Err(ParseError::FieldTooLong("text"));
                }
                if text.trim().is_empty() || text.chars().any(|c| c.is_control() && c != '\n') {
                    return Err(ParseError::Malformed(
                        "chat text must not be empty or hold control characters".into(),
                    ));
                }
                Ok(())
            }
            ClientMsg::Media {
                video: true,
                reason,
            } if !reason.may_turn_on() => Err(ParseError::Malformed(format!(
                "video cannot turn on for {}",
                reason.as_str()
            ))),
            ClientMsg::Media { .. } => Ok(()),
            ClientMsg::Seats {} | ClientMsg::Leave {} | ClientMsg::Ping {} => Ok(()),
        }
    }

    /// A short name for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            ClientMsg::Join { .. } => "join",
            ClientMsg::Offer { .. } => "offer",
            ClientMsg::Candidate(_) => "candidate",
            ClientMsg::Seats {} => "seats",
            ClientMsg::Chat { .. } => "chat",
            ClientMsg::Media { .. } => "media",
            ClientMsg::Leave {} => "leave",
            ClientMsg::Ping {} => "ping",
        }
    }
}

#[cfg(test)]
#[path = "msg_tests.rs"]
mod tests;
