//! Staff login: badge + password, and the TOTP code once the account has enrolled (issue 15 §2).
//! Order: the code is checked first (without spending it), so a login carrying a right code is
//! never refused by the per-badge limit (`login_throttle`); then the throttles, the password, and
//! only then the code is spent (`second_factor::consume`, once per time step). A right password
//! without a code answers 401 `totp_required` (the pages then ask for it); a wrong, stale or
//! replayed code 401 `totp_invalid`, counted against the badge like a wrong password. While TOTP
//! is required (`production`, or `auth.totp_required`) an account without it gets a session that
//! may only enrol.

use axum::http::StatusCode;
use secrecy::SecretString;

use super::{
    Identity, Role,
    login_throttle::{self, SecondFactor},
    second_factor,
    session_list::Origin,
    sessions,
    staff::{self, StaffRow},
};
use crate::{
    error::{ApiResult, AppError},
    throttle::Windows,
};

/// A successful staff login.
pub struct LoggedIn {
    pub row: StaffRow,
    pub role: Role,
    pub token: String,
    /// The session may only enrol TOTP.
    pub enrol_only: bool,
}

fn unauthorized(code: &'static str, message: &str) -> AppError {
    AppError::new(StatusCode::UNAUTHORIZED, code, message)
}

/// Logs staff member `badge` in from address `ip`.
pub async fn login(
    ident: &Identity,
    ip: &str,
    badge: &str,
    password: SecretString,
    (code, user_agent): (Option<&str>, Option<&str>),
) -> ApiResult<LoggedIn> {
    let w = Windows::new(&ident.kv, ident.clock.as_ref());
    let cfg = &ident.config;
    let row = staff::find_by_badge(ident, badge).await?;
    let enrolled = match &row {
        Some(r) => second_factor::confirmed(ident, &r.id, &r.badge).await?,
        None => None,
    };
    let now_s = u64::try_from(ident.clock.now_ms() / 1000).unwrap_or(0);
    let step = match (&enrolled, code) {
        (Some(e), Some(c)) => e.fresh_step(c, now_s),
        _ => None,
    };
    let second = match step {
        Some(_) => SecondFactor::Verified,
        None => SecondFactor::None,
    };
    login_throttle::before_attempt(w, cfg, badge, ip, second).await?;
    let stored = row.as_ref().map(|r| r.password_hash.clone());
    let ok = ident.passwords.verify(password, stored).await?;
    let row = match row {
        Some(r) if ok => r,
        other => {
            let id = other.as_ref().map(|r| r.id.as_str());
            login_throttle::failed(ident, badge, id).await?;
            return Err(unauthorized("bad_credentials", "wrong badge or password"));
        }
    };
    if row.disabled_at.is_some() {
        return Err(unauthorized(
            "account_disabled",
            "this account is disabled; ask an administrator",
        ));
    }
    let role =
        Role::parse(&row.role).ok_or_else(|| AppError::internal("staff row with unknown role"))?;
    let mut enrol_only = false;
    if enrolled.is_some() {
        if code.is_none() {
            return Err(unauthorized(
                "totp_required",
                "type the 6-digit code of your authenticator app",
            ));
        }
        let accepted = match step {
            Some(s) => second_factor::consume(ident, &row.id, s).await?,
            None => false,
        };
        if !accepted {
            login_throttle::failed(ident, badge, Some(&row.id)).await?;
            return Err(unauthorized(
                "totp_invalid",
                "wrong, expired or already used code; wait for the next one",
            ));
        }
    } else if ident.totp_required {
        enrol_only = true;
    }
    let origin = Origin {
        ip: Some(ip),
        user_agent,
    };
    let token = sessions::create_staff(ident, role, &row.id, enrol_only, origin).await?;
    Ok(LoggedIn {
        row,
        role,
        token,
        enrol_only,
    })
}
