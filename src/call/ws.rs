//! `GET /ws/hearings/{id}`: adapts axum's WebSocket to the `signaling` crate's connection
//! protocol and verifies joins: the token, the hearing's status in the database (a closed hearing
//! is refused in every process), and the hearing → process map (a hearing held by another live
//! process is refused with `wrong_node` and that process's URL).

use std::sync::Arc;

use async_trait::async_trait;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRef, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::{SinkExt, StreamExt};
use signaling::room::close_code;
use signaling::{Frame, JoinGrant, JoinRefused, JoinVerifier, Participant, Role};

use super::nodes::Holder;
use utoipa_axum::router::OpenApiRouter;

use super::{Call, JoinGate};
use crate::error::AppError;
use crate::http::Path;

/// The transport refuses frames and messages above the signalling limit (64 KiB) before reading
/// them; the refusal reaches the connection as a [`WsReadError`] that closes with 1009, whatever
/// the size announced (API.md).
const TRANSPORT_MAX: usize = signaling::msg::MAX_FRAME_BYTES;

/// A read error of axum's WebSocket: `too_large` when tungstenite refused a frame or message
/// over [`TRANSPORT_MAX`].
struct WsReadError {
    too_large: bool,
}

impl signaling::ReadError for WsReadError {
    fn too_large(&self) -> bool {
        self.too_large
    }
}

fn read_error(e: axum::Error) -> WsReadError {
    let inner = e.into_inner();
    let too_large = matches!(
        inner.downcast_ref::<tungstenite::Error>(),
        Some(tungstenite::Error::Capacity(_))
    );
    if !too_large {
        tracing::debug!(error = %inner, "websocket read error");
    }
    WsReadError { too_large }
}

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Call: FromRef<S>,
    JoinGate: FromRef<S>,
{
    OpenApiRouter::new().route("/ws/hearings/{id}", get(upgrade))
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

async fn upgrade(
    State(call): State<Call>,
    State(gate): State<JoinGate>,
    Path(id): Path<String>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    if !valid_id(&id) {
        return AppError::not_found().into_response();
    }
    let ws = match ws {
        Ok(ws) => ws,
        Err(e) => {
            return AppError::new(
                e.status(),
                "websocket_required",
                "connect with a WebSocket upgrade (GET, Connection: upgrade, Upgrade: websocket)",
            )
            .into_response();
        }
    };
    // Signalling frames are small: 8 KiB buffers instead of tungstenite's 128 KiB default keep
    // an idle socket cheap (measured in docs/benchmarks.md).
    ws.max_message_size(TRANSPORT_MAX)
        .max_frame_size(TRANSPORT_MAX)
        .read_buffer_size(8 * 1024)
        .write_buffer_size(8 * 1024)
        .on_upgrade(move |socket| serve_socket(call, gate, id, socket))
}

fn to_axum(f: Frame) -> Message {
    match f {
        Frame::Text(t) => Message::Text(t.into()),
        Frame::Binary(b) => Message::Binary(b.into()),
        Frame::Ping(b) => Message::Ping(b.into()),
        Frame::Pong(b) => Message::Pong(b.into()),
        Frame::Close(c) => Message::Close(c.map(|(code, reason)| CloseFrame {
            code,
            reason: reason.into(),
        })),
    }
}

fn from_axum(m: Message) -> Frame {
    match m {
        Message::Text(t) => Frame::Text(t.as_str().to_owned()),
        Message::Binary(b) => Frame::Binary(b.to_vec()),
        Message::Ping(b) => Frame::Ping(b.to_vec()),
        Message::Pong(b) => Frame::Pong(b.to_vec()),
        Message::Close(c) => Frame::Close(c.map(|c| (c.code, c.reason.as_str().to_owned()))),
    }
}

async fn serve_socket(call: Call, gate: JoinGate, hearing_id: String, socket: WebSocket) {
    let (sink, stream) = socket.split();
    let sink = sink.with(|f: Frame| futures::future::ready(Ok::<_, axum::Error>(to_axum(f))));
    let stream = stream.map(|r| r.map(from_axum).map_err(read_error));
    let hub = call.hub.clone();
    let verifier: Arc<dyn JoinVerifier> = Arc::new(TokenVerifier {
        call: call.clone(),
        gate,
    });
    metrics::counter!("signaling_sockets_total").increment(1);
    let ended = signaling::serve(Box::pin(sink), stream, hub, verifier, hearing_id.clone()).await;
    tracing::debug!(%hearing_id, ?ended, "signalling socket ended");
    // The last socket of the room is gone: another process may take the hearing now.
    if matches!(ended, signaling::Ended::Left | signaling::Ended::Closed(..)) {
        super::nodes::release_if_idle(&call, &hearing_id).await;
    }
}

/// Verifies join tokens against the server's key and clock, and asks the hearing's gate.
struct TokenVerifier {
    call: Call,
    gate: JoinGate,
}

#[async_trait]
impl JoinVerifier for TokenVerifier {
    async fn verify(&self, hearing_id: &str, token: &str) -> Result<JoinGrant, JoinRefused> {
        let call = &self.call;
        let refuse = JoinRefused::new;
        let claims = call
            .tokens
            .verify(token, call.clock.now_ms())
            .ok_or_else(|| refuse("token_invalid", "the join token is invalid or expired"))?;
        if claims.h != hearing_id {
            return Err(refuse(
                "token_invalid",
                "the join token is for another hearing",
            ));
        }
        let role = Role::parse(&claims.r).ok_or_else(|| refuse("token_invalid", "bad role"))?;
        let closed = || JoinRefused {
            close_code: close_code::HEARING_CLOSED,
            ..refuse("hearing_closed", "the hearing is closed")
        };
        let unavailable = |what: &str, e: &dyn std::fmt::Display| {
            tracing::warn!(hearing_id, error = %e, "join: {what} failed");
            JoinRefused {
                close_code: close_code::INTERNAL,
                ..refuse("unavailable", "the server cannot take the join now; retry")
            }
        };
        if call.is_ended(hearing_id) {
            return Err(closed());
        }
        match self.gate.0.refuses_joins(hearing_id).await {
            Ok(false) => {}
            Ok(true) => return Err(closed()),
            Err(e) => return Err(unavailable("reading the hearing", &e)),
        }
        match super::nodes::claim(call, hearing_id).await {
            Ok(Holder::Me) => {}
            Ok(Holder::Other { url, .. }) => {
                metrics::counter!("signaling_wrong_node_total").increment(1);
                return Err(JoinRefused {
                    close_code: close_code::WRONG_NODE,
                    node_url: Some(super::tokens::ws_url_at(&url, hearing_id)),
                    ..refuse(
                        "wrong_node",
                        "another server process holds this hearing's call: connect to node_url",
                    )
                });
            }
            Err(e) => return Err(unavailable("claiming the hearing", &e)),
        }
        Ok(JoinGrant {
            ice_servers: super::tokens::ice_servers(call, &claims.p),
            participant: Participant {
                hearing_id: claims.h,
                role,
                participant_id: claims.p,
            },
        })
    }
}
