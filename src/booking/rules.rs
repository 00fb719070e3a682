//! The booking rules that need no database (pure): date rules in the contract's order, case
//! eligibility, the blacklist window, the phone binding and the vehicle driver limit.
//!
//! Owns the typed refusal (`Refusal`, one variant per API.md code) and the 422 field error
//! (`FieldError`). The service layer gathers facts from the store and calls these functions; the
//! order in which it calls them is documented in `docs/booking-rules.md`.

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, Utc};

use super::schedule::{Schedule, Slot};

/// A booking rule said no (409 with `code()`), or the seat could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the slot has no seat left")]
    SlotFull,
    #[error("a normal booking cannot be for today")]
    SameDayNotAllowed,
    #[error("the slot is more than {0} days ahead")]
    TooFarAhead(u32),
    #[error("the slot has already started")]
    SlotInPast,
    #[error("the brigade is closed on {0}")]
    BrigadeClosed(NaiveDate),
    #[error("the citizen already has an active booking")]
    ActiveBookingExists,
    #[error("booking is suspended until {until} after {no_shows} no-shows in a month")]
    Blacklisted { until: NaiveDate, no_shows: u32 },
    #[error("a cancelled booking cannot be rebooked at the same brigade on the same date")]
    RebookAfterCancel,
    #[error("the vehicle is already in active bookings of {0} drivers who do not own it")]
    VehicleDriverLimit(u32),
    #[error("not eligible for an urgent booking: {why}")]
    NotUrgentEligible { why: String, window_days: u32 },
    #[error("not eligible for remote handling: {why}")]
    IneligibleCase { why: String, limits: CaseLimits },
    #[error("the bound phone number cannot be changed")]
    PhoneBindingImmutable,
    /// A violation record picked from the system of record is already handled in another
    /// booking (booked, in a hearing, or completed).
    #[error("violation record {0} is already being handled in another booking")]
    RecordAlreadyBooked(String),
}

impl Refusal {
    /// The stable API.md error code.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::SlotFull => "slot_full",
            Refusal::SameDayNotAllowed => "same_day_not_allowed",
            Refusal::TooFarAhead(_) => "too_far_ahead",
            Refusal::SlotInPast => "slot_in_past",
            Refusal::BrigadeClosed(_) => "brigade_closed",
            Refusal::ActiveBookingExists => "active_booking_exists",
            Refusal::Blacklisted { .. } => "blacklisted",
            Refusal::RebookAfterCancel => "rebook_after_cancel",
            Refusal::VehicleDriverLimit(_) => "vehicle_driver_limit",
            Refusal::NotUrgentEligible { .. } => "not_urgent_eligible",
            Refusal::IneligibleCase { .. } => "ineligible_case",
            Refusal::PhoneBindingImmutable => "phone_binding_immutable",
            Refusal::RecordAlreadyBooked(_) => "record_already_booked",
        }
    }

    /// The numbers the refusal speaks of, for pages to put into their own words (API.md
    /// errors: `params`). `None` when the refusal has none.
    pub fn params(&self) -> Option<serde_json::Value> {
        use serde_json::json;
        Some(match self {
            Refusal::TooFarAhead(days) => json!({ "days": days }),
            Refusal::BrigadeClosed(date) => json!({ "date": date.to_string() }),
            Refusal::Blacklisted { until, no_shows } => {
                json!({ "until": until.to_string(), "no_shows": no_shows })
            }
            Refusal::VehicleDriverLimit(drivers) => json!({ "drivers": drivers }),
            Refusal::RecordAlreadyBooked(record) => json!({ "record_no": record }),
            Refusal::NotUrgentEligible { window_days, .. } => json!({ "days": window_days }),
            Refusal::IneligibleCase { limits, .. } => json!({
                "max_fine_yuan": limits.max_fine_per_violation,
                "max_unhandled": limits.max_unhandled,
                "points_ceiling": limits.points_ceiling,
            }),
            _ => return None,
        })
    }

    /// Every code, for metrics pre-registration and docs.
    pub const CODES: [&'static str; 13] = [
        "slot_in_past",
        "same_day_not_allowed",
        "too_far_ahead",
        "brigade_closed",
        "not_urgent_eligible",
        "ineligible_case",
        "blacklisted",
        "phone_binding_immutable",
        "active_booking_exists",
        "rebook_after_cancel",
        "vehicle_driver_limit",
        "slot_full",
        "record_already_booked",
    ];
}

