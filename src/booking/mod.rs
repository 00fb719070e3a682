//! Booking: brigades' schedules and slots, the booking rules of DOMAIN.md (each refusal a
//! stable API.md code, nothing written on refusal), seats taken by one conditional update,
//! cancellations, no-shows and the blacklist, and the Redis urgent lane.
//!
//! Owns the tables of migration `…000301_booking` and the Redis keys under `<prefix>:urgent`.
//! Must not touch hearings or the audit log. For the hearing module: [`get_booking_for_officer`],
//! [`set_status`], [`fate::follow_interrupt`], [`fate::follow_resume`], [`urgent::remove`],
//! [`urgent::holder`]. A booking's fates (interrupted, missed or cancelled by the brigade,
//! moved) are in `fate` and `brigade_changes`.

pub mod admin;
mod api;
mod brigade_changes;
mod claims;
mod config;
pub mod expiry;
pub mod fate;
pub mod from_record;
pub mod jobs;
mod metrics;
pub mod model;
mod precheck;
mod reminder;
pub mod rules;
pub mod schedule;
pub mod service;
pub mod store;
mod store_facts;
pub mod urgent;

use std::sync::Arc;

use axum::extract::FromRef;
use utoipa_axum::router::OpenApiRouter;

pub use config::BookingConfig;
pub use model::{BookingStatus, BookingView};
pub use service::{get_booking_for_officer, set_status};
pub use store::BookingRow;
pub use urgent::OpenHearings;

use crate::{clock::SharedClock, kv::Kv, records::Records, sms::Sms, store::Db};

/// The booking area's sub-state: what its services use (the store, Redis for the urgent lane,
/// the clock, `[booking]`), the SMS area for its messages, and the hearings it must know of
/// (through [`OpenHearings`], implemented in `startup`). Cheap to clone; handlers take it as
/// `State<Booking>` (`AppState` implements `FromRef`).
#[derive(Debug, Clone)]
pub struct Booking {
    pub db: Db,
    pub kv: Kv,
    pub clock: SharedClock,
    pub config: Arc<BookingConfig>,
    pub sms: Sms,
    pub hearings: Arc<dyn OpenHearings>,
    /// The system of record: where a booking's facts come from (`from_record`).
    pub records: Records,
    /// Slots this process's writer found full: their refusals are answered from a read
    /// snapshot first (`precheck`).
    pub(crate) full_slots: precheck::FullSlots,
}

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Booking: FromRef<S>,
    crate::identity::Identity: FromRef<S>,
{
    OpenApiRouter::new()
        .merge(api::router())
        .merge(admin::router())
        .merge(urgent::router())
}

/// `config` with its `rebook_url` filled in: when empty, the citizen page under `public_url`.
pub fn with_rebook_url(config: &BookingConfig, public_url: &str) -> BookingConfig {
    let mut c = config.clone();
    if c.rebook_url.trim().is_empty() {
        c.rebook_url = format!("{}/citizen/", public_url.trim_end_matches('/'));
    }
    c
}
