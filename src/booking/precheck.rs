//! The store-backed rules before the seat, and the read-only pass that answers a full slot
//! without the writer (issue 18 §2, the morning release).
//!
//! [`before_seat`] applies rules 7–11 of docs/booking-rules.md (blacklist, phone binding, one
//! active booking, no rebooking after a cancellation, the vehicle's non-owner drivers) on a
//! connection: the booking's write transaction, or a read snapshot. [`refuse_early`] runs when
//! this process has already seen the slot full (a writer's `slot_full`, remembered in
//! [`FullSlots`]): for a citizen with nothing more to read (an owner, no recent no-show, no
//! record claimed) in one statement reading the slot's seats and the citizen's facts
//! (`store_facts::slot_full_and_facts`: one statement is one snapshot), else in one read transaction
//! on the read pool (a WAL snapshot on SQLite, `REPEATABLE
//! READ READ ONLY` on PostgreSQL) it reads the slot's seats and, when the slot is full there,
//! applies the same rules and the records' claims: the first refusal answers, else `slot_full`.
//! That is exactly the answer the writer would give at that snapshot, so the rule order holds
//! and nothing is written; the many refusals of a release become concurrent reads instead of
//! queueing for SQLite's one writer (or PostgreSQL's slot row lock). A slot with a free seat in
//! the snapshot goes on to the write transaction, which checks every rule again and alone takes
//! seats (one conditional update): no overbooking whatever the snapshot said.

use std::{
    collections::{BTreeSet, HashMap},
    sync::{Arc, Mutex},
};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;

use super::{
    Booking, claims,
    rules::{self, PhoneDecision, Refusal},
    store::{self, BrigadeRow, CitizenFacts, SlotAndFacts},
};
use crate::{
    error::{ApiResult, AppError},
    store::{Backend, Tx},
};

/// What the rules before the seat look at: the request and its slot.
#[derive(Debug, Clone, Copy)]
pub struct Asked<'a> {
    pub citizen: &'a str,
    pub brigade: &'a str,
    /// The slot's local date and the brigade's today.
    pub date: NaiveDate,
    pub today: NaiveDate,
    /// The `phone` of the request, if it has one.
    pub phone: Option<&'a str>,
    pub owner: bool,
    pub plate: &'a str,
}

/// Rules 7–11 in order on `conn`; the first refusal is the answer. `lock_plate`: in a write
/// transaction, serialise non-owner bookings of one vehicle first (PostgreSQL's advisory lock;
/// SQLite's one writer does it already). A citizen without a row is 401.
pub async fn before_seat(
    conn: &mut Tx,
    state: &Booking,
    a: &Asked<'_>,
    lock_plate: bool,
) -> ApiResult<PhoneDecision> {
    let since = rules::blacklist_lookback(a.today);
    let who = store::citizen_facts(conn, a.citizen, a.brigade, a.date, since).await?;
    on_facts(conn, state, a, lock_plate, since, who).await
}

/// The write transaction of a booking, begun with the citizen's facts read in it, and rules
/// 7–11 on it ([`before_seat`] in one round trip less on SQLite).
pub async fn begin_before_seat(state: &Booking, a: &Asked<'_>) -> ApiResult<(Tx, PhoneDecision)> {
    let since = rules::blacklist_lookback(a.today);
    let (mut tx, who) =
        store::begin_with_citizen_facts(&state.db, a.citizen, a.brigade, a.date, since).await?;
    let phone = on_facts(&mut tx, state, a, true, since, who).await?;
    Ok((tx, phone))
}

/// [`before_seat`] once the citizen's facts are read (`None`: no such citizen) with
/// no-shows counted from `since` (the blacklist's look-back).
async fn on_facts(
    conn: &mut Tx,
    state: &Booking,
    a: &Asked<'_>,
    lock_plate: bool,
    since: NaiveDate,
    who: Option<CitizenFacts>,
) -> ApiResult<PhoneDecision> {
    let who = who.ok_or_else(AppError::unauthorized)?;
    if who.recent_no_shows {
        let no_shows = store::no_show_dates(conn, a.citizen, since).await?;
        let limit = state.config.no_shows_per_month as usize;
        if let Some(until) = rules::blacklisted_until(&no_shows, a.today, limit) {
            return Err(Refusal::Blacklisted {
                until,
                no_shows: state.config.no_shows_per_month,
            }
            .into());
        }
    }
    let phone = citizen_rules(a, &who)?;
    if !a.owner {
        if lock_plate {
            store::lock_plate(conn, state.db.backend, a.plate).await?;
        }
        let others = store::other_non_owner_drivers(conn, a.plate, a.citizen).await?;
        rules::check_vehicle_drivers(a.owner, others, state.config.non_owner_driver_limit)?;
    }
    Ok(phone)
}

/// The rules on the citizen's facts alone (after the blacklist, before the vehicle): the phone
/// binding, one active booking, no rebooking after a cancellation here that day.
fn citizen_rules(a: &Asked<'_>, who: &CitizenFacts) -> ApiResult<PhoneDecision> {
    let login_phone = who.phone.as_deref();
    let bound_phone = if who.phone_bound { login_phone } else { None };
    let given = a.phone.or(if who.phone_bound { None } else { login_phone });
    let phone = rules::decide_phone(bound_phone, given)??;
    if who.active {
        return Err(Refusal::ActiveBookingExists.into());
    }
    if who.cancelled_here {
        return Err(Refusal::RebookAfterCancel.into());
    }
    Ok(phone)
}

/// The slot's seats and the citizen's facts, read with the brigade for a slot seen full
/// ([`brigade_for`]), and the dates they were read for.
#[derive(Debug)]
pub struct Early {
    date: NaiveDate,
    today: NaiveDate,
    read: SlotAndFacts,
}

