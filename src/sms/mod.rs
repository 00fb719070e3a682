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
pub mod marks;
pub mod notices;
pub mod outbox;
pub mod provider;
pub mod receipts;
mod routes;
pub mod signing;
pub mod templates;
pub mod tencent;
pub mod wechat;
pub mod wx;
pub mod wx_notify;

use std::{
    collections::BTreeMap,
    ops::Deref,
    path::{Path, PathBuf},
    sync::Arc,
};

use axum::extract::FromRef;
use chrono::{DateTime, Utc};
use ring::hmac;
use secrecy::ExposeSecret;

use crate::{
    clock::SharedClock,
    domain::{PhoneNumber, SmsCode},
    error::AppError,
    ids,
    kv::Kv,
    store::Db,
};

pub use budget::Budget;
pub use codes::Purpose;
pub use config::SmsConfig;
pub use notices::{booking_booked, booking_booked_stmt};
pub use routes::router;
pub use templates::Template;

use outbox::NewMessage;

/// The SMS area's sub-state: what its services use (the store, Redis, the clock, `[sms]`)
/// and its own parts (the code key, delivery, the WeChat client). Cheap to clone; handlers
/// take it as `State<Sms>` (`AppState` implements `FromRef`), and the entry points other areas
/// call take any state it can be taken from.
#[derive(Clone)]
pub struct Sms(Arc<Inner>);

/// The parts of [`Sms`].
pub struct Inner {
    pub db: Db,
    pub kv: Kv,
    pub clock: SharedClock,
    pub config: SmsConfig,
    key: hmac::Key,
    pub delivery: delivery::Delivery,
    pub wechat: Option<wechat::Wechat>,
}

impl Deref for Sms {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
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

/// Where the SMS area runs: the data directory (the development code key, the console
/// provider's outbox file) and whether this is production (a configured key is required).
#[derive(Debug, Clone, Copy)]
pub struct Site<'a> {
    pub data_dir: &'a Path,
    pub production: bool,
}

impl Sms {
    pub fn new(
        (db, kv, clock): (Db, Kv, SharedClock),
        config: &SmsConfig,
        wechat_settings: &wechat::WechatSettings,
        site: Site<'_>,
    ) -> anyhow::Result<Sms> {
        let secret = config.code_key.expose_secret().to_string();
        let secret = if secret.is_empty() {
            if site.production {
                anyhow::bail!("sms.code_key must be set in production (RH_SMS__CODE_KEY)");
            }
            crate::secrets::dev_secret(site.data_dir, "sms-code.key")?
        } else {
            secret.into_bytes()
        };
        let wechat = (!wechat_settings.appid.trim().is_empty()).then(|| {
            wechat::Wechat::new(
                wechat_settings.clone(),
                reqwest::Client::builder()
                    .timeout(std::time::Duration::from_millis(config.http_timeout_ms))
                    .build()
                    .unwrap_or_default(),
                kv.conn(),
                &kv.key(""),
            )
        });
        let delivery =
            delivery::Delivery::from_config(config, &outbox_path(site.data_dir), &clock)?;
        Ok(Sms(Arc::new(Inner {
            db,
            kv,
            clock,
            config: config.clone(),
            key: hmac::Key::new(hmac::HMAC_SHA256, &secret),
            delivery,
            wechat,
        })))
    }

