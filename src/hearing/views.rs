//! The hearing as the API shows it (to a [`Caller`], see `access`).

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::Hearing;
use super::{
    error::HearingError,
    machine::{self, Party, Step},
    ports,
    store::{self, HearingRow},
};
use crate::error::{ApiResult, AppError};

pub use super::access::Caller;

#[derive(Debug, Serialize, ToSchema)]
pub struct StepView {
    pub step: String,
    pub at: String,
    /// `officer`, `citizen` or `system`.
    pub by: String,
    pub audit_seq: Option<i64>,
    /// Whether both parties were connected when it was recorded.
    pub both_connected: bool,
}

/// The call as the procedure sees it (Art. 47).
#[derive(Debug, Serialize, ToSchema)]
pub struct CallView {
    /// `false` only outside production (`hearing.require_live_call`): the pages show a banner
    /// and every entry records it.
    pub live_call_required: bool,
    /// Both parties connected and both recorded: a step would be accepted.
    pub live: bool,
    /// What is missing: `{party: citizen|officer, missing: connection|recording}`.
    #[schema(value_type = Vec<Object>)]
    pub missing: Vec<Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionRef {
    pub decision_no: String,
    pub sha256: String,
    /// `citizen` (decided on typed-in facts) or `records` (facts from the system of record).
    pub facts_source: String,
    /// The decision's write-back to the system of record (`records` decisions only):
    /// `pending`, `accepted` or `rejected` with the platform's reason.
    pub write_back: Option<crate::records::outbox::WriteBackStatus>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HearingView {
    pub id: String,
    pub booking_id: String,
    /// Where the booking's facts come from: `citizen` (typed in) or `records` (the system of
    /// record).
    pub facts_source: String,
    pub status: machine::Status,
    /// The accepted legal steps, in order.
    pub steps: Vec<StepView>,
    /// Lifecycle events: opened, call_started, interrupted, resumed, no_show, recordings_sealed,
    /// write_back (the platform's final answer to the decision's write-back, issue 16).
    pub events: Vec<StepView>,
    /// The step expected next and who submits it (`null` when closed or over).
    pub next_step: Option<Step>,
    pub next_by: Option<Party>,
    pub officer_id: String,
    pub citizen_joined: bool,
    /// When the join code last went out by SMS (`null`: not yet), so the citizen's waiting
    /// room can say it was sent.
    pub code_sent_at: Option<String>,
    /// Why it closed: `completed`, `disputed`, `confirmation_refused`,
    /// `no_electronic_service_consent`, `no_show`.
    pub outcome: Option<String>,
    pub opened_at: String,
    pub closed_at: Option<String>,
    pub decision: Option<DecisionRef>,
    /// The rights text the notice carries (Arts. 44–45), for the citizen's page.
    pub rights_text: &'static str,
    /// What confirming with `e_service_consent` agrees to (Art. 61).
    pub e_service_consent_text: &'static str,
    /// `{facts, legal_basis, proposed_fine_yuan, proposed_points, rights_text}` once recorded.
    #[schema(value_type = Option<Object>)]
    pub notice: Option<Value>,
    /// `{fine_yuan, points, legal_basis}` once recorded.
    #[schema(value_type = Option<Object>)]
    pub ruling: Option<Value>,
    #[schema(value_type = Vec<Object>)]
    pub recordings: Vec<Value>,
    pub call: CallView,
}

fn rfc3339(ms: i64) -> String {
    crate::clock::from_ms(ms).to_rfc3339()
}

/// Reads a hearing for `caller` (404/403 as [`Caller::can_read`]).
pub async fn get_for(state: &Hearing, caller: &Caller, id: &str) -> ApiResult<HearingView> {
    let h = super::access::readable(&state.db, caller, id).await?;
    render(state, h).await
}

/// The hearings of a booking the caller may read, newest first.
pub async fn list_for(
    state: &Hearing,
    caller: &Caller,
    booking_id: &str,
) -> ApiResult<Vec<HearingView>> {
    let mut out = vec![];
    for h in store::for_booking(&state.db.read, booking_id).await? {
        if caller.can_read(&h).is_ok() {
            out.push(render(state, h).await?);
        }
    }
    Ok(out)
}

/// Reads a hearing without access checks (after a write by an authorised caller).
pub async fn load(state: &Hearing, id: &str) -> ApiResult<HearingView> {
    let h = store::get(&state.db.write, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    render(state, h).await
}

async fn render(state: &Hearing, h: HearingRow) -> ApiResult<HearingView> {
    let rows = store::steps(&state.db.write, &h.id).await?;
    let (mut steps, mut events) = (vec![], vec![]);
    let (mut notice, mut ruling) = (None, None);
    for r in rows {
        if r.kind == "step" && (r.step == "notice" || r.step == "ruling") {
            let mut v: Value = serde_json::from_str(&r.payload).unwrap_or(Value::Null);
            if let Value::Object(m) = &mut v {
                m.remove("both_connected");
                m.remove("status");
            }
            if r.step == "notice" {
                notice = Some(v)
            } else {
                ruling = Some(v)
            }
        }
        let v = StepView {
            step: r.step,
            at: rfc3339(r.at),
            by: r.by_role,
            audit_seq: r.audit_seq,
            both_connected: r.both_connected,
        };
        if r.kind == "step" {
            steps.push(v)
        } else {
            events.push(v)
        }
    }
    let status = machine::Status::parse(&h.status)
        .ok_or_else(|| HearingError::broken(format!("bad hearing status {:?}", h.status)))?;
    let next = if status.is_closed() {
        None
    } else {
        machine::next_step(h.last_step.as_deref().and_then(Step::parse))
    };
    let decision = match store::decision(&state.db.write, &h.id).await? {
        Some(d) => Some(DecisionRef {
            decision_no: d.decision_no,
            sha256: d.sha256,
            facts_source: d.facts_source,
            write_back: ports::records_write_back(state, &h.id).await?,
        }),
        None => None,
    };
    let live = if status.is_closed() {
        super::live::Live::default()
    } else {
        super::live::observe(state, &h.id).await
    };
    let call = CallView {
        live_call_required: state.config.require_live_call,
        live: live.is_live(),
        missing: live
            .missing()
            .into_iter()
            .map(|(p, m)| serde_json::json!({"party": p, "missing": m}))
            .collect(),
    };
    let facts_source = ports::booking_facts_source(state, &h.booking_id)
        .await?
        .unwrap_or_else(|| "citizen".into());
    let code_sent_at = ports::code_last_sent(&state.db, &h.id).await?.map(rfc3339);
    Ok(HearingView {
        facts_source,
        call,
        recordings: ports::recordings(state, &h.id).await?,
        id: h.id,
        booking_id: h.booking_id,
        status,
        steps,
        events,
        next_step: next,
        next_by: next.map(Step::party),
        officer_id: h.officer_id,
        citizen_joined: h.citizen_joined_at.is_some(),
        code_sent_at,
        outcome: h.outcome,
        opened_at: rfc3339(h.opened_at),
        closed_at: h.closed_at.map(rfc3339),
        decision,
        rights_text: super::content::RIGHTS_TEXT,
        e_service_consent_text: super::content::E_SERVICE_CONSENT_TEXT,
        notice,
        ruling,
    })
}
