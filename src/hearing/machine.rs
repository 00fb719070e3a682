//! The hearing's state machine, pure: the legal steps in their order and who submits each
//! (`STEP_TABLE`), and the hearing statuses with the only transitions allowed between them
//! (`STATUS_TABLE`, in the manner of HMCTS vh-bookings-api's `BookingStatusTransition`).
//! No I/O here; `service` asks these tables before it writes anything.

use serde::{Deserialize, Serialize};

/// The legal steps of DOMAIN.md "The flow", step 4, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Identity,
    Inquiry,
    TranscriptAck,
    Notice,
    NoticeAck,
    Statement,
    Ruling,
    Confirmation,
    Service,
    Receipt,
}

/// Who may submit a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    Officer,
    Citizen,
}

impl Party {
    pub fn as_str(self) -> &'static str {
        match self {
            Party::Officer => "officer",
            Party::Citizen => "citizen",
        }
    }
}

/// A hearing's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Open,
    InCall,
    Completed,
    Referred,
    NoShow,
    Interrupted,
}

/// One row of the step table: `step` is submitted by `by` right after `after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepRule {
    pub step: Step,
    pub by: Party,
    pub after: Option<Step>,
}

/// The procedure, in order. The single source of truth for order and roles.
pub const STEP_TABLE: [StepRule; 10] = [
    rule(Step::Identity, Party::Officer, None),
    rule(Step::Inquiry, Party::Officer, Some(Step::Identity)),
    rule(Step::TranscriptAck, Party::Citizen, Some(Step::Inquiry)),
    rule(Step::Notice, Party::Officer, Some(Step::TranscriptAck)),
    rule(Step::NoticeAck, Party::Citizen, Some(Step::Notice)),
    rule(Step::Statement, Party::Citizen, Some(Step::NoticeAck)),
    rule(Step::Ruling, Party::Officer, Some(Step::Statement)),
    rule(Step::Confirmation, Party::Citizen, Some(Step::Ruling)),
    rule(Step::Service, Party::Officer, Some(Step::Confirmation)),
    rule(Step::Receipt, Party::Citizen, Some(Step::Service)),
];

const fn rule(step: Step, by: Party, after: Option<Step>) -> StepRule {
    StepRule { step, by, after }
}

/// What moves a hearing from one status to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trigger {
    /// Both parties are connected to the call.
    BothJoined,
    /// Both parties are gone (left, or dropped past the grace period) during the call.
    BothGone,
    /// The officer ends the hearing for now with a reason (`POST /{id}/interrupt`).
    OfficerInterrupt,
    /// The officer resumes an interrupted hearing.
    Resume,
    /// The officer records that the citizen never joined.
    NoShow,
    /// The remote procedure cannot continue: disputed facts, refused confirmation, or no
    /// consent to electronic service. The case goes to the window.
    Refer,
    /// The citizen acknowledged receipt of the served decision.
    Complete,
}

/// Every allowed status change; anything else is refused (`invalid_state`).
pub const STATUS_TABLE: &[(Status, Trigger, Status)] = &[
    (Status::Open, Trigger::BothJoined, Status::InCall),
    (Status::InCall, Trigger::BothGone, Status::Interrupted),
    (Status::Open, Trigger::OfficerInterrupt, Status::Interrupted),
    (
        Status::InCall,
        Trigger::OfficerInterrupt,
        Status::Interrupted,
    ),
    (Status::Interrupted, Trigger::Resume, Status::Open),
    (Status::Open, Trigger::NoShow, Status::NoShow),
    (Status::Open, Trigger::Refer, Status::Referred),
    (Status::InCall, Trigger::Refer, Status::Referred),
    (Status::Open, Trigger::Complete, Status::Completed),
    (Status::InCall, Trigger::Complete, Status::Completed),
];

