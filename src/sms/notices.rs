//! What a booking tells its citizen by SMS: the confirmation and the reminder the day before,
//! queued inside the booking's own transaction (`booking_booked`), and its fates (issue 12 §5): the brigade never opened the
//! hearing (an apology and the link to book again), the brigade cancelled the booking (its
//! reason and the link), the brigade moved it (from, to, reason). Each goes through the outbox
//! like every notification; a moved or cancelled booking's pending reminder is cancelled here.
//! Owns the wording's parameters only (the text is in `templates`).

use std::collections::BTreeMap;

use axum::extract::FromRef;
use chrono::{DateTime, Utc};

use super::{Sms, Template, notify, outbox};
use crate::{domain::PhoneNumber, error::AppError, store::Tx, store::batch::Stmt};

/// What every notice names: the booking, its phone, its brigade and the slot (shown in `tz`).
#[derive(Debug, Clone)]
pub struct BookingNotice<'a> {
    pub booking_id: &'a str,
    pub phone: &'a PhoneNumber,
    pub brigade_name: &'a str,
    pub slot_start: DateTime<Utc>,
    pub tz: chrono_tz::Tz,
}

fn local(t: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    t.with_timezone(&tz).format("%m月%d日 %H:%M").to_string()
}

/// The slot's date and time in full (`2026年11月17日 09:00`), as WeChat's `time` keyword of a
/// subscription message takes it.
pub fn full_time(t: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    t.with_timezone(&tz)
        .format("%Y年%m月%d日 %H:%M")
        .to_string()
}

fn params(pairs: &[(&str, String)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// The confirmation now and the reminder one day before the slot (skipped when that moment
/// has passed), inserted in the booking's transaction `tx` in one statement: the messages exist
/// exactly when the booking does (a failed insert fails the booking). The caller wakes the
/// worker after its commit (`super::wake`). `slot_start` is shown in `tz`.
pub async fn booking_booked<S>(
    state: &S,
    tx: &mut Tx,
    booking_id: &str,
    phone: &PhoneNumber,
    brigade_name: &str,
    slot_start: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> Result<(), AppError>
where
    Sms: FromRef<S>,
{
    let stmt = booking_booked_stmt(state, booking_id, phone, brigade_name, slot_start, tz)?;
    crate::store::batch::run(tx, &[stmt])
        .await
        .map_err(sqlx::Error::from)?;
    Ok(())
}

/// The insert of [`booking_booked`]'s messages, for the booking's own batch of writes
/// (`store::batch`: one round trip with the booking's row).
pub fn booking_booked_stmt<S>(
    state: &S,
    booking_id: &str,
    phone: &PhoneNumber,
    brigade_name: &str,
    slot_start: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> Result<Stmt, AppError>
where
    Sms: FromRef<S>,
{
    let sms = Sms::from_ref(state);
    let now = sms.clock.now_ms();
    let p = params(&[
        ("brigade", brigade_name.to_string()),
        ("time", local(slot_start, tz)),
        ("at", full_time(slot_start, tz)),
    ]);
    let message = |template, not_before_ms| outbox::NewMessage {
        phone: phone.clone(),
        template,
        params: p.clone(),
        code_ref: None,
        ref_id: Some(booking_id.to_string()),
        not_before_ms,
    };
    let mut msgs = vec![message(Template::BookingConfirmation, None)];
    let remind_at = slot_start - chrono::Duration::days(1);
    if remind_at > sms.clock.now() {
        msgs.push(message(
            Template::BookingReminder,
            Some(remind_at.timestamp_millis()),
        ));
    }
    outbox::enqueue_stmt(now, &msgs)?
        .ok_or_else(|| AppError::internal("a booking without its confirmation"))
}

/// The brigade never opened the hearing: an apology, not a no-show, and `link` to book again.
pub async fn booking_missed<S>(state: &S, n: &BookingNotice<'_>, link: &str) -> Result<(), AppError>
where
    Sms: FromRef<S>,
{
    let sms = Sms::from_ref(state);
    let p = params(&[
        ("brigade", n.brigade_name.to_string()),
        ("time", local(n.slot_start, n.tz)),
        ("link", link.to_string()),
    ]);
    notify::<Sms>(
        &sms,
        n.phone,
        Template::BookingMissed,
        p,
        Some(n.booking_id),
        None,
    )
    .await?;
    Ok(())
}

/// The brigade cancelled the booking for `reason`; its reminder is not sent.
pub async fn booking_cancelled_by_brigade<S>(
    state: &S,
    n: &BookingNotice<'_>,
    reason: &str,
    link: &str,
) -> Result<(), AppError>
where
    Sms: FromRef<S>,
{
    super::booking_cancelled(state, n.booking_id).await?;
    let sms = Sms::from_ref(state);
    let p = params(&[
        ("brigade", n.brigade_name.to_string()),
        ("time", local(n.slot_start, n.tz)),
        ("reason", reason.to_string()),
        ("link", link.to_string()),
    ]);
    let t = Template::BookingCancelledByBrigade;
    notify::<Sms>(&sms, n.phone, t, p, Some(n.booking_id), None).await?;
    Ok(())
}

/// The brigade moved the booking from `from` to `n.slot_start` for `reason`: the old reminder is
/// cancelled, the notice goes now and a new reminder the day before the new slot.
pub async fn booking_moved<S>(
    state: &S,
    n: &BookingNotice<'_>,
    from: DateTime<Utc>,
    reason: &str,
) -> Result<(), AppError>
where
    Sms: FromRef<S>,
{
    super::booking_cancelled(state, n.booking_id).await?;
    let sms = Sms::from_ref(state);
    let time = local(n.slot_start, n.tz);
    let p = params(&[
        ("brigade", n.brigade_name.to_string()),
        ("from", local(from, n.tz)),
        ("time", time.clone()),
        ("reason", reason.to_string()),
    ]);
    notify::<Sms>(
        &sms,
        n.phone,
        Template::BookingMoved,
        p,
        Some(n.booking_id),
        None,
    )
    .await?;
    let remind_at = n.slot_start - chrono::Duration::days(1);
    if remind_at > sms.clock.now() {
        let at = full_time(n.slot_start, n.tz);
        let p = params(&[
            ("brigade", n.brigade_name.to_string()),
            ("time", time),
            ("at", at),
        ]);
        let t = Template::BookingReminder;
        notify::<Sms>(&sms, n.phone, t, p, Some(n.booking_id), Some(remind_at)).await?;
    }
    Ok(())
}
