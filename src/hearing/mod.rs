//! The hearing: the legal procedure of one booking as a state machine ([`machine`]), the
//! content rules of each step ([`content`]), the served decision document ([`decision`]), the
//! call's lifecycle around it ([`lifecycle`]) and the officer's live events ([`events`]).
//!
//! Owns the tables of migration `…000501_hearing` (hearings, hearing_steps,
//! hearing_decisions) and `hearing_evidence` ([`evidence`]); the citizen's signatures, the
//! transcript's versions and the proof of service are [`signing`]. Reaches booking, audit and call only through [`ports`]; must not
//! write their tables directly (the booking status goes through booking's own rules).
//! The legal choices are documented in `docs/hearing.md`.

pub mod access;
pub mod after_commit;
mod api;
pub mod body;
pub mod chat;
pub mod content;
pub mod decision;
pub mod error;
pub mod events;
pub mod evidence;
pub mod fate;
pub mod files;
pub mod gaps;
pub mod interrupt;
pub mod lifecycle;
pub mod link;
pub mod live;
pub mod machine;
pub mod participants;
pub mod ports;
pub mod presence;
pub mod reads;
pub mod retention;
pub mod sealer;
pub mod search;
pub mod service;
pub mod signing;
pub mod store;
pub mod subscribers;
pub mod values;
pub mod video;
pub mod views;
pub mod web_ticket;

use std::{ops::Deref, path::PathBuf, sync::Arc};

use axum::extract::FromRef;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;

pub use error::HearingError;
pub use machine::{Party, Status, Step};
pub use views::HearingView;

use crate::{
    booking::Booking, call::Call, clock::SharedClock, identity::DataKey, kv::Kv, sms::Sms,
    store::Db,
};

/// The hearing area's state (handlers take `State<Hearing>`; the server's state implements
/// `FromRef`): what its services use, and the lower areas they reach (`Sms`, `Booking`,
/// `Call`, each given on by `FromRef` to their own functions). Built in `startup::wiring`.
#[derive(Clone, Debug)]
pub struct Hearing(Arc<Inner>);

/// The parts of [`Hearing`].
#[derive(Debug)]
pub struct Inner {
    pub db: Db,
    pub kv: Kv,
    pub clock: SharedClock,
    pub config: HearingConfig,
    /// `[decision]`: the served decision document.
    pub decision: decision::DecisionConfig,
    /// The key of the citizens' identity data at rest (the identity step's masked ID number,
    /// the decision's party).
    pub identity_key: Arc<DataKey>,
    /// `server.data_dir` (the brigades' seal keys in development) and production mode.
    pub data_dir: PathBuf,
    pub production: bool,
    /// Redis, for the officers' event stream's own subscription connection.
    pub redis_url: secrecy::SecretString,
    pub sms: Sms,
    pub booking: Booking,
    pub call: Call,
    /// The system of record: the decisions' write-back outbox (through [`ports`]).
    pub records: crate::records::Records,
    /// `[retention]`: the classes' periods and the sweep (see [`retention`]).
    pub retention: retention::RetentionConfig,
    /// The after-commit work (registered in `startup`, see [`after_commit::standard`]).
    pub subscribers: subscribers::Subscribers<Hearing>,
}

impl Hearing {
    pub fn new(inner: Inner) -> Hearing {
        Hearing(Arc::new(inner))
    }
}

impl Deref for Hearing {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl FromRef<Hearing> for Sms {
    fn from_ref(h: &Hearing) -> Sms {
        h.sms.clone()
    }
}

impl FromRef<Hearing> for Booking {
    fn from_ref(h: &Hearing) -> Booking {
        h.booking.clone()
    }
}

impl FromRef<Hearing> for Call {
    fn from_ref(h: &Hearing) -> Call {
        h.call.clone()
    }
}

/// `[hearing]` configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct HearingConfig {
    /// A hearing may be opened this long before its slot starts.
    pub open_before_s: u64,
    /// A no-show may be recorded this long after the slot started (or the hearing opened).
    pub no_show_wait_s: u64,
    /// … and only this long after the first join code went out (DOMAIN.md: 10 minutes;
    /// production refuses less than 600).
    pub no_show_after_code_s: u64,
    /// SMS join codes sent per hearing per local day of the brigade (refusals do not count).
    pub sms_per_hearing: u64,
    /// How often the presence watcher looks at the calls' rooms.
    pub presence_poll_ms: u64,
    /// A step needs the call live: both parties connected and both recorded (Administrative
    /// Penalty Law Art. 47). May be `false` only outside production mode (startup refuses).
    pub require_live_call: bool,
    /// A party's recording counts as running when its media reached the recorder at most this
    /// long ago.
    pub live_media_ms: u64,
    /// A hearing whose call is not live and where nothing happened for this long is
    /// interrupted by the server (0: never).
    pub idle_ms: u64,
    /// Supervisors (法制员) per hearing (issue 19 §2; 0: none; a call has one seat per role, so
    /// values above 1 count as 1).
    pub max_supervisors: u64,
}

impl Default for HearingConfig {
    fn default() -> Self {
        HearingConfig {
            open_before_s: 900,
            no_show_wait_s: 600,
            no_show_after_code_s: 600,
            sms_per_hearing: 5,
            presence_poll_ms: 500,
            require_live_call: true,
            live_media_ms: 3000,
            idle_ms: 1_800_000,
            max_supervisors: 1,
        }
    }
}

/// Whether the call must refuse joins: the hearing exists and is closed (read from the
/// database, so a process that never saw the hearing refuses too). A call without a hearing row
/// (tools, tests) is not refused.
pub async fn refuses_joins(state: &Hearing, id: &str) -> crate::error::ApiResult<bool> {
    Ok(store::get(&state.db.read, id)
        .await?
        .and_then(|h| Status::parse(&h.status))
        .is_some_and(Status::is_closed))
}

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Hearing: FromRef<S>,
    crate::identity::Identity: FromRef<S>,
{
    api::router()
        .merge(evidence::router())
        .merge(signing::router())
        .merge(participants::router())
        .merge(retention::router())
}
