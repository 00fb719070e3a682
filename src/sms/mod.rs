//! SMS: verification codes (`codes`), send limits (`limits`) and who spends which
//! (`budget`), the outbox table and its worker
//! (`outbox`, `delivery`), providers (`console`; `tencent` and `aliyun` with their request
//! signers; primary + failover), delivery receipts (`receipts`, callbacks in `routes`), message
//! templates, local fake providers for tests (`fake`, `fake_wechat`), and the WeChat client
//! with citizen login and phone binding (`wechat`, `wx`). Owns the `sms_outbox` table and the
//! Redis keys `code:*`, `sms:*` and `wx:*`; the citizen rows it touches belong to identity.

pub mod aliyun;
pub mod budget;
pub mod codes;
mod config;
mod console;
pub mod delivery;
pub mod fake;
pub mod fake_wechat;
pub mod limits;
pub mod outbox;
pub mod provider;
pub mod receipts;
mod routes;
pub mod signing;
pub mod templates;
pub mod tencent;
pub mod wechat;
pub mod wx;

use std::{collections::BTreeMap, path::PathBuf};

use chrono::{DateTime, Utc};
use ring::hmac;
use secrecy::ExposeSecret;

use crate::{
    clock::SharedClock,
    config::Config,
    domain::{PhoneNumber, SmsCode},
    error::AppError,
    ids,
    kv::Kv,
    state::AppState,
};

pub use budget::Budget;
pub use codes::Purpose;
pub use config::SmsConfig;
pub use routes::router;
pub use templates::Template;

use outbox::NewMessage;

/// The SMS service held in `AppState`.
pub struct Sms {
    key: hmac::Key,
    pub delivery: delivery::Delivery,
    pub wechat: Option<wechat::Wechat>,
}

impl std::fmt::Debug for Sms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sms")
            .field("key", &"<redacted>")
            .field("delivery", &self.delivery)
            .field("wechat", &self.wechat.is_some())
            .finish()
    }
}

impl Sms {
    pub fn new(config: &Config, clock: &SharedClock, kv: &Kv) -> anyhow::Result<Sms> {
        let secret = config.sms.code_key.expose_secret().to_string();
        let secret = if secret.is_empty() {
            if config.is_production() {
                anyhow::bail!("sms.code_key must be set in production (RH_SMS__CODE_KEY)");
            }
            crate::secrets::dev_secret(&config.server.data_dir, "sms-code.key")?
        } else {
            secret.into_bytes()
        };
        let wechat = (!config.wechat.appid.trim().is_empty()).then(|| {
            wechat::Wechat::new(
                config.wechat.clone(),
                reqwest::Client::builder()
                    .timeout(std::time::Duration::from_millis(config.sms.http_timeout_ms))
                    .build()
                    .unwrap_or_default(),
                kv.conn(),
                &kv.key(""),
            )
        });
        Ok(Sms {
            key: hmac::Key::new(hmac::HMAC_SHA256, &secret),
            delivery: delivery::Delivery::from_config(config, clock)?,
            wechat,
        })
    }

    /// Sends (or re-sends, within its validity: the same code) the code of `budget` to `phone`,
    /// after that budget's limits (`budget`: a login code's per address and per phone, a hearing
    /// code's per hearing and per phone; every code 1 per `resend_after_s` per phone and
    /// purpose). Returns the seconds before another send is allowed.
    #[tracing::instrument(skip_all, err(level = "info"))]
    pub async fn send_code(
        &self,
        state: &AppState,
        budget: Budget<'_>,
        phone: &PhoneNumber,
    ) -> Result<u64, AppError> {
        let cfg = &state.config.sms;
        let now = state.clock.now_ms();
        let id = ids::new_id();
        let mut conn = state.kv.conn();
        // Every login-code request from an address counts, also the refused ones.
        if let Some(requests) = budget.requests(&state.kv, cfg)
            && let Err(wait) = limits::check_and_record(&mut conn, &[requests], now, &id).await?
        {
            return Err(AppError::throttled("sms_throttled", wait));
        }
        let windows = budget.windows(&state.kv, cfg, phone);
        if let Err(wait) = limits::check_and_record(&mut conn, &windows, now, &id).await? {
            return Err(AppError::throttled("sms_throttled", wait));
        }
        let msg_id = match self.queue_code(state, &budget.purpose(), phone).await {
            Ok(msg_id) => msg_id,
            Err(e) => {
                // Nothing was queued: the send does not count (best effort).
                if let Err(re) = limits::forget(&mut conn, &windows, &id).await {
                    tracing::warn!(error = %re, "sms: could not uncount a send that failed");
                }
                return Err(e);
            }
        };
        // First attempt now, in the request (the code is wanted at once); retries are the worker's.
        // From here on the message is queued: it goes out (the worker retries) and counts.
        if let Err(e) = self
            .delivery
            .attempt(state, outbox::load(state, &msg_id).await?)
            .await
        {
            tracing::warn!(id = %msg_id, error = %e, "sms: first attempt failed; the worker will retry");
        }
        Ok(cfg.resend_after_s)
    }

