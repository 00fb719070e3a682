//! SMS: verification codes (`codes`), send limits (`limits`), delivery through a provider
//! (`console`; `tencent` and `aliyun` with their request signers), delivery receipts, message
//! templates, local fake providers for tests (`fake`, `fake_wechat`) and the WeChat client.

pub mod aliyun;
pub mod codes;
mod console;
pub mod fake;
pub mod fake_wechat;
pub mod limits;
pub mod provider;
pub mod receipts;
pub mod signing;
pub mod templates;
pub mod tencent;
pub mod wechat;

use std::path::PathBuf;

use ring::hmac;
use secrecy::ExposeSecret;

use crate::{config::Config, domain::PhoneNumber, error::AppError, state::AppState, throttle};

pub use codes::Purpose;

/// The SMS service held in `AppState`.
pub struct Sms {
    key: hmac::Key,
    console: console::Console,
}

impl std::fmt::Debug for Sms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sms")
            .field("key", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl Sms {
    pub fn new(config: &Config) -> anyhow::Result<Sms> {
        let secret = config.sms.code_key.expose_secret().to_string();
        let secret = if secret.is_empty() {
            if config.is_production() {
                anyhow::bail!("sms.code_key must be set in production (RH_SMS__CODE_KEY)");
            }
            crate::secrets::dev_secret(&config.server.data_dir, "sms-code.key")?
        } else {
            secret.into_bytes()
        };
        Ok(Sms {
            key: hmac::Key::new(hmac::HMAC_SHA256, &secret),
            console: console::Console::new(outbox_path(config)),
        })
    }

    /// Sends (or re-sends, within its validity) the code for `purpose` to `phone`, after the
    /// throttles. Returns the seconds before another send is allowed.
    pub async fn send_code(
        &self,
        state: &AppState,
        purpose: Purpose,
        phone: &PhoneNumber,
        ip: &str,
    ) -> Result<u64, AppError> {
        let cfg = &state.config.sms;
        let p = phone.as_str();
        throttle::hit(state, "sms_throttled", &format!("sms:ip:{ip}"), 100, 60).await?;
        throttle::hit(
            state,
            "sms_throttled",
            &format!("sms:gap:{}:{p}", purpose.tag()),
            1,
            cfg.resend_after_s,
        )
        .await?;
        throttle::hit(state, "sms_throttled", &format!("sms:hour:{p}"), 5, 3600).await?;
        throttle::hit(state, "sms_throttled", &format!("sms:day:{p}"), 10, 86_400).await?;
        let code = codes::issue(state, &self.key, &purpose, p).await?;
        let text = purpose.message(&code, cfg.code_ttl_s / 60);
        self.console
            .send(phone, &text, Some(&code), state.clock.now())
            .await?;
        Ok(cfg.resend_after_s)
    }

    /// Checks (and on success consumes) a code.
    pub async fn verify_code(
        &self,
        state: &AppState,
        purpose: Purpose,
        subject: &str,
        code: &crate::domain::SmsCode,
    ) -> Result<(), AppError> {
        codes::verify(state, &self.key, &purpose, subject, code).await
    }
}

pub fn outbox_path(config: &Config) -> PathBuf {
    config.server.data_dir.join("sms-outbox.jsonl")
}
