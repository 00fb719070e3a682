//! Booking: brigades' schedules and slots, the booking rules of DOMAIN.md (each refusal a
//! stable API.md code, nothing written on refusal), seats taken by one conditional update,
//! cancellations, no-shows and the blacklist, and the Redis urgent lane.
//!
//! Owns the tables of migration `…000301_booking` and the Redis keys under `<prefix>:urgent`.
//! Must not touch hearings or the audit log. For the hearing module: [`get_booking_for_officer`],
//! [`set_status`], [`urgent::remove`], [`urgent::holder`].

pub mod admin;
mod api;
pub mod expiry;
pub mod jobs;
mod metrics;
pub mod rules;
pub mod schedule;
pub mod service;
pub mod store;
pub mod urgent;
pub mod views;

use utoipa_axum::router::OpenApiRouter;

pub use service::{get_booking_for_officer, set_status};
pub use store::BookingRow;
pub use views::{BookingStatus, BookingView};

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(api::router())
        .merge(admin::router())
        .merge(urgent::router())
}
