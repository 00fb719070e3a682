//! Staff administration endpoints (admin role only, issue 15 §1): list, create, disable,
//! enable, reset password, reset the second factor. The rules and the audit entries live in
//! `staff_admin`.

use axum::extract::State;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{AdminAuth, AnyAuth, Role, staff, staff_admin};
use crate::{
    error::{ApiResult, AppError},
    http::{Json, Path},
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_staff, create_staff))
        .routes(routes!(disable_staff))
        .routes(routes!(enable_staff))
        .routes(routes!(reset_password))
        .routes(routes!(reset_totp))
        .routes(routes!(staff_sessions))
        .routes(routes!(revoke_staff_session))
}

/// A staff role (citizens are not staff).
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StaffRole {
    Officer,
    Auditor,
    Admin,
}

impl From<StaffRole> for Role {
    fn from(r: StaffRole) -> Role {
        match r {
            StaffRole::Officer => Role::Officer,
            StaffRole::Auditor => Role::Auditor,
            StaffRole::Admin => Role::Admin,
        }
    }
}

/// A staff account; never its password hash.
#[derive(Serialize, ToSchema)]
pub struct StaffListItem {
    id: String,
    badge: String,
    name: String,
    role: String,
    brigade_id: Option<String>,
    /// False once an admin disabled the account.
    active: bool,
}

impl From<staff::StaffRow> for StaffListItem {
    fn from(r: staff::StaffRow) -> Self {
        StaffListItem {
            id: r.id,
            badge: r.badge,
            name: r.name,
            role: r.role,
            brigade_id: r.brigade_id,
            active: r.disabled_at.is_none(),
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct CreateStaff {
    role: StaffRole,
    /// 1 to 32 characters, not only spaces (trimmed), no control characters.
    #[schema(
        min_length = 1,
        max_length = 32,
        pattern = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
    )]
    badge: String,
    /// 1 to 100 characters, not only spaces, no control characters.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
    )]
    name: String,
    /// Required for an officer; an existing brigade.
    #[schema(max_length = 64)]
    brigade_id: Option<String>,
    /// 12 to 128 characters.
    #[schema(value_type = String, min_length = 12, max_length = 128)]
    password: SecretString,
}

#[derive(Deserialize, ToSchema)]
pub struct ResetPassword {
    /// 12 to 128 characters.
    #[schema(value_type = String, min_length = 12, max_length = 128)]
    password: SecretString,
}

#[derive(Serialize, ToSchema)]
pub struct StaffDone {
    id: String,
    active: bool,
}

