//! The seams to the modules the hearing builds on: booking (the booking row, its status, the
//! urgent lane), audit (append in the caller's transaction, the log head), call (presence,
//! `hearing` frames, join tokens, sealing recordings). Each function is the one place that
//! names the other module, so switching a stub for the real thing touches only this file.

use serde::Serialize;
use serde_json::Value;

use super::Hearing;
use crate::{
    error::{ApiResult, AppError},
    store::Tx,
};

// ---------------------------------------------------------------------------------------------
// Booking

/// What the hearing needs of a booking (booking's own row).
pub type BookingInfo = crate::booking::BookingRow;

/// Locks the booking row for the rest of the transaction (concurrent opens queue here), then
/// reads it.
pub async fn lock_booking(tx: &mut Tx, id: &str) -> ApiResult<Option<BookingInfo>> {
    crate::booking::store::lock(tx, id).await?;
    booking_tx(tx, id).await
}

/// The booking, read inside the caller's transaction.
pub async fn booking_tx(tx: &mut Tx, id: &str) -> ApiResult<Option<BookingInfo>> {
    Ok(crate::booking::store::booking_tx(tx, id).await?)
}

/// Queues a decision made on facts from the record for the platform, in the decision's
/// transaction (`records::outbox`).
pub async fn records_enqueue(
    tx: &mut Tx,
    hearing_id: &str,
    decision: &crate::records::model::Decision,
    now_ms: i64,
) -> ApiResult<()> {
    crate::records::outbox::enqueue(tx, hearing_id, decision, now_ms).await
}

/// Wakes the records outbox's worker (after the decision's commit).
pub fn records_wake(state: &Hearing) {
    state.records.wake.notify_one();
}

/// The write-back of the hearing's decision, if one was queued.
pub async fn records_write_back(
    state: &Hearing,
    hearing_id: &str,
) -> ApiResult<Option<crate::records::outbox::WriteBackStatus>> {
    crate::records::outbox::status_of(&state.db, hearing_id).await
}

/// Queues the SMS apology to the citizen of booking `id` whose hearing the brigade failed to
/// hold (booking's `fate::apologise_for_missed`).
pub async fn apologise_for_missed(state: &Hearing, id: &str) -> ApiResult<()> {
    crate::booking::fate::apologise_for_missed(&state.booking, id).await
}

/// The booking, read on the read pool (outside any transaction).
pub async fn booking(state: &Hearing, id: &str) -> ApiResult<Option<BookingInfo>> {
    Ok(crate::booking::store::booking(&state.db.read, id).await?)
}

/// Where the booking's facts come from (`citizen` or `records`), for the views.
pub async fn booking_facts_source(state: &Hearing, id: &str) -> ApiResult<Option<String>> {
    Ok(crate::booking::store::booking(&state.db.read, id)
        .await?
        .map(|b| b.facts_source))
}

/// Sets the booking's status in the caller's transaction through booking's rules
/// (`in_hearing` from `booked`; the closing statuses from `booked` or `in_hearing`; a no-show
/// is recorded for the blacklist). 409 `invalid_state` when it cannot.
pub async fn set_booking_status(tx: &mut Tx, id: &str, status: &str, now_ms: i64) -> ApiResult<()> {
    let status = crate::booking::BookingStatus::parse(status)
        .ok_or_else(|| AppError::internal(format!("no booking status {status}")))?;
    crate::booking::set_status(tx, id, status, now_ms).await
}

/// The hearing was interrupted for `reason`: booking frees the booking (`interrupted`, never a
/// no-show), in the caller's transaction.
pub async fn booking_interrupted(
    tx: &mut Tx,
    id: &str,
    reason: &str,
    now_ms: i64,
) -> ApiResult<()> {
    crate::booking::fate::follow_interrupt(tx, id, reason, now_ms).await
}

/// The hearing was resumed: booking takes the booking back (`in_hearing`) when its rules allow
/// (the same local day; the citizen has not booked again), in the caller's transaction.
pub async fn booking_resumed(tx: &mut Tx, id: &str, now_ms: i64) -> ApiResult<()> {
    crate::booking::fate::follow_resume(tx, id, now_ms).await
}

