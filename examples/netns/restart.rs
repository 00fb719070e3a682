//! `netns_client --address-change`: after the call is up, the client waits for its network to
//! break (the test moves it to another address: the host's address list changes, ICE goes
//! `disconnected`, or the signalling socket ends), opens a new signalling socket (a new `join` with the same token, within the
//! grace period), sends an ICE-restart offer of the **same** peer connection
//! (`offer {ice_restart: true}`) and waits for the other party's media to come back. Prints
//! `lost ms=… by=<ice|socket>`, `rejoined ms=…` and `recovered ms=… restart_ms=…
//! same_server_dtls=<bool> answers=<n> local=<ip>` (the server answered the restart with the DTLS
//! fingerprint of its first answer: the same server-side peer connection).

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::sync::{Notify, watch};
use webrtc::peer_connection::RTCPeerConnection;
use webrtc::peer_connection::offer_answer_options::RTCOfferOptions;
use webrtc::peer_connection::peer_connection_state::RTCPeerConnectionState as State;

/// The signalling side shared by every socket of the client: where frames go (the current
/// socket's writer), the server's answers so far, and "the socket ended".
#[derive(Clone)]
pub struct Signal {
    out: Arc<Mutex<tokio::sync::mpsc::UnboundedSender<String>>>,
    pub answers: Arc<Mutex<Vec<String>>>,
    pub lost: Arc<Notify>,
}

impl Signal {
    pub fn new(out: tokio::sync::mpsc::UnboundedSender<String>) -> Signal {
        Signal {
            out: Arc::new(Mutex::new(out)),
            answers: Arc::default(),
            lost: Arc::new(Notify::new()),
        }
    }
    /// Queues a frame to the current socket.
    pub fn send(&self, text: String) {
        let out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        let _ = out.send(text);
    }
    /// From now on frames go to `out` (a new socket's writer).
    pub fn replace(&self, out: tokio::sync::mpsc::UnboundedSender<String>) {
        *self.out.lock().unwrap_or_else(|e| e.into_inner()) = out;
    }
}

/// The host's IPv4 addresses (not loopback).
fn v4_addrs() -> BTreeSet<IpAddr> {
    webrtc::util::ifaces::ifaces()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|i| i.addr.map(|a| a.ip()))
        .filter(|ip| ip.is_ipv4() && !ip.is_loopback())
        .collect()
}

fn fingerprint(sdp: &str) -> Option<&str> {
    sdp.lines()
        .find_map(|l| l.trim_end().strip_prefix("a=fingerprint:"))
}

/// Survives one address change; see the module doc.
pub async fn recover(
    ws_url: &str,
    token: &str,
    pc: &Arc<RTCPeerConnection>,
    sig: &Signal,
    state: &mut watch::Receiver<State>,
    packets: &AtomicU64,
    start: Instant,
) -> anyhow::Result<()> {
    let ms = || start.elapsed().as_millis();
    println!("ready ms={}", ms());
    // 1. notice the break: the host's addresses changed (what a phone's OS or Chrome's network
    //    change notifier reports; polled here every 100 ms), ICE disconnected/failed, or the
    //    signalling socket ended
    let addrs = v4_addrs();
    let mut poll = tokio::time::interval(Duration::from_millis(100));
    let by = loop {
        tokio::select! {
            _ = poll.tick() => if v4_addrs() != addrs { break "network" },
            _ = sig.lost.notified() => break "socket",
            r = state.changed() => {
                r?;
                if matches!(*state.borrow_and_update(), State::Disconnected | State::Failed) {
                    break "ice";
                }
            }
        }
    };
    println!("lost ms={} by={by}", ms());
    let lost = Instant::now();
    // 2. a new signalling socket (the route may take a moment to be usable)
    let ws = loop {
        match tokio::time::timeout(Duration::from_secs(3), super::open_ws(ws_url, token)).await {
            Ok(Ok((_, ws))) => break ws,
            Ok(Err(e)) => println!("rejoin: {e:#}"),
            Err(_) => println!("rejoin: timeout"),
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    super::attach(ws, pc.clone(), sig);
    println!("rejoined ms={}", ms());
    // 3. an ICE restart of the same peer connection
    let offer = pc
        .create_offer(Some(RTCOfferOptions {
            ice_restart: true,
            ..Default::default()
        }))
        .await?;
    pc.set_local_description(offer).await?;
    let sdp = pc.local_description().await.context("no offer")?.sdp;
    sig.send(serde_json::json!({"type": "offer", "sdp": sdp, "ice_restart": true}).to_string());
    // 4. media back: connected again and the other party's packets flowing
    let before = packets.load(Ordering::Relaxed);
    loop {
        let up = *state.borrow() == State::Connected;
        if up && packets.load(Ordering::Relaxed) >= before + 10 {
            break;
        }
        if *state.borrow() == State::Closed {
            bail!("peer connection closed");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let answers = sig
        .answers
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let same = answers.len() >= 2
        && fingerprint(&answers[0]).is_some()
        && fingerprint(&answers[0]) == answers.last().and_then(|a| fingerprint(a));
    let local = match pc
        .sctp()
        .transport()
        .ice_transport()
        .get_selected_candidate_pair()
        .await
    {
        Some(p) => p.local.address,
        None => "none".to_owned(),
    };
    println!(
        "recovered ms={} restart_ms={} same_server_dtls={same} answers={} local={local}",
        ms(),
        lost.elapsed().as_millis(),
        answers.len()
    );
    Ok(())
}
