//! Who may try a staff password, and how often (docs/architecture.md, Identity). Per window of
//! `auth.login_window_s`:
//! - per address: `login_per_ip` attempts (any badges);
//! - per (badge, address): `login_per_badge_ip` attempts, so one address cannot keep guessing
//!   one badge — and runs out only its own allowance, never the officer's elsewhere;
//! - per badge, from all addresses: `login_per_badge` *failed* passwords (much higher), the brake
//!   on guessing spread over many addresses. Only this limit can be tripped by strangers for
//!   someone else, so a login that carries a verified second factor is never refused by it.
//!   No second factor exists yet (the TOTP of the operations issue): `SecondFactor::None` is
//!   all callers have today, and a verified one is the only thing that skips the badge limit.

use crate::{error::AppError, state::AppState, throttle};

/// What the login proved besides the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondFactor {
    /// Nothing (every login today).
    None,
    /// A second factor checked before the password (the future TOTP).
    #[allow(dead_code)]
    Verified,
}

const CODE: &str = "login_throttled";

fn badge_key(badge: &str) -> String {
    format!("login:badge:{badge}")
}

/// Counts an attempt against the address and the (badge, address) pair, then refuses it when
/// the badge has had too many failed passwords in this window — unless a second factor was
/// verified. Call before hashing the password, so refused attempts cost no hash.
pub async fn before_attempt(
    state: &AppState,
    badge: &str,
    ip: &str,
    second_factor: SecondFactor,
) -> Result<(), AppError> {
    let cfg = &state.config.auth;
    per_ip(state, ip).await?;
    // An address never contains '/', so "{ip}/{badge}" names one pair only.
    throttle::hit(
        state,
        CODE,
        &format!("login:ip-badge:{ip}/{badge}"),
        cfg.login_per_badge_ip,
        cfg.login_window_s,
    )
    .await?;
    if second_factor != SecondFactor::Verified {
        throttle::check(
            state,
            CODE,
            &badge_key(badge),
            cfg.login_per_badge,
            cfg.login_window_s,
        )
        .await?;
    }
    Ok(())
}

/// Counts a login attempt (staff or citizen) against the address's allowance.
pub async fn per_ip(state: &AppState, ip: &str) -> Result<(), AppError> {
    let cfg = &state.config.auth;
    let name = format!("login:ip:{ip}");
    throttle::hit(state, CODE, &name, cfg.login_per_ip, cfg.login_window_s).await
}

/// Counts a wrong password against the badge (from any address).
pub async fn failed(state: &AppState, badge: &str) -> Result<(), AppError> {
    throttle::add(state, &badge_key(badge), state.config.auth.login_window_s).await?;
    Ok(())
}