/// When the hearing's first join code went out (the SMS area's outbox), if one did.
pub async fn code_first_sent(db: &crate::store::Db, hearing_id: &str) -> ApiResult<Option<i64>> {
    crate::sms::outbox::hearing_code_first_sent(db, hearing_id).await
}

/// When the hearing's join code last went out (sms).
pub async fn code_last_sent(db: &crate::store::Db, hearing_id: &str) -> ApiResult<Option<i64>> {
    crate::sms::outbox::hearing_code_last_sent(db, hearing_id).await
}

/// The brigade's local day at `now_ms` and the instant (ms) it ends (the next local midnight).
pub async fn brigade_day(
    state: &Hearing,
    brigade_id: &str,
    now_ms: i64,
) -> ApiResult<(chrono::NaiveDate, i64)> {
    let b = crate::booking::store::brigade(&state.db.read, brigade_id)
        .await?
        .ok_or_else(|| AppError::internal(format!("no brigade {brigade_id}")))?;
    let day = crate::clock::from_ms(now_ms)
        .with_timezone(&b.tz()?)
        .date_naive();
    let last_second = crate::booking::expiry::end_of_day(b.tz()?, day)
        .ok_or_else(|| AppError::internal(format!("no end of {day}")))?;
    Ok((day, last_second.timestamp_millis() + 1000))
}

/// The officer holding a live claim on an urgent booking.
pub async fn urgent_holder(state: &Hearing, booking_id: &str) -> ApiResult<Option<String>> {
    Ok(crate::booking::urgent::holder(state, booking_id)
        .await?
        .map(|h| h.officer_id))
}

/// Takes the booking off the urgent lane (after the closing commit).
/// Takes an urgent booking off the urgent lane (a booking that is not urgent: nothing).
pub async fn urgent_remove_if_urgent(state: &Hearing, booking_id: &str) -> ApiResult<()> {
    let mut conn = state.db.read.acquire().await?;
    let urgent = crate::booking::store::booking_tx(&mut conn, booking_id).await?;
    if urgent.is_some_and(|b| b.urgent) {
        crate::booking::urgent::remove(state, booking_id).await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Audit

/// A sealed file to record in an entry.
#[derive(Debug, Clone, Serialize)]
pub struct SealedFile {
    pub id: String,
    pub sha256: [u8; 32],
    pub bytes: u64,
}

/// Appends an entry in the caller's transaction; returns its global `seq`.
#[allow(clippy::too_many_arguments)]
pub async fn audit_append(
    tx: &mut Tx,
    hearing_id: &str,
    step: &str,
    actor_role: &str,
    actor_id: &str,
    at_ms: i64,
    payload: Value,
    recordings: &[SealedFile],
) -> ApiResult<Option<i64>> {
    let entry = crate::audit::NewEntry {
        hearing_id: hearing_id.to_string(),
        step: step.to_string(),
        actor: crate::audit::Actor {
            role: actor_role.to_string(),
            id: actor_id.to_string(),
        },
        at: crate::clock::from_ms(at_ms),
        payload,
        recordings: recordings
            .iter()
            .map(|f| crate::audit::RecordingDigest {
                id: f.id.clone(),
                sha256: f.sha256,
                bytes: f.bytes,
            })
            .collect(),
    };
    let appended = crate::audit::append(tx, entry).await?;
    Ok(Some(
        i64::try_from(appended.seq).map_err(AppError::internal)?,
    ))
}

/// Ends a closed hearing's audit chain with its terminal entry (outcome, number of entries,
/// head digest); a later entry (a late recording seal) is followed by a new one.
pub async fn audit_close(
    tx: &mut Tx,
    hearing_id: &str,
    outcome: &str,
    at_ms: i64,
) -> ApiResult<()> {
    crate::audit::close(tx, hearing_id, outcome, crate::clock::from_ms(at_ms)).await?;
    Ok(())
}

/// The audit log's current size and root (hex), for the decision document.
pub async fn audit_head(tx: &mut Tx) -> ApiResult<Option<(u64, String)>> {
    let (size, root) = crate::audit::store::current_head(tx)
        .await
        .map_err(AppError::from)?;
    Ok(Some((size, hex::encode(root))))
}

// ---------------------------------------------------------------------------------------------
// Call

/// One party's presence in the call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Peer {
    /// Not seen in this room's lifetime (or the room is gone).
    #[default]
    Absent,
    Joined,
    /// Dropped; may come back within the grace period.
    Reconnecting,
    Left,
}

/// Both parties' presence.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Seen {
    pub citizen: Peer,
    pub officer: Peer,
}

