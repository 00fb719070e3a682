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

/// Counts a wrong password (or a wrong TOTP code) against the badge, from any address. The
/// failure that locks the badge (the `login_per_badge`-th in the window: exactly one per window,
/// also across processes, as Redis counts) raises the alert: [`locked`].
pub async fn failed(ident: &Identity, badge: &str, staff_id: Option<&str>) -> Result<(), AppError> {
    let w = Windows::new(&ident.kv, ident.clock.as_ref());
    let cfg = &ident.config;
    let count = w.add(&badge_key(badge), cfg.login_window_s).await?;
    if count == cfg.login_per_badge {
        locked(ident, badge, staff_id, count).await;
    }
    Ok(())
}

/// The lockout alert: a warn line and `staff_login_lockouts_total` always; an `admin` audit
/// entry `login_locked` (actor `system`) when the badge is an account's (guessed badges leave
/// no entries, so strangers cannot fill the log). A failing append is logged, not answered.
async fn locked(ident: &Identity, badge: &str, staff_id: Option<&str>, failures: u64) {
    let window_s = ident.config.login_window_s;
    tracing::warn!(
        badge,
        known = staff_id.is_some(),
        failures,
        window_s,
        "staff login locked: too many failed passwords or codes for this badge"
    );
    metrics::counter!("staff_login_lockouts_total").increment(1);
    let Some(staff_id) = staff_id else {
        return;
    };
    let now = ident.clock.now_ms();
    let payload = serde_json::json!({
        "staff_id": staff_id, "badge": badge, "failures": failures, "window_s": window_s,
    });
    let appended = async {
        let mut tx = ident.db.begin().await?;
        super::staff_admin::append_as(&mut tx, "login_locked", ("system", "server"), now, payload)
            .await?;
        tx.commit().await?;
        Ok::<(), AppError>(())
    };
    if let Err(e) = appended.await {
        tracing::warn!(badge, error = %e, "the lockout's audit entry was not written");
    }
}
