//! Per-role extractors: a handler's signature states who may call it. A missing or expired
//! token is 401; a valid token of the wrong role is 403. An enrol-only staff session (TOTP
//! required, none enrolled yet) reaches only [`ENROL_ONLY_PATHS`]; elsewhere it is 403
//! `totp_enrolment_required`. A staff session unused for longer than
//! `auth.staff_idle_timeout_s` is 401 `session_expired` (src/identity/session_list.rs). The
//! token comes from `Authorization: Bearer`, or from the pages' session cookie (`cookie`).

use axum::{
    extract::{FromRef, FromRequestParts},
    http::request::Parts,
};
use serde::{Deserialize, Serialize};

use super::Identity;
use crate::{error::AppError, ids};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Citizen,
    Officer,
    Auditor,
    Admin,
    /// Someone the officer added to one hearing (interpreter, agent, supervisor), signed in with
    /// that hearing's participant SMS code; the subject is the participant's id.
    Participant,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Citizen => "citizen",
            Role::Officer => "officer",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
            Role::Participant => "participant",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "citizen" => Some(Role::Citizen),
            "officer" => Some(Role::Officer),
            "auditor" => Some(Role::Auditor),
            "admin" => Some(Role::Admin),
            "participant" => Some(Role::Participant),
            _ => None,
        }
    }
}

impl AnyAuth {
    /// Officers, auditors and admins (not citizens, not hearing participants).
    pub fn is_staff(&self) -> bool {
        self.role.is_staff()
    }
}

impl Role {
    /// Officers, auditors and admins (not citizens, not hearing participants).
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Officer | Role::Auditor | Role::Admin)
    }
}

/// Any valid session.
#[derive(Debug, Clone)]
pub struct AnyAuth {
    pub role: Role,
    pub subject_id: String,
    pub brigade_id: Option<String>,
    pub token_hash: String,
    /// The session may only enrol TOTP.
    pub enrol_only: bool,
}

/// What an enrol-only session may call (prefixes: the session list's `/{id}` too).
pub const ENROL_ONLY_PATHS: [&str; 4] = [
    "/api/v1/auth/totp/",
    "/api/v1/auth/me",
    "/api/v1/auth/logout",
    "/api/v1/auth/sessions",
];

fn enrol_only_allows(path: &str) -> bool {
    ENROL_ONLY_PATHS.iter().any(|p| path.starts_with(p))
}

fn bearer(parts: &Parts) -> Option<&str> {
    let v = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty() && t.len() <= 128)
}

impl<S> FromRequestParts<S> for AnyAuth
where
    Identity: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        if let Some(found) = parts.extensions.get::<AnyAuth>() {
            return Ok(found.clone());
        }
        let id = Identity::from_ref(state);
        let token = match bearer(parts) {
            Some(t) => t,
            None => super::cookie::token_from_cookie(&parts.method, &parts.headers)?
                .ok_or_else(AppError::unauthorized)?,
        };
        let hash = ids::token_hash(token);
        type Row = (String, String, Option<String>, i64, Option<i64>);
        let row: Option<Row> = sqlx::query_as(
            "SELECT s.role, s.subject_id, st.brigade_id, s.enrol_only, s.last_seen_at FROM sessions s \
             LEFT JOIN staff st ON st.id = s.subject_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND st.disabled_at IS NULL",
        )
        .bind(&hash)
        .bind(id.clock.now_ms())
        .fetch_optional(&id.db.read)
        .await?;
        let (role, subject_id, brigade_id, enrol_only, last_seen) =
            row.ok_or_else(AppError::unauthorized)?;
        let role = Role::parse(&role).ok_or_else(AppError::unauthorized)?;
        super::session_list::on_use(&id, &hash, role, last_seen).await?;
        let enrol_only = enrol_only != 0;
        if enrol_only && !enrol_only_allows(parts.uri.path()) {
            return Err(AppError::new(
                axum::http::StatusCode::FORBIDDEN,
                "totp_enrolment_required",
                "enrol the authenticator app first (POST /api/v1/auth/totp/enroll)",
            ));
        }
        let auth = AnyAuth {
            role,
            subject_id,
            brigade_id,
            token_hash: hash,
            enrol_only,
        };
        parts.extensions.insert(auth.clone());
        Ok(auth)
    }
}

macro_rules! role_extractor {
    ($(#[$doc:meta])* $name:ident, |$a:ident| $allowed:expr, { $($field:ident : $val:expr),* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name { $(pub $field: role_extractor!(@ty $field)),* }

        impl<S> FromRequestParts<S> for $name
        where
            Identity: FromRef<S>,
            S: Send + Sync,
        {
            type Rejection = AppError;
            async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
                let $a = AnyAuth::from_request_parts(parts, state).await?;
                if !$allowed {
                    return Err(AppError::forbidden());
                }
                Ok($name { $($field: $val),* })
            }
        }
    };
    (@ty citizen_id) => { String };
    (@ty participant_id) => { String };
    (@ty user_id) => { String };
    (@ty brigade_id) => { Option<String> };
    (@ty role) => { Role };
}

role_extractor!(
    /// A logged-in citizen.
    CitizenAuth, |a| a.role == Role::Citizen, { citizen_id: a.subject_id }
);
role_extractor!(
    /// An officer (of the brigade in `brigade_id`).
    OfficerAuth, |a| a.role == Role::Officer, { user_id: a.subject_id.clone(), brigade_id: a.brigade_id }
);
role_extractor!(
    /// An auditor (read-only).
    AuditorAuth, |a| a.role == Role::Auditor, { user_id: a.subject_id }
);
role_extractor!(
    /// An administrator.
    AdminAuth, |a| a.role == Role::Admin, { user_id: a.subject_id }
);
role_extractor!(
    /// A hearing participant (interpreter, agent, supervisor) of one hearing.
    ParticipantAuth, |a| a.role == Role::Participant, { participant_id: a.subject_id }
);
role_extractor!(
    /// Any staff member: officer, auditor or admin.
    StaffAuth, |a| a.is_staff(), { user_id: a.subject_id.clone(), role: a.role, brigade_id: a.brigade_id }
);
