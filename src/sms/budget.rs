//! Who may spend which send limits (docs/architecture.md, SMS "Limits"). A login code (asked
//! anonymously) and a hearing's join code (asked by the hearing's officer for the booked phone)
//! have separate per-phone windows, so a stranger asking for login codes cannot stop the hearing
//! code; notifications count in no code window, so the citizen's own bookings cannot either.
//! Every window of a send is checked and recorded at once (`limits`), so a refused send
//! consumes nothing.

use chrono::NaiveDate;

use super::SmsConfig;
use crate::{domain::PhoneNumber, kv::Kv};

use super::{Purpose, limits::Window};

/// The budget a code send spends.
#[derive(Debug, Clone, Copy)]
pub enum Budget<'a> {
    /// An anonymous login-code request from client address `ip`.
    Login { ip: &'a str },
    /// The join code of `hearing_id`, asked by its officer: at most `per_day` sends on the
    /// brigade's local `day`, which ends at `day_ends_ms`.
    Hearing {
        hearing_id: &'a str,
        day: NaiveDate,
        day_ends_ms: i64,
        per_day: u64,
    },
    /// A participant's join code (issue 19 §2), asked by the hearing's officer: at most
    /// `per_day` sends per participant on the brigade's local `day`.
    Participant {
        hearing_id: &'a str,
        participant_id: &'a str,
        day: NaiveDate,
        day_ends_ms: i64,
        per_day: u64,
    },
}

impl Budget<'_> {
    /// The code this budget sends.
    pub fn purpose(&self) -> Purpose {
        match self {
            Budget::Login { .. } => Purpose::Login,
            Budget::Hearing { hearing_id, .. } => Purpose::Join {
                hearing_id: (*hearing_id).to_string(),
            },
            Budget::Participant {
                hearing_id,
                participant_id,
                ..
            } => Purpose::Participant {
                hearing_id: (*hearing_id).to_string(),
                participant_id: (*participant_id).to_string(),
            },
        }
    }

    /// Checked (and counted, also when refused) before anything else: the code requests of one
    /// address a minute. Hearing codes are asked by an authenticated officer: none.
    pub fn requests(&self, kv: &Kv, cfg: &SmsConfig) -> Option<Window> {
        match self {
            Budget::Login { ip } => Some(Window::new(
                kv.key(&format!("sms:ip:{ip}")),
                cfg.per_ip_per_minute,
                60,
            )),
            Budget::Hearing { .. } | Budget::Participant { .. } => None,
        }
    }

    /// The windows a send spends (all checked; recorded only when all allow it).
    pub fn windows(&self, kv: &Kv, cfg: &SmsConfig, phone: &PhoneNumber) -> Vec<Window> {
        let p = phone.as_str();
        let gap = Window::new(
            kv.key(&format!("sms:gap:{}:{p}", self.purpose().tag())),
            1,
            cfg.resend_after_s,
        );
        match self {
            Budget::Login { ip } => vec![
                gap,
                Window::new(kv.key(&format!("sms:login:hour:{p}")), cfg.per_hour, 3600),
                Window::new(kv.key(&format!("sms:login:day:{p}")), cfg.per_day, 86_400),
                Window::new(
                    kv.key(&format!("sms:login:ip:{ip}")),
                    cfg.login_per_ip_per_hour,
                    3600,
                ),
            ],
            Budget::Hearing { .. } | Budget::Participant { .. } => {
                let (key, per_day, day_ends_ms) = match self {
                    Budget::Participant {
                        participant_id,
                        day,
                        day_ends_ms,
                        per_day,
                        ..
                    } => (
                        format!("sms:participant:{participant_id}:{day}"),
                        *per_day,
                        *day_ends_ms,
                    ),
                    Budget::Hearing {
                        hearing_id,
                        day,
                        day_ends_ms,
                        per_day,
                    } => (
                        format!("sms:hearing:{hearing_id}:{day}"),
                        *per_day,
                        *day_ends_ms,
                    ),
                    Budget::Login { .. } => return vec![gap],
                };
                Self::hearing_windows(kv, cfg, p, gap, (key, per_day, day_ends_ms))
            }
        }
    }

    /// A hearing or participant code's windows: the resend gap, the per-day calendar window
    /// and the phone's hearing-code windows.
    fn hearing_windows(
        kv: &Kv,
        cfg: &SmsConfig,
        p: &str,
        gap: Window,
        (key, per_day, day_ends_ms): (String, u64, i64),
    ) -> Vec<Window> {
        vec![
            gap,
            Window::calendar(kv.key(&key), per_day, day_ends_ms),
            Window::new(
                kv.key(&format!("sms:hearing-phone:hour:{p}")),
                cfg.hearing_per_hour,
                3600,
            ),
            Window::new(
                kv.key(&format!("sms:hearing-phone:day:{p}")),
                cfg.hearing_per_day,
                86_400,
            ),
        ]
    }
}
