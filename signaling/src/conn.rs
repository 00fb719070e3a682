//! One signalling connection, generic over a `Sink`/`Stream` of [`Frame`]s so that it runs the
//! same over axum's WebSocket, tokio-tungstenite, or in-memory channels in tests.
//!
//! Owns the per-connection protocol: the `join` handshake (token checked by a [`JoinVerifier`]),
//! heartbeats both ways, the frame size limit, a token-bucket rate limit, `error` answers to bad
//! frames and closing repeated abuse, and relaying `offer`/`candidate` to the media room (an
//! `offer {ice_restart}` to the participant's existing peer connection, rate-limited per seat).

use std::sync::Arc;

use async_trait::async_trait;
use futures::{Sink, SinkExt, Stream, StreamExt};
use tokio::time::{Instant, timeout};

use crate::msg::{ClientMsg, IceServer, MAX_FRAME_BYTES, ParseError, ServerMsg};
use crate::room::{Detach, Hub, Outbound, Participant, close_code};

/// A WebSocket frame, independent of the WebSocket library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    Text(String),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(Option<(u16, String)>),
}

/// An error read from the transport. One that says the peer sent a frame or message over the
/// transport's size limit closes the socket with 1009, like an oversize text frame (API.md);
/// any other ends the connection.
pub trait ReadError {
    /// The peer sent more than the transport accepts in one frame or message.
    fn too_large(&self) -> bool {
        false
    }
}

impl ReadError for std::convert::Infallible {}

/// The outcome of checking a join token.
#[derive(Debug, Clone)]
pub struct JoinGrant {
    pub participant: Participant,
    pub ice_servers: Vec<IceServer>,
}

/// Why a join was refused (sent as an `error` frame, then the socket closes with `close_code`).
#[derive(Debug, Clone)]
pub struct JoinRefused {
    pub code: String,
    pub message: String,
    /// 4003 unless the refusal says otherwise (4009 hearing closed, 4010 wrong node, …).
    pub close_code: u16,
    /// `wrong_node`: where the hearing's call is held.
    pub node_url: Option<String>,
}

impl JoinRefused {
    /// A refusal closed with 4003.
    pub fn new(code: &str, message: &str) -> JoinRefused {
        JoinRefused {
            code: code.to_owned(),
            message: message.to_owned(),
            close_code: close_code::UNAUTHORIZED,
            node_url: None,
        }
    }
}

/// Checks join tokens; implemented by the server (tokens are bound to hearing, role, participant).
#[async_trait]
pub trait JoinVerifier: Send + Sync {
    async fn verify(&self, hearing_id: &str, token: &str) -> Result<JoinGrant, JoinRefused>;
}

/// How a connection ended (for logs and tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    NoJoin(&'static str),
    Refused(String),
    Left,
    Dropped(&'static str),
    Closed(u16, String),
}

struct Bucket {
    tokens: f64,
    last: Instant,
    rate: f64,
    burst: f64,
}

