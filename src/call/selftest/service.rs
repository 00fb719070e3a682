//! The self-test's services: an echo started within its limits (one per user at a time, a few
//! a minute, an offer of bounded size), a result scored, stored and announced to the brigade.

use std::time::Duration;

use axum::http::StatusCode;
use chrono::{SecondsFormat, TimeZone, Utc};
use serde_json::json;
use signaling::EchoEngine;

use super::store::{self, SelfTestRow};
use super::{EchoAnswer, SelfTestReport, SelfTestView, score};
use crate::booking::{Booking, BookingRow};
use crate::call::Call;
use crate::error::{ApiResult, AppError};
use crate::throttle::Windows;

/// Results kept on view per booking (the newest first).
pub const SHOWN: i64 = 5;

/// Starts an echo peer for `user`'s complete offer; the slot is freed when it closes.
pub async fn start_echo(call: &Call, user: &str, sdp: String) -> ApiResult<EchoAnswer> {
    let cfg = &call.config.selftest;
    let Some(engine) = call.engine.clone() else {
        return Err(AppError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "media_unavailable",
            "media is disabled on this server",
        ));
    };
    if sdp.len() > cfg.max_sdp_bytes {
        return Err(AppError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "sdp_too_large",
            format!("the offer is over {} bytes", cfg.max_sdp_bytes),
        )
        .with_field("sdp"));
    }
    if !sdp.starts_with("v=0") {
        return Err(AppError::bad_request("bad_sdp", "not an SDP offer").with_field("sdp"));
    }
    let echo_s = cfg.echo_s.clamp(1, 60);
    let slot =
        Slot::take(call, user).ok_or_else(|| AppError::throttled("selftest_busy", echo_s))?;
    let name = format!("selftest:{user}");
    Windows::new(&call.kv, call.clock.as_ref())
        .hit("selftest_throttled", &name, cfg.echoes_per_minute, 60)
        .await?;
    // In a task of its own: a request dropped half-way leaves no peer open and no slot taken.
    let task = tokio::spawn(async move {
        let echo = engine.echo(sdp, Duration::from_secs(echo_s)).await?;
        tokio::spawn(async move {
            let outcome = echo.done.await.unwrap_or_default();
            drop(slot);
            tracing::info!(
                connected = outcome.connected,
                packets = outcome.packets,
                bytes = outcome.bytes,
                "self-test echo closed"
            );
        });
        Ok::<_, signaling::MediaError>(echo.answer)
    });
    match task.await {
        Ok(Ok(sdp)) => Ok(EchoAnswer {
            sdp,
            echo_seconds: echo_s,
        }),
        Ok(Err(e)) if e.code == "bad_sdp" => {
            Err(AppError::bad_request("bad_sdp", e.message).with_field("sdp"))
        }
        Ok(Err(e)) => Err(AppError::internal(e)),
        Err(e) => Err(AppError::internal(e)),
    }
}

/// A user's running echo: taken before it starts, freed when dropped (the echo closed, or it
/// never started).
struct Slot {
    call: Call,
    user: String,
}

impl Slot {
    fn take(call: &Call, user: &str) -> Option<Slot> {
        call.selftest_running.take(user).then(|| Slot {
            call: call.clone(),
            user: user.to_owned(),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.call.selftest_running.release(&self.user);
    }
}

/// Scores and stores the citizen's result for their booking and tells the brigade's officers.
pub async fn record(
    call: &Call,
    booking: &Booking,
    citizen: &str,
    booking_id: &str,
    report: SelfTestReport,
) -> ApiResult<SelfTestView> {
    let b = crate::booking::service::get_for_citizen(booking, citizen, booking_id).await?;
    if let Some(field) = report.invalid_field() {
        return Err(AppError::unprocessable(field, "out of range"));
    }
    Windows::new(&call.kv, call.clock.as_ref())
        .hit(
            "selftest_throttled",
            &format!("selftest-results:{citizen}"),
            call.config.selftest.results_per_hour,
            3600,
        )
        .await?;
    let (s, advice) = score::score(&report);
    let row = SelfTestRow {
        id: crate::ids::new_id(),
        booking_id: b.id.clone(),
        citizen_id: citizen.to_owned(),
        at: call.clock.now_ms(),
        score: s.as_str().to_owned(),
        advice: serde_json::to_string(&advice).map_err(AppError::internal)?,
        report: serde_json::to_string(&report).map_err(AppError::internal)?,
    };
    store::insert(&call.db, &row).await?;
    announce(call, &b, &row).await;
    view(&row)
}

/// The newest results of a booking the caller may see (checked by the caller).
pub async fn latest(call: &Call, b: &BookingRow) -> ApiResult<Vec<SelfTestView>> {
    store::latest(&call.db, &b.id, SHOWN)
        .await?
        .iter()
        .map(view)
        .collect()
}

/// `selftest` on the brigade's officer events (best effort).
async fn announce(call: &Call, b: &BookingRow, row: &SelfTestRow) {
    let ev = json!({"type": "selftest", "brigade_id": b.brigade_id, "booking_id": b.id,
        "score": row.score, "at": rfc3339(row.at)});
    let mut conn = call.kv.conn();
    let r: redis::RedisResult<i64> = redis::cmd("PUBLISH")
        .arg(call.kv.key(&format!("events:brigade:{}", b.brigade_id)))
        .arg(ev.to_string())
        .query_async(&mut conn)
        .await;
    if let Err(e) = r {
        tracing::warn!(error = %e, "publishing the self-test event failed");
    }
}

fn rfc3339(ms: i64) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_default()
}

fn view(row: &SelfTestRow) -> ApiResult<SelfTestView> {
    let bad = |e: serde_json::Error| AppError::internal(format!("stored self-test: {e}"));
    Ok(SelfTestView {
        id: row.id.clone(),
        booking_id: row.booking_id.clone(),
        at: rfc3339(row.at),
        score: serde_json::from_value(json!(row.score)).map_err(bad)?,
        advice: serde_json::from_str(&row.advice).map_err(bad)?,
        report: serde_json::from_str(&row.report).map_err(bad)?,
    })
}
