//! Staff administration by an admin (issue 15 §1): create, disable, enable and reset the
//! password of a staff account (the password rule is `password_policy`'s). Owns the `admin`
//! audit chain ([`CHAIN`]): every action is one entry, appended in the same transaction as the
//! change. Disabling or resetting deletes every session of the account, so its tokens answer
//! 401 at once; a disabled account cannot log in (src/identity/routes.rs:officer_login) and
//! `auth.rs` ignores any session of a disabled account.

use secrecy::SecretString;
use serde_json::{Value, json};

use super::{Identity, Role, staff};
use crate::{
    error::{ApiResult, AppError},
    ids,
    store::Tx,
};

/// The audit chain (the leaf's `hearing_id` field) of every admin action.
pub const CHAIN: &str = "admin";
pub const BADGE_MAX: usize = 32;
pub const NAME_MAX: usize = 100;

/// 1 to `max` characters, not only spaces, no C0 control character or DEL: the schema's
/// `TEXT_PATTERN` in src/identity/admin.rs says the same.
fn text_ok(s: &str, max: usize) -> bool {
    !s.trim().is_empty() && s.chars().count() <= max && !s.chars().any(|c| c < ' ' || c == '\x7f')
}

/// A new account as the admin API receives it.
pub struct NewAccount {
    pub role: Role,
    pub badge: String,
    pub name: String,
    pub brigade_id: Option<String>,
    pub password: SecretString,
}

/// Creates a staff account (and its `staff_created` entry); returns its id.
pub async fn create(ident: &Identity, admin_id: &str, new: NewAccount) -> ApiResult<String> {
    let badge = new.badge.trim().to_string();
    if !text_ok(&new.badge, BADGE_MAX) {
        return Err(AppError::unprocessable(
            "badge",
            "badge must be 1 to 32 characters, no control characters",
        ));
    }
    if !text_ok(&new.name, NAME_MAX) {
        return Err(AppError::unprocessable(
            "name",
            "name must be 1 to 100 characters, no control characters",
        ));
    }
    if new.role == Role::Citizen {
        return Err(AppError::unprocessable(
            "role",
            "staff role must be officer, auditor or admin",
        ));
    }
    if new.role == Role::Officer && new.brigade_id.is_none() {
        return Err(AppError::unprocessable(
            "brigade_id",
            "an officer needs a brigade",
        ));
    }
    ident.policy.check(&new.password)?;
    if let Some(b) = &new.brigade_id {
        // PostgreSQL text cannot bind a NUL: such an id names no brigade.
        let found: Option<(String,)> = sqlx::query_as("SELECT id FROM brigades WHERE id = $1")
            .bind(b.replace('\0', ""))
            .fetch_optional(&ident.db.read)
            .await?;
        if b.contains('\0') || found.is_none() {
            return Err(AppError::unprocessable("brigade_id", "no such brigade"));
        }
    }
    let hash = ident.passwords.hash_api(new.password).await?;
    let id = ids::new_id();
    let now = ident.clock.now_ms();
    let mut tx = ident.db.begin().await?;
    staff::insert(
        &mut tx,
        &id,
        &badge,
        &new.name,
        new.role,
        new.brigade_id.as_deref(),
        &hash,
        now,
    )
    .await?;
    let payload = json!({"staff_id": id, "badge": badge, "role": new.role.as_str(), "brigade_id": new.brigade_id});
    append(&mut tx, "staff_created", admin_id, now, payload).await?;
    tx.commit().await?;
    Ok(id)
}

/// Disables (`disabled = true`) or enables an account. Disabling ends all its sessions at once.
/// An admin cannot disable their own account (409 `cannot_disable_self`).
pub async fn set_disabled(
    ident: &Identity,
    admin_id: &str,
    id: &str,
    disabled: bool,
) -> ApiResult<()> {
    if disabled && id == admin_id {
        return Err(AppError::conflict(
            "cannot_disable_self",
            "an admin cannot disable their own account",
        ));
    }
    let row = find_account(ident, id).await?;
    let now = ident.clock.now_ms();
    let mut tx = ident.db.begin().await?;
    let at = disabled.then_some(now);
    sqlx::query("UPDATE staff SET disabled_at = $1 WHERE id = $2")
        .bind(at)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let ended = if disabled {
        end_sessions(&mut tx, id, None).await?
    } else {
        0
    };
    let step = if disabled {
        "staff_disabled"
    } else {
        "staff_enabled"
    };
    let payload = json!({"staff_id": id, "badge": row.badge, "sessions_ended": ended});
    append(&mut tx, step, admin_id, now, payload).await?;
    tx.commit().await?;
    Ok(())
}

