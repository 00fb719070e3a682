//! Urgent-booking eligibility: deriving the expiry from a registration date (pure).
//!
//! Owns the rule of DOMAIN.md "The flow", step 2 and `docs/booking-rules.md`: the expiry is the
//! next anniversary of the licence's first-issue date or the vehicle's registration date on or
//! after today (29 February → 28 February in a common year); an urgent booking is accepted only
//! when that expiry is within today … today + window (3) days in the brigade's time zone; the
//! deadline is the last second of the expiry day in that time zone; the slot must start before it.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use super::rules::Refusal;

/// What the expiry is about (`urgent.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UrgentKind {
    /// Driving licence points-clearing date (yearly from the first-issue date).
    Licence,
    /// Vehicle periodic inspection (due on the registration anniversary).
    Inspection,
}

impl UrgentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UrgentKind::Licence => "licence",
            UrgentKind::Inspection => "inspection",
        }
    }
}

/// The anniversary of `reg` in `year` (29 February → 28 February in a common year).
pub fn anniversary_in(reg: NaiveDate, year: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, reg.month(), reg.day())
        .or_else(|| NaiveDate::from_ymd_opt(year, reg.month(), reg.day() - 1))
}

/// The next anniversary of `reg` on or after `today`. Anniversaries start one year after `reg`
/// (the issue day itself is not an expiry). `None` when `reg` is after `today` (invalid input).
pub fn next_anniversary(reg: NaiveDate, today: NaiveDate) -> Option<NaiveDate> {
    if reg > today {
        return None;
    }
    let first_year = today.year().max(reg.year().checked_add(1)?);
    (first_year..=first_year.checked_add(1)?)
        .filter_map(|y| anniversary_in(reg, y))
        .find(|d| *d >= today)
}

/// The end of local `date` in `tz`: the last second before the next local midnight.
pub fn end_of_day(tz: Tz, date: NaiveDate) -> Option<DateTime<Utc>> {
    let next = date.succ_opt()?.and_hms_opt(0, 0, 0)?;
    let midnight = match tz.from_local_datetime(&next) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t,
        // A DST jump at midnight: the first instant after the gap.
        LocalResult::None => tz
            .from_local_datetime(&(next + Duration::hours(1)))
            .earliest()?,
    };
    Some(midnight.with_timezone(&Utc) - Duration::seconds(1))
}

/// An accepted urgent request: the derived expiry date and deadline instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrgentGrant {
    pub expiry: NaiveDate,
    pub deadline: DateTime<Utc>,
}

/// Decides an urgent request. `today` is today in the brigade's time zone; `window_days` is 3.
/// Refuses with `not_urgent_eligible` when the expiry is not within `today..=today+window` or
/// when the slot does not start before the deadline.
pub fn grant_urgent(
    tz: Tz,
    reg: NaiveDate,
    today: NaiveDate,
    window_days: u32,
    slot_start: DateTime<Utc>,
) -> Result<UrgentGrant, Refusal> {
    let refuse = |why: String| Refusal::NotUrgentEligible { why, window_days };
    let expiry = next_anniversary(reg, today)
        .ok_or_else(|| refuse("the registration date is after today".into()))?;
    grant_expiry(tz, expiry, today, window_days, slot_start)
}

