//! Call control across server processes over Redis pub/sub (`<prefix>:call:bus`): a `hearing`
//! frame or the end of a hearing decided by a process that does not hold the hearing's room is
//! published, and the process holding it delivers to its room.
//!
//! Fast path: when this process has the room, it delivers directly and publishes nothing (a
//! hearing's room lives in one process, the holder in the map of [`super::nodes`]). Delivery
//! over the bus is at most once: a message published while no process has the room (or while
//! Redis is unreachable) is lost, which for a `hearing` frame only means the client learns the
//! status from its next frame or the REST view.

use std::time::Duration;

use axum::extract::FromRef;
use futures::StreamExt;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::Call;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Op {
    Hearing {
        status: String,
        step: Option<String>,
    },
    End,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Envelope {
    /// The publishing node (its own messages are skipped).
    from: String,
    hearing_id: String,
    #[serde(flatten)]
    op: Op,
}

fn channel(call: &Call) -> String {
    call.kv.key("call:bus")
}

async fn publish(call: &Call, hearing_id: &str, op: Op) -> redis::RedisResult<()> {
    let env = Envelope {
        from: call.node.id.clone(),
        hearing_id: hearing_id.to_owned(),
        op,
    };
    let text = match serde_json::to_string(&env) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "encoding a call bus message");
            return Ok(());
        }
    };
    let _: i64 = redis::cmd("PUBLISH")
        .arg(channel(call))
        .arg(text)
        .query_async(&mut call.kv.conn())
        .await?;
    Ok(())
}

/// Pushes a `hearing {status, step}` frame to both parties, wherever the room is.
pub async fn push_hearing<S>(
    state: &S,
    hearing_id: &str,
    status: &str,
    step: Option<&str>,
) -> redis::RedisResult<()>
where
    Call: FromRef<S>,
{
    let call = &Call::from_ref(state);
    if call.hub.has_room(hearing_id) {
        call.push_hearing(hearing_id, status, step);
        return Ok(());
    }
    let op = Op::Hearing {
        status: status.to_owned(),
        step: step.map(str::to_owned),
    };
    publish(call, hearing_id, op).await
}

/// Ends the hearing's call wherever it is: here (awaited: the recording segment is finalised
/// when this returns), or in the process holding it (which closes the sockets with 4009 and
/// finalises, indexes and seals the segment with its own recordings job).
pub async fn end_hearing<S>(state: &S, hearing_id: &str) -> redis::RedisResult<()>
where
    Call: FromRef<S>,
{
    let call = &Call::from_ref(state);
    if !call.end_hearing(hearing_id).await {
        publish(call, hearing_id, Op::End).await?;
    }
    super::nodes::release(call, hearing_id).await;
    Ok(())
}

async fn deliver(call: &Call, text: &str) {
    let env: Envelope = match serde_json::from_str(text) {
        Ok(e) => e,
        Err(e) => return tracing::warn!(error = %e, "bad call bus message"),
    };
    if env.from == call.node.id {
        return;
    }
    match env.op {
        Op::Hearing { status, step } => {
            call.push_hearing(&env.hearing_id, &status, step.as_deref());
        }
        Op::End => {
            let st = call.clone();
            tokio::spawn(async move {
                if st.end_hearing(&env.hearing_id).await {
                    super::nodes::release(&st, &env.hearing_id).await;
                }
            });
        }
    }
}

/// Background job: subscribes to the bus (resubscribing after a Redis failure) and delivers
/// to this process's rooms until `stop`.
pub async fn run(call: Call, mut stop: watch::Receiver<bool>) {
    loop {
        if let Err(e) = listen(&call, &mut stop).await {
            tracing::warn!(error = %e, "call bus subscription failed; retrying");
        }
        if !crate::jobs::tick(&mut stop, Duration::from_secs(1)).await {
            return;
        }
    }
}

async fn listen(call: &Call, stop: &mut watch::Receiver<bool>) -> anyhow::Result<()> {
    let client = redis::Client::open(call.redis_url.expose_secret())?;
    let mut pubsub = tokio::time::timeout(Duration::from_secs(5), client.get_async_pubsub())
        .await
        .map_err(|_| anyhow::anyhow!("redis timed out"))??;
    pubsub.subscribe(channel(call)).await?;
    call.bus_ready.send_replace(true);
    let mut messages = pubsub.into_on_message();
    loop {
        tokio::select! {
            _ = stop.changed() => return Ok(()),
            m = messages.next() => match m {
                Some(m) => match m.get_payload::<String>() {
                    Ok(text) => deliver(call, &text).await,
                    Err(e) => tracing::warn!(error = %e, "bad call bus payload"),
                },
                None => anyhow::bail!("subscription closed"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_are_flat_json() {
        let e = Envelope {
            from: "n1".into(),
            hearing_id: "h".into(),
            op: Op::Hearing {
                status: "in_call".into(),
                step: Some("identity".into()),
            },
        };
        let text = serde_json::to_string(&e).unwrap();
        assert_eq!(
            text,
            r#"{"from":"n1","hearing_id":"h","op":"hearing","status":"in_call","step":"identity"}"#
        );
        assert_eq!(serde_json::from_str::<Envelope>(&text).unwrap(), e);
        let end: Envelope =
            serde_json::from_str(r#"{"from":"n2","hearing_id":"h","op":"end"}"#).unwrap();
        assert_eq!(end.op, Op::End);
    }
}
