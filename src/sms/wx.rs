//! WeChat for citizens, as identity uses it: `{wx_code}` → code2Session (the openid identity
//! finds the citizen by), `getPhoneNumber` → a verified phone (identity binds it, see
//! `identity::citizens`). WeChat's errors map to the API's codes here.

use axum::{extract::FromRef, http::StatusCode};

use crate::{domain::PhoneNumber, error::AppError};

use super::{Sms, wechat::WechatError};

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

/// The WeChat session (openid, unionid) of a login code; identity finds the citizen by it.
#[tracing::instrument(skip_all, err(level = "info"))]
pub async fn session<S>(state: &S, wx_code: &str) -> Result<super::wechat::WxSession, AppError>
where
    Sms: FromRef<S>,
{
    let sms = Sms::from_ref(state);
    let wx = sms.wechat.as_ref().ok_or_else(not_configured)?;
    if wx_code.is_empty() || wx_code.chars().count() > 128 {
        return Err(AppError::unprocessable(
            "wx_code",
            "wx_code must be 1 to 128 characters",
        ));
    }
    wx.code2session(wx_code)
        .await
        .map_err(|e| map_err(e, "wx_code"))
}

/// The phone WeChat verified for a `getPhoneNumber` code.
pub async fn verified_phone(sms: &Sms, phone_code: &str) -> Result<PhoneNumber, AppError> {
    let wx = sms.wechat.as_ref().ok_or_else(|| {
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