/// Invalid input (422) naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

pub fn field_error(field: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

/// Limits of the date rules (from config).
#[derive(Debug, Clone, Copy)]
pub struct DateLimits {
    /// A normal booking may be at most this many days ahead (7: today + 7 allowed, + 8 not).
    pub max_days_ahead: u32,
}

/// The date rules, in the contract's order: `slot_in_past`, `same_day_not_allowed` (normal
/// bookings only), `too_far_ahead`, `brigade_closed`. `open` is false when the slot's date is a
/// closed weekday or closed date.
pub fn check_dates(
    sched: &Schedule,
    now: DateTime<Utc>,
    slot: &Slot,
    open: bool,
    urgent: bool,
    limits: DateLimits,
) -> Result<(), Refusal> {
    let today = sched.today(now);
    if slot.start <= now || slot.date < today {
        return Err(Refusal::SlotInPast);
    }
    if slot.date == today && !urgent {
        return Err(Refusal::SameDayNotAllowed);
    }
    if slot.date > today + Duration::days(i64::from(limits.max_days_ahead)) {
        return Err(Refusal::TooFarAhead(limits.max_days_ahead));
    }
    if !open {
        return Err(Refusal::BrigadeClosed(slot.date));
    }
    Ok(())
}

/// One violation as the citizen copied it from the violation record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViolationFacts {
    pub fine_yuan: i64,
    pub points: i64,
}

/// Eligibility limits (seed 000; config).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseLimits {
    pub max_fine_per_violation: i64,
    pub max_unhandled: i64,
    /// Points after handling must stay below this (12).
    pub points_ceiling: i64,
}

impl Default for CaseLimits {
    fn default() -> Self {
        CaseLimits {
            max_fine_per_violation: 200,
            max_unhandled: 5,
            points_ceiling: 12,
        }
    }
}

/// Input checks (422) on the case: at least one and at most 32 violations, no negative or absurd
/// money or points.
pub fn validate_case(
    violations: &[ViolationFacts],
    unhandled_count: i64,
    current_points: i64,
) -> Result<(), FieldError> {
    if violations.is_empty() {
        return Err(field_error(
            "violations",
            "at least one violation is required",
        ));
    }
    if violations.len() > 32 {
        return Err(field_error("violations", "at most 32 violations"));
    }
    for (i, v) in violations.iter().enumerate() {
        if !(0..=1_000_000).contains(&v.fine_yuan) {
            return Err(field_error(
                format!("violations[{i}].fine_yuan"),
                "must be between 0 and 1000000",
            ));
        }
        if !(0..=100).contains(&v.points) {
            return Err(field_error(
                format!("violations[{i}].points"),
                "must be between 0 and 100",
            ));
        }
    }
    if !(0..=10_000).contains(&unhandled_count) {
        return Err(field_error(
            "unhandled_count",
            "must be between 0 and 10000",
        ));
    }
    if !(0..=100).contains(&current_points) {
        return Err(field_error("current_points", "must be between 0 and 100"));
    }
    Ok(())
}

/// Seed 000: fine at most 200 per violation, at most 5 unhandled violations, and current +
/// violation points below 12. Call after `validate_case`.
pub fn check_case(
    violations: &[ViolationFacts],
    unhandled_count: i64,
    current_points: i64,
    limits: CaseLimits,
) -> Result<(), Refusal> {
    let refuse = |why: String| Err(Refusal::IneligibleCase { why, limits });
    if let Some(v) = violations
        .iter()
        .find(|v| v.fine_yuan > limits.max_fine_per_violation)
    {
        return refuse(format!(
            "a fine of {} yuan is over {} yuan",
            v.fine_yuan, limits.max_fine_per_violation
        ));
    }
    let unhandled = unhandled_count.max(violations.len() as i64);
    if unhandled > limits.max_unhandled {
        return refuse(format!(
            "{unhandled} unhandled violations (at most {})",
            limits.max_unhandled
        ));
    }
    let total = violations
        .iter()
        .fold(current_points, |acc, v| acc.saturating_add(v.points));
    if total >= limits.points_ceiling {
        return refuse(format!(
            "points would reach {total} (must stay below {})",
            limits.points_ceiling
        ));
    }
    Ok(())
}

