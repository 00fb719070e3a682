//! `[sms]`: the SMS area's own configuration (providers, code policy, budgets, delivery).

use secrecy::SecretString;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct SmsConfig {
    /// `console`, `tencent` or `aliyun`.
    pub provider: String,
    pub code_ttl_s: u64,
    pub max_attempts: u32,
    pub code_key: SecretString,
    pub resend_after_s: u64,
    /// A second provider used only on transport errors or 5xx before acceptance ("" = none).
    #[serde(default)]
    pub failover: String,
    /// Login codes per phone per hour and per day (anonymous requests).
    #[serde(default = "sms_defaults::per_hour")]
    pub per_hour: u64,
    #[serde(default = "sms_defaults::per_day")]
    pub per_day: u64,
    /// Login-code requests per client address per minute (refused ones count too).
    #[serde(default = "sms_defaults::per_ip_per_minute")]
    pub per_ip_per_minute: u64,
    /// Login codes sent per client address per hour.
    #[serde(default = "sms_defaults::login_per_ip_per_hour")]
    pub login_per_ip_per_hour: u64,
    /// Hearing join codes per phone per hour and per day (all its hearings; asked by officers).
    #[serde(default = "sms_defaults::hearing_per_hour")]
    pub hearing_per_hour: u64,
    #[serde(default = "sms_defaults::hearing_per_day")]
    pub hearing_per_day: u64,
    /// Secret of the delivery-receipt callback URLs (`?secret=`); empty disables them.
    #[serde(default)]
    pub receipt_secret: SecretString,
    #[serde(default = "sms_defaults::max_send_attempts")]
    pub max_send_attempts: u32,
    #[serde(default = "sms_defaults::backoff_base_ms")]
    pub backoff_base_ms: u64,
    #[serde(default = "sms_defaults::worker_poll_ms")]
    pub worker_poll_ms: u64,
    #[serde(default = "sms_defaults::http_timeout_ms")]
    pub http_timeout_ms: u64,
    #[serde(default)]
    pub tencent: Option<super::tencent::TencentSettings>,
    #[serde(default)]
    pub aliyun: Option<super::aliyun::AliyunSettings>,
}

mod sms_defaults {
    pub fn per_hour() -> u64 {
        5
    }
    pub fn per_day() -> u64 {
        10
    }
    pub fn per_ip_per_minute() -> u64 {
        100
    }
    pub fn login_per_ip_per_hour() -> u64 {
        1000
    }
    pub fn hearing_per_hour() -> u64 {
        10
    }
    pub fn hearing_per_day() -> u64 {
        20
    }
    pub fn max_send_attempts() -> u32 {
        5
    }
    pub fn backoff_base_ms() -> u64 {
        2_000
    }
    pub fn worker_poll_ms() -> u64 {
        1_000
    }
    pub fn http_timeout_ms() -> u64 {
        5_000
    }
}
