//! The audit endpoints of API.md: the checkpoint and keys (public), entries, inclusion and
//! consistency proofs, and a hearing's offline bundle (auditors and admins).

use axum::{extract::State, http::header, response::IntoResponse};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::store::{self, AuditError};
use crate::{
    clock::to_ms,
    error::{ApiResult, AppError},
    http::{Path, Query},
    identity::{Role, StaffAuth},
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(checkpoint))
        .routes(routes!(keys))
        .routes(routes!(witnesses))
        .routes(routes!(entries))
        .routes(routes!(proof))
        .routes(routes!(consistency))
        .routes(routes!(bundle))
        .merge(super::admin::router())
}

impl From<AuditError> for AppError {
    fn from(e: AuditError) -> Self {
        match e {
            AuditError::NotFound => AppError::not_found(),
            AuditError::Db(e) => AppError::from(e),
            AuditError::Invalid(m) => AppError::bad_request("invalid_request", m),
            AuditError::Proof(super::merkle::ProofError::BadInput(m)) => {
                AppError::bad_request("invalid_request", m)
            }
            AuditError::Corrupt(m) => {
                tracing::error!(error = %m, "audit log corrupt");
                AppError::new(
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    "audit_log_corrupt",
                    "the audit log failed its integrity check; nothing was written (an operator must run `remote-hearing audit verify-log`)",
                )
            }
            AuditError::KeyRetired(_) => AppError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "audit_key_unavailable",
                "the log's signing key was rotated and this process cannot load the new key (audit.key_dir); nothing was signed",
            ),
            other => AppError::internal(anyhow::anyhow!(other)),
        }
    }
}

fn auditor(auth: &StaffAuth) -> ApiResult<()> {
    match auth.role {
        Role::Auditor | Role::Admin => Ok(()),
        _ => Err(AppError::forbidden()),
    }
}

async fn latest(state: &AppState) -> ApiResult<store::StoredCheckpoint> {
    let mut conn = state.db.read.acquire().await?;
    match store::latest_checkpoint(&mut conn).await? {
        Some(cp) => Ok(cp),
        None => {
            drop(conn);
            Ok(state
                .audit
                .sign_checkpoint(&state.db, to_ms(state.clock.now()))
                .await?)
        }
    }
}

/// The latest signed checkpoint (C2SP signed note), with the witnesses' cosignatures of it
/// (c2sp.org/tlog-cosignature) that have arrived appended.
#[utoipa::path(get, path = "/api/v1/audit/checkpoint", responses((status = 200, body = String, content_type = "text/plain")))]
async fn checkpoint(State(state): State<AppState>) -> ApiResult<impl IntoResponse> {
    let cp = latest(&state).await?;
    let mut conn = state.db.read.acquire().await?;
    let note = super::witnessing::cosigned_note(&mut conn, &cp).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], note))
}

#[derive(Serialize, ToSchema)]
pub struct KeyInfo {
    vkey: String,
    from_size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    to_size: Option<u64>,
    /// For a key made by a rotation: the signed note naming the previous key and this one,
    /// signed by both (docs/audit-format.md "Key rotation").
    #[serde(skip_serializing_if = "Option::is_none")]
    endorsement: Option<String>,
}

