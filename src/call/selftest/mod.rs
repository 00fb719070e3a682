//! The citizen's self-test before the call (issue 14 §3): a short-lived echo peer to test the
//! media path the call will use (`GET /api/v1/selftest`, `POST /api/v1/selftest/echo`), and the
//! result, kept with the booking for the officer's view of the waiting citizen
//! (`POST`/`GET /api/v1/bookings/{id}/selftest`).
//!
//! Owns the `selftests` table and the in-process set of running echoes. The echo peer itself is
//! the `signaling` crate's [`signaling::EchoEngine`] over the call's media engine; the score is
//! [`score`] (a pure rule, documented there and in docs/call.md).

mod api;
pub mod score;
mod service;
mod store;

use std::collections::HashSet;
use std::sync::Mutex;

use axum::extract::FromRef;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;

pub use score::{Advice, Score, SelfTestReport};

use super::Call;
use crate::{booking::Booking, identity::Identity};

/// `[call.selftest]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct SelfTestConfig {
    /// The echo peer closes after this many seconds.
    pub echo_s: u64,
    /// Echoes one user may start per minute.
    pub echoes_per_minute: u64,
    /// Results one citizen may send per hour.
    pub results_per_hour: u64,
    /// The largest offer taken (bytes of SDP).
    pub max_sdp_bytes: usize,
}

impl Default for SelfTestConfig {
    fn default() -> Self {
        SelfTestConfig {
            echo_s: 10,
            echoes_per_minute: 4,
            results_per_hour: 20,
            max_sdp_bytes: 32 * 1024,
        }
    }
}

/// The users with an echo running in this process (one each at a time).
#[derive(Debug, Default)]
pub struct Running(Mutex<HashSet<String>>);

impl Running {
    /// Takes `user`'s slot; `false` when an echo of theirs is running.
    fn take(&self, user: &str) -> bool {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(user.to_owned())
    }
    fn release(&self, user: &str) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(user);
    }
    /// Echoes running now (tests, metrics).
    pub fn count(&self) -> usize {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// What the page needs before it offers: the call's ICE servers (TURN credentials included)
/// and the echo's limits.
#[derive(Debug, Serialize, ToSchema)]
pub struct SelfTestSetup {
    #[schema(value_type = Vec<Object>)]
    pub ice_servers: Vec<signaling::IceServer>,
    pub echo_seconds: u64,
    pub max_sdp_bytes: usize,
}

/// A complete offer (candidates included: no trickle).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EchoOffer {
    #[schema(max_length = 32768)]
    pub sdp: String,
}

/// The echo peer's answer (its candidates included); it closes after `echo_seconds`.
#[derive(Debug, Serialize, ToSchema)]
pub struct EchoAnswer {
    pub sdp: String,
    pub echo_seconds: u64,
}

/// A stored result: the report, the server's score of it and its advice codes.
#[derive(Debug, Serialize, ToSchema)]
pub struct SelfTestView {
    pub id: String,
    pub booking_id: String,
    /// RFC 3339.
    pub at: String,
    pub score: Score,
    pub advice: Vec<Advice>,
    pub report: SelfTestReport,
}

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Call: FromRef<S>,
    Booking: FromRef<S>,
    Identity: FromRef<S>,
{
    api::router()
}
