//! Which of the citizen's steps an agent (代理人) or guardian (监护人) may take in the citizen's
//! place (docs/hearing.md "Agents"; pure). A step not in the table is 403
//! `agent_step_not_allowed`; `statement` also needs the agent's authority document uploaded
//! (409 `authority_document_missing`), whose SHA-256 every agent step's entry seals.

use serde_json::{Value, json};

use super::{ParticipantKind, store};
use crate::error::AppError;
use crate::hearing::{HearingError, Step, store::HearingRow};
use crate::store::Tx;

/// An admitted agent taking one of the citizen's steps.
#[derive(Debug, Clone)]
pub struct Acting {
    pub id: String,
    pub kind: ParticipantKind,
    pub authority_sha256: Option<String>,
}

impl Acting {
    /// What the step's entry says of who took it for the citizen.
    pub fn entry(&self) -> Value {
        json!({"participant_id": self.id, "kind": self.kind.as_str(),
            "authority_document_sha256": self.authority_sha256})
    }
}

/// The participant `pid` as an admitted agent of hearing `h` (in the step's transaction):
/// another hearing's participant 404; not an agent 403 `forbidden`; not admitted (or left) 409
/// `participant_not_admitted`.
pub async fn admitted_agent(
    tx: &mut Tx,
    h: &HearingRow,
    pid: &str,
) -> Result<Acting, HearingError> {
    let p = store::get_tx(tx, pid)
        .await?
        .filter(|p| p.hearing_id == h.id)
        .ok_or(HearingError::NotFound)?;
    if p.role != "agent" {
        return Err(HearingError::Forbidden);
    }
    if p.admitted_at.is_none() || p.left_at.is_some() {
        return Err(AppError::conflict(
            "participant_not_admitted",
            "the officer has not admitted you to the call",
        )
        .into());
    }
    Ok(Acting {
        id: p.id,
        kind: p
            .kind
            .as_deref()
            .and_then(ParticipantKind::parse)
            .unwrap_or(ParticipantKind::Agent),
        authority_sha256: p.authority_sha256,
    })
}

/// The table's answer for an admitted agent taking `step`: 403 `agent_step_not_allowed`, or
/// for `statement` without the authority document 409 `authority_document_missing`.
pub fn check(a: &Acting, step: Step) -> Result<(), HearingError> {
    if !may_take(a.kind, step) {
        return Err(AppError::new(
            axum::http::StatusCode::FORBIDDEN,
            "agent_step_not_allowed",
            format!(
                "an {} may not take the {} step for the citizen",
                a.kind.as_str(),
                step.as_str()
            ),
        )
        .with_params(json!({"step": step.as_str(), "kind": a.kind.as_str()}))
        .into());
    }
    if step == Step::Statement && a.authority_sha256.is_none() {
        return Err(AppError::conflict(
            "authority_document_missing",
            "upload the power of attorney or guardianship document first",
        )
        .into());
    }
    Ok(())
}

/// Whether an agent of `kind` may take `step` for the citizen.
pub fn may_take(kind: ParticipantKind, step: Step) -> bool {
    match step {
        // 陈述申辩 may be exercised through an agent (行政处罚法 Art. 7, 45); the notice is
        // received on the party's behalf; service to an agent authorised to receive it.
        Step::NoticeAck | Step::Statement | Step::Receipt => true,
        // Consent to the remote procedure's outcome and to electronic service (Art. 61)
        // disposes of the party's rights: a guardian (legal representative) may, a commissioned
        // agent may not.
        Step::Confirmation => kind == ParticipantKind::Guardian,
        // The transcript records what the person questioned said: only they sign it.
        Step::TranscriptAck => false,
        // Officer steps (identity, inquiry, notice, ruling, service) are nobody else's.
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table() {
        use ParticipantKind::{Agent, Guardian};
        for k in [Agent, Guardian] {
            assert!(may_take(k, Step::Statement));
            assert!(may_take(k, Step::Receipt));
            assert!(may_take(k, Step::NoticeAck));
            assert!(!may_take(k, Step::TranscriptAck));
            assert!(!may_take(k, Step::Identity));
        }
        assert!(may_take(Guardian, Step::Confirmation));
        assert!(!may_take(Agent, Step::Confirmation));
    }
}
