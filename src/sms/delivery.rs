//! Delivery: builds the configured providers (primary + optional failover), makes one attempt
//! at a claimed outbox row (failing over only on transport errors or 5xx before acceptance,
//! retrying with exponential backoff, recording provider throttles without retrying), and runs
//! the worker that sends due rows, also after a restart. Metrics: `sms_sent_total`,
//! `sms_delivered_total`, `sms_failed_total` by provider.

use std::{path::Path, sync::Arc, time::Duration};

use axum::extract::FromRef;
use tokio::sync::{Notify, watch};

use crate::{clock::SharedClock, error::AppError};

use super::{
    Sms, SmsConfig,
    aliyun::AliyunProvider,
    codes,
    console::Console,
    marks::{self, Mark},
    outbox::{self, Claimed},
    provider::{Outgoing, Provider, SendError, UnixNow, mask_phone},
    templates::Template,
    tencent::TencentProvider,
};

/// How many due messages the worker claims and sends at once.
pub const BATCH: usize = 32;

/// After a wake-up the worker waits this long before its pass, so that a burst of bookings'
/// messages goes out in batches (one claim and one mark each) rather than one by one; a
/// confirmation leaves at most this much later.
const GATHER: Duration = Duration::from_millis(20);

pub struct Delivery {
    primary: Box<dyn Provider>,
    failover: Option<Box<dyn Provider>>,
    pub(super) wake: Notify,
    max_attempts: i64,
    backoff_base_ms: i64,
    poll: Duration,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("primary", &self.primary.name())
            .field("failover", &self.failover.as_ref().map(|p| p.name()))
            .finish_non_exhaustive()
    }
}

fn build(
    name: &str,
    cfg: &SmsConfig,
    outbox: &Path,
    clock: &SharedClock,
    http: &reqwest::Client,
) -> anyhow::Result<Box<dyn Provider>> {
    let c = clock.clone();
    let now: UnixNow = Arc::new(move || c.now().timestamp());
    Ok(match name {
        "console" => Box::new(Console::new(outbox.to_path_buf(), clock.clone())),
        "tencent" => {
            let settings = cfg.tencent.clone().ok_or_else(|| {
                anyhow::anyhow!("sms.provider tencent needs an [sms.tencent] section")
            })?;
            Box::new(TencentProvider {
                settings,
                client: http.clone(),
                now,
            })
        }
        "aliyun" => {
            let settings = cfg.aliyun.clone().ok_or_else(|| {
                anyhow::anyhow!("sms.provider aliyun needs an [sms.aliyun] section")
            })?;
            Box::new(AliyunProvider {
                settings,
                client: http.clone(),
                now,
            })
        }
        other => anyhow::bail!("unknown SMS provider {other:?} (console, tencent or aliyun)"),
    })
}