/// The verifier keys, with the tree sizes each signs.
#[utoipa::path(get, path = "/api/v1/audit/keys", responses((status = 200, body = Vec<KeyInfo>)))]
async fn keys(State(state): State<AppState>) -> ApiResult<axum::Json<Vec<KeyInfo>>> {
    let mut conn = state.db.read.acquire().await?;
    let keys = store::keys(&mut conn).await?;
    let endorsed: Vec<(String, String)> =
        sqlx::query_as("SELECT vkey, endorsement FROM audit_keys WHERE endorsement IS NOT NULL")
            .fetch_all(&mut *conn)
            .await?;
    let endorsed: std::collections::HashMap<_, _> = endorsed.into_iter().collect();
    Ok(axum::Json(
        keys.into_iter()
            .map(|k| KeyInfo {
                endorsement: endorsed.get(&k.vkey).cloned(),
                vkey: k.vkey,
                from_size: k.from_size,
                to_size: k.to_size,
            })
            .collect(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct WitnessInfo {
    name: String,
    vkey: String,
}

#[derive(Serialize, ToSchema)]
pub struct WitnessesOut {
    witnesses: Vec<WitnessInfo>,
    /// How many of them must cosign a checkpoint (`audit.witness_quorum`, default all).
    quorum: usize,
}

/// The witnesses of `[[audit.witnesses]]` (their cosignature verifier keys, type 0x04) and the
/// quorum, for the pages to pin at first use (docs/audit-format.md §13).
#[utoipa::path(get, path = "/api/v1/audit/witnesses", responses((status = 200, body = WitnessesOut)))]
async fn witnesses(State(state): State<AppState>) -> axum::Json<WitnessesOut> {
    let a = &state.config.audit;
    let witnesses: Vec<WitnessInfo> = a
        .witnesses
        .iter()
        .map(|w| WitnessInfo {
            name: w.name.clone(),
            vkey: w.vkey.clone(),
        })
        .collect();
    let quorum = a
        .witness_quorum
        .unwrap_or(witnesses.len())
        .clamp(witnesses.len().min(1), witnesses.len());
    axum::Json(WitnessesOut { witnesses, quorum })
}

#[derive(Deserialize, IntoParams)]
pub struct EntriesQuery {
    #[serde(default)]
    from: u64,
    limit: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct ActorOut {
    role: String,
    id: String,
}

#[derive(Serialize, ToSchema)]
pub struct EntryOut {
    seq: u64,
    hearing_id: String,
    hearing_seq: u64,
    step: String,
    at: chrono::DateTime<chrono::Utc>,
    actor: ActorOut,
    leaf_hex: String,
}

/// Log entries by index.
#[utoipa::path(get, path = "/api/v1/audit/entries", params(EntriesQuery), responses((status = 200, body = Vec<EntryOut>)))]
async fn entries(
    State(state): State<AppState>,
    auth: StaffAuth,
    Query(q): Query<EntriesQuery>,
) -> ApiResult<axum::Json<Vec<EntryOut>>> {
    auditor(&auth)?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(AppError::unprocessable("limit", "limit must be 1 to 1000"));
    }
    if i64::try_from(q.from).is_err() {
        return Err(AppError::unprocessable("from", "from is beyond any log"));
    }
    let mut conn = state.db.read.acquire().await?;
    let rows = store::entries(&mut conn, q.from, limit).await?;
    Ok(axum::Json(
        rows.into_iter()
            .map(|e| EntryOut {
                seq: e.seq,
                hearing_id: e.hearing_id,
                hearing_seq: e.hearing_seq,
                step: e.step,
                at: crate::clock::from_ms(e.at_ms),
                actor: ActorOut {
                    role: e.actor.role,
                    id: e.actor.id,
                },
                leaf_hex: hex::encode(e.leaf),
            })
            .collect(),
    ))
}

#[derive(Deserialize, IntoParams)]
pub struct ProofQuery {
    /// Defaults to the latest checkpoint's size.
    tree_size: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct InclusionOut {
    leaf_index: u64,
    tree_size: u64,
    hashes: Vec<String>,
}

async fn check_size(state: &AppState, size: u64) -> ApiResult<()> {
    let mut conn = state.db.read.acquire().await?;
    let (current, _) = store::current_head(&mut conn).await?;
    if size > current {
        return Err(AppError::unprocessable(
            "tree_size",
            format!("the log has {current} entries"),
        ));
    }
    Ok(())
}

/// Inclusion proof of entry `seq` in the tree of `tree_size` entries.
#[utoipa::path(get, path = "/api/v1/audit/entries/{seq}/proof", params(("seq" = u64, Path), ProofQuery), responses((status = 200, body = InclusionOut)))]
async fn proof(
    State(state): State<AppState>,
    auth: StaffAuth,
    Path(seq): Path<u64>,
    Query(q): Query<ProofQuery>,
) -> ApiResult<axum::Json<InclusionOut>> {
    auditor(&auth)?;
    let size = match q.tree_size {
        Some(s) => s,
        None => latest(&state).await?.size,
    };
    check_size(&state, size).await?;
    if seq >= size {
        return Err(AppError::unprocessable(
            "seq",
            "entry not in a tree of that size",
        ));
    }
    let mut conn = state.db.read.acquire().await?;
    let hashes = store::inclusion_proof(&mut conn, seq, size).await?;
    Ok(axum::Json(InclusionOut {
        leaf_index: seq,
        tree_size: size,
        hashes: hashes.iter().map(|h| STANDARD.encode(h)).collect(),
    }))
}

#[derive(Deserialize, IntoParams)]
pub struct ConsistencyQuery {
    from: u64,
    /// Defaults to the latest checkpoint's size.
    to: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct ConsistencyOut {
    hashes: Vec<String>,
}

/// Consistency proof between two tree sizes.
#[utoipa::path(get, path = "/api/v1/audit/consistency", params(ConsistencyQuery), responses((status = 200, body = ConsistencyOut)))]
async fn consistency(
    State(state): State<AppState>,
    auth: StaffAuth,
    Query(q): Query<ConsistencyQuery>,
) -> ApiResult<axum::Json<ConsistencyOut>> {
    auditor(&auth)?;
    let to = match q.to {
        Some(s) => s,
        None => latest(&state).await?.size,
    };
    check_size(&state, to).await?;
    if q.from == 0 || q.from > to {
        return Err(AppError::unprocessable("from", "need 0 < from <= to"));
    }
    let mut conn = state.db.read.acquire().await?;
    let hashes = store::consistency_proof(&mut conn, q.from, to).await?;
    Ok(axum::Json(ConsistencyOut {
        hashes: hashes.iter().map(|h| STANDARD.encode(h)).collect(),
    }))
}

#[derive(Deserialize, IntoParams)]
pub struct BundleQuery {
    /// Also prove consistency from this older tree size to the bundle's checkpoint.
    consistency_from: Option<u64>,
}

/// The offline bundle of one hearing (docs/audit-format.md).
#[utoipa::path(get, path = "/api/v1/audit/hearings/{id}/bundle", params(("id" = String, Path), BundleQuery), responses((status = 200, body = Object)))]
async fn bundle(
    State(state): State<AppState>,
    auth: StaffAuth,
    Path(id): Path<String>,
    Query(q): Query<BundleQuery>,
) -> ApiResult<impl IntoResponse> {
    auditor(&auth)?;
    if id.is_empty() || id.len() > 128 {
        return Err(AppError::not_found());
    }
    // A `consistency_from` past the log's size depends on the log, not on the request's shape:
    // 422 naming the field, like the other size-dependent audit parameters.
    let b = state
        .audit
        .bundle(&state.db, &id, q.consistency_from, to_ms(state.clock.now()))
        .await
        .map_err(|e| match e {
            AuditError::Invalid(m) => AppError::unprocessable("consistency_from", m),
            e => AppError::from(e),
        })?;
    Ok(axum::Json(b))
}