/// The blacklist: `threshold` (3) no-shows within one calendar month suspend booking for one
/// month, from the date of the no-show that reached the threshold. `no_shows` are the local dates
/// of the no-show slots, any order. Returns the first day booking is allowed again when `today`
/// falls in a suspension.
pub fn blacklisted_until(
    no_shows: &[NaiveDate],
    today: NaiveDate,
    threshold: usize,
) -> Option<NaiveDate> {
    let mut dates = no_shows.to_vec();
    dates.sort();
    let threshold = threshold.max(1);
    dates
        .chunk_by(|a, b| (a.year(), a.month()) == (b.year(), b.month()))
        .filter(|month| month.len() >= threshold)
        .filter_map(|month| {
            let from = month[threshold - 1];
            let until = from.checked_add_months(Months::new(1))?;
            (from <= today && today < until).then_some(until)
        })
        .max()
}

/// The earliest no-show date that can still matter for `today` (for bounding the query):
/// the first day of the month before last.
pub fn blacklist_lookback(today: NaiveDate) -> NaiveDate {
    let first = today.with_day(1).unwrap_or(today);
    first.checked_sub_months(Months::new(2)).unwrap_or(first)
}

/// What to do about the phone binding for this booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhoneDecision {
    /// Already bound; the booking uses the bound phone.
    UseBound(String),
    /// Not bound yet: bind this phone with the booking.
    Bind(String),
}

/// The first booking binds the phone; afterwards `phone` may be omitted or repeated, but not
/// changed. `given` must already be normalised (`PhoneNumber::parse`).
pub fn decide_phone(
    bound: Option<&str>,
    given: Option<&str>,
) -> Result<Result<PhoneDecision, Refusal>, FieldError> {
    match (bound, given) {
        (None, None) => Err(field_error(
            "phone",
            "a phone number is required for the first booking",
        )),
        (None, Some(g)) => Ok(Ok(PhoneDecision::Bind(g.to_string()))),
        (Some(b), None) => Ok(Ok(PhoneDecision::UseBound(b.to_string()))),
        (Some(b), Some(g)) if b == g => Ok(Ok(PhoneDecision::UseBound(b.to_string()))),
        (Some(_), Some(_)) => Ok(Err(Refusal::PhoneBindingImmutable)),
    }
}

