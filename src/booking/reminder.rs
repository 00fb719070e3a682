//! The WeChat reminder of a booking (`POST /api/v1/bookings/{id}/wechat-reminder`, issue 19 §1): the citizen allowed the booking
//! reminder as a WeChat subscription message in the mini program (`wx.requestSubscribeMessage`
//! answered `accept`); the reminder then goes through WeChat instead of SMS (`sms::wx_notify`).
//! The booking's owner only (another's is 404), a booking still `booked`, a citizen who signed
//! in with WeChat (`wechat_not_linked`), and a server with the template configured
//! (`wechat_reminder_off`).

use super::{Booking, service};
use crate::error::{ApiResult, AppError};

/// Records the citizen's permission for the reminder of their booking `id` to go through
/// WeChat.
pub async fn subscribe(state: &Booking, citizen_id: &str, id: &str) -> ApiResult<()> {
    let b = service::get_for_citizen(state, citizen_id, id).await?;
    if b.status != "booked" {
        return Err(AppError::conflict(
            "invalid_state",
            format!("a {} booking has no reminder to send", b.status),
        ));
    }
    let Some(wx) = state.sms.wechat.as_ref() else {
        return Err(off());
    };
    let template = wx.settings.reminder_template_id.trim();
    if template.is_empty() {
        return Err(off());
    }
    let Some(openid) = crate::identity::citizens::openid_of(&state.db, citizen_id).await? else {
        return Err(AppError::conflict(
            "wechat_not_linked",
            "sign in with the mini program to get reminders in WeChat",
        ));
    };
    let now = state.clock.now_ms();
    crate::sms::wx_notify::subscribe(&state.db, &b.id, &openid, template, now).await
}

fn off() -> AppError {
    AppError::conflict(
        "wechat_reminder_off",
        "this server sends reminders by SMS only",
    )
}