    /// Sends (or re-sends, within its validity: the same code) the code of `budget` to `phone`,
    /// after that budget's limits (`budget`: a login code's per address and per phone, a hearing
    /// code's per hearing and per phone; every code 1 per `resend_after_s` per phone and
    /// purpose). Returns the seconds before another send is allowed.
    #[tracing::instrument(skip_all, err(level = "info"))]
    pub async fn send_code(
        &self,
        budget: Budget<'_>,
        phone: &PhoneNumber,
    ) -> Result<u64, AppError> {
        let cfg = &self.config;
        let now = self.clock.now_ms();
        let id = ids::new_id();
        let mut conn = self.kv.conn();
        // Every login-code request from an address counts, also the refused ones.
        if let Some(requests) = budget.requests(&self.kv, cfg)
            && let Err(wait) = limits::check_and_record(&mut conn, &[requests], now, &id).await?
        {
            return Err(AppError::throttled("sms_throttled", wait));
        }
        let windows = budget.windows(&self.kv, cfg, phone);
        if let Err(wait) = limits::check_and_record(&mut conn, &windows, now, &id).await? {
            return Err(AppError::throttled("sms_throttled", wait));
        }
        let msg_id = match self.queue_code(&budget.purpose(), phone).await {
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
        let row = outbox::load(&self.db, &msg_id).await?;
        if let Err(e) = self.delivery.attempt(self, row).await {
            tracing::warn!(id = %msg_id, error = %e, "sms: first attempt failed; the worker will retry");
        }
        Ok(cfg.resend_after_s)
    }

    /// Issues (or re-derives) the code and queues its message, claimed for the first attempt.
    async fn queue_code(&self, purpose: &Purpose, phone: &PhoneNumber) -> Result<String, AppError> {
        codes::issue(self, purpose, phone.as_str()).await?;
        let (template, ref_id) = match purpose {
            Purpose::Login => (Template::LoginCode, None),
            Purpose::Join { hearing_id } => (Template::HearingCode, Some(hearing_id.clone())),
            // The same wording as the citizen's; `ref_id` names the participant, so the
            // citizen's no-show rules never count a participant's code.
            Purpose::Participant { participant_id, .. } => {
                (Template::HearingCode, Some(participant_id.clone()))
            }
        };
        let minutes = (self.config.code_ttl_s / 60).to_string();
        let msg = NewMessage {
            phone: phone.clone(),
            template,
            params: BTreeMap::from([("minutes".to_string(), minutes)]),
            code_ref: Some(codes::code_ref(purpose, phone.as_str())),
            ref_id,
            not_before_ms: None,
        };
        outbox::enqueue(&self.db, self.clock.now_ms(), &msg, true).await
    }

    /// Checks (and on success consumes) a code.
    #[tracing::instrument(skip_all, err(level = "info"))]
    pub async fn verify_code(
        &self,
        purpose: Purpose,
        subject: &str,
        code: &SmsCode,
    ) -> Result<(), AppError> {
        codes::verify(self, &purpose, subject, code).await
    }
}

/// For the hearing module: sends the join code of `hearing_id` to `phone`, at most `per_day`
/// sends on the brigade's local `day` (ending at `day_ends_ms`).
pub async fn send_hearing_code<S>(
    state: &S,
    hearing_id: &str,
    phone: &PhoneNumber,
    (day, day_ends_ms): (chrono::NaiveDate, i64),
    per_day: u64,
) -> Result<u64, AppError>
where
    Sms: FromRef<S>,
{
    let budget = Budget::Hearing {
        hearing_id,
        day,
        day_ends_ms,
        per_day,
    };
    Sms::from_ref(state).send_code(budget, phone).await
}

/// For the hearing module: checks (and consumes) the join code `phone` received for `hearing_id`.
pub async fn verify_hearing_code<S>(
    state: &S,
    hearing_id: &str,
    phone: &PhoneNumber,
    code: &SmsCode,
) -> Result<(), AppError>
where
    Sms: FromRef<S>,
{
    let purpose = Purpose::Join {
        hearing_id: hearing_id.to_string(),
    };
    Sms::from_ref(state)
        .verify_code(purpose, phone.as_str(), code)
        .await
}

/// For the hearing module: sends participant `participant_id`'s join code of `hearing_id` to
/// their `phone`: at most `per_day` sends on the brigade's local `day`, besides the phone's
/// hearing-code windows (the same budget rules as the citizen's code, counted apart).
pub async fn send_participant_code<S>(
    state: &S,
    (hearing_id, participant_id): (&str, &str),
    phone: &PhoneNumber,
    (day, day_ends_ms): (chrono::NaiveDate, i64),
    per_day: u64,
) -> Result<u64, AppError>
where
    Sms: FromRef<S>,
{
    let budget = Budget::Participant {
        hearing_id,
        participant_id,
        day,
        day_ends_ms,
        per_day,
    };
    Sms::from_ref(state).send_code(budget, phone).await
}

/// For the hearing module: checks (and consumes) a participant's join code.
pub async fn verify_participant_code<S>(
    state: &S,
    (hearing_id, participant_id): (&str, &str),
    phone: &PhoneNumber,
    code: &SmsCode,
) -> Result<(), AppError>
where
    Sms: FromRef<S>,
{
    let purpose = Purpose::Participant {
        hearing_id: hearing_id.to_string(),
        participant_id: participant_id.to_string(),
    };
    Sms::from_ref(state)
        .verify_code(purpose, phone.as_str(), code)
        .await
}

/// Queues a notification (no code). It counts in no code window (the citizen's own bookings
/// cannot spend the code budgets). `not_before` schedules it. Returns the outbox id.
#[tracing::instrument(skip_all, err(level = "info"))]
pub async fn notify<S>(
    state: &S,
    phone: &PhoneNumber,
    template: Template,
    params: BTreeMap<String, String>,
    ref_id: Option<&str>,
    not_before: Option<DateTime<Utc>>,
) -> Result<String, AppError>
where
    Sms: FromRef<S>,
{
    let sms = Sms::from_ref(state);
    let msg = NewMessage {
        phone: phone.clone(),
        template,
        params,
        code_ref: None,
        ref_id: ref_id.map(str::to_string),
        not_before_ms: not_before.map(|t| t.timestamp_millis()),
    };
    let id = outbox::enqueue(&sms.db, sms.clock.now_ms(), &msg, false).await?;
    sms.delivery.wake();
    Ok(id)
}

/// Wakes the outbox worker: after a commit that queued messages in its own transaction
/// (`outbox::enqueue_stmt`, `notices::booking_booked`).
pub fn wake<S>(state: &S)
where
    Sms: FromRef<S>,
{
    Sms::from_ref(state).delivery.wake();
}

/// For the booking module: a cancelled booking's reminder is not sent.
#[tracing::instrument(skip_all, err(level = "info"))]
pub async fn booking_cancelled<S>(state: &S, booking_id: &str) -> Result<(), AppError>
where
    Sms: FromRef<S>,
{
    let sms = Sms::from_ref(state);
    let now = sms.clock.now_ms();
    outbox::cancel(&sms.db, now, booking_id, Template::BookingReminder).await?;
    Ok(())
}

/// The console provider's outbox file in the data directory.
pub fn outbox_path(data_dir: &Path) -> PathBuf {
    data_dir.join("sms-outbox.jsonl")
}
