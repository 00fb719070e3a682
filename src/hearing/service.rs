//! Opening a hearing and accepting its legal steps. Each accepted step is checked against the
//! tables of [`machine`], its content against [`content`], then stored and appended to the audit
//! log in ONE transaction; after the commit it is pushed to both parties as a `hearing` frame,
//! and a closing step closes the call (see [`super::subscribers`]).

use serde_json::{Value, json};

use super::Hearing;
use super::{
    access::Caller,
    after_commit,
    content::{self, StepInput},
    decision,
    error::HearingError,
    machine::{self, Effect, Party, Refusal, Status, Step},
    ports,
    store::{self, HearingRow, StepRow},
    subscribers::{Change, HearingEvent},
    values::field,
};
use crate::{error::ApiResult, identity::OfficerAuth, store::Tx};

/// The actor of server-made entries (presence changes).
pub const SYSTEM: (&str, &str) = ("system", "server");

/// Appends the event `name` by `by` to an open or in-call hearing (the call's chat, video and
/// link changes) and waits until it is on disk: `Some((audit seq, at ms))`; `None` when the
/// hearing is unknown or takes no more entries.
pub(crate) async fn seal_event(
    state: &Hearing,
    hearing_id: &str,
    name: &str,
    by: (&str, &str),
    payload: Value,
) -> ApiResult<Option<(Option<i64>, i64)>> {
    let now = state.clock.now_ms();
    let mut tx = state.db.begin().await?;
    let Some(h) = store::lock(&mut tx, hearing_id).await? else {
        return Ok(None);
    };
    if !super::machine::Status::parse(&h.status).is_some_and(super::machine::Status::accepts_steps)
    {
        return Ok(None);
    }
    let seq = record(state, &mut tx, &h, "event", name, by, now, payload, &[]).await?;
    tx.commit().await?;
    state.db.durable().await?;
    Ok(Some((seq, now)))
}

/// Stores a step or event and appends its audit entry, in `tx`.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn record(
    state: &Hearing,
    tx: &mut Tx,
    h: &HearingRow,
    kind: &str,
    name: &str,
    by: (&str, &str),
    at_ms: i64,
    mut payload: Value,
    recordings: &[ports::SealedFile],
) -> ApiResult<Option<i64>> {
    let both = ports::both_connected(state, &h.id);
    if let Value::Object(m) = &mut payload {
        m.insert("both_connected".into(), Value::Bool(both));
        m.insert("status".into(), Value::String(h.status.clone()));
        if !state.config.require_live_call {
            // Not a recorded-call hearing: the record says so (never in production).
            m.insert("live_call_required".into(), Value::Bool(false));
        }
    }
    let audit_seq = ports::audit_append(
        tx,
        &h.id,
        name,
        by.0,
        by.1,
        at_ms,
        payload.clone(),
        recordings,
    )
    .await?;
    // A closed hearing's chain ends with its terminal entry (docs/audit-format.md §9).
    if let (Some(_), Some(outcome)) = (h.closed_at, h.outcome.as_deref()) {
        ports::audit_close(tx, &h.id, outcome, at_ms).await?;
    }
    store::insert_step(
        tx,
        &h.id,
        &StepRow {
            idx: 0,
            kind: kind.into(),
            step: name.into(),
            at: at_ms,
            by_role: by.0.into(),
            by_id: by.1.into(),
            payload: payload.to_string(),
            both_connected: both,
            audit_seq,
        },
    )
    .await?;
    Ok(audit_seq)
}

