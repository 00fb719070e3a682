//! Who may try a staff password, and how often (docs/architecture.md, Identity). Per window of
//! `auth.login_window_s`:
//! - per address: `login_per_ip` attempts (any badges);
//! - per (badge, address): `login_per_badge_ip` attempts, so one address cannot keep guessing
//!   one badge — and runs out only its own allowance, never the officer's elsewhere;
//! - per badge, from all addresses: `login_per_badge` *failed* passwords (much higher), the brake
//!   on guessing spread over many addresses. Only this limit can be tripped by strangers for
//!   someone else, so a login that carries a verified second factor (a fresh TOTP code of the
//!   account, src/identity/staff_login.rs) is never refused by it.

use super::{AuthConfig, Identity};
use crate::{error::AppError, throttle::Windows};

/// What the login proved besides the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondFactor {
    /// Nothing (no code, a wrong one, or an account without TOTP).
    None,
    /// A fresh TOTP code of the account, checked before the password.
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
    w: Windows<'_>,
    cfg: &AuthConfig,
    badge: &str,
    ip: &str,
    second_factor: SecondFactor,
) -> Result<(), AppError> {
    per_ip(w, cfg, ip).await?;
    // An address never contains '/', so "{ip}/{badge}" names one pair only.
    w.hit(
        CODE,
        &format!("login:ip-badge:{ip}/{badge}"),
        cfg.login_per_badge_ip,
        cfg.login_window_s,
    )
    .await?;
    if second_factor != SecondFactor::Verified {
        w.check(
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
pub async fn per_ip(w: Windows<'_>, cfg: &AuthConfig, ip: &str) -> Result<(), AppError> {
    let name = format!("login:ip:{ip}");
    w.hit(CODE, &name, cfg.login_per_ip, cfg.login_window_s)
        .await
}

/// Counts a wrong password (or a wrong TOTP code) against the badge, from any address.
pub async fn failed(ident: &Identity, badge: &str) -> Result<(), AppError> {
    let w = Windows::new(&ident.kv, ident.clock.as_ref());
    w.add(&badge_key(badge), ident.config.login_window_s)
        .await?;
    Ok(())
}
