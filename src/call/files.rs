//! Recordings API (API.md, Recordings): the listing of a hearing's recordings and the download
//! of one file with range requests. Paths come from the `recordings` table and are resolved
//! under the recordings directory only (no `..`, no absolute paths, no symlink escapes).

use axum::extract::{FromRef, Request, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tower::ServiceExt;
use tower_http::services::ServeFile;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::Call;
use crate::clock::from_ms;
use crate::error::{ApiResult, AppError};
use crate::http::{Json, Path};
use crate::identity::{Identity, Role, StaffAuth};

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Call: FromRef<S>,
    Identity: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(download))
}

/// One recorded file.
#[derive(Debug, Serialize, ToSchema)]
pub struct Recording {
    pub id: String,
    /// `citizen` or `officer`; null for the segment's manifest.
    pub participant: Option<String>,
    /// `audio`, `video` or `manifest` (a participant's `webm` is `video` when it has video).
    pub kind: String,
    /// `rtp`, `ivf`, `ogg`, `webm` (one per participant, audio and video, for browsers) or
    /// `json`.
    pub format: String,
    pub bytes: i64,
    pub sha256: String,
    pub segment: String,
    pub truncated: bool,
    pub started_at: Option<chrono::DateTime<chrono::Utc>>,
    pub ended_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When the retention sweep deleted the file (its digest stays sealed); null while kept.
    pub deleted_at: Option<chrono::DateTime<chrono::Utc>>,
}

type Row = (
    String,
    Option<String>,
    String,
    String,
    i64,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

/// Who may see a hearing's recordings: auditors, and the hearing's officer.
async fn check_access(state: &Call, auth: &StaffAuth, hearing_id: &str) -> ApiResult<()> {
    match auth.role {
        Role::Auditor => Ok(()),
        Role::Officer => {
            let officer: Option<(String,)> =
                sqlx::query_as("SELECT officer_id FROM hearings WHERE id = $1")
                    .bind(hearing_id)
                    .fetch_optional(&state.db.read)
                    .await?;
            match officer {
                Some((o,)) if o == auth.user_id => Ok(()),
                _ => Err(AppError::not_found()),
            }
        }
        _ => Err(AppError::forbidden()),
    }
}

/// Lists a hearing's recordings.
#[utoipa::path(get, path = "/api/v1/hearings/{id}/recordings",
    params(("id" = String, Path, description = "hearing id")),
    responses((status = 200, body = [Recording]), (status = 404, body = crate::error::ErrorBody)))]
async fn list(
    State(state): State<Call>,
    auth: StaffAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Recording>>> {
    check_access(&state, &auth, &id).await?;
    Ok(Json(listing(&state, &id).await?))
}

/// A hearing's recordings (no access check: callers check).
pub async fn listing(state: &Call, id: &str) -> ApiResult<Vec<Recording>> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, participant, kind, format, bytes, sha256, segment, truncated, started_at, ended_at, \
         deleted_at FROM recordings WHERE hearing_id = $1 ORDER BY segment, kind, participant, format",
    )
    .bind(id)
    .fetch_all(&state.db.read)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Recording {
            id: r.0,
            participant: r.1,
            kind: r.2,
            format: r.3,
            bytes: r.4,
            sha256: r.5,
            segment: r.6,
            truncated: r.7 != 0,
            started_at: r.8.map(from_ms),
            ended_at: r.9.map(from_ms),
            deleted_at: r.10.map(from_ms),
        })
        .collect())
}

fn mime(format: &str) -> &'static str {
    match format {
        "ivf" => "video/x-ivf",
        "ogg" => "audio/ogg",
        "webm" => "video/webm",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
}

/// Downloads one recorded file (supports `Range`).
#[utoipa::path(get, path = "/api/v1/recordings/{id}",
    params(("id" = String, Path, description = "recording id")),
    responses((status = 200, description = "the file"), (status = 206, description = "a range of the file"),
        (status = 404, body = crate::error::ErrorBody), (status = 410, body = crate::error::ErrorBody)))]
async fn download(
    State(state): State<Call>,
    auth: StaffAuth,
    Path(id): Path<String>,
    req: Request,
) -> ApiResult<Response> {
    if id.len() > 64 {
        return Err(AppError::not_found());
    }
    let row: Option<(String, String, String, Option<i64>)> = sqlx::query_as(
        "SELECT hearing_id, rel_path, format, deleted_at FROM recordings WHERE id = $1",
    )
    .bind(&id)
    .fetch_optional(&state.db.read)
    .await?;
    let (hearing_id, rel_path, format, deleted) = row.ok_or_else(AppError::not_found)?;
    check_access(&state, &auth, &hearing_id).await?;
    if deleted.is_some() {
        return Err(AppError::new(
            axum::http::StatusCode::GONE,
            "deleted_by_retention",
            "this recording was deleted when its retention period ended (its digest stays sealed)",
        ));
    }
    let path =
        recordings::resolve(&state.recordings_dir, &rel_path).ok_or_else(AppError::not_found)?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("recording")
        .to_owned();
    let mut resp = match opened(&state, &hearing_id, path.clone()).await? {
        // sealed at rest: decrypted, ranges read only the chunks they cover
        Some(file) => crate::http::range::serve(file, mime(&format), req.headers()).await,
        // written before encryption: served as stored
        None => {
            let (parts, _) = req.into_parts();
            let head_only = Request::from_parts(parts, axum::body::Body::empty());
            ServeFile::new_with_mime(&path, &mime(&format).parse().map_err(AppError::internal)?)
                .oneshot(head_only)
                .await
                .map_err(AppError::internal)?
                .into_response()
        }
    };
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// A sealed recording opened with its hearing's key (None: a plaintext file written before
/// encryption). A sealed file whose key is gone or whose header does not check is a 500.
async fn opened(
    state: &Call,
    hearing_id: &str,
    path: std::path::PathBuf,
) -> ApiResult<Option<recordings::sealed::PlainFile<std::sync::Arc<recordings::sealed::FileKey>>>> {
    let p = path.clone();
    let header = tokio::task::spawn_blocking(move || recordings::sealed::read_header(&p))
        .await
        .map_err(AppError::internal)?
        .map_err(|_| AppError::not_found())?;
    let Some(key_id) = recordings::sealed::key_id(&header) else {
        return Ok(None);
    };
    let key = state
        .vault
        .key_by_id(&state.db.read, hearing_id, &key_id)
        .await?
        .ok_or_else(|| AppError::internal("the key of a kept recording is gone"))?;
    let file =
        tokio::task::spawn_blocking(move || recordings::sealed::PlainFile::open(&path, Some(key)))
            .await
            .map_err(AppError::internal)?
            .map_err(AppError::internal)?;
    Ok(Some(file))
}