impl Step {
    pub const ALL: [Step; 10] = [
        Step::Identity,
        Step::Inquiry,
        Step::TranscriptAck,
        Step::Notice,
        Step::NoticeAck,
        Step::Statement,
        Step::Ruling,
        Step::Confirmation,
        Step::Service,
        Step::Receipt,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Step::Identity => "identity",
            Step::Inquiry => "inquiry",
            Step::TranscriptAck => "transcript_ack",
            Step::Notice => "notice",
            Step::NoticeAck => "notice_ack",
            Step::Statement => "statement",
            Step::Ruling => "ruling",
            Step::Confirmation => "confirmation",
            Step::Service => "service",
            Step::Receipt => "receipt",
        }
    }

    pub fn parse(s: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn rule(self) -> StepRule {
        // The table lists every step exactly once (tested below).
        STEP_TABLE
            .iter()
            .copied()
            .find(|r| r.step == self)
            .unwrap_or(STEP_TABLE[0])
    }

    /// Who submits this step.
    pub fn party(self) -> Party {
        self.rule().by
    }
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Open,
        Status::InCall,
        Status::Completed,
        Status::Referred,
        Status::NoShow,
        Status::Interrupted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::InCall => "in_call",
            Status::Completed => "completed",
            Status::Referred => "referred",
            Status::NoShow => "no_show",
            Status::Interrupted => "interrupted",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// A closed hearing accepts nothing more.
    pub fn is_closed(self) -> bool {
        matches!(self, Status::Completed | Status::Referred | Status::NoShow)
    }

    /// Steps are accepted only in these statuses (whether or not the call is live).
    pub fn accepts_steps(self) -> bool {
        matches!(self, Status::Open | Status::InCall)
    }

    /// The status after `trigger`, if the table allows it.
    pub fn on(self, trigger: Trigger) -> Option<Status> {
        STATUS_TABLE
            .iter()
            .find(|(from, t, _)| *from == self && *t == trigger)
            .map(|(_, _, to)| *to)
    }
}

/// Steps that send the procedure back to an earlier step, by their content (the citizen asks
/// for a correction of the transcript: the officer submits a new `inquiry` version). The step
/// goes back to `to`; the cursor becomes `to`'s predecessor, so `to` is the next step again.
pub const REDO_TABLE: &[(Step, Step)] = &[(Step::TranscriptAck, Step::Inquiry)];

/// The step a step with content `Effect::Redo` sends the procedure back to, if the table
/// allows it.
pub fn redo_target(from: Step) -> Option<Step> {
    REDO_TABLE
        .iter()
        .find(|(f, _)| *f == from)
        .map(|(_, to)| *to)
}

/// The hearing's cursor (`last_step`) after `step` was accepted with `effect`: the step itself,
/// or, for a redo, the predecessor of the step redone.
pub fn cursor_after(step: Step, effect: Effect) -> Option<Step> {
    match effect {
        Effect::Redo => match redo_target(step) {
            Some(to) => to.rule().after,
            None => Some(step),
        },
        _ => Some(step),
    }
}

/// The step expected after `last` (`None`: the procedure is over).
pub fn next_step(last: Option<Step>) -> Option<Step> {
    STEP_TABLE.iter().find(|r| r.after == last).map(|r| r.step)
}

/// Why a step is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// This party never submits this step (403).
    WrongParty,
    /// The hearing is closed or interrupted (409 `invalid_state`).
    NotAccepting(Status),
    /// Not the next step (409 `invalid_state`).
    OutOfOrder { expected: Option<Step> },
}

/// Checks a step against the tables. Role first (a static property of the step), then the
/// status, then the order.
pub fn check_step(
    status: Status,
    last: Option<Step>,
    step: Step,
    by: Party,
) -> Result<(), Refusal> {
    if step.party() != by {
        return Err(Refusal::WrongParty);
    }
    if !status.accepts_steps() {
        return Err(Refusal::NotAccepting(status));
    }
    let expected = next_step(last);
    if expected != Some(step) {
        return Err(Refusal::OutOfOrder { expected });
    }
    Ok(())
}

/// What an accepted step does to the hearing, decided by its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// The procedure goes on.
    Continue,
    /// The procedure goes back (see [`REDO_TABLE`]); the status does not change.
    Redo,
    /// The hearing ends: the case goes to the window.
    Refer(ReferReason),
    /// The hearing ends as completed (`receipt`).
    Complete,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferReason {
    /// The citizen disputes the facts or did not drive (seed 003).
    Disputed,
    /// The citizen refused to confirm the ruling.
    ConfirmationRefused,
    /// The citizen confirmed but did not consent to electronic service (Art. 61).
    NoElectronicServiceConsent,
    /// The officer could not verify the party's identity (ID number or face).
    IdentityNotVerified,
}

impl ReferReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ReferReason::Disputed => "disputed",
            ReferReason::ConfirmationRefused => "confirmation_refused",
            ReferReason::NoElectronicServiceConsent => "no_electronic_service_consent",
            ReferReason::IdentityNotVerified => "identity_not_verified",
        }
    }
}

/// The status after an accepted step with `effect`, through the status table.
pub fn status_after(status: Status, effect: Effect) -> Option<Status> {
    match effect {
        Effect::Continue | Effect::Redo => Some(status),
        Effect::Refer(_) => status.on(Trigger::Refer),
        Effect::Complete => status.on(Trigger::Complete),
    }
}

#[cfg(test)]
#[path = "machine_tests.rs"]
mod tests;
