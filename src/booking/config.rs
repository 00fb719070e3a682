//! `[booking]`: the booking area's own configuration (rules' numbers, the urgent lane, no-shows).

use serde::Deserialize;

/// Booking rules and the urgent queue (DOMAIN.md "Booking rules"; docs/booking-rules.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct BookingConfig {
    /// A normal booking may be at most this many days ahead (today + 7 allowed).
    pub max_days_ahead: u32,
    /// An urgent booking needs its expiry within today … today + this many days.
    pub urgent_window_days: u32,
    pub max_fine_per_violation: i64,
    pub max_unhandled: i64,
    /// Points after handling must stay below this.
    pub points_ceiling: i64,
    /// Distinct non-owner drivers per plate among active bookings.
    pub non_owner_driver_limit: u32,
    /// No-shows in one calendar month that suspend booking for a month.
    pub no_shows_per_month: u32,
    /// Longest `from..to` range of the slots listing, in days.
    pub max_listing_days: u32,
    /// Urgent claim lease (visibility timeout), seconds.
    pub lease_s: u64,
    /// How often the urgent sweeper runs, seconds.
    pub sweep_interval_s: u64,
    /// How often the sweeper job checks that Redis still holds the lane (the marker key, the
    /// connection), milliseconds (10 … 60000).
    pub lane_check_ms: u64,
    /// The lane is rebuilt from the database at least this often, seconds.
    pub reconcile_interval_s: u64,
    /// Alert when an unclaimed urgent item's deadline is this close, seconds.
    pub alert_before_s: u64,
    /// A booking whose hearing the brigade never opened by the end of its slot plus this grace
    /// becomes `missed_by_brigade` (never a no-show), seconds.
    pub no_show_grace_s: u64,
    /// How often that job runs, seconds.
    pub no_show_interval_s: u64,
    /// The link to book again in the SMS of a missed or cancelled booking. Empty: the citizen
    /// page under `server.public_url` (`<public_url>/citizen/`).
    pub rebook_url: String,
}

impl Default for BookingConfig {
    fn default() -> Self {
        BookingConfig {
            max_days_ahead: 7,
            urgent_window_days: 3,
            max_fine_per_violation: 200,
            max_unhandled: 5,
            points_ceiling: 12,
            non_owner_driver_limit: 3,
            no_shows_per_month: 3,
            max_listing_days: 31,
            lease_s: 300,
            sweep_interval_s: 15,
            lane_check_ms: 1000,
            reconcile_interval_s: 60,
            alert_before_s: 7200,
            no_show_grace_s: 900,
            no_show_interval_s: 60,
            rebook_url: String::new(),
        }
    }
}