    /// Issues (or re-derives) the code and queues its message, claimed for the first attempt.
    async fn queue_code(
        &self,
        state: &AppState,
        purpose: &Purpose,
        phone: &PhoneNumber,
    ) -> Result<String, AppError> {
        let cfg = &state.config.sms;
        codes::issue(state, &self.key, purpose, phone.as_str()).await?;
        let (template, ref_id) = match purpose {
            Purpose::Login => (Template::LoginCode, None),
            Purpose::Join { hearing_id } => (Template::HearingCode, Some(hearing_id.clone())),
        };
        let msg = NewMessage {
            phone: phone.clone(),
            template,
            params: BTreeMap::from([("minutes".to_string(), (cfg.code_ttl_s / 60).to_string())]),
            code_ref: Some(codes::code_ref(purpose, phone.as_str())),
            ref_id,
            not_before_ms: None,
        };
        outbox::enqueue(state, &msg, true).await
    }

    /// Checks (and on success consumes) a code.
    #[tracing::instrument(skip_all, err(level = "info"))]
    pub async fn verify_code(
        &self,
        state: &AppState,
        purpose: Purpose,
        subject: &str,
        code: &SmsCode,
    ) -> Result<(), AppError> {
        codes::verify(state, &self.key, &purpose, subject, code).await
    }
}

/// For the hearing module: sends the join code of `hearing_id` to `phone`, at most `per_day`
/// sends on the brigade's local `day` (ending at `day_ends_ms`).
pub async fn send_hearing_code(
    state: &AppState,
    hearing_id: &str,
    phone: &PhoneNumber,
    (day, day_ends_ms): (chrono::NaiveDate, i64),
    per_day: u64,
) -> Result<u64, AppError> {
    let budget = Budget::Hearing {
        hearing_id,
        day,
        day_ends_ms,
        per_day,
    };
    state.sms.send_code(state, budget, phone).await
}

/// For the hearing module: checks (and consumes) the join code `phone` received for `hearing_id`.
pub async fn verify_hearing_code(
    state: &AppState,
    hearing_id: &str,
    phone: &PhoneNumber,
    code: &SmsCode,
) -> Result<(), AppError> {
    let purpose = Purpose::Join {
        hearing_id: hearing_id.to_string(),
    };
    state
        .sms
        .verify_code(state, purpose, phone.as_str(), code)
        .await
}

/// Queues a notification (no code). It counts in no code window (the citizen's own bookings
/// cannot spend the code budgets). `not_before` schedules it. Returns the outbox id.
#[tracing::instrument(skip_all, err(level = "info"))]
pub async fn notify(
    state: &AppState,
    phone: &PhoneNumber,
    template: Template,
    params: BTreeMap<String, String>,
    ref_id: Option<&str>,
    not_before: Option<DateTime<Utc>>,
) -> Result<String, AppError> {
    let msg = NewMessage {
        phone: phone.clone(),
        template,
        params,
        code_ref: None,
        ref_id: ref_id.map(str::to_string),
        not_before_ms: not_before.map(|t| t.timestamp_millis()),
    };
    let id = outbox::enqueue(state, &msg, false).await?;
    state.sms.delivery.wake();
    Ok(id)
}

/// For the booking module: the confirmation now, and the reminder one day before the slot
/// (skipped when that moment has passed). `slot_start` is shown in `tz`.
#[tracing::instrument(skip_all, err(level = "info"))]
pub async fn booking_booked(
    state: &AppState,
    booking_id: &str,
    phone: &PhoneNumber,
    brigade_name: &str,
    slot_start: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> Result<(), AppError> {
    let time = slot_start
        .with_timezone(&tz)
        .format("%m月%d日 %H:%M")
        .to_string();
    let params = BTreeMap::from([
        ("brigade".to_string(), brigade_name.to_string()),
        ("time".to_string(), time),
    ]);
    notify(
        state,
        phone,
        Template::BookingConfirmation,
        params.clone(),
        Some(booking_id),
        None,
    )
    .await?;
    let remind_at = slot_start - chrono::Duration::days(1);
    if remind_at > state.clock.now() {
        notify(
            state,
            phone,
            Template::BookingReminder,
            params,
            Some(booking_id),
            Some(remind_at),
        )
        .await?;
    }
    Ok(())
}

/// For the booking module: a cancelled booking's reminder is not sent.
#[tracing::instrument(skip_all, err(level = "info"))]
pub async fn booking_cancelled(state: &AppState, booking_id: &str) -> Result<(), AppError> {
    outbox::cancel(state, booking_id, Template::BookingReminder).await?;
    Ok(())
}

pub fn outbox_path(config: &Config) -> PathBuf {
    config.server.data_dir.join("sms-outbox.jsonl")
}
