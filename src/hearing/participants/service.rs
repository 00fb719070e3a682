//! Adding a participant, its SMS code, joining with it, admission by the officer and leaving.
//! Every change takes the hearing's lock and appends its entry to the hearing's chain in the
//! same transaction (`participant_added`, `participant_joined`, `participant_admitted`,
//! `participant_left`; phone and name masked); a refusal writes nothing. Drops in the call are
//! the room's gaps (`call_gap`, sealed by the presence watcher like the parties').

use serde_json::json;

use super::{
    AddParticipant, ParticipantKind, ParticipantRole, ParticipantStatus, ParticipantView,
    masked_name,
    store::{self, ParticipantRow, Stamp},
};
use crate::error::{ApiResult, AppError};
use crate::hearing::{
    Hearing, HearingError, Status,
    access::{Caller, readable},
    events, ports,
    service::record,
    store::{self as hstore, HearingRow},
};

fn place(column: &str, id: &str) -> String {
    format!("hearing_participants.{column}:{id}")
}

/// The hearing (locked for the transaction) and its participant `pid`; 404 when either is
/// missing or the participant belongs to another hearing.
async fn lock_pair(
    tx: &mut crate::store::Tx,
    hearing_id: &str,
    pid: &str,
) -> ApiResult<(HearingRow, ParticipantRow)> {
    let h = hstore::lock(tx, hearing_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let p = store::get_tx(tx, pid)
        .await?
        .filter(|p| p.hearing_id == h.id)
        .ok_or_else(AppError::not_found)?;
    Ok((h, p))
}

fn status_of(h: &HearingRow) -> ApiResult<Status> {
    Status::parse(&h.status).ok_or_else(|| AppError::internal("bad hearing status"))
}

fn open_or_closed(h: &HearingRow) -> ApiResult<()> {
    let s = status_of(h)?;
    if s.is_closed() {
        return Err(HearingError::Closed(s).into());
    }
    Ok(())
}

/// The participant's view (name opened with the identity key).
pub fn view(state: &Hearing, p: &ParticipantRow) -> ApiResult<ParticipantView> {
    let name = state
        .identity_key
        .open(&place("name", &p.id), &p.name_enc)
        .map_err(AppError::internal)?;
    let status = match (p.left_at, p.admitted_at, p.joined_at) {
        (Some(_), _, _) => ParticipantStatus::Left,
        (None, Some(_), _) => ParticipantStatus::Admitted,
        (None, None, Some(_)) => ParticipantStatus::Waiting,
        _ => ParticipantStatus::Added,
    };
    Ok(ParticipantView {
        id: p.id.clone(),
        hearing_id: p.hearing_id.clone(),
        role: ParticipantRole::parse(&p.role).ok_or_else(|| AppError::internal("bad role"))?,
        kind: p.kind.as_deref().and_then(ParticipantKind::parse),
        language: p.language.clone(),
        name,
        phone_masked: p.phone_masked.clone(),
        status,
        added_at: p.added_at,
        joined_at: p.joined_at,
        admitted_at: p.admitted_at,
        left_at: p.left_at,
        authority_document_sha256: p.authority_sha256.clone(),
    })
}

fn phone_of(state: &Hearing, p: &ParticipantRow) -> ApiResult<crate::domain::PhoneNumber> {
    let phone = state
        .identity_key
        .open(&place("phone", &p.id), &p.phone_enc)
        .map_err(AppError::internal)?;
    crate::domain::PhoneNumber::parse(&phone).map_err(AppError::internal)
}

/// How many of `role` a hearing may have: one seat per role in the call, and the supervisors'
/// `hearing.max_supervisors` (0 forbids them; above 1 counts as 1 while a call has one seat
/// per role).
fn limit(state: &Hearing, role: ParticipantRole) -> i64 {
    match role {
        ParticipantRole::Supervisor => {
            i64::try_from(state.config.max_supervisors.min(1)).unwrap_or(1)
        }
        _ => 1,
    }
}

/// POST /{id}/participants: the hearing's officer adds someone (not on a closed hearing).
pub async fn add(
    state: &Hearing,
    caller: &Caller,
    hearing_id: &str,
    req: &AddParticipant,
) -> ApiResult<ParticipantView> {
    let now = state.clock.now_ms();
    let mut tx = state.db.begin().await?;
    let h = hstore::lock(&mut tx, hearing_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    caller.officer_of(&h)?;
    let c = req.check()?;
    open_or_closed(&h)?;
    let (of_role, _) = store::count(&mut tx, hearing_id, c.role.as_str()).await?;
    let max = limit(state, c.role);
    if of_role >= max {
        return Err(AppError::conflict(
            "participant_limit",
            format!("this hearing may have {max} {} at most", c.role.as_str()),
        )
        .with_params(json!({"role": c.role.as_str(), "max": max})));
    }
    let id = crate::ids::new_id();
    let key = &state.identity_key;
    let seal = |column: &str, plain: &str| {
        key.seal(&place(column, &id), plain)
            .map_err(AppError::internal)
    };
    let row = ParticipantRow {
        id: id.clone(),
        hearing_id: hearing_id.to_string(),
        role: c.role.as_str().into(),
        kind: c.kind.map(|k| k.as_str().to_string()),
        language: c.language.clone(),
        name_enc: seal("name", &c.name)?,
        phone_enc: seal("phone", c.phone.as_str())?,
        phone_masked: c.phone.masked(),
        added_by: caller.id.clone(),
        added_at: now,
        joined_at: None,
        admitted_at: None,
        left_at: None,
        authority_sha256: None,
    };
    store::insert(&mut tx, &row).await?;
    let payload = json!({"participant_id": id, "role": row.role, "kind": row.kind,
        "language": row.language, "name_masked": masked_name(&c.name),
        "phone_masked": row.phone_masked});
    let by = ("officer", caller.id.as_str());
    record(
        state,
        &mut tx,
        &h,
        "event",
        "participant_added",
        by,
        now,
        payload,
        &[],
    )
    .await?;
    tx.commit().await?;
    view(state, &row)
}

/// GET /{id}/participants: whoever may read the hearing.
pub async fn list(
    state: &Hearing,
    caller: &Caller,
    hearing_id: &str,
) -> ApiResult<Vec<ParticipantView>> {
    readable(&state.db, caller, hearing_id).await?;
    let rows = store::of_hearing(&state.db.read, hearing_id).await?;
    rows.iter().map(|p| view(state, p)).collect()
}

/// The participant `pid` of hearing `h` (another hearing's: 404).
async fn of(state: &Hearing, h: &HearingRow, pid: &str) -> ApiResult<ParticipantRow> {
    store::get(&state.db.read, pid)
        .await?
        .filter(|p| p.hearing_id == h.id)
        .ok_or_else(AppError::not_found)
}

/// POST /{id}/participants/{pid}/sms-code: the hearing's officer sends the participant's code.
pub async fn send_code(
    state: &Hearing,
    caller: &Caller,
    hearing_id: &str,
    pid: &str,
) -> ApiResult<u64> {
    let h = hstore::get(&state.db.read, hearing_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    caller.officer_of(&h)?;
    let p = of(state, &h, pid).await?;
    open_or_closed(&h)?;
    let phone = phone_of(state, &p)?;
    let day = ports::brigade_day(state, &h.brigade_id, state.clock.now_ms()).await?;
    let per_day = state.config.sms_per_hearing;
    crate::sms::send_participant_code(state, (&h.id, &p.id), &phone, day, per_day).await
}

/// The actor of a participant's own entries: its role and id.
fn actor(p: &ParticipantRow) -> (&str, &str) {
    (p.role.as_str(), p.id.as_str())
}

/// One sealed change of a participant in its own transaction (the hearing locked).
async fn change(
    state: &Hearing,
    hearing_id: &str,
    pid: &str,
    check: impl FnOnce(&HearingRow, &ParticipantRow) -> ApiResult<Option<(Stamp, &'static str)>>,
    by_officer: Option<&str>,
) -> ApiResult<ParticipantRow> {
    let now = state.clock.now_ms();
    let mut tx = state.db.begin().await?;
    let (h, p) = lock_pair(&mut tx, hearing_id, pid).await?;
    let Some((stamp, event)) = check(&h, &p)? else {
        return Ok(p);
    };
    store::stamp(&mut tx, pid, stamp, now).await?;
    let payload = json!({"participant_id": p.id, "role": p.role});
    let by = by_officer.map_or(actor(&p), |o| ("officer", o));
    record(state, &mut tx, &h, "event", event, by, now, payload, &[]).await?;
    let p = store::get_tx(&mut tx, pid)
        .await?
        .ok_or_else(AppError::not_found)?;
    tx.commit().await?;
    events::publish(
        state,
        &h,
        event,
        json!({"participant_id": p.id, "role": p.role}),
    )
    .await;
    Ok(p)
}

/// POST /{id}/participants/{pid}/join: the participant exchanges their code (no session yet):
/// they wait until the officer admits them. Sealed `participant_joined`. The handler then
/// creates the participant's session.
pub async fn join(
    state: &Hearing,
    hearing_id: &str,
    pid: &str,
    code: &crate::domain::SmsCode,
) -> ApiResult<ParticipantRow> {
    let h = hstore::get(&state.db.read, hearing_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let p = of(state, &h, pid).await?;
    open_or_closed(&h)?;
    let phone = phone_of(state, &p)?;
    crate::sms::verify_participant_code(state, (&h.id, &p.id), &phone, code).await?;
    change(
        state,
        hearing_id,
        pid,
        |h, _| {
            open_or_closed(h)?;
            Ok(Some((Stamp::Joined, "participant_joined")))
        },
        None,
    )
    .await
}

/// POST /{id}/participants/{pid}/admit: the hearing's officer admits a waiting participant
/// (409 `participant_not_waiting` before the participant joined or after they left; admitting
/// twice is a no-op).
pub async fn admit(
    state: &Hearing,
    caller: &Caller,
    hearing_id: &str,
    pid: &str,
) -> ApiResult<ParticipantRow> {
    change(
        state,
        hearing_id,
        pid,
        |h, p| {
            caller.officer_of(h)?;
            open_or_closed(h)?;
            match (p.joined_at, p.admitted_at, p.left_at) {
                (Some(_), Some(_), None) => Ok(None),
                (Some(_), None, None) => Ok(Some((Stamp::Admitted, "participant_admitted"))),
                _ => Err(AppError::conflict(
                    "participant_not_waiting",
                    "the participant has not joined with their code (or has left)",
                )),
            }
        },
        Some(&caller.id),
    )
    .await
}

/// POST /participants/me/leave: the participant leaves the hearing (sealed
/// `participant_left`; they may join again with a new code and be admitted again).
pub async fn leave(state: &Hearing, pid: &str) -> ApiResult<ParticipantRow> {
    let p = store::get(&state.db.read, pid)
        .await?
        .ok_or_else(AppError::not_found)?;
    change(
        state,
        &p.hearing_id,
        pid,
        |_, p| {
            Ok(p.left_at
                .is_none()
                .then_some((Stamp::Left, "participant_left")))
        },
        None,
    )
    .await
}

/// The participant's own view and the hearing's status.
pub async fn me(state: &Hearing, pid: &str) -> ApiResult<(ParticipantView, String)> {
    let p = store::get(&state.db.read, pid)
        .await?
        .ok_or_else(AppError::not_found)?;
    let h = hstore::get(&state.db.read, &p.hearing_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok((view(state, &p)?, h.status))
}

/// POST /participants/me/join-token: an admitted participant's grant for the call, on the
/// seat of its role (409 `participant_not_admitted` while waiting or after leaving).
pub async fn join_token(state: &Hearing, pid: &str) -> ApiResult<ports::JoinGrant> {
    let p = store::get(&state.db.read, pid)
        .await?
        .ok_or_else(AppError::not_found)?;
    let h = hstore::get(&state.db.read, &p.hearing_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    open_or_closed(&h)?;
    if p.admitted_at.is_none() || p.left_at.is_some() {
        return Err(AppError::conflict(
            "participant_not_admitted",
            "the officer has not admitted you yet",
        ));
    }
    ports::mint_join(state, &h.id, &p.role, &p.id).await
}

/// POST /{id}/participants/{pid}/authority-document: an agent's power of attorney or
/// guardianship document (a JPEG/PNG photo or scan, the evidence image rules), uploaded by the
/// hearing's officer or the agent; stored with the participant and its SHA-256 sealed as an
/// `authority_document` entry (kind `authority_document`). Not an agent: 409 `not_an_agent`.
pub async fn authority_document(
    state: &Hearing,
    caller: &Caller,
    hearing_id: &str,
    pid: &str,
    content_type: Option<&str>,
    data: &[u8],
) -> ApiResult<ParticipantRow> {
    use base64::Engine;
    let now = state.clock.now_ms();
    let mut tx = state.db.begin().await?;
    let (h, p) = lock_pair(&mut tx, hearing_id, pid).await?;
    let by = match caller.role {
        crate::identity::Role::Participant if caller.id == p.id => (p.role.as_str(), p.id.as_str()),
        crate::identity::Role::Participant => return Err(AppError::not_found()),
        _ => {
            caller.officer_of(&h)?;
            ("officer", caller.id.as_str())
        }
    };
    open_or_closed(&h)?;
    if p.role != "agent" {
        return Err(AppError::conflict(
            "not_an_agent",
            "only an agent or guardian has an authority document",
        ));
    }
    let image = crate::hearing::evidence::check_image(content_type, data)?;
    let sha256 = hex::encode(ring::digest::digest(&ring::digest::SHA256, data));
    let b64 = base64::engine::general_purpose::STANDARD.encode(data);
    store::set_authority(&mut tx, pid, image.content_type, &b64, &sha256, now).await?;
    let payload = json!({"participant_id": p.id, "kind": "authority_document",
        "agent_kind": p.kind, "sha256": sha256, "bytes": data.len(),
        "content_type": image.content_type});
    record(
        state,
        &mut tx,
        &h,
        "event",
        "authority_document",
        by,
        now,
        payload,
        &[],
    )
    .await?;
    let p = store::get_tx(&mut tx, pid)
        .await?
        .ok_or_else(AppError::not_found)?;
    tx.commit().await?;
    Ok(p)
}
