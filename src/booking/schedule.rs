//! A brigade's published schedule and the slot grid computed from it (pure, no I/O).
//!
//! Owns: parsing opening hours (`09:00-12:00,13:30-17:30`), weekday sets (`mon-fri`,
//! `mon,wed,fri`), per-weekday hours (`mon-thu=09:00-12:00;fri=09:00-11:00`), and turning a
//! schedule plus closed dates into slots in the brigade's time zone. It must not touch the
//! database or the clock: callers pass dates and instants in.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Why a schedule text could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ScheduleError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, ScheduleError> {
    Err(ScheduleError(msg.into()))
}

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// An opening interval within one day, `start < end`, minute precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Interval {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

fn parse_hhmm(s: &str) -> Result<NaiveTime, ScheduleError> {
    let s = s.trim();
    if s == "24:00" {
        return Ok(NaiveTime::MIN); // treated as end of day by `Interval::end_minutes`
    }
    NaiveTime::parse_from_str(s, "%H:%M").or_else(|_| err(format!("bad time `{s}` (want HH:MM)")))
}

fn minutes(t: NaiveTime) -> u32 {
    use chrono::Timelike;
    t.hour() * 60 + t.minute()
}

impl Interval {
    fn start_minutes(&self) -> u32 {
        minutes(self.start)
    }
    fn end_minutes(&self) -> u32 {
        match minutes(self.end) {
            0 => 24 * 60,
            m => m,
        }
    }
}

/// Opening intervals for one day, sorted and non-overlapping. `09:00-12:00,13:30-17:30`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayHours(pub Vec<Interval>);

impl DayHours {
    pub fn parse(s: &str) -> Result<Self, ScheduleError> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((a, b)) = part.split_once('-') else {
                return err(format!("bad interval `{part}` (want HH:MM-HH:MM)"));
            };
            let iv = Interval {
                start: parse_hhmm(a)?,
                end: parse_hhmm(b)?,
            };
            if iv.start_minutes() >= iv.end_minutes() {
                return err(format!("interval `{part}` ends before it starts"));
            }
            out.push(iv);
        }
        if out.is_empty() {
            return err("no opening hours given");
        }
        out.sort();
        if out
            .windows(2)
            .any(|w| w[0].end_minutes() > w[1].start_minutes())
        {
            return err("opening intervals overlap");
        }
        Ok(DayHours(out))
    }
}

impl fmt::Display for DayHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, iv) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            let end = iv.end_minutes();
            write!(
                f,
                "{}-{:02}:{:02}",
                iv.start.format("%H:%M"),
                end / 60,
                end % 60
            )?;
        }
        Ok(())
    }
}

/// Parses `mon-fri`, `mon,wed,fri`, `sat-sun`, `mon-wed,fri` into a 7-entry mask (Monday first).
pub fn parse_weekdays(s: &str) -> Result<[bool; 7], ScheduleError> {
    let idx = |name: &str| {
        let n = name.trim().to_ascii_lowercase();
        DAY_NAMES
            .iter()
            .position(|d| n.starts_with(d) && n.len() >= 3)
            .ok_or_else(|| ScheduleError(format!("bad weekday `{}`", name.trim())))
    };
    let mut mask = [false; 7];
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (idx(a)?, idx(b)?);
                let mut i = a;
                loop {
                    mask[i] = true;
                    if i == b {
                        break;
                    }
                    i = (i + 1) % 7;
                }
            }
            None => mask[idx(part)?] = true,
        }
    }
    if !mask.iter().any(|d| *d) {
        return err("no weekdays given");
    }
    Ok(mask)
}

/// Opening hours per weekday (Monday first); `None` = closed that weekday.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WeeklyHours(pub [Option<DayHours>; 7]);

