//! The message templates: login code, hearing code, booking confirmation, the reminder the day
//! before, and the booking's fates the citizen is told of (missed by the brigade, cancelled or
//! moved by the brigade). Each has a stable key (the outbox `template` column and the provider template-id maps
//! in config), named parameters in the order the provider templates use them, and the text the
//! console provider writes. Owns the wording only.

use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Template {
    LoginCode,
    HearingCode,
    BookingConfirmation,
    BookingReminder,
    /// The brigade never opened the hearing: an apology and the link to book again.
    BookingMissed,
    BookingCancelledByBrigade,
    BookingMoved,
}

impl Template {
    pub const ALL: [Template; 7] = [
        Template::LoginCode,
        Template::HearingCode,
        Template::BookingConfirmation,
        Template::BookingReminder,
        Template::BookingMissed,
        Template::BookingCancelledByBrigade,
        Template::BookingMoved,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Template::LoginCode => "login_code",
            Template::HearingCode => "hearing_code",
            Template::BookingConfirmation => "booking_confirmation",
            Template::BookingReminder => "booking_reminder",
            Template::BookingMissed => "booking_missed",
            Template::BookingCancelledByBrigade => "booking_cancelled_by_brigade",
            Template::BookingMoved => "booking_moved",
        }
    }

    pub fn parse(key: &str) -> Option<Template> {
        Template::ALL.into_iter().find(|t| t.key() == key)
    }

    /// Parameter names in provider order (Tencent's `TemplateParamSet` is positional).
    pub fn param_names(self) -> &'static [&'static str] {
        match self {
            Template::LoginCode | Template::HearingCode => &["code", "minutes"],
            Template::BookingConfirmation | Template::BookingReminder => &["brigade", "time"],
            Template::BookingMissed => &["brigade", "time", "link"],
            Template::BookingCancelledByBrigade => &["brigade", "time", "reason", "link"],
            Template::BookingMoved => &["brigade", "from", "time", "reason"],
        }
    }

    /// Whether the message carries a verification code (re-derived at send time, never stored).
    pub fn carries_code(self) -> bool {
        matches!(self, Template::LoginCode | Template::HearingCode)
    }

    /// The text, with `{name}` placeholders replaced by the parameters.
    pub fn render(self, params: &BTreeMap<String, String>) -> String {
        let text = match self {
            Template::LoginCode => {
                "【远程执法】您的登录验证码为{code}，{minutes}分钟内有效，请勿泄露。"
            }
            Template::HearingCode => {
                "【远程执法】您的远程处理视频验证码为{code}，{minutes}分钟内有效。民警不会索要此码以外的信息。"
            }
            Template::BookingConfirmation => {
                "【远程执法】您已预约{brigade}远程处理，时间{time}。请提前备好身份证件和稳定网络。"
            }
            Template::BookingReminder => {
                "【远程执法】提醒：您预约的{brigade}远程处理将于{time}开始，届时民警将发送视频验证码。"
            }
            Template::BookingMissed => {
                "【远程执法】很抱歉，{brigade}未能在您预约的{time}为您办理，此次不计爽约。请重新预约：{link}"
            }
            Template::BookingCancelledByBrigade => {
                "【远程执法】很抱歉，{brigade}取消了您{time}的预约，原因：{reason}。此次不计爽约，请重新预约：{link}"
            }
            Template::BookingMoved => {
                "【远程执法】{brigade}已将您的预约由{from}改至{time}，原因：{reason}。如不便，可取消后重新预约。"
            }
        };
        let mut out = text.to_string();
        for (k, v) in params {
            out = out.replace(&format!("{{{k}}}"), v);
        }
        out
    }

    /// The parameters as ordered pairs (what a provider receives).
    pub fn ordered(self, params: &BTreeMap<String, String>) -> Vec<(String, String)> {
        self.param_names()
            .iter()
            .map(|n| (n.to_string(), params.get(*n).cloned().unwrap_or_default()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_render() {
        for t in Template::ALL {
            assert_eq!(Template::parse(t.key()), Some(t));
        }
        let p: BTreeMap<String, String> = [("code", "012345"), ("minutes", "5")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let text = Template::LoginCode.render(&p);
        assert!(text.contains("012345") && text.contains("5分钟"), "{text}");
        assert_eq!(
            Template::LoginCode.ordered(&p),
            vec![
                ("code".to_string(), "012345".to_string()),
                ("minutes".to_string(), "5".to_string())
            ]
        );
    }
}