/// Who is in the hearing's call right now (this process's rooms).
pub fn presence(state: &Hearing, hearing_id: &str) -> Seen {
    use signaling::PeerState;
    let p = state.call.presence(hearing_id);
    let peer = |s: Option<PeerState>| match s {
        None => Peer::Absent,
        Some(PeerState::Joined) => Peer::Joined,
        Some(PeerState::Reconnecting) => Peer::Reconnecting,
        Some(PeerState::Left) => Peer::Left,
    };
    Seen {
        citizen: peer(p.of(signaling::Role::Citizen)),
        officer: peer(p.of(signaling::Role::Officer)),
    }
}

/// Whether both parties are connected to the call right now.
pub fn both_connected(state: &Hearing, hearing_id: &str) -> bool {
    state.call.presence(hearing_id).both_connected()
}

/// Pushes a `hearing {status, step}` frame to both parties (in whichever process holds the call).
pub async fn push_hearing(
    state: &Hearing,
    hearing_id: &str,
    status: &str,
    step: Option<&str>,
) -> redis::RedisResult<()> {
    crate::call::bus::push_hearing(state, hearing_id, status, step).await
}

/// For each hearing: whether another server process holds its call (its presence is judged
/// there). When the map cannot be read, only hearings with a room here are judged here (a
/// process must not interrupt a call it cannot see).
pub async fn held_elsewhere(state: &Hearing, ids: &[String]) -> Vec<bool> {
    crate::call::nodes::held_elsewhere(state, ids)
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "reading the hearing → process map failed");
            ids.iter().map(|id| !state.call.hub.has_room(id)).collect()
        })
}

/// A join grant (API.md: `{join_token, ws_url, ice_servers}`).
pub type JoinGrant = crate::call::tokens::JoinGrant;

/// Mints a join token for a participant of the hearing (the caller has checked who may join);
/// `ws_url` points at the process holding the call when another one does.
pub async fn mint_join(
    state: &Hearing,
    hearing_id: &str,
    role: &str,
    participant_id: &str,
) -> ApiResult<JoinGrant> {
    let role =
        signaling::Role::parse(role).ok_or_else(|| AppError::internal(format!("role {role}")))?;
    let mut grant = crate::call::tokens::mint(state, hearing_id, role, participant_id)?;
    if let Some(url) = crate::call::nodes::holder_url(state, hearing_id).await {
        grant.ws_url = crate::call::tokens::ws_url_at(&url, hearing_id);
    }
    Ok(grant)
}

/// Ends the call (in whichever process holds it): closes both sockets and the media room; that
/// process's recordings job then indexes the segment and seals it through
/// [`crate::hearing::sealer::HearingSealer`].
/// Ends the hearing's call wherever it is held; the holding process seals the recordings
/// (its recordings job calls `hearing::sealer`, which appends `recordings_sealed`).
pub async fn end_call(state: &Hearing, hearing_id: &str) -> redis::RedisResult<()> {
    crate::call::bus::end_hearing(state, hearing_id).await
}

/// The hearing's recordings as API.md lists them.
pub async fn recordings(state: &Hearing, hearing_id: &str) -> ApiResult<Vec<Value>> {
    type Row = (String, Option<String>, String, String, i64, String);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, participant, kind, format, bytes, sha256 FROM recordings WHERE hearing_id = $1 \
         ORDER BY segment, kind, participant, format",
    )
    .bind(hearing_id)
    .fetch_all(&state.db.read)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| serde_json::json!({"id": r.0, "participant": r.1, "kind": r.2, "format": r.3, "bytes": r.4, "sha256": r.5}))
        .collect())
}
