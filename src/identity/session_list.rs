//! A caller's own sessions (issue 15 §2): the list (created, last seen, the address masked, the
//! User-Agent truncated, which one is the caller's), revoking one (another account's session is
//! a 404, as if it did not exist), an admin doing the same for a staff account, and the staff
//! idle timeout: a staff session unused for longer than `auth.staff_idle_timeout_s` is deleted
//! and answers 401 `session_expired`. `last_seen_at` is written at most once a minute per
//! session, so the timeout is exact to a minute and a busy page costs no write per request.

use std::net::IpAddr;

use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use super::{Identity, Role};
use crate::error::{ApiResult, AppError};

/// How often (ms) a used session's `last_seen_at` is written at most.
pub const TOUCH_EVERY_MS: i64 = 60_000;
/// The longest User-Agent kept, and the longest shown, in characters.
pub const USER_AGENT_KEPT: usize = 256;
pub const USER_AGENT_SHOWN: usize = 80;

/// Where a session was opened from.
#[derive(Debug, Default, Clone, Copy)]
pub struct Origin<'a> {
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
}

/// One session as its owner (or an admin) sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    /// The session's public id (for `DELETE`); never the token.
    pub id: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub last_seen_at: chrono::DateTime<chrono::Utc>,
    /// The login's address with its last part hidden (`203.0.113.*`, `2001:db8:1:*`).
    pub ip_masked: Option<String>,
    /// The login's User-Agent, at most 80 characters (`…` when cut).
    pub user_agent: Option<String>,
    /// This is the session of the request.
    pub current: bool,
}

/// `203.0.113.7` → `203.0.113.*`; IPv6: the first three groups (`2001:db8:1:*`).
pub fn mask_ip(ip: &str) -> String {
    match ip.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.*")
        }
        Ok(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:*", s[0], s[1], s[2])
        }
        Err(_) => "*".to_string(),
    }
}

/// At most `max` characters, `…` appended when cut; control characters dropped.
pub fn truncate(text: &str, max: usize) -> String {
    let clean: String = text.chars().filter(|c| !c.is_control()).collect();
    if clean.chars().count() <= max {
        return clean;
    }
    let mut out: String = clean.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

type Row = (
    String,
    String,
    i64,
    Option<i64>,
    Option<String>,
    Option<String>,
);

/// The sessions of `subject_id` (not expired), newest first; `current` marks `token_hash`'s.
pub async fn list(
    ident: &Identity,
    subject_id: &str,
    token_hash: Option<&str>,
) -> ApiResult<Vec<SessionView>> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, token_hash, created_at, last_seen_at, ip, user_agent FROM sessions \
         WHERE subject_id = $1 AND expires_at > $2 AND id IS NOT NULL ORDER BY created_at DESC, id",
    )
    .bind(subject_id)
    .bind(ident.clock.now_ms())
    .fetch_all(&ident.db.read)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, hash, created, seen, ip, ua)| SessionView {
            id,
            current: token_hash == Some(hash.as_str()),
            created_at: crate::clock::from_ms(created),
            last_seen_at: crate::clock::from_ms(seen.unwrap_or(created)),
            ip_masked: ip.as_deref().map(mask_ip),
            user_agent: ua.as_deref().map(|u| truncate(u, USER_AGENT_SHOWN)),
        })
        .collect())
}

/// Deletes session `id` of `subject_id`; 404 when `subject_id` has no such session.
pub async fn revoke(ident: &Identity, subject_id: &str, id: &str) -> ApiResult<()> {
    if id.contains('\0') {
        return Err(AppError::not_found());
    }
    let r = sqlx::query("DELETE FROM sessions WHERE id = $1 AND subject_id = $2")
        .bind(id)
        .bind(subject_id)
        .execute(&ident.db.write)
        .await?;
    if r.rows_affected() == 0 {
        return Err(AppError::not_found());
    }
    Ok(())
}

/// The idle rule at each use of a session: a staff session unused for longer than the timeout
/// is deleted and refused (401 `session_expired`); otherwise `last_seen_at` is moved to now
/// when it is more than [`TOUCH_EVERY_MS`] old.
pub async fn on_use(
    ident: &Identity,
    token_hash: &str,
    role: Role,
    last_seen_at: Option<i64>,
) -> ApiResult<()> {
    let now = ident.clock.now_ms();
    let idle_ms = i64::try_from(ident.config.staff_idle_timeout_s)
        .unwrap_or(i64::MAX / 1000)
        .saturating_mul(1000);
    let seen = last_seen_at.unwrap_or(now);
    if role != Role::Citizen && idle_ms > 0 && now - seen > idle_ms {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&ident.db.write)
            .await?;
        return Err(AppError::new(
            StatusCode::UNAUTHORIZED,
            "session_expired",
            "the session was unused for too long; log in again",
        ));
    }
    if last_seen_at.is_none_or(|s| now - s >= TOUCH_EVERY_MS) {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
            .bind(now)
            .bind(token_hash)
            .execute(&ident.db.write)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_masked_and_agents_cut() {
        assert_eq!(mask_ip("203.0.113.7"), "203.0.113.*");
        assert_eq!(mask_ip("2001:db8:1:2::5"), "2001:db8:1:*");
        assert_eq!(mask_ip("not an address"), "*");
        assert_eq!(truncate("short", 80), "short");
        let long = "x".repeat(100);
        let cut = truncate(&long, 80);
        assert_eq!(cut.chars().count(), 80);
        assert!(cut.ends_with('…'));
        assert_eq!(truncate("a\u{0}b\nc", 80), "abc");
    }
}
