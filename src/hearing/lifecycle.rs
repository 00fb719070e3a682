//! The hearing's life around the legal steps: the SMS code and join grants, the call's presence
//! (in call, interrupted), the officer's resume and no-show, and what closing does (ends the
//! call, seals the recordings into the audit log, takes the urgent item off the lane).

use axum::extract::FromRef;
use serde_json::json;

use super::Hearing;
use super::{
    access::Caller,
    after_commit,
    error::HearingError,
    events,
    machine::{Status, Trigger},
    ports::{self, JoinGrant},
    service::{SYSTEM, record},
    store::{self, HearingRow},
    subscribers::{Change, HearingEvent},
};
use crate::{
    domain::{PhoneNumber, SmsCode},
    error::{ApiResult, AppError},
};

fn status_of(h: &HearingRow) -> ApiResult<Status> {
    Status::parse(&h.status).ok_or_else(|| AppError::internal("bad hearing status"))
}

fn closed_error(s: Status) -> HearingError {
    HearingError::Closed(s)
}

/// POST /{id}/sms-code: sends the join code to the booked phone. Returns `resend_after_s`.
/// The hearing's own budget (`sms::budget`): `sms_per_hearing` sends that went out per local day
/// of the brigade, and the phone's hearing-code windows; login codes and notifications spend
/// none of it.
pub async fn send_code(state: &Hearing, caller: &Caller, id: &str) -> ApiResult<u64> {
    let h = store::get(&state.db.read, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    caller.officer_of(&h)?;
    let s = status_of(&h)?;
    if s.is_closed() {
        return Err(closed_error(s).into());
    }
    let phone = PhoneNumber::parse(&h.phone).map_err(AppError::internal)?;
    let day = ports::brigade_day(state, &h.brigade_id, state.clock.now_ms()).await?;
    let per_day = state.config.sms_per_hearing;
    crate::sms::send_hearing_code(state, &h.id, &phone, day, per_day).await
}

/// POST /hearings/join: the citizen exchanges the code for a join grant.
pub async fn join_citizen(
    state: &Hearing,
    citizen_id: &str,
    id: &str,
    code: &SmsCode,
) -> ApiResult<JoinGrant> {
    let h = store::get(&state.db.read, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    if h.citizen_id != citizen_id {
        return Err(AppError::not_found());
    }
    let s = status_of(&h)?;
    if s.is_closed() {
        return Err(closed_error(s).into());
    }
    let phone = PhoneNumber::parse(&h.phone).map_err(AppError::internal)?;
    crate::sms::verify_hearing_code(state, &h.id, &phone, code).await?;
    let now = state.clock.now_ms();
    sqlx::query(
        "UPDATE hearings SET citizen_joined_at = $1 WHERE id = $2 AND citizen_joined_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .execute(&state.db.write)
    .await?;
    events::publish(state, &h, "citizen_waiting", json!({})).await;
    ports::mint_join(state, id, "citizen", citizen_id).await
}

/// POST /{id}/join-token: the officer's grant (also for an interrupted hearing).
pub async fn officer_token(state: &Hearing, caller: &Caller, id: &str) -> ApiResult<JoinGrant> {
    let h = store::get(&state.db.read, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    caller.officer_of(&h)?;
    let s = status_of(&h)?;
    if s.is_closed() {
        return Err(closed_error(s).into());
    }
    ports::mint_join(state, id, "officer", &caller.id).await
}

/// Applies a status trigger in its own transaction, recording `event`. `None` when the table
/// does not allow it from the current status.
async fn transition(
    state: &Hearing,
    id: &str,
    trigger: Trigger,
    event: &str,
    by: (&str, &str),
    check: impl FnOnce(&HearingRow) -> ApiResult<()>,
) -> ApiResult<Option<HearingRow>> {
    let now = state.clock.now_ms();
    let mut tx = state.db.begin().await?;
    let mut h = store::lock(&mut tx, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    check(&h)?;
    let from = status_of(&h)?;
    let Some(next) = from.on(trigger) else {
        return Ok(None);
    };
    super::fate::booking_follows(&mut tx, &h, (from, next), trigger, event, now).await?;
    h.status = next.as_str().into();
    h.updated_at = now;
    if next.is_closed() {
        h.closed_at = Some(now);
        h.outcome = Some(next.as_str().into());
        ports::set_booking_status(&mut tx, &h.booking_id, next.as_str(), now).await?;
    }
    record(state, &mut tx, &h, "event", event, by, now, json!({}), &[]).await?;
    store::save(&mut tx, &h).await?;
    tx.commit().await?;
    let change = Change::Lifecycle(event.to_string());
    after_commit::publish(
        state,
        HearingEvent {
            hearing: h.clone(),
            change,
        },
    )
    .await;
    Ok(Some(h))
}

/// POST /{id}/resume: the officer resumes an interrupted hearing.
pub async fn resume(state: &Hearing, caller: &Caller, id: &str) -> ApiResult<()> {
    let by = caller.id.clone();
    let h = transition(
        state,
        id,
        Trigger::Resume,
        "resumed",
        ("officer", &by),
        |h| Ok(caller.officer_of(h)?),
    )
    .await?;
    match h {
        Some(_) => Ok(()),
        None => Err(HearingError::NotInterrupted.into()),
    }
}

/// Whether the citizen may be recorded as a no-show on `h` at `now`: never joined (never
/// exchanged the code, no step) and the wait after the later of slot start and opening passed.
fn no_show_check(h: &HearingRow, now: i64, wait_ms: i64) -> ApiResult<()> {
    if h.citizen_joined_at.is_some() || h.last_step.is_some() {
        return Err(HearingError::CitizenJoined.into());
    }
    let from = h.opened_at.max(h.slot_start);
    if now < from + wait_ms {
        return Err(HearingError::TooEarly {
            minutes: wait_ms / 60_000,
        }
        .into());
    }
    Ok(())
}

fn wait_ms(state: &Hearing) -> i64 {
    i64::try_from(state.config.no_show_wait_s).unwrap_or(0) * 1000
}

/// POST /{id}/no-show: the citizen never joined within the wait after the slot started, and the
/// join code went out at least 10 minutes before (`fate::code_rule`).
pub async fn no_show(state: &Hearing, caller: &Caller, id: &str) -> ApiResult<()> {
    let (wait, now) = (wait_ms(state), state.clock.now_ms());
    let sent = ports::code_first_sent(&state.db, id).await?;
    let after_code = state.config.no_show_after_code_s;
    let by = caller.id.clone();
    let h = transition(
        state,
        id,
        Trigger::NoShow,
        "no_show",
        ("officer", &by),
        |h| {
            caller.officer_of(h)?;
            no_show_check(h, now, wait)?;
            super::fate::code_rule(sent, now, after_code)
        },
    )
    .await?;
    match h {
        Some(_) => Ok(()),
        None => Err(HearingError::NotOpen.into()),
    }
}

/// Records the no-shows nobody recorded: open hearings the citizen never joined, once the slot
/// has ended (and the wait after opening passed), whose code went out at least 10 minutes
/// before; one without any code is interrupted instead (`interrupt::interrupt_without_code`: the
/// booking is freed, never a no-show). Returns how many no-shows.
pub async fn sweep_no_shows<S>(state: &S) -> ApiResult<usize>
where
    Hearing: FromRef<S>,
{
    let state = &Hearing::from_ref(state);
    let (wait, now) = (wait_ms(state), state.clock.now_ms());
    let after_code = state.config.no_show_after_code_s;
    let mut n = 0;
    for id in store::unjoined_open(&state.db.read).await? {
        let sent = ports::code_first_sent(&state.db, &id).await?;
        let r = transition(state, &id, Trigger::NoShow, "no_show", SYSTEM, |h| {
            let end = h.slot_end;
            if now < end.max(h.opened_at + wait) {
                return Err(AppError::conflict("too_early", "not yet"));
            }
            no_show_check(h, now, wait)?;
            super::fate::code_rule(sent, now, after_code)
        })
        .await;
        match r {
            Ok(Some(_)) => n += 1,
            Err(e) if e.code == "code_not_sent" => {
                if let Err(e) = super::interrupt::interrupt_without_code(state, &id).await {
                    tracing::warn!(hearing = %id, error = %e, "interrupting a hearing without a code failed");
                }
            }
            _ => {}
        }
    }
    Ok(n)
}

/// Warns the dashboard (once per hearing) when a live hearing of an urgent booking nears the
/// booking's deadline (booking's `alert_before_s`; booking itself alerts unclaimed items).
/// Returns how many were announced.
pub async fn sweep_deadlines<S>(state: &S) -> ApiResult<usize>
where
    Hearing: FromRef<S>,
{
    let state = &Hearing::from_ref(state);
    let now = state.clock.now_ms();
    let horizon =
        now.saturating_add(i64::try_from(state.booking.config.alert_before_s).unwrap_or(0) * 1000);
    let mut n = 0;
    for (id, deadline) in store::urgent_near_deadline(&state.db.read, horizon).await? {
        let key = state.kv.key(&format!("hearing:deadline-alerted:{id}"));
        let first: bool = redis::cmd("SET")
            .arg(&key)
            .arg(1)
            .arg("NX")
            .arg("EX")
            .arg(86_400 * 7)
            .query_async::<Option<String>>(&mut state.kv.conn())
            .await?
            .is_some();
        if !first {
            continue;
        }
        if let Some(h) = store::get(&state.db.read, &id).await? {
            let at = crate::clock::from_ms(deadline).to_rfc3339();
            events::publish(state, &h, "urgent_deadline_near", json!({"deadline": at})).await;
            n += 1;
        }
    }
    Ok(n)
}

/// Background job: [`sweep_no_shows`], the idle sweep (`interrupt::sweep_idle`) and
/// [`sweep_deadlines`] every minute.
pub async fn no_show_job(state: Hearing, mut stop: tokio::sync::watch::Receiver<bool>) {
    while crate::jobs::tick(&mut stop, std::time::Duration::from_secs(60)).await {
        match sweep_no_shows(&state).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(n, "hearings closed as no-shows"),
            Err(e) => tracing::warn!(error = %e, "no-show sweep failed"),
        }
        match super::interrupt::sweep_idle(&state).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(n, "idle hearings interrupted"),
            Err(e) => tracing::warn!(error = %e, "idle sweep failed"),
        }
        if let Err(e) = sweep_deadlines(&state).await {
            tracing::warn!(error = %e, "deadline sweep failed");
        }
    }
}

/// The call's presence changed: both connected → `in_call`; both gone during the call →
/// `interrupted`. Called by the presence watcher; errors are logged.
pub async fn presence_changed(state: &Hearing, id: &str, both_connected: bool, both_gone: bool) {
    let r = if both_connected {
        transition(
            state,
            id,
            Trigger::BothJoined,
            "call_started",
            SYSTEM,
            |_| Ok(()),
        )
        .await
    } else if both_gone {
        transition(state, id, Trigger::BothGone, "interrupted", SYSTEM, |_| {
            Ok(())
        })
        .await
    } else {
        Ok(None)
    };
    if let Err(e) = r {
        tracing::warn!(hearing = id, error = %e, "presence transition failed");
    }
}

/// Appends a `recordings_sealed` entry (the files' digests in the leaf) to the hearing's chain
/// and, when the hearing is known, records it among its events. Returns the audit `seq`.
pub async fn seal_entry<S>(
    state: &S,
    id: &str,
    files: &[ports::SealedFile],
    mut payload: serde_json::Value,
) -> ApiResult<Option<i64>>
where
    Hearing: FromRef<S>,
{
    let state = &Hearing::from_ref(state);
    let now = state.clock.now_ms();
    let mut tx = state.db.begin().await?;
    let list: Vec<_> = files
        .iter()
        .map(|f| json!({"id": f.id, "sha256": hex::encode(f.sha256), "bytes": f.bytes}))
        .collect();
    if let serde_json::Value::Object(m) = &mut payload {
        m.insert("recordings".into(), serde_json::Value::Array(list));
    }
    let seq = match store::lock(&mut tx, id).await? {
        Some(h) => {
            record(
                state,
                &mut tx,
                &h,
                "event",
                "recordings_sealed",
                SYSTEM,
                now,
                payload,
                files,
            )
            .await?
        }
        // A call without a hearing row (tools, tests): still sealed into the log.
        None => {
            ports::audit_append(
                &mut tx,
                id,
                "recordings_sealed",
                SYSTEM.0,
                SYSTEM.1,
                now,
                payload,
                files,
            )
            .await?
        }
    };
    tx.commit().await?;
    Ok(seq)
}
