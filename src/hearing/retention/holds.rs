//! The evidence hold: a hearing marked as evidence in a case (referred, disputed, reviewed,
//! litigated) keeps its recordings and personal data until an auditor lifts the mark. Setting
//! it (the brigade's officers, auditors) and lifting it (auditors) each need a reason and seal
//! an entry on the retention chain; the sweep re-checks the hold inside its own transaction, so
//! a hold set while a sweep runs wins.

use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::CHAIN;
use crate::{
    error::{ApiResult, AppError},
    hearing::{Hearing, access::Caller},
    identity::Role,
};

/// Longest reason, in characters.
pub const MAX_REASON: usize = 500;

/// A hearing's hold, as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HoldView {
    pub hearing_id: String,
    pub reason: String,
    pub by_role: String,
    pub at: chrono::DateTime<chrono::Utc>,
}

fn reason_of(reason: &str) -> ApiResult<String> {
    let r = reason.trim();
    if r.is_empty() {
        return Err(AppError::unprocessable("reason", "a reason is required"));
    }
    if r.chars().count() > MAX_REASON {
        return Err(AppError::unprocessable(
            "reason",
            format!("at most {MAX_REASON} characters"),
        ));
    }
    Ok(r.to_string())
}

/// The hold of hearing `id`, if any (the caller may read the hearing).
pub async fn get(h: &Hearing, caller: &Caller, id: &str) -> ApiResult<Option<HoldView>> {
    crate::hearing::access::readable(&h.db, caller, id).await?;
    let row: Option<(String, String, i64)> =
        sqlx::query_as("SELECT reason, by_role, at FROM hearing_holds WHERE hearing_id = $1")
            .bind(id)
            .fetch_optional(&h.db.read)
            .await?;
    Ok(row.map(|(reason, by_role, at)| HoldView {
        hearing_id: id.to_string(),
        reason,
        by_role,
        at: crate::clock::from_ms(at),
    }))
}

/// Marks hearing `id` as evidence (officers of its brigade, auditors). A second mark keeps the
/// first and answers it.
pub async fn hold(h: &Hearing, caller: &Caller, id: &str, reason: &str) -> ApiResult<HoldView> {
    if !matches!(caller.role, Role::Officer | Role::Auditor) {
        return Err(AppError::forbidden());
    }
    let reason = reason_of(reason)?;
    crate::hearing::access::readable(&h.db, caller, id).await?;
    let now = h.clock.now_ms();
    let mut tx = h.db.begin().await?;
    let done = sqlx::query(
        "INSERT INTO hearing_holds (hearing_id, reason, by_role, by_id, at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (hearing_id) DO NOTHING",
    )
    .bind(id)
    .bind(&reason)
    .bind(caller.role.as_str())
    .bind(&caller.id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 1 {
        let payload = json!({"hearing_id": id, "reason": reason});
        let actor = (caller.role.as_str(), caller.id.as_str());
        seal(&mut tx, "evidence_hold", actor, now, payload).await?;
    }
    tx.commit().await?;
    h.db.durable().await?;
    get(h, caller, id)
        .await?
        .ok_or_else(|| AppError::internal("the hold just written is gone"))
}

/// Lifts the hold of hearing `id` (auditors, with a reason); 409 `not_held` when there is none.
pub async fn release(h: &Hearing, caller: &Caller, id: &str, reason: &str) -> ApiResult<()> {
    if caller.role != Role::Auditor {
        return Err(AppError::forbidden());
    }
    let reason = reason_of(reason)?;
    crate::hearing::access::readable(&h.db, caller, id).await?;
    let now = h.clock.now_ms();
    let mut tx = h.db.begin().await?;
    let gone = sqlx::query("DELETE FROM hearing_holds WHERE hearing_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if gone.rows_affected() == 0 {
        return Err(AppError::conflict(
            "not_held",
            "this hearing is not held as evidence",
        ));
    }
    let payload = json!({"hearing_id": id, "reason": reason});
    let actor = (caller.role.as_str(), caller.id.as_str());
    seal(&mut tx, "evidence_release", actor, now, payload).await?;
    tx.commit().await?;
    h.db.durable().await?;
    Ok(())
}

/// An entry on the retention chain by `(role, id)`.
pub(super) async fn seal(
    tx: &mut crate::store::Tx,
    step: &str,
    (role, id): (&str, &str),
    at_ms: i64,
    payload: serde_json::Value,
) -> ApiResult<()> {
    crate::audit::append_on(tx, CHAIN, step, (role, id), at_ms, payload).await?;
    Ok(())
}
