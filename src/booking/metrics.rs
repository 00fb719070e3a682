//! Booking metrics: bookings by outcome and refusal code, and the urgent lane's gauges.
//! Names: `bookings_total{outcome}`, `booking_refusals_total{code}`, `urgent_queue_depth{brigade}`,
//! `urgent_queue_claimed{brigade}`, `urgent_oldest_deadline_seconds{brigade}` (unix seconds),
//! `urgent_deadline_alerts_total{brigade}`, `urgent_lane_rebuilds_total{reason}` (start, lost,
//! reconnect, enqueue_failed, reconcile).

pub fn booked() {
    outcome("booked");
}

/// `outcome`: booked, refused (409, see `booking_refusals_total`), invalid (other 4xx), error,
/// cancelled, no_show, completed, referred.
pub fn outcome(outcome: &'static str) {
    metrics::counter!("bookings_total", "outcome" => outcome).increment(1);
}

pub fn refused(code: &'static str) {
    outcome("refused");
    metrics::counter!("booking_refusals_total", "code" => code).increment(1);
}

pub fn lane(brigade: &str, waiting: u64, claimed: u64, oldest_deadline_ms: Option<i64>) {
    let b = brigade.to_string();
    metrics::gauge!("urgent_queue_depth", "brigade" => b.clone()).set(waiting as f64);
    metrics::gauge!("urgent_queue_claimed", "brigade" => b.clone()).set(claimed as f64);
    let oldest = oldest_deadline_ms
        .map(|ms| ms as f64 / 1000.0)
        .unwrap_or(0.0);
    metrics::gauge!("urgent_oldest_deadline_seconds", "brigade" => b).set(oldest);
}

pub fn alert(brigade: &str) {
    metrics::counter!("urgent_deadline_alerts_total", "brigade" => brigade.to_string())
        .increment(1);
}

/// A rebuild of the urgent lanes by the sweeper job, and why.
pub fn rebuilt(reason: &'static str) {
    metrics::counter!("urgent_lane_rebuilds_total", "reason" => reason).increment(1);
}