/// Staff accounts (admins only).
#[utoipa::path(get, path = "/api/v1/admin/staff", responses((status = 200, body = [StaffListItem]),
    (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
async fn list_staff(
    State(state): State<AppState>,
    _admin: AdminAuth,
) -> ApiResult<Json<Vec<StaffListItem>>> {
    let rows: Vec<staff::StaffRow> = sqlx::query_as(
        "SELECT id, badge, name, role, brigade_id, password_hash, disabled_at FROM staff ORDER BY badge",
    )
    .fetch_all(&state.db.read)
    .await?;
    Ok(Json(rows.into_iter().map(StaffListItem::from).collect()))
}

/// Creates a staff account (admins only): 422 `invalid_field` / `weak_password` with the field,
/// 409 `badge_taken`.
#[utoipa::path(post, path = "/api/v1/admin/staff", request_body = CreateStaff,
    responses((status = 201, body = StaffListItem), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
async fn create_staff(
    State(state): State<AppState>,
    admin: AdminAuth,
    Json(req): Json<CreateStaff>,
) -> ApiResult<(axum::http::StatusCode, Json<StaffListItem>)> {
    let ident = &state.identity;
    let new = staff_admin::NewAccount {
        role: req.role.into(),
        badge: req.badge,
        name: req.name,
        brigade_id: req.brigade_id,
        password: req.password,
    };
    let id = staff_admin::create(ident, &admin.user_id, new).await?;
    let row = staff::find(ident, &id)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok((axum::http::StatusCode::CREATED, Json(row.into())))
}

/// Disables a staff account: it cannot log in and every session of it answers 401 at once.
#[utoipa::path(post, path = "/api/v1/admin/staff/{id}/disable", params(("id" = String, Path)),
    responses((status = 200, body = StaffDone), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
async fn disable_staff(
    State(state): State<AppState>,
    admin: AdminAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<StaffDone>> {
    staff_admin::set_disabled(&state.identity, &admin.user_id, &id, true).await?;
    Ok(Json(StaffDone { id, active: false }))
}

/// Enables a disabled staff account again (its old sessions stay ended).
#[utoipa::path(post, path = "/api/v1/admin/staff/{id}/enable", params(("id" = String, Path)),
    responses((status = 200, body = StaffDone), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
async fn enable_staff(
    State(state): State<AppState>,
    admin: AdminAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<StaffDone>> {
    staff_admin::set_disabled(&state.identity, &admin.user_id, &id, false).await?;
    Ok(Json(StaffDone { id, active: true }))
}

/// Sets a new password for a staff account; every session of it ends (but the caller's own,
/// when an admin resets their own password).
#[utoipa::path(post, path = "/api/v1/admin/staff/{id}/reset-password", params(("id" = String, Path)),
    request_body = ResetPassword,
    responses((status = 200, body = StaffDone), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
async fn reset_password(
    State(state): State<AppState>,
    admin: AdminAuth,
    session: AnyAuth,
    Path(id): Path<String>,
    Json(req): Json<ResetPassword>,
) -> ApiResult<Json<StaffDone>> {
    let ident = &state.identity;
    // An admin resetting their own password keeps the session they did it with.
    let keep = (id == admin.user_id).then_some(session.token_hash.as_str());
    staff_admin::reset_password(ident, &admin.user_id, &id, req.password, keep).await?;
    done(ident, id).await
}

/// Removes a staff account's TOTP second factor (a lost phone) and ends its sessions (but the
/// caller's own, when an admin resets their own); its next login enrols again.
#[utoipa::path(post, path = "/api/v1/admin/staff/{id}/reset-totp", params(("id" = String, Path)),
    responses((status = 200, body = StaffDone), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
async fn reset_totp(
    State(state): State<AppState>,
    admin: AdminAuth,
    session: AnyAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<StaffDone>> {
    let ident = &state.identity;
    // An admin resetting their own keeps the session they did it with.
    let keep = (id == admin.user_id).then_some(session.token_hash.as_str());
    staff_admin::reset_totp(ident, &admin.user_id, &id, keep).await?;
    done(ident, id).await
}

/// A staff account's sessions (not expired), newest first.
#[utoipa::path(get, path = "/api/v1/admin/staff/{id}/sessions", params(("id" = String, Path)),
    responses((status = 200, body = [super::session_list::SessionView]),
        (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
async fn staff_sessions(
    State(state): State<AppState>,
    _admin: AdminAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<super::session_list::SessionView>>> {
    Ok(Json(staff_admin::sessions(&state.identity, &id).await?))
}

/// Ends one session of a staff account (audited as `staff_session_revoked`); 404 when the
/// account has no such session.
#[utoipa::path(delete, path = "/api/v1/admin/staff/{id}/sessions/{session_id}",
    params(("id" = String, Path), ("session_id" = String, Path)),
    responses((status = 204), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
async fn revoke_staff_session(
    State(state): State<AppState>,
    admin: AdminAuth,
    Path((id, session_id)): Path<(String, String)>,
) -> ApiResult<axum::http::StatusCode> {
    staff_admin::revoke_session(&state.identity, &admin.user_id, &id, &session_id).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// The account `id` as it stands after an admin action.
async fn done(ident: &super::Identity, id: String) -> ApiResult<Json<StaffDone>> {
    let row = staff::find(ident, &id)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(Json(StaffDone {
        id,
        active: row.disabled_at.is_none(),
    }))
}
