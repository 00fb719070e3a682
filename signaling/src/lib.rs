//! Signalling for the hearing call: the WebSocket message types ([`msg`]), rooms and presence
//! ([`room`]), the per-connection protocol ([`conn`]), link quality ([`link`]), the media seam ([`media`]) and its
//! implementation over the `webrtc` crate ([`rtc`]).
//!
//! This crate knows nothing of HTTP, the database or join-token formats: the server verifies
//! tokens (through [`conn::JoinVerifier`]) and adapts its WebSocket type to [`conn::Frame`].

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod chat;
pub mod conn;
pub mod link;
pub mod media;
pub mod msg;
pub mod room;
pub mod rtc;
pub mod video;

#[cfg(test)]
mod chat_tests;
#[cfg(test)]
mod conn_tests;
#[cfg(test)]
mod restart_tests;
#[cfg(test)]
mod seat_tests;
#[cfg(test)]
mod video_tests;

pub use chat::{ChatRecorder, ChatRefused, ChatSealed};
pub use conn::{Ended, Frame, JoinGrant, JoinRefused, JoinVerifier, ReadError, serve};
pub use link::{Level, LinkRecorder, LinkReport, LinkSample, LinkThresholds};
pub use media::{
    Echo, EchoEngine, EchoOutcome, MediaEngine, MediaError, MediaEvent, MediaRoom, NoMedia,
};
pub use msg::{Candidate, ClientMsg, IceServer, PeerState, Role, SeatState, ServerMsg};
pub use room::{Hub, HubConfig, Participant, Presence, SeatGap};
pub use video::{VideoReason, VideoRecorder, VideoState};
