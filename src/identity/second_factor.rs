//! The staff second factor's storage and rules (issue 15 §2): the `staff_totp` row of an account
//! (the secret sealed with the identity data key, `confirmed_at`, the last accepted step).
//! Enrolment draws a fresh secret (again on every `begin` until confirmed); a first right code
//! confirms it, lifts the caller's session out of enrol-only and appends `totp_enrolled` to the
//! `admin` audit chain. At login a code is accepted once: [`consume`] moves `last_step` forward
//! atomically, so the same step — or an older one — is refused, also across processes.

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::{Identity, staff_admin, totp};
use crate::error::{ApiResult, AppError};

/// What an app needs to enrol: the secret (base32), the `otpauth://` URI and its QR code.
pub struct Enrolment {
    pub secret: SecretString,
    pub uri: String,
    pub qr_svg: String,
}

/// A confirmed second factor.
pub struct Enrolled {
    pub totp: totp_rs::Totp,
    /// The last accepted time step.
    pub last_step: Option<i64>,
}

impl Enrolled {
    /// The step `code` belongs to, when it is now's (±1) and newer than the last accepted one.
    pub fn fresh_step(&self, code: &str, now_s: u64) -> Option<u64> {
        let step = totp::matching_step(&self.totp, code, now_s)?;
        let newer = self
            .last_step
            .is_none_or(|last| i64::try_from(step).is_ok_and(|s| s > last));
        newer.then_some(step)
    }
}

fn place(staff_id: &str) -> String {
    format!("staff_totp.secret:{staff_id}")
}

fn now_s(ident: &Identity) -> u64 {
    u64::try_from(ident.clock.now_ms() / 1000).unwrap_or(0)
}

type Row = (String, Option<i64>, Option<i64>);

async fn row(ident: &Identity, staff_id: &str) -> ApiResult<Option<Row>> {
    Ok(sqlx::query_as(
        "SELECT secret_enc, confirmed_at, last_step FROM staff_totp WHERE staff_id = $1",
    )
    .bind(staff_id)
    .fetch_optional(&ident.db.read)
    .await?)
}

fn open(ident: &Identity, staff_id: &str, badge: &str, sealed: &str) -> ApiResult<totp_rs::Totp> {
    let b32 = ident
        .data_key
        .open(&place(staff_id), sealed)
        .map_err(AppError::internal)?;
    let secret = totp::from_base32(&b32).map_err(AppError::internal)?;
    totp::totp(&secret, &ident.config.totp_issuer, badge).map_err(AppError::internal)
}

/// The confirmed second factor of account `staff_id` (badge `badge`), if it has one.
pub async fn confirmed(
    ident: &Identity,
    staff_id: &str,
    badge: &str,
) -> ApiResult<Option<Enrolled>> {
    match row(ident, staff_id).await? {
        Some((sealed, Some(_), last_step)) => Ok(Some(Enrolled {
            totp: open(ident, staff_id, badge, &sealed)?,
            last_step,
        })),
        _ => Ok(None),
    }
}

/// Whether account `staff_id` has a confirmed second factor.
pub async fn is_enrolled(ident: &Identity, staff_id: &str) -> ApiResult<bool> {
    Ok(matches!(row(ident, staff_id).await?, Some((_, Some(_), _))))
}

