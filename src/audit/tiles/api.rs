//! The log in the read format of c2sp.org/tlog-tiles (docs/audit-format.md, "Tiles"):
//! `GET /audit/log/checkpoint`, `/audit/log/tile/<L>/<N>[.p/<W>]` (public: hashes only) and
//! `/audit/log/tile/entries/<N>[.p/<W>]` (auditors and admins, like `/api/v1/audit/entries`:
//! leaves name hearings and actors).
//!
//! A tile is read from the stored nodes (`audit_nodes`: the level-`L` tile's hashes are the
//! nodes at tree level `8L`), an entry bundle from `audit_entries`; each is one indexed range
//! query. Only what the latest checkpoint covers is served: a full tile once the checkpointed
//! tree holds it (immutable), a partial tile only when some signed checkpoint's size makes it
//! the rightmost one of its level (short cache); anything else is 404. The path grammar and
//! the maths are in `audit::tiles`.

use axum::{
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use sqlx::{AnyConnection, Row};
use utoipa_axum::router::OpenApiRouter;

use crate::audit::store::{self, AuditError, StoredCheckpoint, hash_from_hex};
use crate::{
    clock::to_ms,
    error::{ApiResult, AppError},
    http::Path,
    identity::{Role, StaffAuth},
    state::AppState,
};
use ::audit::tiles::{HASH_SIZE, TileKind, TilePath, TilePathError, entry_bundle};

/// Full tiles and bundles never change.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Partial tiles may be dropped once the full tile exists (the spec allows it).
const PARTIAL: &str = "public, max-age=300";
/// The checkpoint moves: at most a few seconds in caches.
const CHECKPOINT: &str = "public, max-age=5";

/// The tile routes (merged by `startup::routes`).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .route("/audit/log/checkpoint", get(checkpoint))
        .route("/audit/log/tile/entries/{*path}", get(entries))
        .route("/audit/log/tile/{*path}", get(hash_tile))
}

/// The latest signed checkpoint, signing the first one if the log has none yet.
pub async fn latest_checkpoint(state: &AppState) -> Result<StoredCheckpoint, AuditError> {
    let mut conn = state.db.read.acquire().await?;
    if let Some(cp) = store::latest_checkpoint(&mut conn).await? {
        return Ok(cp);
    }
    drop(conn);
    state
        .audit
        .sign_checkpoint(&state.db, to_ms(state.clock.now()))
        .await
}

async fn checkpoint(State(state): State<AppState>) -> ApiResult<Response> {
    let cp = latest_checkpoint(&state).await?;
    // With the witnesses' cosignatures that have arrived (as /api/v1/audit/checkpoint).
    let mut conn = state.db.read.acquire().await.map_err(AuditError::from)?;
    let note = crate::audit::witnessing::cosigned_note(&mut conn, &cp).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, CHECKPOINT),
        ],
        note,
    )
        .into_response())
}

fn bad_path(e: TilePathError) -> AppError {
    AppError::bad_request("invalid_tile_path", e.to_string())
}

/// `tile/<L>/<N>[.p/<W>]`: public (hashes reveal nothing).
async fn hash_tile(State(state): State<AppState>, Path(path): Path<String>) -> ApiResult<Response> {
    let t = TilePath::parse(&path).map_err(bad_path)?;
    if t.kind == TileKind::Entries {
        return Err(AppError::not_found());
    }
    serve(&state, t).await
}

/// `tile/entries/<N>[.p/<W>]`: leaves name hearings and actors, so auditors and admins only
/// (as `/api/v1/audit/entries`).
async fn entries(
    State(state): State<AppState>,
    auth: StaffAuth,
    Path(path): Path<String>,
) -> ApiResult<Response> {
    if !matches!(auth.role, Role::Auditor | Role::Admin) {
        return Err(AppError::forbidden());
    }
    let t = TilePath::parse(&format!("entries/{path}")).map_err(bad_path)?;
    serve(&state, t).await
}

async fn serve(state: &AppState, t: TilePath) -> ApiResult<Response> {
    let mut conn = state.db.read.acquire().await?;
    let size = store::latest_checkpoint(&mut conn)
        .await?
        .map_or(0, |c| c.size);
    // A full tile once the latest checkpoint covers it; a partial one only for the size of
    // some signed checkpoint (never above the latest: checkpoints only grow).
    let served = match t.partial {
        None => t.exists_at(size),
        Some(_) => checkpointed(&mut conn, &t).await?,
    };
    if !served {
        return Err(AppError::not_found());
    }
    let body = match t.kind {
        TileKind::Hashes(_) => hashes(&mut conn, &t).await?,
        TileKind::Entries => bundle(&mut conn, &t).await?,
    };
    let cache = if t.partial.is_some() {
        PARTIAL
    } else {
        IMMUTABLE
    };
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (header::CACHE_CONTROL, cache),
        ],
        body,
    )
        .into_response())
}

/// Whether a signed checkpoint's size makes `t` the partial tile of its level.
async fn checkpointed(conn: &mut AnyConnection, t: &TilePath) -> Result<bool, AuditError> {
    let Some((lo, hi)) = t.sizes() else {
        return Ok(false);
    };
    let lo = i64::try_from(lo).map_err(|_| AuditError::Invalid("size out of range"))?;
    let hi = i64::try_from(hi).unwrap_or(i64::MAX);
    let row = sqlx::query(
        "SELECT 1 AS one FROM audit_checkpoints WHERE size >= $1 AND size < $2 LIMIT 1",
    )
    .bind(lo)
    .bind(hi)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.is_some())
}

/// The tile's hashes: stored nodes `(8L, N*256 .. N*256+W)`, one range query.
async fn hashes(conn: &mut AnyConnection, t: &TilePath) -> Result<Vec<u8>, AuditError> {
    let (first, count) = t.nodes().ok_or(AuditError::NotFound)?;
    let from = i64::try_from(first.index).map_err(|_| AuditError::NotFound)?;
    let rows = sqlx::query(
        "SELECT idx, hash FROM audit_nodes WHERE level = $1 AND idx >= $2 AND idx < $3 ORDER BY idx",
    )
    .bind(i64::from(first.level))
    .bind(from)
    .bind(from.saturating_add(i64::try_from(count).unwrap_or(i64::MAX)))
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len() * HASH_SIZE);
    for (i, r) in rows.iter().enumerate() {
        if r.try_get::<i64, _>("idx")? != from + i as i64 {
            return Err(AuditError::Corrupt(format!(
                "tile {}: node missing",
                t.encode()
            )));
        }
        out.extend_from_slice(&hash_from_hex(&r.try_get::<String, _>("hash")?)?);
    }
    if rows.len() as u64 != count {
        return Err(AuditError::Corrupt(format!(
            "tile {}: nodes missing",
            t.encode()
        )));
    }
    Ok(out)
}

/// The entry bundle: the leaves `N*256 .. N*256+W`, uint16-length-prefixed.
async fn bundle(conn: &mut AnyConnection, t: &TilePath) -> Result<Vec<u8>, AuditError> {
    let (first, count) = t.nodes().ok_or(AuditError::NotFound)?;
    let rows = store::entries(conn, first.index, count).await?;
    if rows.len() as u64 != count
        || rows
            .iter()
            .enumerate()
            .any(|(i, e)| e.seq != first.index + i as u64)
    {
        return Err(AuditError::Corrupt(format!(
            "bundle {}: entries missing",
            t.encode()
        )));
    }
    entry_bundle(rows.iter().map(|e| e.leaf.as_slice()))
        .ok_or_else(|| AuditError::Corrupt(format!("bundle {}: leaf over 65535 bytes", t.encode())))
}
