//! WeChat login and phone binding for citizens: `{wx_code}` → code2Session → the citizen with
//! that openid (created on first login); `getPhoneNumber` → a verified phone, bound once
//! (`phone_binding_immutable` for a different phone later). The booking module calls
//! [`bind_phone`] with the booking's phone at the first booking, too.

use axum::http::StatusCode;

use crate::{domain::PhoneNumber, error::AppError, ids, state::AppState};

use super::wechat::WechatError;

fn not_configured() -> AppError {
    AppError::unprocessable("wx_code", "WeChat login is not configured on this server")
}

fn map_err(e: WechatError, field: &'static str) -> AppError {
    match e {
        WechatError::InvalidCode | WechatError::CodeUsed => AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "wx_code_invalid",
            "the WeChat code is invalid or was used",
        )
        .with_field(field),
        WechatError::RateLimited => AppError::throttled("wx_throttled", 60),
        WechatError::Blocked => AppError::new(
            StatusCode::FORBIDDEN,
            "wx_blocked",
            "WeChat refused this account",
        ),
        WechatError::Redis(r) => AppError::from(r),
        other => {
            tracing::warn!(error = %other, "wechat call failed");
            AppError::unavailable("WeChat is unavailable, try again")
        }
    }
}

/// A citizen logged in through WeChat: `(id, phone, phone_bound)`.
#[tracing::instrument(skip_all, err(level = "info"))]
pub async fn login(
    state: &AppState,
    wx_code: &str,
) -> Result<(String, Option<String>, bool), AppError> {
    let wx = state.sms.wechat.as_ref().ok_or_else(not_configured)?;
    if wx_code.is_empty() || wx_code.len() > 128 {
        return Err(AppError::unprocessable(
            "wx_code",
            "wx_code must be 1 to 128 characters",
        ));
    }
    let session = wx
        .code2session(wx_code)
        .await
        .map_err(|e| map_err(e, "wx_code"))?;
    sqlx::query(
        "INSERT INTO citizens (id, openid, unionid, phone_bound, created_at) VALUES ($1, $2, $3, 0, $4) \
         ON CONFLICT (openid) DO NOTHING",
    )
    .bind(ids::new_id())
    .bind(&session.openid)
    .bind(session.unionid.as_deref())
    .bind(state.clock.now_ms())
    .execute(&state.db.write)
    .await?;
    let (id, phone, bound): (String, Option<String>, i64) =
        sqlx::query_as("SELECT id, phone, phone_bound FROM citizens WHERE openid = $1")
            .bind(&session.openid)
            .fetch_one(&state.db.write)
            .await?;
    Ok((id, phone, bound != 0))
}

/// The phone WeChat verified for a `getPhoneNumber` code.
pub async fn verified_phone(state: &AppState, phone_code: &str) -> Result<PhoneNumber, AppError> {
    let wx = state.sms.wechat.as_ref().ok_or_else(|| {
        AppError::unprocessable("phone_code", "WeChat is not configured on this server")
    })?;
    let info = wx
        .phone_number(phone_code)
        .await
        .map_err(|e| map_err(e, "phone_code"))?;
    if info.country_code != "86" {
        return Err(AppError::unprocessable(
            "phone_code",
            "only mainland China numbers can be bound",
        ));
    }
    PhoneNumber::parse(&info.pure_phone_number)
        .map_err(|m| AppError::unprocessable("phone_code", m))
}

/// Binds `phone` to the citizen (the same rule as the booking's binding). Binding the same
/// phone again is a no-op; a different phone after binding → 409 `phone_binding_immutable`;
/// a phone another citizen holds → 409 `phone_in_use`.
#[tracing::instrument(skip_all, err(level = "info"))]
pub async fn bind_phone(
    state: &AppState,
    citizen_id: &str,
    phone: &PhoneNumber,
) -> Result<(), AppError> {
    let done = sqlx::query(
        "UPDATE citizens SET phone = $1, phone_bound = 1 WHERE id = $2 AND (phone_bound = 0 OR phone = $1)",
    )
    .bind(phone.as_str())
    .bind(citizen_id)
    .execute(&state.db.write)
    .await
    .map_err(|e| match e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            AppError::conflict("phone_in_use", "this phone number is bound to another citizen").with_field("phone")
        }
        e => AppError::from(e),
    })?;
    if done.rows_affected() == 1 {
        return Ok(());
    }
    let bound: Option<(i64,)> = sqlx::query_as("SELECT phone_bound FROM citizens WHERE id = $1")
        .bind(citizen_id)
        .fetch_optional(&state.db.write)
        .await?;
    match bound {
        Some(_) => Err(AppError::conflict(
            "phone_binding_immutable",
            "a bound phone number cannot be changed online",
        )),
        None => Err(AppError::not_found()),
    }
}