/// POST /api/v1/hearings: the officer opens the hearing of a booking. Returns its id.
#[tracing::instrument(skip_all, err(level = "info"))]
pub async fn open(
    state: &Hearing,
    officer: &OfficerAuth,
    booking_id: &str,
) -> Result<String, HearingError> {
    let brigade = officer
        .brigade_id
        .as_deref()
        .ok_or(HearingError::NotFound)?;
    let now = state.clock.now_ms();
    // The claim lives in Redis: ask before the transaction.
    let holder = ports::urgent_holder(state, booking_id).await?;
    let mut tx = state.db.begin().await?;
    let b = match ports::lock_booking(&mut tx, booking_id).await? {
        Some(b) if b.brigade_id == brigade => b,
        _ => return Err(HearingError::NotFound),
    };
    if store::live_for_booking(&mut tx, booking_id)
        .await?
        .is_some()
    {
        return Err(HearingError::HearingExists);
    }
    if b.status != "booked" {
        return Err(HearingError::BookingNotHearable(b.status));
    }
    let before = i64::try_from(state.config.open_before_s).unwrap_or(0) * 1000;
    let in_slot = now >= b.slot_start - before && now <= b.slot_end;
    let claimed = b.urgent
        && holder.as_deref() == Some(officer.user_id.as_str())
        && b.deadline.is_some_and(|d| now < d);
    if !(in_slot || claimed) {
        return Err(HearingError::OutsideHearingWindow {
            minutes: state.config.open_before_s / 60,
        });
    }
    ports::set_booking_status(&mut tx, booking_id, "in_hearing", now).await?;
    let h = HearingRow {
        id: crate::ids::new_id(),
        booking_id: b.id.clone(),
        brigade_id: b.brigade_id.clone(),
        citizen_id: b.citizen_id.clone(),
        officer_id: officer.user_id.clone(),
        phone: b.phone.clone(),
        status: Status::Open.as_str().into(),
        last_step: None,
        outcome: None,
        citizen_joined_at: None,
        slot_start: b.slot_start,
        slot_end: b.slot_end,
        opened_at: now,
        closed_at: None,
        updated_at: now,
    };
    store::insert(&mut tx, &h).await?;
    let payload = json!({"booking_id": b.id, "plate": b.plate, "slot_start": b.slot_start,
        "urgent": b.urgent, "claimed": claimed});
    record(
        state,
        &mut tx,
        &h,
        "event",
        "opened",
        ("officer", &officer.user_id),
        now,
        payload,
        &[],
    )
    .await?;
    tx.commit().await?;
    metrics::counter!("hearings_opened_total").increment(1);
    Ok(h.id)
}

impl From<Refusal> for HearingError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::WrongParty => HearingError::Forbidden,
            Refusal::NotAccepting(s) => HearingError::NotAccepting(s),
            Refusal::OutOfOrder { expected: Some(e) } => HearingError::OutOfOrder(e),
            Refusal::OutOfOrder { expected: None } => HearingError::ProcedureOver,
        }
    }
}

