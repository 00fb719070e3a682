//! Officer dashboard events over Redis pub/sub (so they cross server processes), one channel
//! per brigade, `<prefix>:events:brigade:<id>` (booking publishes `urgent_deadline_near` on the
//! same channel), and the SSE stream `GET /api/v1/officer/events` that forwards them.
//!
//! Events are JSON `{type, hearing_id, booking_id, officer_id, at, ...}` with `type` one of
//! `citizen_waiting`, `citizen_joined`, `citizen_reconnecting`, `citizen_left`, `officer_left`,
//! `step`, `call_started`, `interrupted`, `resumed`, `no_show`, `urgent_deadline_near`, `link`
//! (a party's link level and figures, [`super::link`]; the self-test publishes `selftest`).

use std::{convert::Infallible, time::Duration};

use axum::response::sse::{Event, KeepAlive, Sse};
use futures::{Stream, StreamExt};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use super::Hearing;
use super::store::HearingRow;
use crate::{error::ApiResult, error::AppError};

pub fn channel(state: &Hearing, brigade_id: &str) -> String {
    state.kv.key(&format!("events:brigade:{brigade_id}"))
}

/// Publishes an event about a hearing to its brigade (best effort: logged on failure).
pub async fn publish(state: &Hearing, h: &HearingRow, kind: &str, extra: Value) {
    if let Err(e) = try_publish(state, h, kind, extra).await {
        tracing::warn!(error = %e, "publishing an officer event failed");
    }
}

/// [`publish`], telling whether Redis took it.
pub async fn try_publish(
    state: &Hearing,
    h: &HearingRow,
    kind: &str,
    extra: Value,
) -> redis::RedisResult<()> {
    let mut ev = json!({
        "type": kind,
        "hearing_id": h.id,
        "booking_id": h.booking_id,
        "officer_id": h.officer_id,
        "at": state.clock.now().to_rfc3339(),
    });
    if let (Value::Object(m), Value::Object(x)) = (&mut ev, extra) {
        m.extend(x);
    }
    let mut conn = state.kv.conn();
    let _: i64 = redis::cmd("PUBLISH")
        .arg(channel(state, &h.brigade_id))
        .arg(ev.to_string())
        .query_async(&mut conn)
        .await?;
    Ok(())
}

/// The SSE stream of the officer's brigade.
pub async fn stream(
    state: &Hearing,
    brigade_id: &str,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>> + use<>>> {
    let client = redis::Client::open(state.redis_url.expose_secret())
        .map_err(|e| AppError::unavailable(format!("redis: {e}")))?;
    let mut pubsub = tokio::time::timeout(Duration::from_secs(5), client.get_async_pubsub())
        .await
        .map_err(|_| AppError::unavailable("redis timed out"))??;
    pubsub.subscribe(channel(state, brigade_id)).await?;
    let hello = futures::stream::once(async {
        Ok::<_, Infallible>(Event::default().event("ready").data("{}"))
    });
    let messages = pubsub.into_on_message().filter_map(|msg| async move {
        let text: String = msg.get_payload().ok()?;
        let kind = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v["type"].as_str().map(str::to_string))
            .unwrap_or_else(|| "message".into());
        Some(Ok(Event::default().event(kind).data(text)))
    });
    Ok(Sse::new(hello.chain(messages))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
