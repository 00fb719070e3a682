//! Officer dashboard events over Redis pub/sub (so they cross server processes), one channel
//! per brigade, `<prefix>:events:brigade:<id>` (booking publishes `urgent_deadline_near` on the
//! same channel), and the SSE stream `GET /api/v1/officer/events` that forwards them.
//!
//! Events are JSON `{type, hearing_id, booking_id, officer_id, at, ...}` with `type` one of
//! `citizen_waiting`, `citizen_joined`, `citizen_reconnecting`, `citizen_left`, `officer_left`,
//! `step`, `call_started`, `interrupted`, `resumed`, `no_show`, `urgent_deadline_near`, `link`
//! (a party's link level and figures, [`super::link`]; the self-test publishes `selftest`).
//!
//! The live state those events describe (the citizen's presence, each party's link) is also kept
//! per brigade in a Redis hash ([`remember`]), and a new stream starts with it, so a page opened
//! or reloaded mid-call shows who is waiting and how their link is without waiting for the next
//! change.

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
    remember(state, &mut conn, &h.brigade_id, &ev).await
}

/// How long the brigade's live state outlives its last change (a day's hearings).
const STATE_TTL_S: i64 = 12 * 3600;
/// A link level older than this is not replayed (the call's sampler reports every few seconds).
const LINK_FRESH_S: i64 = 30;

fn state_key(state: &Hearing, brigade_id: &str) -> String {
    state.kv.key(&format!("events:state:brigade:{brigade_id}"))
}

/// What a state event changes in the brigade's live state: `(fields set, fields removed)`,
/// following the page's own rules — the citizen gone ends every link of the case, the officer
/// gone only the officer's.
fn state_change(ev: &Value) -> Option<(Option<String>, Vec<String>)> {
    let kind = ev["type"].as_str()?;
    let b = ev["booking_id"].as_str()?;
    let link = |role: &str| format!("{b}:link:{role}");
    Some(match kind {
        "citizen_left" | "interrupted" => (
            (kind == "citizen_left").then(|| format!("{b}:presence")),
            vec![link("citizen"), link("officer")],
        ),
        k if k.starts_with("citizen_") => (Some(format!("{b}:presence")), vec![]),
        "officer_left" => (None, vec![link("officer")]),
        "link" => (Some(link(ev["role"].as_str()?)), vec![]),
        _ => return None,
    })
}

/// Keeps the live state an event describes (see [`state_change`]) for new streams.
async fn remember(
    state: &Hearing,
    conn: &mut redis::aio::ConnectionManager,
    brigade_id: &str,
    ev: &Value,
) -> redis::RedisResult<()> {
    let Some((set, removed)) = state_change(ev) else {
        return Ok(());
    };
    let key = state_key(state, brigade_id);
    let mut pipe = redis::pipe();
    if let Some(field) = set {
        pipe.hset(&key, field, ev.to_string()).ignore();
    }
    for field in removed {
        pipe.hdel(&key, field).ignore();
    }
    pipe.expire(&key, STATE_TTL_S).ignore();
    pipe.query_async::<()>(conn).await
}

/// The brigade's live state as events: presence first, then the links still fresh.
async fn snapshot(state: &Hearing, brigade_id: &str) -> Vec<(String, String)> {
    let mut conn = state.kv.conn();
    let all: std::collections::HashMap<String, String> = match redis::cmd("HGETALL")
        .arg(state_key(state, brigade_id))
        .query_async(&mut conn)
        .await
    {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!(error = %e, "reading the brigade's live state");
            return vec![];
        }
    };
    let now = state.clock.now();
    let mut out: Vec<(bool, String, String)> = all
        .into_iter()
        .filter_map(|(field, text)| {
            let v: Value = serde_json::from_str(&text).ok()?;
            let kind = v["type"].as_str()?.to_owned();
            let is_link = field.contains(":link:");
            if is_link {
                let at = chrono::DateTime::parse_from_rfc3339(v["at"].as_str()?).ok()?;
                if (now - at.with_timezone(&chrono::Utc)).num_seconds() > LINK_FRESH_S {
                    return None;
                }
            }
            Some((is_link, kind, text))
        })
        .collect();
    out.sort();
    out.into_iter().map(|(_, k, t)| (k, t)).collect()
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
    // after subscribing, so no change falls between the snapshot and the live events
    let now = snapshot(state, brigade_id).await;
    let hello = futures::stream::iter(
        now.into_iter()
            .map(|(kind, text)| Ok::<_, Infallible>(Event::default().event(kind).data(text))),
    )
    .chain(futures::stream::once(async {
        Ok::<_, Infallible>(Event::default().event("ready").data("{}"))
    }));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: &str, role: Option<&str>) -> Value {
        json!({"type": kind, "booking_id": "b1", "role": role})
    }

    #[test]
    fn the_live_state_follows_the_pages_rules() {
        let set = |k, r| state_change(&ev(k, r)).map(|c| c.0);
        let removed = |k| state_change(&ev(k, None)).map(|c| c.1).unwrap_or_default();
        assert_eq!(
            set("citizen_waiting", None),
            Some(Some("b1:presence".into()))
        );
        assert_eq!(
            set("citizen_joined", None),
            Some(Some("b1:presence".into()))
        );
        assert_eq!(
            set("link", Some("officer")),
            Some(Some("b1:link:officer".into()))
        );
        assert_eq!(set("link", None), None, "a link event names its party");
        assert_eq!(
            removed("citizen_left"),
            vec!["b1:link:citizen", "b1:link:officer"]
        );
        assert_eq!(set("interrupted", None), Some(None));
        assert_eq!(removed("interrupted").len(), 2);
        assert_eq!(removed("officer_left"), vec!["b1:link:officer"]);
        for other in ["step", "no_show", "selftest", "urgent_deadline_near"] {
            assert_eq!(state_change(&ev(other, None)), None, "{other}");
        }
        assert_eq!(
            state_change(&json!({"type": "link", "role": "citizen"})),
            None
        );
    }
}