impl WeeklyHours {
    /// The same hours on every weekday of `weekdays`: what the CLI's `--hours`/`--weekdays` give.
    pub fn uniform(hours: &str, weekdays: &str) -> Result<Self, ScheduleError> {
        let h = DayHours::parse(hours)?;
        let mask = parse_weekdays(weekdays)?;
        Ok(WeeklyHours(std::array::from_fn(|i| {
            mask[i].then(|| h.clone())
        })))
    }

    /// `mon-thu=09:00-12:00,13:30-17:30;fri=09:00-12:00` (the canonical stored form).
    pub fn parse(spec: &str) -> Result<Self, ScheduleError> {
        let mut week: [Option<DayHours>; 7] = Default::default();
        for part in spec.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((days, hours)) = part.split_once('=') else {
                return err(format!("bad day rule `{part}` (want DAYS=HH:MM-HH:MM,...)"));
            };
            let h = DayHours::parse(hours)?;
            for (i, on) in parse_weekdays(days)?.into_iter().enumerate() {
                if on {
                    week[i] = Some(h.clone());
                }
            }
        }
        if week.iter().all(Option::is_none) {
            return err("the schedule opens on no weekday");
        }
        Ok(WeeklyHours(week))
    }

    pub fn for_weekday(&self, wd: chrono::Weekday) -> Option<&DayHours> {
        self.0[wd.num_days_from_monday() as usize].as_ref()
    }
}

impl fmt::Display for WeeklyHours {
    /// One `day=hours` rule per open weekday, e.g. `mon=09:00-12:00;tue=09:00-12:00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (i, h) in self.0.iter().enumerate() {
            if let Some(h) = h {
                if !first {
                    f.write_str(";")?;
                }
                first = false;
                write!(f, "{}={}", DAY_NAMES[i], h)?;
            }
        }
        Ok(())
    }
}

/// Everything needed to compute a brigade's slots.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub tz: Tz,
    pub hours: WeeklyHours,
    pub slot_minutes: u32,
    pub seats: u32,
    pub closed_dates: BTreeSet<NaiveDate>,
}

/// One slot of the grid: `[start, end)`, on local date `date`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub date: NaiveDate,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// Where a requested start instant falls on a schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlotLookup {
    /// A slot start on a day the brigade is open.
    Open(Slot),
    /// A slot start time, but on a closed weekday or closed date.
    Closed(Slot),
    /// Not a slot start at all (422 on `slot_start`).
    OffGrid,
}

impl SlotLookup {
    /// The slot and whether the brigade is open then; `None` off the grid.
    pub fn slot(self) -> Option<(Slot, bool)> {
        match self {
            SlotLookup::Open(s) => Some((s, true)),
            SlotLookup::Closed(s) => Some((s, false)),
            SlotLookup::OffGrid => None,
        }
    }
}