/// The brigade of a request and its closed dates around the slot starting at `start`; for a
/// slot this process has seen full, with the slot's seats and the citizen's facts in the same
/// statement (read for the slot's local date and today as they were when it was seen full;
/// [`refuse_early`] uses them only if the brigade's schedule still gives those dates). A request
/// on a full slot then costs one read before its refusal instead of two.
pub async fn brigade_for(
    state: &Booking,
    citizen: &str,
    brigade: &str,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> ApiResult<Option<(BrigadeRow, BTreeSet<NaiveDate>, Option<Early>)>> {
    // The slot's local date is within a day of its UTC date, whatever the brigade's zone.
    let utc_date = start.date_naive();
    let around = (utc_date - Duration::days(1), utc_date + Duration::days(1));
    let read = &state.db.read;
    let start_ms = start.timestamp_millis();
    let Some((tz, date)) = state.full_slots.hint(brigade, start_ms) else {
        let found = store::brigade_and_closed(read, brigade, around.0, around.1).await?;
        return Ok(found.map(|(b, closed)| (b, closed, None)));
    };
    let today = now.with_timezone(&tz).date_naive();
    let since = rules::blacklist_lookback(today);
    let found =
        store::brigade_and_slot_facts(read, citizen, brigade, around, date, since, start_ms);
    Ok(found.await?.map(|(b, closed, read)| {
        let early = Early { date, today, read };
        (b, closed, Some(early))
    }))
}

/// When this process has seen the slot full: the answer from a read snapshot if the slot is
/// full there (the first refusal of rules 7–11 and the claims, else `slot_full`); `Ok` sends the
/// request on to the write transaction. `early`: what [`brigade_for`] read.
pub async fn refuse_early(
    state: &Booking,
    a: &Asked<'_>,
    start_ms: i64,
    records: &[String],
    early: Option<Early>,
) -> ApiResult<()> {
    if !state.full_slots.seen(a.brigade, start_ms) {
        return Ok(());
    }
    // One read when nothing else is to be read: the citizen has no recent no-show (else the
    // blacklist reads their dates), is the owner (else the vehicle's drivers are read) and
    // claims no record.
    let one = match early.filter(|e| e.date == a.date && e.today == a.today) {
        Some(e) => e.read,
        None => {
            let since = rules::blacklist_lookback(a.today);
            let read = &state.db.read;
            store::slot_full_and_facts(read, a.citizen, a.brigade, a.date, since, start_ms).await?
        }
    };
    match one {
        Some((false, _)) => {
            state.full_slots.forget(a.brigade, start_ms);
            return Ok(());
        }
        Some((true, who)) if !who.recent_no_shows && a.owner && records.is_empty() => {
            citizen_rules(a, &who)?;
            return Err(Refusal::SlotFull.into());
        }
        _ => {}
    }
    let mut snap = crate::store::Tx::driver(match state.db.backend {
        Backend::Sqlite => state.db.read.begin().await?,
        Backend::Postgres => {
            state
                .db
                .read
                .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .await?
        }
    });
    if !store::slot_is_full(&mut snap, a.brigade, start_ms).await? {
        state.full_slots.forget(a.brigade, start_ms);
        return Ok(());
    }
    before_seat(&mut snap, state, a, false).await?;
    claims::check_free(&mut snap, records).await?;
    snap.rollback().await?;
    Err(Refusal::SlotFull.into())
}

/// The slots this process's writer found full, by (brigade, start), with the brigade's zone and
/// the slot's local date then: only a hint of which requests [`refuse_early`] checks (the
/// snapshot decides). Bounded: cleared past 4,096 slots.
#[derive(Debug, Clone, Default)]
pub struct FullSlots(Arc<Mutex<Seen>>);

/// (brigade, start ms) → (the brigade's zone, the slot's local date).
type Seen = HashMap<(String, i64), (Tz, NaiveDate)>;

const FULL_SLOTS_KEPT: usize = 4096;

impl FullSlots {
    fn set(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn seen(&self, brigade: &str, start_ms: i64) -> bool {
        self.hint(brigade, start_ms).is_some()
    }

    /// The brigade's zone and the slot's local date when it was seen full.
    pub fn hint(&self, brigade: &str, start_ms: i64) -> Option<(Tz, NaiveDate)> {
        self.set().get(&(brigade.to_string(), start_ms)).copied()
    }

    pub fn remember(&self, brigade: &str, start_ms: i64, tz: Tz, date: NaiveDate) {
        let mut s = self.set();
        if s.len() >= FULL_SLOTS_KEPT {
            s.clear();
        }
        s.insert((brigade.to_string(), start_ms), (tz, date));
    }

    pub fn forget(&self, brigade: &str, start_ms: i64) {
        self.set().remove(&(brigade.to_string(), start_ms));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_slots_remember_forget_and_stay_bounded() {
        let f = FullSlots::default();
        let (tz, day) = (chrono_tz::Asia::Shanghai, NaiveDate::MIN);
        assert!(!f.seen("b", 1));
        f.remember("b", 1, tz, day);
        assert!(f.seen("b", 1) && !f.seen("b", 2) && !f.seen("c", 1));
        assert_eq!(f.hint("b", 1), Some((tz, day)));
        f.forget("b", 1);
        assert!(!f.seen("b", 1));
        for i in 0..FULL_SLOTS_KEPT as i64 + 10 {
            f.remember("b", i, tz, day);
        }
        assert!(f.set().len() <= FULL_SLOTS_KEPT);
        assert!(f.seen("b", FULL_SLOTS_KEPT as i64 + 9));
    }
}