/// Decides an urgent request on a known expiry date (the system of record's inspection due
/// date, or [`next_anniversary`] of a registration date): it must lie within
/// `today..=today+window`, and the slot must start before the end of that day.
pub fn grant_expiry(
    tz: Tz,
    expiry: NaiveDate,
    today: NaiveDate,
    window_days: u32,
    slot_start: DateTime<Utc>,
) -> Result<UrgentGrant, Refusal> {
    let refuse = |why: String| Refusal::NotUrgentEligible { why, window_days };
    if expiry < today {
        return Err(refuse(format!("the expiry {expiry} has passed")));
    }
    let last = today + Duration::days(i64::from(window_days));
    if expiry > last {
        return Err(refuse(format!(
            "the expiry {expiry} is not within {window_days} days of today ({today})"
        )));
    }
    let deadline = end_of_day(tz, expiry).ok_or_else(|| refuse("no deadline".into()))?;
    if slot_start >= deadline {
        return Err(refuse(format!(
            "the slot starts after the deadline (end of {expiry})"
        )));
    }
    Ok(UrgentGrant { expiry, deadline })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }
    const SH: Tz = chrono_tz::Asia::Shanghai;

    #[test]
    fn next_anniversary_basics() {
        assert_eq!(
            next_anniversary(d(2015, 11, 22), d(2026, 11, 20)),
            Some(d(2026, 11, 22))
        );
        assert_eq!(
            next_anniversary(d(2015, 11, 20), d(2026, 11, 20)),
            Some(d(2026, 11, 20))
        );
        assert_eq!(
            next_anniversary(d(2015, 11, 19), d(2026, 11, 20)),
            Some(d(2027, 11, 19))
        );
        assert_eq!(
            next_anniversary(d(2015, 1, 2), d(2026, 12, 31)),
            Some(d(2027, 1, 2))
        );
        // Issued today: the first anniversary is a year away.
        assert_eq!(
            next_anniversary(d(2026, 11, 20), d(2026, 11, 20)),
            Some(d(2027, 11, 20))
        );
        assert_eq!(next_anniversary(d(2026, 11, 21), d(2026, 11, 20)), None);
    }

    #[test]
    fn leap_day() {
        // 29 Feb → 28 Feb in common years, 29 Feb in leap years.
        assert_eq!(
            next_anniversary(d(2020, 2, 29), d(2027, 2, 26)),
            Some(d(2027, 2, 28))
        );
        assert_eq!(
            next_anniversary(d(2020, 2, 29), d(2028, 2, 26)),
            Some(d(2028, 2, 29))
        );
        assert_eq!(
            next_anniversary(d(2020, 2, 29), d(2027, 3, 1)),
            Some(d(2028, 2, 29))
        );
        assert_eq!(
            next_anniversary(d(2020, 2, 29), d(2028, 3, 1)),
            Some(d(2029, 2, 28))
        );
    }

    #[test]
    fn deadline_is_end_of_local_day() {
        let dl = end_of_day(SH, d(2026, 11, 22)).unwrap();
        assert_eq!(
            dl.with_timezone(&SH).to_rfc3339(),
            "2026-11-22T23:59:59+08:00"
        );
        assert_eq!(dl.to_rfc3339(), "2026-11-22T15:59:59+00:00");
    }

    #[test]
    fn window_edges() {
        let today = d(2026, 11, 20);
        let slot = SH
            .with_ymd_and_hms(2026, 11, 20, 15, 0, 0)
            .unwrap()
            .with_timezone(&Utc);
        // expiry today, +3 ok; +4 refused
        assert!(grant_urgent(SH, d(2010, 11, 20), today, 3, slot).is_ok());
        assert!(grant_urgent(SH, d(2010, 11, 23), today, 3, slot).is_ok());
        let e = grant_urgent(SH, d(2010, 11, 24), today, 3, slot).unwrap_err();
        assert_eq!(e.code(), "not_urgent_eligible");
        // expiry yesterday → next year → refused
        assert!(grant_urgent(SH, d(2010, 11, 19), today, 3, slot).is_err());
        // future registration
        assert!(grant_urgent(SH, d(2027, 1, 1), today, 3, slot).is_err());
    }

    #[test]
    fn slot_must_start_before_deadline() {
        let today = d(2026, 11, 20);
        let at = |day, h| {
            SH.with_ymd_and_hms(2026, 11, day, h, 0, 0)
                .unwrap()
                .with_timezone(&Utc)
        };
        let g = grant_urgent(SH, d(2010, 11, 21), today, 3, at(21, 16)).unwrap();
        assert_eq!(g.expiry, d(2026, 11, 21));
        assert!(grant_urgent(SH, d(2010, 11, 21), today, 3, at(22, 9)).is_err());
        assert!(grant_urgent(SH, d(2010, 11, 21), today, 3, at(21, 23)).is_ok());
    }

    proptest! {
        #[test]
        fn anniversary_properties(ry in 1950i32..2026, rdoy in 0i64..366, tdoy in 0i64..3000) {
            let reg = d(ry, 1, 1) + Duration::days(rdoy);
            let today = d(2026, 1, 1) + Duration::days(tdoy);
            let a = next_anniversary(reg, today).unwrap();
            prop_assert!(a >= today);
            prop_assert!(a < today + Duration::days(367));
            prop_assert_eq!(a.month(), reg.month());
            let leap_shift = reg.month() == 2 && reg.day() == 29 && a.day() == 28;
            prop_assert!(a.day() == reg.day() || leap_shift);
            // No earlier anniversary on or after today.
            if let Some(prev) = anniversary_in(reg, a.year() - 1) {
                prop_assert!(prev < today || a.year() - 1 <= reg.year());
            }
        }

        #[test]
        fn granted_deadline_after_slot(tdoy in 0i64..800, off in 0i64..6, h in 0u32..24) {
            let today = d(2026, 1, 1) + Duration::days(tdoy);
            let reg = anniversary_in(today + Duration::days(off), 2001).unwrap();
            let slot = SH.from_local_datetime(&today.and_hms_opt(h, 0, 0).unwrap()).unwrap().with_timezone(&Utc);
            match grant_urgent(SH, reg, today, 3, slot) {
                Ok(g) => {
                    prop_assert!(g.expiry >= today && g.expiry <= today + Duration::days(3));
                    prop_assert!(slot < g.deadline);
                }
                Err(_) => prop_assert!(next_anniversary(reg, today).unwrap() > today + Duration::days(3)),
            }
        }
    }
}