/// Sets a new password chosen by the admin and ends all the account's sessions, except the
/// session `keep` (the token hash of the admin's own request when they reset their own).
pub async fn reset_password(
    ident: &Identity,
    admin_id: &str,
    id: &str,
    password: SecretString,
    keep: Option<&str>,
) -> ApiResult<()> {
    ident.policy.check(&password)?;
    let row = find_account(ident, id).await?;
    let hash = ident.passwords.hash_api(password).await?;
    let now = ident.clock.now_ms();
    let mut tx = ident.db.begin().await?;
    sqlx::query("UPDATE staff SET password_hash = $1 WHERE id = $2")
        .bind(&hash)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let ended = end_sessions(&mut tx, id, keep).await?;
    let payload = json!({"staff_id": id, "badge": row.badge, "sessions_ended": ended});
    append(&mut tx, "staff_password_reset", admin_id, now, payload).await?;
    tx.commit().await?;
    Ok(())
}

/// Removes the account's second factor (a lost phone) and ends its sessions but `keep` (the
/// admin's own request when they reset their own): its next login answers as for an account
/// without TOTP (in production: an enrol-only session).
pub async fn reset_totp(
    ident: &Identity,
    admin_id: &str,
    id: &str,
    keep: Option<&str>,
) -> ApiResult<()> {
    let row = find_account(ident, id).await?;
    let now = ident.clock.now_ms();
    let mut tx = ident.db.begin().await?;
    let removed = super::second_factor::reset(&mut tx, id).await?;
    let ended = end_sessions(&mut tx, id, keep).await?;
    let payload = json!({"staff_id": id, "badge": row.badge, "had_totp": removed > 0, "sessions_ended": ended});
    append(&mut tx, "staff_totp_reset", admin_id, now, payload).await?;
    tx.commit().await?;
    Ok(())
}

/// The sessions of staff account `id` (404 for an unknown account).
pub async fn sessions(
    ident: &Identity,
    id: &str,
) -> ApiResult<Vec<super::session_list::SessionView>> {
    find_account(ident, id).await?;
    super::session_list::list(ident, id, None).await
}

/// Ends session `session_id` of staff account `id` (404 when the account has no such session),
/// with a `staff_session_revoked` entry.
pub async fn revoke_session(
    ident: &Identity,
    admin_id: &str,
    id: &str,
    session_id: &str,
) -> ApiResult<()> {
    let row = find_account(ident, id).await?;
    if session_id.contains('\0') {
        return Err(AppError::not_found());
    }
    let now = ident.clock.now_ms();
    let mut tx = ident.db.begin().await?;
    let r =
        sqlx::query("DELETE FROM sessions WHERE id = $1 AND subject_id = $2 AND role <> 'citizen'")
            .bind(session_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
    if r.rows_affected() == 0 {
        return Err(AppError::not_found());
    }
    let payload = json!({"staff_id": id, "badge": row.badge, "session_id": session_id});
    append(&mut tx, "staff_session_revoked", admin_id, now, payload).await?;
    tx.commit().await?;
    Ok(())
}

/// The account `id` or 404 (an id with a NUL names none: PostgreSQL text cannot bind one).
async fn find_account(ident: &Identity, id: &str) -> ApiResult<staff::StaffRow> {
    if id.contains('\0') {
        return Err(AppError::not_found());
    }
    staff::find(ident, id)
        .await?
        .ok_or_else(AppError::not_found)
}

/// Deletes every session of staff account `id` but `keep` (a token hash); returns how many.
async fn end_sessions(tx: &mut Tx, id: &str, keep: Option<&str>) -> ApiResult<i64> {
    let r = sqlx::query(
        "DELETE FROM sessions WHERE subject_id = $1 AND role <> 'citizen' AND token_hash <> $2",
    )
    .bind(id)
    .bind(keep.unwrap_or(""))
    .execute(&mut **tx)
    .await?;
    Ok(i64::try_from(r.rows_affected()).unwrap_or(i64::MAX))
}

async fn append(
    tx: &mut Tx,
    step: &str,
    admin_id: &str,
    at_ms: i64,
    payload: Value,
) -> ApiResult<()> {
    append_as(tx, step, (Role::Admin.as_str(), admin_id), at_ms, payload).await
}

/// Seals an admin action of another area (a brigade's settings, closed dates) on the `admin`
/// chain in its own transaction, after the change committed, and waits until it is durable.
pub async fn seal_action(
    db: &crate::store::Db,
    admin_id: &str,
    step: &str,
    at_ms: i64,
    payload: Value,
) -> ApiResult<()> {
    let mut tx = db.begin().await?;
    append(&mut tx, step, admin_id, at_ms, payload).await?;
    tx.commit().await?;
    db.durable().await?;
    Ok(())
}

/// Appends an entry on the `admin` chain with `actor` (role, id): staff enrolling their own
/// second factor, the server (`system`) locking a badge out.
pub(super) async fn append_as(
    tx: &mut Tx,
    step: &str,
    (role, id): (&str, &str),
    at_ms: i64,
    payload: Value,
) -> ApiResult<()> {
    crate::audit::append_on(tx, CHAIN, step, (role, id), at_ms, payload).await?;
    Ok(())
}
