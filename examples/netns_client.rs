//! A one-shot WebRTC participant for the network-namespace tests (tests/integration/netns/):
//! joins a hearing through the signalling socket, takes the ICE servers from `joined`, sends
//! Opus silence, and prints what happened on stdout, one fact a line:
//! `connected ms=<since start> local=<candidate type>/<protocol> remote=<candidate type>`,
//! `media ms=<since start>` when the other party's first RTP packet arrives, then
//! `received packets=<n> bytes=<n>` after `--secs` of media (and at least a second of the other
//! party's), then exits 0 (1 on failure or after `--timeout`).
//!
//! `--turn-tcp` makes the TURN allocations go over TCP: `webrtc` 0.17.2 only speaks TURN over
//! UDP (webrtc-ice `gather_candidates_relay` skips `?transport=tcp` URLs), so each
//! `turn:…?transport=tcp` URL is replaced by a local UDP port whose datagrams are carried over
//! one TCP connection to the TURN server with RFC 5766 §11.7 / RFC 6062 framing — what a
//! browser's TURN/TCP client puts on the wire.
//!
//! `--address-change`: once media flows, survive the client's address changing (an ICE restart
//! of the same peer connection over a new signalling socket, `netns/restart.rs`). `--ticks`:
//! print `packets n=<received so far>` every half second.
//!
//! Run: `netns_client --ws ws://HOST:PORT/ws/hearings/ID --token T [--secs 2] [--timeout 20]
//! [--bind-ip IP] [--turn-tcp] [--relay-only] [--address-change] [--ticks]`.

#[path = "netns/restart.rs"]
mod restart;
#[path = "netns/turn_tcp.rs"]
mod turn_tcp;

use turn_tcp::turn_tcp_shim;

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use signaling::msg::ServerMsg;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;
use webrtc::api::APIBuilder;
use webrtc::api::interceptor_registry::register_default_interceptors;
use webrtc::api::media_engine::{MIME_TYPE_OPUS, MediaEngine};
use webrtc::api::setting_engine::SettingEngine;
use webrtc::ice_transport::ice_candidate::{RTCIceCandidate, RTCIceCandidateInit};
use webrtc::ice_transport::ice_server::RTCIceServer;
use webrtc::interceptor::registry::Registry;
use webrtc::media::Sample;
use webrtc::peer_connection::configuration::RTCConfiguration;
use webrtc::peer_connection::peer_connection_state::RTCPeerConnectionState;
use webrtc::peer_connection::policy::ice_transport_policy::RTCIceTransportPolicy;
use webrtc::peer_connection::sdp::session_description::RTCSessionDescription;
use webrtc::rtp_transceiver::rtp_codec::RTCRtpCodecCapability;
use webrtc::track::track_local::TrackLocal;
use webrtc::track::track_local::track_local_static_sample::TrackLocalStaticSample;

struct Args {
    ws: String,
    token: String,
    secs: u64,
    timeout: u64,
    bind_ip: Option<IpAddr>,
    turn_tcp: bool,
    relay_only: bool,
    address_change: bool,
    ticks: bool,
}

fn args() -> anyhow::Result<Args> {
    let mut a = Args {
        ws: String::new(),
        token: String::new(),
        secs: 2,
        timeout: 20,
        bind_ip: None,
        turn_tcp: false,
        relay_only: false,
        address_change: false,
        ticks: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut val = || it.next().with_context(|| format!("{k} needs a value"));
        match k.as_str() {
            "--ws" => a.ws = val()?,
            "--token" => a.token = val()?,
            "--secs" => a.secs = val()?.parse()?,
            "--timeout" => a.timeout = val()?.parse()?,
            "--bind-ip" => a.bind_ip = Some(val()?.parse()?),
            "--turn-tcp" => a.turn_tcp = true,
            "--relay-only" => a.relay_only = true,
            "--address-change" => a.address_change = true,
            "--ticks" => a.ticks = true,
            _ => bail!("unknown argument {k}"),
        }
    }
    if a.ws.is_empty() || a.token.is_empty() {
        bail!("--ws and --token are required");
    }
    Ok(a)
}