/// At most `limit` (3) distinct drivers who do not own the vehicle may hold active bookings on
/// it. `other_non_owner_drivers` counts the others (not this citizen). Owners are not limited.
pub fn check_vehicle_drivers(
    owner: bool,
    other_non_owner_drivers: u32,
    limit: u32,
) -> Result<(), Refusal> {
    if !owner && other_non_owner_drivers >= limit {
        return Err(Refusal::VehicleDriverLimit(limit));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::schedule::{SlotLookup, WeeklyHours};
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }
    fn sched() -> Schedule {
        Schedule {
            tz: chrono_tz::Asia::Shanghai,
            hours: WeeklyHours::uniform("09:00-12:00,13:30-17:30", "mon-sun").unwrap(),
            slot_minutes: 60,
            seats: 10,
            closed_dates: [d(2026, 11, 25)].into(),
        }
    }
    const LIM: DateLimits = DateLimits { max_days_ahead: 7 };

    /// Runs lookup + date rules as the service does.
    fn check(now_local: (u32, u32), slot_local: (u32, u32), urgent: bool) -> Result<(), String> {
        let s = sched();
        let now =
            s.tz.with_ymd_and_hms(2026, 11, now_local.0, now_local.1, 0, 0)
                .unwrap()
                .with_timezone(&Utc);
        let (day, hour) = slot_local;
        let (y, m, dd) = if day > 30 {
            (2026, 12, day - 30)
        } else {
            (2026, 11, day)
        };
        let start =
            s.tz.with_ymd_and_hms(y, m, dd, hour, 0, 0)
                .unwrap()
                .with_timezone(&Utc);
        let (slot, open) = match s.lookup(start) {
            SlotLookup::Open(sl) => (sl, true),
            SlotLookup::Closed(sl) => (sl, false),
            SlotLookup::OffGrid => return Err("off_grid".into()),
        };
        check_dates(&s, now, &slot, open, urgent, LIM).map_err(|e| e.code().to_string())
    }

    #[test]
    fn date_rules_in_order() {
        // now: 2026-11-20 10:00 local
        assert_eq!(check((20, 10), (19, 9), false), Err("slot_in_past".into()));
        assert_eq!(check((20, 10), (20, 9), true), Err("slot_in_past".into()));
        assert_eq!(check((20, 10), (20, 10), true), Err("slot_in_past".into()));
        assert_eq!(
            check((20, 10), (20, 11), false),
            Err("same_day_not_allowed".into())
        );
        assert_eq!(check((20, 10), (20, 11), true), Ok(()));
        assert_eq!(check((20, 10), (21, 9), false), Ok(()));
        assert_eq!(check((20, 10), (27, 16), false), Err("off_grid".into()));
        assert_eq!(check((20, 10), (27, 9), false), Ok(())); // today + 7
        assert_eq!(check((20, 10), (28, 9), false), Err("too_far_ahead".into())); // + 8
        assert_eq!(check((20, 10), (28, 9), true), Err("too_far_ahead".into()));
        assert_eq!(
            check((20, 10), (25, 9), false),
            Err("brigade_closed".into())
        );
        // The closed date tomorrow.
        assert_eq!(
            check((24, 10), (25, 9), false),
            Err("brigade_closed".into())
        );
        assert_eq!(check((20, 10), (21, 12), false), Err("off_grid".into()));
    }

    #[test]
    fn day_boundary_uses_brigade_zone() {
        // 2026-11-20 23:30 local is 15:30 UTC; the 09:00 slot of the 21st is "tomorrow".
        assert_eq!(check((20, 23), (21, 9), false), Ok(()));
        // Just after local midnight the 21st is today.
        assert_eq!(
            check((21, 0), (21, 9), false),
            Err("same_day_not_allowed".into())
        );
    }

    fn v(fine: i64, points: i64) -> ViolationFacts {
        ViolationFacts {
            fine_yuan: fine,
            points,
        }
    }

    #[test]
    fn case_rules() {
        let l = CaseLimits::default();
        assert!(check_case(&[v(200, 3)], 1, 0, l).is_ok());
        assert_eq!(
            check_case(&[v(201, 3)], 1, 0, l).unwrap_err().code(),
            "ineligible_case"
        );
        assert!(check_case(&[v(100, 0)], 5, 0, l).is_ok());
        assert!(check_case(&[v(100, 0)], 6, 0, l).is_err());
        assert!(check_case(&[v(1, 0); 6], 0, 0, l).is_err());
        assert!(check_case(&[v(100, 3), v(50, 2)], 2, 6, l).is_ok()); // 11
        assert!(check_case(&[v(100, 3), v(50, 3)], 2, 6, l).is_err()); // 12
        assert!(validate_case(&[], 0, 0).is_err());
        assert_eq!(
            validate_case(&[v(-1, 0)], 1, 0).unwrap_err().field,
            "violations[0].fine_yuan"
        );
        assert_eq!(
            validate_case(&[v(1, 1), v(1, -1)], 2, 0).unwrap_err().field,
            "violations[1].points"
        );
        assert_eq!(
            validate_case(&[v(1, 1)], -1, 0).unwrap_err().field,
            "unhandled_count"
        );
        assert_eq!(
            validate_case(&[v(1, 1)], 1, -2).unwrap_err().field,
            "current_points"
        );
    }

    #[test]
    fn blacklist_window() {
        let ns = [d(2026, 10, 3), d(2026, 10, 10), d(2026, 10, 20)];
        assert_eq!(blacklisted_until(&ns, d(2026, 10, 19), 3), None);
        assert_eq!(
            blacklisted_until(&ns, d(2026, 10, 20), 3),
            Some(d(2026, 11, 20))
        );
        assert_eq!(
            blacklisted_until(&ns, d(2026, 11, 19), 3),
            Some(d(2026, 11, 20))
        );
        assert_eq!(blacklisted_until(&ns, d(2026, 11, 20), 3), None);
        // Three no-shows across two months do not count.
        let split = [d(2026, 10, 30), d(2026, 10, 31), d(2026, 11, 1)];
        assert_eq!(blacklisted_until(&split, d(2026, 11, 2), 3), None);
        // Jan 31 + 1 month clamps to Feb 28.
        let jan = [d(2027, 1, 2), d(2027, 1, 3), d(2027, 1, 31)];
        assert_eq!(
            blacklisted_until(&jan, d(2027, 2, 27), 3),
            Some(d(2027, 2, 28))
        );
        assert_eq!(blacklist_lookback(d(2026, 11, 20)), d(2026, 9, 1));
    }

    #[test]
    fn phone_binding() {
        assert!(decide_phone(None, None).is_err());
        assert_eq!(
            decide_phone(None, Some("13800000000")),
            Ok(Ok(PhoneDecision::Bind("13800000000".into())))
        );
        assert_eq!(
            decide_phone(Some("13800000000"), None),
            Ok(Ok(PhoneDecision::UseBound("13800000000".into())))
        );
        assert_eq!(
            decide_phone(Some("13800000000"), Some("13900000000")),
            Ok(Err(Refusal::PhoneBindingImmutable))
        );
    }

    #[test]
    fn vehicle_limit() {
        assert!(check_vehicle_drivers(false, 2, 3).is_ok());
        assert_eq!(
            check_vehicle_drivers(false, 3, 3).unwrap_err().code(),
            "vehicle_driver_limit"
        );
        assert!(check_vehicle_drivers(true, 9, 3).is_ok());
    }

    #[test]
    fn codes_cover_variants() {
        let all = [
            Refusal::SlotFull,
            Refusal::SameDayNotAllowed,
            Refusal::TooFarAhead(7),
            Refusal::SlotInPast,
            Refusal::BrigadeClosed(d(2026, 1, 1)),
            Refusal::ActiveBookingExists,
            Refusal::Blacklisted {
                until: d(2026, 1, 1),
                no_shows: 3,
            },
            Refusal::RebookAfterCancel,
            Refusal::VehicleDriverLimit(3),
            Refusal::NotUrgentEligible {
                why: String::new(),
                window_days: 3,
            },
            Refusal::IneligibleCase {
                why: String::new(),
                limits: CaseLimits::default(),
            },
            Refusal::PhoneBindingImmutable,
            Refusal::RecordAlreadyBooked("1".into()),
        ];
        for r in &all {
            assert!(Refusal::CODES.contains(&r.code()));
        }
        assert_eq!(all.len(), Refusal::CODES.len());
    }

    proptest! {
        #[test]
        fn blacklist_only_within_a_month_of_third(days in prop::collection::vec(0i64..120, 0..8), t in 0i64..200) {
            let base = d(2026, 9, 1);
            let ns: Vec<_> = days.iter().map(|x| base + Duration::days(*x)).collect();
            let today = base + Duration::days(t);
            if let Some(until) = blacklisted_until(&ns, today, 3) {
                prop_assert!(today < until);
                prop_assert!(until <= today + Duration::days(31));
                let before: Vec<_> = ns.iter().filter(|x| **x <= today).collect();
                prop_assert!(before.len() >= 3);
            }
            if ns.len() < 3 {
                prop_assert_eq!(blacklisted_until(&ns, today, 3), None);
            }
        }

        #[test]
        fn case_points_monotone(cur in 0i64..20, pts in prop::collection::vec(0i64..13, 1..5)) {
            let vs: Vec<_> = pts.iter().map(|p| v(50, *p)).collect();
            let ok = check_case(&vs, 1, cur, CaseLimits::default()).is_ok();
            prop_assert_eq!(ok, cur + pts.iter().sum::<i64>() < 12);
        }
    }
}