impl Delivery {
    /// The providers of `[sms]`; the console provider writes to `outbox`.
    pub fn from_config(
        cfg: &SmsConfig,
        outbox: &Path,
        clock: &SharedClock,
    ) -> anyhow::Result<Delivery> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_millis(cfg.http_timeout_ms.min(3_000)))
            .timeout(Duration::from_millis(cfg.http_timeout_ms))
            .build()?;
        let primary = build(&cfg.provider, cfg, outbox, clock, &http)?;
        let failover = match cfg.failover.trim() {
            "" => None,
            name if name == cfg.provider => {
                anyhow::bail!("sms.failover must differ from sms.provider")
            }
            name => Some(build(name, cfg, outbox, clock, &http)?),
        };
        Ok(Delivery {
            primary,
            failover,
            wake: Notify::new(),
            max_attempts: cfg.max_send_attempts.max(1) as i64,
            backoff_base_ms: cfg.backoff_base_ms.max(1) as i64,
            poll: Duration::from_millis(cfg.worker_poll_ms.max(10)),
        })
    }

    /// Wakes the worker (a message was queued).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Delay before attempt `attempts + 1`: base · 2^(attempts − 1), at most 10 minutes.
    pub fn backoff_ms(&self, attempts: i64) -> i64 {
        let exp = (attempts - 1).clamp(0, 20) as u32;
        self.backoff_base_ms
            .saturating_mul(1i64 << exp)
            .min(600_000)
    }

    /// One attempt at a claimed row, its outcome written at once (a code's first attempt).
    pub async fn attempt(&self, sms: &Sms, row: Claimed) -> Result<(), AppError> {
        let id = row.id.clone();
        match self.decide(sms, row).await? {
            Some(mark) => marks::record(&sms.db, sms.clock.now_ms(), &[(id, mark)]).await,
            None => Ok(()),
        }
    }

    /// Sends one claimed row and says what to write; `None` when it is already written (a
    /// reminder delivered in WeChat). Errors (Redis, the store) leave the row to its lease.
    #[tracing::instrument(skip_all, err)]
    async fn decide(&self, sms: &Sms, row: Claimed) -> Result<Option<Mark>, AppError> {
        let primary = self.primary.name();
        let failed = |error: &str| {
            Ok(Some(Mark::Failed {
                provider: primary.to_owned(),
                error: error.to_owned(),
            }))
        };
        let Some(template) = Template::parse(&row.template) else {
            return failed("unknown_template");
        };
        let mut params = row.params.clone();
        let mut code = None;
        if let Some(r) = &row.code_ref {
            match codes::current(sms, r).await? {
                Some(c) => {
                    params.insert("code".into(), c.clone());
                    code = Some(c);
                }
                None => {
                    metrics::counter!("sms_failed_total", "provider" => primary, "reason" => "code_expired").increment(1);
                    return failed("code_expired");
                }
            }
        }
        // A reminder the citizen allowed in WeChat goes there (else, or if refused, by SMS).
        if template == Template::BookingReminder
            && super::wx_notify::try_reminder(sms, &row, &params).await?
        {
            return Ok(None);
        }
        let msg = Outgoing {
            message_id: row.id.clone(),
            phone: row.phone.clone(),
            template: template.key().into(),
            params: template.ordered(&params),
            text: template.render(&params),
            code,
        };
        let mut used = self.primary.as_ref();
        let mut result = used.send(&msg).await;
        if let (Err(e), Some(f)) = (&result, &self.failover)
            && e.may_fail_over()
        {
            tracing::warn!(id = %row.id, to = %mask_phone(&row.phone), provider = used.name(), error = %e, "sms: failing over");
            used = f.as_ref();
            result = used.send(&msg).await;
        }
        let provider = used.name().to_owned();
        Ok(Some(match result {
            Ok(acc) => {
                tracing::info!(id = %row.id, to = %mask_phone(&row.phone), provider, template = template.key(), "sms sent");
                metrics::counter!("sms_sent_total", "provider" => provider.clone()).increment(1);
                Mark::Sent {
                    provider,
                    provider_message_id: acc.provider_message_id,
                }
            }
            Err(e) if e.retryable() && row.attempts < self.max_attempts => {
                let next_at_ms = sms.clock.now_ms() + self.backoff_ms(row.attempts);
                tracing::warn!(id = %row.id, to = %mask_phone(&row.phone), provider, attempts = row.attempts, error = %e, "sms: will retry");
                Mark::Retry {
                    provider,
                    error: e.to_string(),
                    next_at_ms,
                }
            }
            Err(e) => {
                let reason = match &e {
                    SendError::Throttled { .. } => "provider_throttled",
                    SendError::Rejected { .. } => "rejected",
                    _ => "gave_up",
                };
                tracing::warn!(id = %row.id, to = %mask_phone(&row.phone), provider, error = %e, "sms failed");
                metrics::counter!("sms_failed_total", "provider" => provider.clone(), "reason" => reason)
                    .increment(1);
                Mark::Failed {
                    provider,
                    error: e.to_string(),
                }
            }
        }))
    }

    /// Sends due messages until the queue is empty (`state`: the server's, or the [`Sms`]): up
    /// to [`BATCH`] claimed in one write, sent concurrently (each within the provider timeouts,
    /// so the batch ends well inside the lease), their outcomes written in one transaction.
    /// The first error ends the pass after the others' outcomes are written.
    pub async fn drain<S>(&self, state: &S) -> Result<usize, AppError>
    where
        Sms: FromRef<S>,
    {
        let sms = Sms::from_ref(state);
        let mut n = 0;
        loop {
            let batch = outbox::claim_due(&sms.db, sms.clock.now_ms(), BATCH).await?;
            if batch.is_empty() {
                return Ok(n);
            }
            n += batch.len();
            let decided = futures::future::join_all(batch.into_iter().map(|row| {
                let id = row.id.clone();
                let sms = &sms;
                async move { (id, self.decide(sms, row).await) }
            }))
            .await;
            let mut first_error = None;
            let mut done = Vec::with_capacity(decided.len());
            for (id, d) in decided {
                match d {
                    Ok(Some(mark)) => done.push((id, mark)),
                    Ok(None) => {}
                    Err(e) => {
                        first_error.get_or_insert(e);
                    }
                }
            }
            marks::record(&sms.db, sms.clock.now_ms(), &done).await?;
            if let Some(e) = first_error {
                return Err(e);
            }
        }
    }
}

/// The background sender: wakes on new messages or every poll interval.
pub async fn run_worker(sms: Sms, mut stop: watch::Receiver<bool>) {
    let delivery = &sms.delivery;
    loop {
        if let Err(e) = delivery.drain(&sms).await {
            tracing::warn!(error = %e, "sms worker pass failed");
        }
        tokio::select! {
            _ = delivery.wake.notified() => tokio::time::sleep(GATHER).await,
            _ = tokio::time::sleep(delivery.poll) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            return;
        }
    }
}
