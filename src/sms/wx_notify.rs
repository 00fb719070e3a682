//! WeChat subscription messages (订阅消息, issue 19 §1): the booking reminder goes to a citizen
//! through WeChat when they allowed it in the mini program (`wx.requestSubscribeMessage`), by
//! SMS otherwise. [`subscribe`] records the one-time permission of a booking (the booking's
//! route checks ownership); the SMS worker asks [`try_reminder`] before it sends a reminder: a
//! message WeChat took is the reminder (the outbox row is marked sent by provider `wechat`), a
//! refusal (no subscription any more, 43101) or any other failure spends the permission and
//! the reminder goes by SMS as before. The keywords of the template are `thing1` (the brigade,
//! at most 20 characters), `time2` (the slot in brigade time, `2026年11月17日 09:00`) and `thing3` (what to do).

use std::collections::BTreeMap;

use serde_json::json;

use super::{Sms, outbox::Claimed};
use crate::{error::AppError, store::Db};

/// What the reminder asks of the citizen (`thing3`).
const WHAT_TO_DO: &str = "请准时进入候场，民警将发送验证码";

/// Records that the citizen with `openid` allowed the reminder of booking `ref_id` (again:
/// the latest permission counts).
pub async fn subscribe(
    db: &Db,
    ref_id: &str,
    openid: &str,
    template_id: &str,
    now_ms: i64,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO wx_subscriptions (ref_id, openid, template_id, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (ref_id) DO UPDATE SET openid = $2, template_id = $3, created_at = $4, \
         used_at = NULL, outcome = NULL",
    )
    .bind(ref_id)
    .bind(openid)
    .bind(template_id)
    .bind(now_ms)
    .execute(&db.write)
    .await?;
    Ok(())
}

/// Sends the reminder `row` through WeChat when its booking has an unspent permission; true
/// when WeChat took it (the row is then marked sent).
pub async fn try_reminder(
    sms: &Sms,
    row: &Claimed,
    params: &BTreeMap<String, String>,
) -> Result<bool, AppError> {
    let (Some(wx), Some(ref_id)) = (&sms.wechat, &row.ref_id) else {
        return Ok(false);
    };
    let sub: Option<(String, String)> = sqlx::query_as(
        "SELECT openid, template_id FROM wx_subscriptions WHERE ref_id = $1 AND used_at IS NULL",
    )
    .bind(ref_id)
    .fetch_optional(&sms.db.read)
    .await?;
    let Some((openid, template_id)) = sub else {
        return Ok(false);
    };
    let brigade: String = params.get("brigade").cloned().unwrap_or_default();
    let body = json!({
        "touser": openid,
        "template_id": template_id,
        "page": wx.settings.reminder_page,
        "lang": "zh_CN",
        "data": {
            "thing1": {"value": brigade.chars().take(20).collect::<String>()},
            "time2": {"value": params.get("at").cloned().unwrap_or_default()},
            "thing3": {"value": WHAT_TO_DO},
        },
    });
    let now = sms.clock.now_ms();
    let (took, outcome) = match wx.send_subscribe(&body).await {
        Ok(id) => (true, format!("sent {}", id.unwrap_or_default())),
        Err(e) => {
            tracing::warn!(booking = %ref_id, error = %e, "wechat reminder refused: sending the SMS");
            (false, e.to_string())
        }
    };
    sqlx::query("UPDATE wx_subscriptions SET used_at = $1, outcome = $2 WHERE ref_id = $3")
        .bind(now)
        .bind(&outcome)
        .bind(ref_id)
        .execute(&sms.db.write)
        .await?;
    if took {
        metrics::counter!("sms_sent_total", "provider" => "wechat").increment(1);
        super::marks::mark_sent(&sms.db, now, &row.id, "wechat", &outcome).await?;
    }
    Ok(took)
}