impl Schedule {
    pub fn today(&self, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&self.tz).date_naive()
    }

    pub fn is_open_on(&self, date: NaiveDate) -> bool {
        self.hours.for_weekday(date.weekday()).is_some() && !self.closed_dates.contains(&date)
    }

    /// The local start minutes of the slots of a day with hours `h`.
    fn slot_starts(&self, h: &DayHours) -> Vec<u32> {
        let len = self.slot_minutes.max(1);
        let mut out = Vec::new();
        for iv in &h.0 {
            let mut m = iv.start_minutes();
            while m + len <= iv.end_minutes() {
                out.push(m);
                m += len;
            }
        }
        out
    }

    /// Local wall time to UTC; a time skipped by a DST change gives `None`, an ambiguous one the
    /// earlier instant.
    fn local(&self, date: NaiveDate, minute: u32) -> Option<DateTime<Utc>> {
        let naive = date.and_hms_opt(0, 0, 0)? + Duration::minutes(i64::from(minute));
        match self.tz.from_local_datetime(&naive) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Some(t.with_timezone(&Utc)),
            LocalResult::None => None,
        }
    }

    fn slot(&self, date: NaiveDate, minute: u32) -> Option<Slot> {
        let start = self.local(date, minute)?;
        Some(Slot {
            date,
            start,
            end: start + Duration::minutes(i64::from(self.slot_minutes)),
        })
    }

    /// The slots of one local date (empty when closed).
    pub fn slots_on(&self, date: NaiveDate) -> Vec<Slot> {
        if !self.is_open_on(date) {
            return Vec::new();
        }
        let Some(h) = self.hours.for_weekday(date.weekday()) else {
            return Vec::new();
        };
        self.slot_starts(h)
            .into_iter()
            .filter_map(|m| self.slot(date, m))
            .collect()
    }

    /// The slots of `from..=to` (local dates), at most `max_days` days.
    pub fn slots_between(&self, from: NaiveDate, to: NaiveDate, max_days: u32) -> Vec<Slot> {
        from.iter_days()
            .take_while(|d| *d <= to)
            .take(max_days as usize)
            .flat_map(|d| self.slots_on(d))
            .collect()
    }

    /// Classifies a requested slot start. On an open day the start must be one of that day's
    /// slot starts; on a closed day it must be a slot start of some weekday's hours (so that a
    /// well-formed request for a holiday answers `brigade_closed`, not 422).
    pub fn lookup(&self, start: DateTime<Utc>) -> SlotLookup {
        let local = start.with_timezone(&self.tz);
        let date = local.date_naive();
        let naive_min = {
            use chrono::Timelike;
            if local.second() != 0 || local.nanosecond() != 0 {
                return SlotLookup::OffGrid;
            }
            local.hour() * 60 + local.minute()
        };
        let matches = |h: &DayHours| self.slot_starts(h).contains(&naive_min);
        let slot = match self.slot(date, naive_min) {
            Some(s) if s.start == start => s,
            _ => return SlotLookup::OffGrid,
        };
        match self.hours.for_weekday(date.weekday()) {
            Some(h) if !self.closed_dates.contains(&date) => {
                if matches(h) {
                    SlotLookup::Open(slot)
                } else {
                    SlotLookup::OffGrid
                }
            }
            _ if self.hours.0.iter().flatten().any(matches) => SlotLookup::Closed(slot),
            _ => SlotLookup::OffGrid,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sched() -> Schedule {
        Schedule {
            tz: chrono_tz::Asia::Shanghai,
            hours: WeeklyHours::uniform("09:00-12:00,13:30-17:30", "mon-fri").unwrap(),
            slot_minutes: 60,
            seats: 10,
            closed_dates: [NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()].into(),
        }
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn parses_hours_and_weekdays() {
        let h = DayHours::parse("13:30-17:30, 09:00-12:00").unwrap();
        assert_eq!(h.to_string(), "09:00-12:00,13:30-17:30");
        assert!(DayHours::parse("09:00-08:00").is_err());
        assert!(DayHours::parse("09:00-12:00,11:00-13:00").is_err());
        assert!(DayHours::parse("9-12").is_err());
        assert!(DayHours::parse("").is_err());
        assert_eq!(
            DayHours::parse("20:00-24:00").unwrap().to_string(),
            "20:00-24:00"
        );
        assert_eq!(
            parse_weekdays("mon-fri").unwrap(),
            [true, true, true, true, true, false, false]
        );
        assert_eq!(
            parse_weekdays("sat-mon").unwrap(),
            [true, false, false, false, false, true, true]
        );
        assert_eq!(
            parse_weekdays("Mon,WED").unwrap(),
            [true, false, true, false, false, false, false]
        );
        assert!(parse_weekdays("xyz").is_err());
        assert!(parse_weekdays("").is_err());
    }

    #[test]
    fn weekly_round_trips() {
        let w = WeeklyHours::parse("mon-thu=09:00-12:00,13:30-17:30;fri=09:00-11:00").unwrap();
        assert_eq!(WeeklyHours::parse(&w.to_string()).unwrap(), w);
        assert!(w.0[5].is_none() && w.0[6].is_none());
        assert!(WeeklyHours::parse("mon").is_err());
    }

    #[test]
    fn slots_of_a_weekday() {
        let s = sched();
        let slots = s.slots_on(d(2026, 11, 23)); // Monday
        assert_eq!(slots.len(), 3 + 4);
        // 09:00 +08:00 is 01:00 UTC.
        assert_eq!(slots[0].start.to_rfc3339(), "2026-11-23T01:00:00+00:00");
        assert_eq!(slots[3].start.to_rfc3339(), "2026-11-23T05:30:00+00:00");
        assert_eq!(slots[6].end.to_rfc3339(), "2026-11-23T09:30:00+00:00");
        assert!(s.slots_on(d(2026, 11, 21)).is_empty()); // Saturday
        assert!(s.slots_on(d(2026, 11, 25)).is_empty()); // closed date
        assert_eq!(
            s.slots_between(d(2026, 11, 20), d(2026, 11, 27), 31).len(),
            7 * 5
        );
    }

    #[test]
    fn lookup_classifies() {
        let s = sched();
        let at = |y, m, dd, h, mi| {
            s.tz.with_ymd_and_hms(y, m, dd, h, mi, 0)
                .unwrap()
                .with_timezone(&Utc)
        };
        assert!(matches!(
            s.lookup(at(2026, 11, 23, 9, 0)),
            SlotLookup::Open(_)
        ));
        assert!(matches!(
            s.lookup(at(2026, 11, 23, 13, 30)),
            SlotLookup::Open(_)
        ));
        assert_eq!(s.lookup(at(2026, 11, 23, 9, 30)), SlotLookup::OffGrid);
        assert_eq!(s.lookup(at(2026, 11, 23, 12, 0)), SlotLookup::OffGrid);
        assert!(matches!(
            s.lookup(at(2026, 11, 21, 9, 0)),
            SlotLookup::Closed(_)
        ));
        assert!(matches!(
            s.lookup(at(2026, 11, 25, 10, 0)),
            SlotLookup::Closed(_)
        ));
        assert_eq!(s.lookup(at(2026, 11, 21, 9, 30)), SlotLookup::OffGrid);
        assert_eq!(
            s.lookup(at(2026, 11, 23, 9, 0) + Duration::seconds(1)),
            SlotLookup::OffGrid
        );
    }

    #[test]
    fn dst_gap_skips_slot() {
        let s = Schedule {
            tz: chrono_tz::Europe::Berlin,
            hours: WeeklyHours::uniform("01:00-04:00", "mon-sun").unwrap(),
            slot_minutes: 60,
            seats: 1,
            closed_dates: BTreeSet::new(),
        };
        // 2026-03-29: 02:00 local does not exist in Berlin.
        assert_eq!(s.slots_on(d(2026, 3, 29)).len(), 2);
        assert_eq!(s.slots_on(d(2026, 3, 30)).len(), 3);
    }

    proptest! {
        #[test]
        fn every_listed_slot_looks_up_open(day in 0i64..400, len in prop::sample::select(vec![15u32, 20, 30, 45, 60, 90])) {
            let mut s = sched();
            s.slot_minutes = len;
            let date = d(2026, 1, 1) + Duration::days(day);
            let slots = s.slots_on(date);
            for w in slots.windows(2) {
                prop_assert!(w[0].end <= w[1].start);
            }
            for sl in slots {
                prop_assert_eq!(s.lookup(sl.start), SlotLookup::Open(sl));
                prop_assert_eq!(s.today(sl.start), date);
                prop_assert_eq!((sl.end - sl.start).num_minutes(), i64::from(len));
            }
        }

        #[test]
        fn parse_never_panics(spec in ".{0,40}") {
            let _ = WeeklyHours::parse(&spec);
            let _ = DayHours::parse(&spec);
            let _ = parse_weekdays(&spec);
        }
    }
}
