//! Staff accounts (officers, auditors, admins): created by the admin CLI or an admin; no open
//! sign-up.

use axum::extract::FromRef;
use secrecy::SecretString;

use crate::ids;

use super::{Identity, Role};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StaffRow {
    pub id: String,
    pub badge: String,
    pub name: String,
    pub role: String,
    pub brigade_id: Option<String>,
    pub password_hash: String,
    /// When an admin disabled the account (ms); `None` while it is active.
    pub disabled_at: Option<i64>,
}

pub struct NewStaff {
    pub role: Role,
    pub badge: String,
    pub name: String,
    pub brigade_id: Option<String>,
    pub password: SecretString,
}

/// Creates a staff account and returns its id.
pub async fn create<S>(state: &S, new: NewStaff) -> anyhow::Result<String>
where
    Identity: FromRef<S>,
{
    let ident = Identity::from_ref(state);
    if new.role == Role::Citizen {
        anyhow::bail!("staff role must be officer, auditor or admin");
    }
    if new.badge.trim().is_empty() || new.badge.chars().count() > 32 {
        anyhow::bail!("badge must be 1 to 32 characters");
    }
    if new.role == Role::Officer && new.brigade_id.is_none() {
        anyhow::bail!("an officer needs --brigade ID");
    }
    if let Some(b) = &new.brigade_id {
        let found: Option<(String,)> = sqlx::query_as("SELECT id FROM brigades WHERE id = $1")
            .bind(b)
            .fetch_optional(&ident.db.read)
            .await?;
        if found.is_none() {
            anyhow::bail!("no brigade with id {b}");
        }
    }
    // The same rule as the admin API (12–128 characters, not breached).
    if let Err(e) = ident.policy.check(&new.password) {
        anyhow::bail!("{}", e.message);
    }
    let hash = ident.passwords.hash(new.password).await?;
    let id = ids::new_id();
    let mut conn = ident.db.write.acquire().await?;
    insert(
        &mut conn,
        &id,
        &new.badge,
        &new.name,
        new.role,
        new.brigade_id.as_deref(),
        &hash,
        ident.clock.now_ms(),
    )
    .await
    .map_err(|e| match crate::error::AppError::from(e) {
        app if app.code == "badge_taken" => {
            anyhow::anyhow!("badge {} is already registered", new.badge)
        }
        app => anyhow::anyhow!("{}", app.message),
    })?;
    Ok(id)
}

/// Inserts a staff row (the badge trimmed) on `conn`: the CLI's [`create`] and the admin API's
/// transaction (src/identity/staff_admin.rs) share it.
#[allow(clippy::too_many_arguments)]
pub async fn insert(
    conn: &mut sqlx::AnyConnection,
    id: &str,
    badge: &str,
    name: &str,
    role: Role,
    brigade_id: Option<&str>,
    password_hash: &str,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO staff (id, badge, name, role, brigade_id, password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(badge.trim())
    .bind(name)
    .bind(role.as_str())
    .bind(brigade_id)
    .bind(password_hash)
    .bind(now_ms)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn find_by_badge<S>(state: &S, badge: &str) -> Result<Option<StaffRow>, sqlx::Error>
where
    Identity: FromRef<S>,
{
    sqlx::query_as(
        "SELECT id, badge, name, role, brigade_id, password_hash, disabled_at FROM staff WHERE badge = $1",
    )
    .bind(badge)
    .fetch_optional(&Identity::from_ref(state).db.read)
    .await
}

pub async fn find<S>(state: &S, id: &str) -> Result<Option<StaffRow>, sqlx::Error>
where
    Identity: FromRef<S>,
{
    sqlx::query_as(
        "SELECT id, badge, name, role, brigade_id, password_hash, disabled_at FROM staff WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&Identity::from_ref(state).db.read)
    .await
}