/// Starts (or restarts) enrolment with a fresh secret. 409 `totp_already_enrolled` once
/// confirmed (an admin's reset starts over).
pub async fn begin(ident: &Identity, staff_id: &str, badge: &str) -> ApiResult<Enrolment> {
    let secret = totp::new_secret().map_err(AppError::internal)?;
    let b32 = SecretString::from(totp::to_base32(&secret));
    let sealed = ident
        .data_key
        .seal(&place(staff_id), b32.expose_secret())
        .map_err(AppError::internal)?;
    let now = ident.clock.now_ms();
    // Replaces an unconfirmed row; a confirmed one is left alone (no row changes).
    let r = sqlx::query(
        "INSERT INTO staff_totp (staff_id, secret_enc, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (staff_id) DO UPDATE SET secret_enc = excluded.secret_enc, \
         created_at = excluded.created_at WHERE staff_totp.confirmed_at IS NULL",
    )
    .bind(staff_id)
    .bind(&sealed)
    .bind(now)
    .execute(&ident.db.write)
    .await?;
    if r.rows_affected() == 0 {
        return Err(already());
    }
    let t = totp::totp(&secret, &ident.config.totp_issuer, badge).map_err(AppError::internal)?;
    let uri = totp::uri(&t).map_err(AppError::internal)?;
    let qr_svg = totp::qr_svg(&uri).map_err(AppError::internal)?;
    Ok(Enrolment {
        secret: b32,
        uri,
        qr_svg,
    })
}

fn already() -> AppError {
    AppError::conflict(
        "totp_already_enrolled",
        "this account already has a second factor; an administrator can reset it",
    )
}

/// Confirms the pending enrolment with a first code: the account's logins need a code from now
/// on, the caller's session (`token_hash`) may do everything its role may. 409
/// `totp_not_started` without a pending enrolment, `totp_already_enrolled` after one; 422
/// `totp_invalid` (field `code`) for a wrong code.
pub async fn confirm(
    ident: &Identity,
    (staff_id, role, badge): (&str, &str, &str),
    code: &str,
    token_hash: &str,
) -> ApiResult<()> {
    let Some((sealed, confirmed_at, _)) = row(ident, staff_id).await? else {
        return Err(AppError::conflict(
            "totp_not_started",
            "start the enrolment first (POST /api/v1/auth/totp/enroll)",
        ));
    };
    if confirmed_at.is_some() {
        return Err(already());
    }
    let t = open(ident, staff_id, badge, &sealed)?;
    let step = totp::matching_step(&t, code, now_s(ident)).ok_or_else(|| {
        AppError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "totp_invalid",
            "wrong or expired code; type the code the app shows now",
        )
        .with_field("code")
    })?;
    let now = ident.clock.now_ms();
    let mut tx = ident.db.begin().await?;
    let r = sqlx::query(
        "UPDATE staff_totp SET confirmed_at = $1, last_step = $2 \
         WHERE staff_id = $3 AND confirmed_at IS NULL AND secret_enc = $4",
    )
    .bind(now)
    .bind(i64::try_from(step).unwrap_or(i64::MAX))
    .bind(staff_id)
    .bind(&sealed)
    .execute(&mut *tx)
    .await?;
    if r.rows_affected() == 0 {
        // Another request confirmed or restarted it meanwhile.
        return Err(already());
    }
    sqlx::query("UPDATE sessions SET enrol_only = 0 WHERE token_hash = $1")
        .bind(token_hash)
        .execute(&mut *tx)
        .await?;
    let payload = json!({"staff_id": staff_id, "badge": badge});
    staff_admin::append_as(&mut tx, "totp_enrolled", (role, staff_id), now, payload).await?;
    tx.commit().await?;
    Ok(())
}

/// Accepts time step `step` for account `staff_id` once: false when it (or a newer one) was
/// accepted already.
pub async fn consume(ident: &Identity, staff_id: &str, step: u64) -> ApiResult<bool> {
    let step = i64::try_from(step).unwrap_or(i64::MAX);
    let r = sqlx::query(
        "UPDATE staff_totp SET last_step = $1 WHERE staff_id = $2 \
         AND confirmed_at IS NOT NULL AND (last_step IS NULL OR last_step < $1)",
    )
    .bind(step)
    .bind(staff_id)
    .execute(&ident.db.write)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Removes the account's second factor (an admin's reset): its next login enrols again.
pub async fn reset(tx: &mut crate::store::Tx, staff_id: &str) -> ApiResult<u64> {
    let r = sqlx::query("DELETE FROM staff_totp WHERE staff_id = $1")
        .bind(staff_id)
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected())
}