#[tokio::main]
async fn main() {
    let code = match args() {
        Ok(a) => {
            let limit = Duration::from_secs(a.timeout);
            match tokio::time::timeout(limit, run(a)).await {
                Ok(Ok(())) => 0,
                Ok(Err(e)) => {
                    println!("failed: {e:#}");
                    1
                }
                Err(_) => {
                    println!("failed: timeout");
                    1
                }
            }
        }
        Err(e) => {
            println!("failed: {e:#}");
            2
        }
    };
    std::process::exit(code);
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A signalling socket that has joined; with the ICE servers of `joined`.
async fn open_ws(url: &str, token: &str) -> anyhow::Result<(Vec<signaling::msg::IceServer>, Ws)> {
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await?;
    let join = serde_json::json!({"type": "join", "token": token});
    ws.send(Message::text(join.to_string())).await?;
    loop {
        let Some(msg) = ws.next().await else {
            bail!("socket closed before joined")
        };
        let Message::Text(t) = msg? else { continue };
        match serde_json::from_str::<ServerMsg>(t.as_str()) {
            Ok(ServerMsg::Joined { ice_servers, .. }) => return Ok((ice_servers, ws)),
            Ok(ServerMsg::Error { code, message, .. }) => bail!("server error {code}: {message}"),
            _ => continue,
        }
    }
}

/// Makes `ws` the client's socket: `sig`'s frames go to it, its frames go to `pc`; its end
/// notifies `sig.lost`.
fn attach(ws: Ws, pc: Arc<webrtc::peer_connection::RTCPeerConnection>, sig: &restart::Signal) {
    let (ws_tx, mut ws_rx) = mpsc::unbounded_channel::<String>();
    let (mut sink, mut stream) = ws.split();
    tokio::spawn(async move {
        while let Some(text) = ws_rx.recv().await {
            if sink.send(Message::text(text)).await.is_err() {
                break;
            }
        }
    });
    sig.replace(ws_tx);
    let sig = sig.clone();
    tokio::spawn(async move {
        while let Some(Ok(Message::Text(t))) = stream.next().await {
            if let Err(e) = apply(&pc, &sig, t.as_str()).await {
                println!("signalling: {e:#}");
            }
        }
        sig.lost.notify_one();
    });
}

async fn run(a: Args) -> anyhow::Result<()> {
    let start = Instant::now();
    let (ice_servers, ws) = open_ws(&a.ws, &a.token).await?;
    let mut servers = vec![];
    for s in ice_servers {
        let mut urls = vec![];
        for u in s.urls {
            if a.turn_tcp && u.starts_with("turn:") && u.ends_with("?transport=tcp") {
                let target = u["turn:".len()..u.len() - "?transport=tcp".len()].to_owned();
                let port = turn_tcp_shim(target).await?;
                urls.push(format!("turn:127.0.0.1:{port}?transport=udp"));
            } else if !a.turn_tcp || !u.starts_with("turn") {
                urls.push(u);
            }
        }
        servers.push(RTCIceServer {
            urls,
            username: s.username.unwrap_or_default(),
            credential: s.credential.unwrap_or_default(),
        });
    }

    let mut m = MediaEngine::default();
    m.register_default_codecs()?;
    let registry = register_default_interceptors(Registry::new(), &mut m)?;
    let mut s = SettingEngine::default();
    let bind = a.bind_ip;
    s.set_ip_filter(Box::new(move |ip| {
        bind.map_or(ip.is_ipv4() && !ip.is_loopback(), |b| ip == b)
    }));
    s.set_ice_multicast_dns_mode(webrtc::ice::mdns::MulticastDnsMode::Disabled);
    if a.address_change {
        // `webrtc` lists the interfaces once per peer connection: a restart after an address
        // change would gather on the deleted address. One socket on 0.0.0.0 instead: its host
        // candidate keeps the old address's name, the kernel sends from the current one.
        let udp = UdpSocket::bind("0.0.0.0:0").await?;
        let mux =
            webrtc::ice::udp_mux::UDPMuxDefault::new(webrtc::ice::udp_mux::UDPMuxParams::new(udp));
        s.set_udp_network(webrtc::ice::udp_network::UDPNetwork::Muxed(mux));
    }
    let api = APIBuilder::new()
        .with_media_engine(m)
        .with_interceptor_registry(registry)
        .with_setting_engine(s)
        .build();
    let cfg = RTCConfiguration {
        ice_servers: servers,
        ice_transport_policy: if a.relay_only {
            RTCIceTransportPolicy::Relay
        } else {
            RTCIceTransportPolicy::All
        },
        ..Default::default()
    };
    let pc = Arc::new(api.new_peer_connection(cfg).await?);
    let audio = Arc::new(TrackLocalStaticSample::new(
        RTCRtpCodecCapability {
            mime_type: MIME_TYPE_OPUS.to_owned(),
            clock_rate: 48000,
            channels: 2,
            ..Default::default()
        },
        "a".to_owned(),
        "netns".to_owned(),
    ));
    let sender = pc
        .add_track(audio.clone() as Arc<dyn TrackLocal + Send + Sync>)
        .await?;
    tokio::spawn(async move { while sender.read_rtcp().await.is_ok() {} });

    let sig = restart::Signal::new(mpsc::unbounded_channel::<String>().0);
    let tx = sig.clone();
    pc.on_ice_candidate(Box::new(move |c: Option<RTCIceCandidate>| {
        let tx = tx.clone();
        Box::pin(async move {
            if let Some(j) = c.and_then(|c| c.to_json().ok()) {
                let frame = serde_json::json!({"type": "candidate", "candidate": j.candidate,
                    "sdpMid": j.sdp_mid, "sdpMLineIndex": j.sdp_mline_index});
                tx.send(frame.to_string());
            }
        })
    }));
    let (state_tx, mut state) = watch::channel(RTCPeerConnectionState::New);
    pc.on_peer_connection_state_change(Box::new(move |s| {
        let _ = state_tx.send(s);
        Box::pin(async {})
    }));
    let (packets, bytes) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let (p2, b2) = (packets.clone(), bytes.clone());
    pc.on_track(Box::new(move |track, _, _| {
        let (p, b) = (p2.clone(), b2.clone());
        tokio::spawn(async move {
            while let Ok((pkt, _)) = track.read_rtp().await {
                p.fetch_add(1, Ordering::Relaxed);
                b.fetch_add(pkt.payload.len() as u64, Ordering::Relaxed);
            }
        });
        Box::pin(async {})
    }));

    let offer = pc.create_offer(None).await?;
    pc.set_local_description(offer).await?;
    let sdp = pc.local_description().await.context("no offer")?.sdp;
    attach(ws, pc.clone(), &sig);
    sig.send(serde_json::json!({"type": "offer", "sdp": sdp}).to_string());

    loop {
        let s = *state.borrow_and_update();
        match s {
            RTCPeerConnectionState::Connected => break,
            RTCPeerConnectionState::Failed => bail!("ICE/DTLS failed"),
            _ => state.changed().await?,
        }
    }
    let pair = pc
        .sctp()
        .transport()
        .ice_transport()
        .get_selected_candidate_pair()
        .await
        .context("no selected candidate pair")?;
    println!(
        "connected ms={} local={}/{} remote={}",
        start.elapsed().as_millis(),
        pair.local.typ,
        pair.local.protocol,
        pair.remote.typ
    );

    // Opus silence (TOC 0xf8: CELT fullband 20 ms, one frame) every 20 ms, for `--secs` and at
    // least one second after the other party's media first arrived (so that a party which
    // connects later still gets ours before we leave).
    // The samples go on in their own task, also while the network is down (`--address-change`).
    let silence = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        loop {
            tick.tick().await;
            let sample = Sample {
                data: Bytes::from_static(&[0xf8, 0xff, 0xfe]),
                duration: Duration::from_millis(20),
                ..Default::default()
            };
            let _ = audio.write_sample(&sample).await;
        }
    });
    let until = Instant::now() + Duration::from_secs(a.secs);
    let mut first_media: Option<Instant> = None;
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    let mut next_tick = Instant::now();
    loop {
        let now = Instant::now();
        if a.ticks && now >= next_tick {
            next_tick = now + Duration::from_millis(500);
            println!("packets n={}", packets.load(Ordering::Relaxed));
        }
        if first_media.is_none() && packets.load(Ordering::Relaxed) > 0 {
            first_media = Some(now);
            println!("media ms={}", start.elapsed().as_millis());
        }
        let heard = first_media.is_some_and(|t| now >= t + Duration::from_secs(1));
        if now >= until && heard {
            break;
        }
        tick.tick().await;
    }
    if a.address_change {
        restart::recover(&a.ws, &a.token, &pc, &sig, &mut state, &packets, start).await?;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    silence.abort();
    println!(
        "received packets={} bytes={}",
        packets.load(Ordering::Relaxed),
        bytes.load(Ordering::Relaxed)
    );
    sig.send(serde_json::json!({"type": "leave"}).to_string());
    pc.close().await?;
    Ok(())
}

/// Applies one server frame (answer, candidate) to the peer connection.
async fn apply(
    pc: &webrtc::peer_connection::RTCPeerConnection,
    sig: &restart::Signal,
    text: &str,
) -> anyhow::Result<()> {
    match serde_json::from_str::<ServerMsg>(text)? {
        ServerMsg::Answer { sdp } => {
            sig.answers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(sdp.clone());
            pc.set_remote_description(RTCSessionDescription::answer(sdp)?)
                .await?
        }
        ServerMsg::Candidate(c) => {
            pc.add_ice_candidate(RTCIceCandidateInit {
                candidate: c.candidate,
                sdp_mid: c.sdp_mid,
                sdp_mline_index: c.sdp_mline_index,
                username_fragment: c.username_fragment,
            })
            .await?
        }
        ServerMsg::Error { code, message, .. } => println!("server error {code}: {message}"),
        _ => {}
    }
    Ok(())
}
