//! Sessions: a random 256-bit token handed to the client once; only its SHA-256 is stored,
//! with the role, the subject, an expiry, whether it may only enrol TOTP, a public id, when it
//! was last used and where it was opened from (src/identity/session_list.rs).

use axum::extract::FromRef;
use tokio::sync::watch;

use crate::{error::ApiResult, ids};

use super::{Identity, Role, session_list::Origin};

/// Creates a session and returns the token (shown once).
pub async fn create<S>(state: &S, role: Role, subject_id: &str) -> ApiResult<String>
where
    Identity: FromRef<S>,
{
    create_staff(
        &Identity::from_ref(state),
        role,
        subject_id,
        false,
        Origin::default(),
    )
    .await
}

/// Creates a session opened from `origin`; `enrol_only`: it may only enrol TOTP
/// (src/identity/auth.rs).
pub async fn create_staff(
    id: &Identity,
    role: Role,
    subject_id: &str,
    enrol_only: bool,
    origin: Origin<'_>,
) -> ApiResult<String> {
    let token = ids::random_token()?;
    let now = id.clock.now_ms();
    let expires = now + (id.config.session_ttl_s as i64) * 1000;
    let ua = origin
        .user_agent
        .map(|u| super::session_list::truncate(u, super::session_list::USER_AGENT_KEPT));
    sqlx::query(
        "INSERT INTO sessions (token_hash, role, subject_id, created_at, expires_at, enrol_only, \
         id, last_seen_at, ip, user_agent) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(ids::token_hash(&token))
    .bind(role.as_str())
    .bind(subject_id)
    .bind(now)
    .bind(expires)
    .bind(i64::from(enrol_only))
    .bind(ids::new_id())
    .bind(now)
    .bind(origin.ip)
    .bind(ua)
    .execute(&id.db.write)
    .await?;
    Ok(token)
}

pub async fn delete<S>(state: &S, token_hash: &str) -> ApiResult<()>
where
    Identity: FromRef<S>,
{
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(&Identity::from_ref(state).db.write)
        .await?;
    Ok(())
}

/// Job: deletes expired sessions every ten minutes.
pub async fn sweep_expired(id: Identity, mut stop: watch::Receiver<bool>) {
    while crate::jobs::tick(&mut stop, std::time::Duration::from_secs(600)).await {
        let r = sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(id.clock.now_ms())
            .execute(&id.db.write)
            .await;
        if let Err(e) = r {
            tracing::warn!(error = %e, "session sweep failed");
        }
    }
}