/// POST /api/v1/hearings/{id}/steps (the handler then shows the hearing).
#[tracing::instrument(skip_all, err(level = "info"))]
pub async fn submit_step(
    state: &Hearing,
    caller: &Caller,
    id: &str,
    body: Value,
) -> Result<(), HearingError> {
    let step_name = body
        .get("step")
        .and_then(Value::as_str)
        .ok_or_else(|| field("step", "step is required"))?;
    let step = Step::parse(step_name)
        .ok_or_else(|| field("step", format!("unknown step {step_name:?}")))?;
    if step == Step::Notice {
        // The evidence photos come from the platform, fetched before the step's transaction.
        super::evidence::photos::prefetch(state, caller, id).await?;
    }
    let now = state.clock.now_ms();
    let mut tx = state.db.begin().await?;
    let mut h = store::lock(&mut tx, id)
        .await?
        .ok_or(HearingError::NotFound)?;
    // An admitted agent takes the citizen's steps the agent table allows (docs/hearing.md).
    let (party, agent) = match caller.role {
        crate::identity::Role::Participant => {
            let a = super::participants::agent::admitted_agent(&mut tx, &h, &caller.id).await?;
            super::participants::agent::check(&a, step)?;
            (Party::Citizen, Some(a))
        }
        _ => (caller.party_for(&h)?, None),
    };
    let status = Status::parse(&h.status)
        .ok_or_else(|| HearingError::broken(format!("bad hearing status {:?}", h.status)))?;
    let last = h.last_step.as_deref().and_then(Step::parse);
    machine::check_step(status, last, step, party)?;
    // The body is read only now, so that role, status and order answer first.
    let input = content::parse(step, &body)?;
    // Art. 47: nothing is taken outside the live, recorded call.
    super::live::require(state, id).await?;
    let agent_id = agent.as_ref().map(|a| a.id.as_str());
    let (mut payload, signature) =
        super::signing::step_entry(&mut tx, &h, &input, step, input.payload(), agent_id).await?;
    if let (Some(a), Value::Object(m)) = (&agent, &mut payload) {
        m.insert("agent".into(), a.entry());
    }
    match &input {
        StepInput::Ruling(r) => {
            let notice = stored::<content::Notice>(&mut tx, id, "notice").await?;
            if !content::ruling_within_notice(&notice, r) {
                return Err(HearingError::RulingExceedsNotice {
                    fine_yuan: notice.proposed_fine_yuan.get(),
                    points: notice.proposed_points.get(),
                });
            }
        }
        StepInput::Notice(_) => {
            let photos = super::evidence::photos::sealed(&mut tx, id).await?;
            if let (Value::Object(m), false) = (&mut payload, photos.is_empty()) {
                let v = serde_json::to_value(photos)
                    .map_err(|e| HearingError::internal("the notice's photos", e))?;
                m.insert("photos".into(), v);
            }
        }
        StepInput::Identity(i) => {
            payload = super::evidence::identity_entry(state, &mut tx, &h, i, payload).await?;
        }
        StepInput::Service => {
            let d = decision::issue(issuer(state), &mut tx, &h, now).await?;
            payload = json!({"decision_no": d.row.decision_no, "document_sha256": d.row.sha256,
                "pdf_sha256": d.pdf_sha256, "seal_key": d.seal_key});
        }
        StepInput::Receipt { .. } => {
            let sig = signature
                .as_ref()
                .ok_or_else(|| HearingError::broken("the receipt's signature was not sealed"))?;
            let p = super::signing::proof::issue(issuer(state), &mut tx, &h, now, sig).await?;
            if let Value::Object(m) = &mut payload {
                m.insert(
                    "proof_of_service".into(),
                    json!({"decision_no": p.fields.decision_no,
                        "decision_sha256": p.fields.decision_sha256, "sha256": p.sha256,
                        "pdf_sha256": p.pdf_sha256, "seal_key": p.seal_key}),
                );
            }
        }
        _ => {}
    }
    let effect = input.effect();
    let next = machine::status_after(status, effect).ok_or(HearingError::NotAccepting(status))?;
    h.last_step = machine::cursor_after(step, effect).map(|s| s.as_str().to_string());
    h.updated_at = now;
    let (by_role, by_id) = match (party, &agent) {
        (_, Some(a)) => ("agent", a.id.clone()),
        (Party::Officer, None) => (party.as_str(), h.officer_id.clone()),
        (Party::Citizen, None) => (party.as_str(), h.citizen_id.clone()),
    };
    if next != status {
        h.status = next.as_str().into();
        h.closed_at = next.is_closed().then_some(now);
        h.outcome = Some(match effect {
            Effect::Refer(r) => r.as_str().to_string(),
            _ => next.as_str().to_string(),
        });
        ports::set_booking_status(&mut tx, &h.booking_id, next.as_str(), now).await?;
    }
    // The entry records the status the step leaves the hearing in.
    record(
        state,
        &mut tx,
        &h,
        "step",
        step.as_str(),
        (by_role, &by_id),
        now,
        payload,
        &[],
    )
    .await?;
    store::save(&mut tx, &h).await?;
    tx.commit().await?;
    metrics::counter!("hearing_steps_total", "step" => step.as_str()).increment(1);
    let change = Change::Step(step.as_str().to_string());
    after_commit::publish(state, HearingEvent { hearing: h, change }).await;
    Ok(())
}

/// The stored payload of an earlier step.
async fn stored<T: serde::de::DeserializeOwned>(
    tx: &mut Tx,
    id: &str,
    step: &str,
) -> Result<T, HearingError> {
    let text = store::step_payload(tx, id, step)
        .await?
        .ok_or_else(|| HearingError::broken(format!("hearing {id} has no {step} step")))?;
    serde_json::from_str(&text)
        .map_err(|e| HearingError::internal(format!("the stored {step} step of hearing {id}"), e))
}

/// The parts of the state that issuing a decision takes.
fn issuer(state: &Hearing) -> decision::issue::Issuer<'_> {
    decision::issue::Issuer {
        identity_key: &state.identity_key,
        config: &state.decision,
        data_dir: &state.data_dir,
        production: state.production,
        vault: &state.call.vault,
    }
}