impl Bucket {
    fn take(&mut self) -> bool {
        let now = Instant::now();
        let dt = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + dt * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

async fn send<S: Sink<Frame> + Unpin>(sink: &mut S, hub: &Hub, f: Frame) -> bool {
    matches!(
        timeout(hub.config.send_timeout, sink.send(f)).await,
        Ok(Ok(()))
    )
}

async fn send_msg<S: Sink<Frame> + Unpin>(sink: &mut S, hub: &Hub, m: &ServerMsg) -> bool {
    send(sink, hub, Frame::Text(m.to_json())).await
}

async fn close<S: Sink<Frame> + Unpin>(sink: &mut S, hub: &Hub, code: u16, reason: &str) {
    let _ = send(sink, hub, Frame::Close(Some((code, reason.to_owned())))).await;
    let _ = timeout(hub.config.send_timeout, sink.close()).await;
}

/// Runs one connection to its end.
pub async fn serve<S, R, E>(
    mut sink: S,
    mut stream: R,
    hub: Arc<Hub>,
    verifier: Arc<dyn JoinVerifier>,
    hearing_id: String,
) -> Ended
where
    S: Sink<Frame> + Unpin,
    R: Stream<Item = Result<Frame, E>> + Unpin,
    E: ReadError,
{
    // 1. the join handshake
    let deadline = Instant::now() + hub.config.join_timeout;
    let token = loop {
        let next = match tokio::time::timeout_at(deadline, stream.next()).await {
            Err(_) => {
                let _ = send_msg(
                    &mut sink,
                    &hub,
                    &ServerMsg::error("join_timeout", "send join first"),
                )
                .await;
                close(&mut sink, &hub, close_code::JOIN_TIMEOUT, "join timeout").await;
                return Ended::NoJoin("timeout");
            }
            Ok(Some(Err(e))) if e.too_large() => {
                close(&mut sink, &hub, close_code::TOO_BIG, "frame too large").await;
                return Ended::NoJoin("too_big");
            }
            Ok(None) | Ok(Some(Err(_))) => return Ended::NoJoin("closed"),
            Ok(Some(Ok(f))) => f,
        };
        match next {
            Frame::Ping(_) | Frame::Pong(_) => continue,
            Frame::Close(_) => return Ended::NoJoin("closed"),
            Frame::Text(t) if t.len() > MAX_FRAME_BYTES => {
                close(&mut sink, &hub, close_code::TOO_BIG, "frame too large").await;
                return Ended::NoJoin("too_big");
            }
            Frame::Text(t) => match ClientMsg::parse(&t) {
                Ok(ClientMsg::Join { token }) => break token,
                Ok(_) => {
                    let _ = send_msg(
                        &mut sink,
                        &hub,
                        &ServerMsg::error("join_required", "the first frame must be join"),
                    )
                    .await;
                    close(&mut sink, &hub, close_code::POLICY, "join required").await;
                    return Ended::NoJoin("not_join");
                }
                Err(e) => {
                    let _ =
                        send_msg(&mut sink, &hub, &ServerMsg::error(e.code(), e.to_string())).await;
                    close(&mut sink, &hub, close_code::POLICY, "join required").await;
                    return Ended::NoJoin("bad_frame");
                }
            },
            Frame::Binary(_) => {
                close(&mut sink, &hub, close_code::POLICY, "join required").await;
                return Ended::NoJoin("binary");
            }
        }
    };
    let grant = match verifier.verify(&hearing_id, &token).await {
        Ok(g) if g.participant.hearing_id == hearing_id => g,
        Ok(_) => {
            let _ = send_msg(
                &mut sink,
                &hub,
                &ServerMsg::error("token_invalid", "token is not for this hearing"),
            )
            .await;
            close(&mut sink, &hub, close_code::UNAUTHORIZED, "token invalid").await;
            return Ended::Refused("token_invalid".into());
        }
        Err(r) => {
            let msg = ServerMsg::Error {
                code: r.code.clone(),
                message: r.message.clone(),
                node_url: r.node_url.clone(),
            };
            let _ = send_msg(&mut sink, &hub, &msg).await;
            close(&mut sink, &hub, r.close_code, &r.code).await;
            return Ended::Refused(r.code);
        }
    };
    let p = grant.participant;
    let attached = hub.attach(&p);
    let conn = attached.conn;
    let mut rx = attached.rx;
    metrics::gauge!("signaling_connections").increment(1.0);
    let joined = Hub::joined_frame(p.role, attached.peer_present, grant.ice_servers);
    let ended = if send_msg(&mut sink, &hub, &joined).await {
        session(&mut sink, &mut stream, &mut rx, &hub, &p, conn).await
    } else {
        Ended::Dropped("send_failed")
    };
    metrics::gauge!("signaling_connections").decrement(1.0);
    let how = if ended == Ended::Left {
        Detach::Leave
    } else {
        Detach::Drop
    };
    hub.detach(&p, conn, how);
    ended
}

async fn session<S, R, E>(
    sink: &mut S,
    stream: &mut R,
    rx: &mut tokio::sync::mpsc::Receiver<Outbound>,
    hub: &Arc<Hub>,
    p: &Participant,
    conn: u64,
) -> Ended
where
    S: Sink<Frame> + Unpin,
    R: Stream<Item = Result<Frame, E>> + Unpin,
    E: ReadError,
{
    let cfg = hub.config.clone();
    let mut bucket = Bucket {
        tokens: cfg.rate_burst,
        last: Instant::now(),
        rate: cfg.rate_per_sec,
        burst: cfg.rate_burst,
    };
    let mut chat_bucket = Bucket {
        tokens: crate::chat::CHAT_BURST,
        last: Instant::now(),
        rate: crate::chat::CHAT_PER_SEC,
        burst: crate::chat::CHAT_BURST,
    };
    let mut media_bucket = Bucket {
        tokens: crate::video::MEDIA_BURST,
        last: Instant::now(),
        rate: 1.0 / crate::video::MEDIA_EVERY_S,
        burst: crate::video::MEDIA_BURST,
    };
    let mut abuse = 0u32;
    let mut last_seen = Instant::now();
    let mut ping = tokio::time::interval_at(Instant::now() + cfg.ping_interval, cfg.ping_interval);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let idle_at = last_seen + cfg.idle_timeout;
        tokio::select! {
            out = rx.recv() => match out {
                Some(Outbound::Msg(m)) => {
                    if !send_msg(sink, hub, &m).await { return Ended::Dropped("send_failed"); }
                }
                Some(Outbound::Close(code, reason)) => {
                    close(sink, hub, code, &reason).await;
                    return Ended::Closed(code, reason);
                }
                None => return Ended::Dropped("hub_gone"),
            },
            _ = ping.tick() => {
                if !send(sink, hub, Frame::Ping(b"hb".to_vec())).await { return Ended::Dropped("send_failed"); }
            }
            _ = tokio::time::sleep_until(idle_at) => {
                close(sink, hub, close_code::GOING_AWAY, "heartbeat timeout").await;
                return Ended::Dropped("heartbeat_timeout");
            }
            frame = stream.next() => {
                let frame = match frame {
                    Some(Err(e)) if e.too_large() => {
                        close(sink, hub, close_code::TOO_BIG, "frame too large").await;
                        return Ended::Closed(close_code::TOO_BIG, "frame too large".into());
                    }
                    None | Some(Err(_)) => return Ended::Dropped("socket_closed"),
                    Some(Ok(f)) => f,
                };
                last_seen = Instant::now();
                let text = match frame {
                    Frame::Ping(_) | Frame::Pong(_) => continue,
                    Frame::Close(_) => return Ended::Dropped("close_without_leave"),
                    Frame::Binary(_) => {
                        abuse += 1;
                        if !send_msg(sink, hub, &ServerMsg::error("binary_not_supported", "send JSON text frames")).await {
                            return Ended::Dropped("send_failed");
                        }
                        if abuse >= cfg.max_abuse { break; }
                        continue;
                    }
                    Frame::Text(t) => t,
                };
                if text.len() > MAX_FRAME_BYTES {
                    close(sink, hub, close_code::TOO_BIG, "frame too large").await;
                    return Ended::Closed(close_code::TOO_BIG, "frame too large".into());
                }
                if !bucket.take() {
                    abuse += 1;
                    metrics::counter!("signaling_rate_limited_total").increment(1);
                    if abuse >= cfg.max_abuse { break; }
                    if !send_msg(sink, hub, &ServerMsg::error("rate_limited", "too many frames")).await {
                        return Ended::Dropped("send_failed");
                    }
                    continue;
                }
                let reply = match ClientMsg::parse(&text) {
                    Err(e) => {
                        abuse += 1;
                        if abuse >= cfg.max_abuse { break; }
                        Some(err_frame(&e))
                    }
                    Ok(ClientMsg::Ping {}) => Some(ServerMsg::Pong),
                    Ok(ClientMsg::Seats {}) => {
                        hub.subscribe_seats(p, conn);
                        None
                    }
                    Ok(ClientMsg::Chat { text }) if chat_bucket.take() => {
                        crate::chat::relay(hub, p, text).await
                    }
                    Ok(ClientMsg::Chat { .. }) => {
                        Some(ServerMsg::error("chat_rate_limited", "at most one message a second"))
                    }
                    Ok(ClientMsg::Media { video, reason }) if media_bucket.take() => {
                        let state = crate::video::VideoState { video, reason };
                        crate::video::announce(hub, p, state).await
                    }
                    Ok(ClientMsg::Media { .. }) => {
                        abuse += 1;
                        if abuse >= cfg.max_abuse { break; }
                        Some(ServerMsg::error("media_rate_limited", "too many media frames"))
                    }
                    Ok(ClientMsg::Leave {}) => {
                        close(sink, hub, close_code::NORMAL, "left").await;
                        return Ended::Left;
                    }
                    Ok(ClientMsg::Join { .. }) => {
                        abuse += 1;
                        Some(ServerMsg::error("already_joined", "this connection has joined already"))
                    }
                    Ok(ClientMsg::Offer { sdp, ice_restart }) => offer(hub, p, conn, sdp, ice_restart).await,
                    Ok(ClientMsg::Candidate(c)) => match hub.media(&p.hearing_id) {
                        None => None,
                        Some(m) => match m.candidate(p.role, conn, c).await {
                            Ok(()) => None,
                            Err(e) => Some(ServerMsg::error(e.code, e.message)),
                        },
                    },
                };
                if let Some(r) = reply
                    && !send_msg(sink, hub, &r).await { return Ended::Dropped("send_failed"); }
            }
        }
    }
    let _ = send_msg(sink, hub, &ServerMsg::error("abuse", "too many bad frames")).await;
    close(sink, hub, close_code::POLICY, "too many bad frames").await;
    Ended::Closed(close_code::POLICY, "too many bad frames".into())
}

/// Answers an `offer`: a plain one makes (or, on the same connection, renegotiates) the
/// participant's peer connection; an ICE restart keeps it, at most one per
/// [`crate::room::ICE_RESTART_EVERY`] per seat.
async fn offer(
    hub: &Hub,
    p: &Participant,
    conn: u64,
    sdp: String,
    restart: bool,
) -> Option<ServerMsg> {
    let Some(m) = hub.media(&p.hearing_id) else {
        return Some(ServerMsg::error("room_closed", "the call is over"));
    };
    let answer = if !restart {
        m.offer(p.role, &p.participant_id, conn, sdp).await
    } else if hub.allow_ice_restart(p) {
        metrics::counter!("media_ice_restarts_total").increment(1);
        m.restart(p.role, conn, sdp).await
    } else {
        metrics::counter!("signaling_rate_limited_total").increment(1);
        return Some(ServerMsg::error(
            "rate_limited",
            "at most one ICE restart every 2 seconds",
        ));
    };
    Some(match answer {
        Ok(sdp) => ServerMsg::Answer { sdp },
        Err(e) => ServerMsg::error(e.code, e.message),
    })
}

fn err_frame(e: &ParseError) -> ServerMsg {
    ServerMsg::error(e.code(), e.to_string())
}
