//! The hearing's side of "no case gets stuck, no one is blacklisted unfairly" (issue 12 §5):
//! - the booking follows the hearing's status: an interrupted hearing frees it (booking's
//!   `interrupted`, never a no-show), a resumed one takes it back ([`booking_follows`]; booking
//!   decides through `ports`, the hearing never writes `bookings`);
//! - a no-show needs the join code sent at least `hearing.no_show_after_code_s` before (10
//!   minutes; production refuses less, `startup::checks`) ([`code_rule`], 409 `code_not_sent` /
//!   `code_sent_too_recently` with the reason);
//! - an opened hearing whose slot ended without a code that could make a no-show is interrupted
//!   by the server (reason [`CODE_NOT_SENT`], `interrupt::interrupt_without_code`), which frees
//!   the booking.

use serde_json::json;

use super::{
    machine::{Status, Trigger},
    ports,
    store::HearingRow,
};
use crate::{
    error::{ApiResult, AppError},
    store::Tx,
};

/// The least wait after the code production allows (DOMAIN.md: 10 minutes), seconds.
pub const MIN_NO_SHOW_AFTER_CODE_S: u64 = 600;

/// The reason recorded when the server interrupts an opened hearing that never had a code.
pub const CODE_NOT_SENT: &str = "code_not_sent";

/// The booking follows the hearing's change from `from` to `to` (by `trigger`) inside the
/// hearing's transaction: into `interrupted` frees it with `reason` (`call_lost` when both
/// parties dropped), out of it (resume) takes it back. Other changes: nothing here.
pub async fn booking_follows(
    tx: &mut Tx,
    h: &HearingRow,
    (from, to): (Status, Status),
    trigger: Trigger,
    reason: &str,
    now_ms: i64,
) -> ApiResult<()> {
    match (from, to) {
        (Status::Interrupted, Status::Interrupted) => Ok(()),
        (_, Status::Interrupted) => {
            let reason = match trigger {
                Trigger::BothGone => "call_lost",
                _ => reason,
            };
            ports::booking_interrupted(tx, &h.booking_id, reason, now_ms).await
        }
        (Status::Interrupted, _) => ports::booking_resumed(tx, &h.booking_id, now_ms).await,
        _ => Ok(()),
    }
}

/// The no-show rule on the code: `sent_at` (the first join code that went out) must be at least
/// `after_s` (`hearing.no_show_after_code_s`) before `now_ms`.
pub fn code_rule(sent_at: Option<i64>, now_ms: i64, after_s: u64) -> ApiResult<()> {
    let wait = i64::try_from(after_s).unwrap_or(i64::MAX / 1000) * 1000;
    let need = after_s.div_ceil(60);
    let Some(sent) = sent_at else {
        return Err(AppError::conflict(
            "code_not_sent",
            format!(
                "no join code was sent to the citizen: a no-show needs the code sent at least \
                 {need} minutes before (send it, then wait)"
            ),
        ));
    };
    let ready = sent.saturating_add(wait);
    if now_ms < ready {
        let minutes = (ready - now_ms + 59_999) / 60_000;
        return Err(AppError::conflict(
            "code_sent_too_recently",
            format!(
                "the join code went out less than {need} minutes ago: the citizen has \
                 {minutes} more minute(s) to join before a no-show can be recorded"
            ),
        )
        .with_params(json!({"minutes_left": minutes})));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_no_show_needs_the_code_ten_minutes_before() {
        let (t0, ten) = (1_800_000_000_000, MIN_NO_SHOW_AFTER_CODE_S);
        let e = code_rule(None, t0, ten).unwrap_err();
        assert_eq!(e.code, "code_not_sent");
        assert!(e.message.contains("10 minutes"), "{}", e.message);
        let e = code_rule(Some(t0), t0 + 600_000 - 1, ten).unwrap_err();
        assert_eq!(e.code, "code_sent_too_recently");
        assert!(e.message.contains("1 more minute"), "{}", e.message);
        let e = code_rule(Some(t0), t0 + 60_000, ten).unwrap_err();
        assert!(e.message.contains("9 more minute"), "{}", e.message);
        assert!(code_rule(Some(t0), t0 + 600_000, ten).is_ok());
        assert!(code_rule(Some(t0), t0, 0).is_ok());
        assert_eq!(code_rule(None, t0, 0).unwrap_err().code, "code_not_sent");
    }
}
