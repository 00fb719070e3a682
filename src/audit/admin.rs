//! The log's administration (issue 15 §1; admins only): rotating the signing key
//! (`rotation`) and the witnesses' state — for each configured witness, the newest checkpoint
//! it cosigned and how far it trails the log.

use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{clock::to_ms, error::ApiResult, identity::AdminAuth, state::AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(rotate))
        .routes(routes!(witness_state))
}

#[derive(Serialize, ToSchema)]
pub struct RotationOut {
    old_vkey: String,
    new_vkey: String,
    /// The tree size the new key signs from.
    from_size: u64,
    endorsement: String,
    /// The first checkpoint signed by the new key.
    checkpoint: String,
}

/// Rotates the log's signing key (administrators): a new key signs from now on in every
/// process on the data directory; the old key's range closes; sealed on the admin chain.
#[utoipa::path(post, path = "/api/v1/admin/audit/keys/rotate",
    responses((status = 200, body = RotationOut), (status = 403, body = crate::error::ErrorBody)))]
async fn rotate(
    State(state): State<AppState>,
    admin: AdminAuth,
) -> ApiResult<axum::Json<RotationOut>> {
    let now = to_ms(state.clock.now());
    let by = ("admin", admin.user_id.as_str());
    let r = state.audit.rotate_key(&state.db, by, now).await?;
    let cp = state.audit.sign_checkpoint(&state.db, now).await?;
    metrics::counter!("audit_key_rotations_total").increment(1);
    tracing::warn!(old = %r.old_vkey, new = %r.new_vkey, "audit signing key rotated");
    Ok(axum::Json(RotationOut {
        old_vkey: r.old_vkey,
        new_vkey: r.new_vkey,
        from_size: r.from_size,
        endorsement: r.endorsement,
        checkpoint: cp.note,
    }))
}

/// One configured witness's state.
#[derive(Serialize, ToSchema)]
pub struct WitnessState {
    name: String,
    vkey: String,
    url: String,
    /// The largest tree size it cosigned (none yet: absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    cosigned_size: Option<u64>,
    /// When it cosigned that one (ms since the epoch, the witness's own timestamp).
    #[serde(skip_serializing_if = "Option::is_none")]
    cosigned_at_ms: Option<i64>,
    /// Entries of the newest checkpoint it has not cosigned.
    behind: u64,
    /// It has lacked the newest checkpoint for longer than `audit.witness_alert_after_s`.
    alert: bool,
}

#[derive(Serialize, ToSchema)]
pub struct WitnessStateOut {
    /// The newest checkpoint's size and when it was signed (ms).
    log_size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    log_signed_at_ms: Option<i64>,
    quorum: usize,
    /// How many witnesses cosigned the newest checkpoint.
    cosigned_newest: usize,
    witnesses: Vec<WitnessState>,
    alert_after_s: u64,
}

/// The witnesses of `[[audit.witnesses]]` and how far each trails the log (administrators).
#[utoipa::path(get, path = "/api/v1/admin/audit/witnesses",
    responses((status = 200, body = WitnessStateOut), (status = 403, body = crate::error::ErrorBody)))]
async fn witness_state(
    State(state): State<AppState>,
    _admin: AdminAuth,
) -> ApiResult<axum::Json<WitnessStateOut>> {
    let a = &state.config.audit;
    let newest: Option<(i64, i64)> =
        sqlx::query_as("SELECT size, created_at FROM audit_checkpoints ORDER BY size DESC, created_at DESC LIMIT 1")
            .fetch_optional(&state.db.read)
            .await?;
    let (log_size, signed_at) = newest.map_or((0, None), |(s, at)| (s.max(0) as u64, Some(at)));
    let now = to_ms(state.clock.now());
    let late = signed_at.is_some_and(|t| now - t > (a.witness_alert_after_s as i64) * 1000);
    let mut witnesses = Vec::with_capacity(a.witnesses.len());
    for w in &a.witnesses {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "SELECT size, cosigned_at FROM audit_cosignatures WHERE witness = $1 ORDER BY size DESC LIMIT 1",
        )
        .bind(&w.name)
        .fetch_optional(&state.db.read)
        .await?;
        let size = row.map(|(s, _)| s.max(0) as u64);
        let behind = log_size.saturating_sub(size.unwrap_or(0));
        witnesses.push(WitnessState {
            name: w.name.clone(),
            vkey: w.vkey.clone(),
            url: w.url.clone(),
            cosigned_size: size,
            cosigned_at_ms: row.map(|(_, at)| at.saturating_mul(1000)),
            behind,
            alert: behind > 0 && late,
        });
    }
    let cosigned_newest = witnesses
        .iter()
        .filter(|w| w.behind == 0 && w.cosigned_size.is_some())
        .count();
    Ok(axum::Json(WitnessStateOut {
        log_size,
        log_signed_at_ms: signed_at,
        quorum: a.witness_quorum.unwrap_or(a.witnesses.len()),
        cosigned_newest,
        witnesses,
        alert_after_s: a.witness_alert_after_s,
    }))
}
