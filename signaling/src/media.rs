//! The media seam: what the signalling layer needs from a WebRTC implementation.
//!
//! Owns only the traits and small shared types; the `webrtc`-crate implementation lives in
//! [`crate::rtc`], a no-media implementation (signalling only) is [`NoMedia`].

use std::sync::Arc;

use async_trait::async_trait;

use crate::msg::{Candidate, Role};

/// Something a media room reports to one participant's current connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaEvent {
    /// A local ICE candidate of the server's peer connection for this participant.
    LocalCandidate(Candidate),
    /// The peer connection changed state (`connected`, `failed`, `closed`, ...).
    State(String),
    /// The participant's link over the last sampling window ([`crate::link`]).
    Link(crate::link::LinkSample),
}

/// Where a media room sends its events; called without any lock held, must not block.
pub type MediaEventSink = Arc<dyn Fn(Role, MediaEvent) + Send + Sync>;

/// A media error with a stable code for the `error` frame.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {message}")]
pub struct MediaError {
    pub code: &'static str,
    pub message: String,
}

impl MediaError {
    pub fn new(code: &'static str, message: impl Into<String>) -> MediaError {
        MediaError {
            code,
            message: message.into(),
        }
    }
}

/// Creates one media room per hearing (per call segment).
pub trait MediaEngine: Send + Sync + 'static {
    fn open_room(&self, hearing_id: &str, events: MediaEventSink) -> Arc<dyn MediaRoom>;
}

/// The server-side media of one hearing: one peer connection per participant.
#[async_trait]
pub trait MediaRoom: Send + Sync {
    /// Answers a client's offer. A new `conn_seq` (a new signalling connection) replaces the
    /// participant's peer connection; the same `conn_seq` renegotiates the existing one.
    async fn offer(
        &self,
        role: Role,
        participant_id: &str,
        conn_seq: u64,
        sdp: String,
    ) -> Result<String, MediaError>;
    /// Answers an ICE-restart offer (`offer {ice_restart: true}`) on the participant's existing
    /// peer connection, also from a new signalling connection (`conn_seq`, which from then on
    /// gets the peer connection's candidates and events): its tracks, relay and recording stay.
    /// `restart_unavailable` when the participant has no peer connection here (the client then
    /// makes a new one), `bad_sdp` for an offer that cannot be a restart of it.
    async fn restart(
        &self,
        _role: Role,
        _conn_seq: u64,
        _sdp: String,
    ) -> Result<String, MediaError> {
        Err(MediaError::new(
            "restart_unavailable",
            "no peer connection to restart: send a plain offer",
        ))
    }
    /// Adds a trickled remote candidate (buffered until the offer is applied).
    async fn candidate(
        &self,
        role: Role,
        conn_seq: u64,
        candidate: Candidate,
    ) -> Result<(), MediaError>;
    /// How long ago the participant's media was last handed to the recorder (`None`: never in
    /// this room, the room does not record, or it is closed). The hearing's "recording running"
    /// is a recent answer here.
    fn recorded_ago(&self, _role: Role) -> Option<std::time::Duration> {
        None
    }
    /// The seat announced that it sends video (`on`) or not: while off, its video RTP is
    /// dropped, neither relayed nor recorded ([`crate::video`]).
    fn set_video(&self, _role: Role, _on: bool) {}
    /// The participant is gone for good (left, or the grace period ran out).
    async fn remove(&self, role: Role);
    /// The call segment ends: every peer connection closed, recordings finalised.
    async fn close(&self);
}

/// What an echo peer did, reported when it closed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EchoOutcome {
    /// The client's connection reached `connected`.
    pub connected: bool,
    /// RTP packets and payload bytes received (and sent back).
    pub packets: u64,
    pub bytes: u64,
}

/// A running echo peer: the answer for the client and, once it has closed, what it did.
#[derive(Debug)]
pub struct Echo {
    pub answer: String,
    pub done: tokio::sync::oneshot::Receiver<EchoOutcome>,
}

/// The self-test's media: a short-lived peer that sends the client's own RTP back.
#[async_trait]
pub trait EchoEngine: Send + Sync + 'static {
    /// Answers a complete (non-trickle) offer with a peer that echoes the client's audio and
    /// video for at most `max` and then closes. `bad_sdp` for an offer it cannot use.
    async fn echo(&self, sdp: String, max: std::time::Duration) -> Result<Echo, MediaError>;
}

/// Signalling without media: offers are answered with an error.
#[derive(Debug, Default, Clone)]
pub struct NoMedia;

struct NoMediaRoom;

impl MediaEngine for NoMedia {
    fn open_room(&self, _hearing_id: &str, _events: MediaEventSink) -> Arc<dyn MediaRoom> {
        Arc::new(NoMediaRoom)
    }
}

#[async_trait]
impl MediaRoom for NoMediaRoom {
    async fn offer(&self, _: Role, _: &str, _: u64, _: String) -> Result<String, MediaError> {
        Err(MediaError::new(
            "media_unavailable",
            "media is disabled on this server",
        ))
    }
    async fn candidate(&self, _: Role, _: u64, _: Candidate) -> Result<(), MediaError> {
        Ok(())
    }
    async fn remove(&self, _: Role) {}
    async fn close(&self) {}
}
