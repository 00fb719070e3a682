//! The `[call]` configuration section (signalling limits, media network, TURN, recordings).

use std::path::PathBuf;

use secrecy::SecretString;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct CallConfig {
    /// Lifetime of a join token; a participant may rejoin with it until it expires.
    pub join_token_ttl_s: u64,
    /// HMAC key of join tokens (empty in development: generated into the data dir).
    pub token_key: SecretString,
    /// The first frame must be `join` within this time.
    pub join_timeout_s: u64,
    /// Server WebSocket pings, and silence after which a socket is dead.
    pub ping_interval_s: u64,
    pub idle_timeout_s: u64,
    /// A dropped participant may come back within this time (the other party sees `reconnecting`).
    pub grace_s: u64,
    /// Per-connection rate limit (frames per second, burst) and bad frames tolerated.
    pub rate_per_s: f64,
    pub rate_burst: f64,
    pub max_abuse: u32,
    /// The server's WebRTC endpoint.
    pub media_enabled: bool,
    pub recording_enabled: bool,
    /// UDP port range for ICE (0 and 0: any port).
    pub udp_port_min: u16,
    pub udp_port_max: u16,
    /// Public IPs announced instead of the host's (1:1 NAT).
    pub nat_1to1_ips: Vec<String>,
    /// Offer loopback candidates (tests, single-machine demos).
    pub include_loopback: bool,
    /// Only gather candidates on these local IPs (empty: all interfaces).
    pub bind_ips: Vec<String>,
    /// ICE servers handed to clients.
    pub stun_urls: Vec<String>,
    pub turn_urls: Vec<String>,
    /// coturn `static-auth-secret` for TURN REST credentials (empty: no TURN credentials).
    pub turn_secret: SecretString,
    pub turn_ttl_s: u64,
    /// Where recordings go (empty: DATA_DIR/recordings).
    pub recordings_dir: PathBuf,
    /// Lifetime of this process's claim on a hearing (`hearing:{id}:node` in Redis), renewed
    /// every third of it while the room lives; a dead process's hearings are free after it.
    pub node_ttl_ms: u64,
    /// `[call.selftest]`: the echo peer's limits.
    pub selftest: super::selftest::SelfTestConfig,
    /// Audio-only on a weak link (issue 14 §2): a client stops sending video when its outgoing
    /// estimate (Chromium's `availableOutgoingBitrate`) stays below `audio_only_kbps` for
    /// `audio_only_after_s` seconds, and sends it again after it stays above twice that for
    /// `video_back_after_s`. Handed to clients in the join grant (`audio_only`); 0 kbit/s: never
    /// automatically.
    pub audio_only_kbps: u32,
    pub audio_only_after_s: u32,
    pub video_back_after_s: u32,
    /// `[call.link]`: when a seat's link, as the server measures it, is fair or poor, and how
    /// often it is sampled (issue 14 §2, docs/call.md "Link quality").
    pub link: signaling::LinkThresholds,
    /// The receivers' link estimate passed back to senders (REMB, docs/call.md "Link
    /// estimate"): each sender is told the smallest estimate of the seats receiving its video,
    /// never below `remb_min_kbps` nor above `remb_max_kbps` (0: not passed back).
    pub remb_min_kbps: u32,
    pub remb_max_kbps: u32,
}

impl Default for CallConfig {
    fn default() -> Self {
        CallConfig {
            join_token_ttl_s: 4 * 3600,
            token_key: SecretString::from(""),
            join_timeout_s: 10,
            ping_interval_s: 5,
            idle_timeout_s: 15,
            grace_s: 120,
            rate_per_s: 20.0,
            rate_burst: 60.0,
            max_abuse: 10,
            media_enabled: true,
            recording_enabled: true,
            udp_port_min: 0,
            udp_port_max: 0,
            nat_1to1_ips: vec![],
            include_loopback: false,
            bind_ips: vec![],
            stun_urls: vec![],
            turn_urls: vec![],
            turn_secret: SecretString::from(""),
            turn_ttl_s: 3600,
            recordings_dir: PathBuf::new(),
            node_ttl_ms: 15_000,
            selftest: Default::default(),
            audio_only_kbps: 150,
            audio_only_after_s: 5,
            video_back_after_s: 10,
            link: Default::default(),
            remb_min_kbps: 30,
            remb_max_kbps: 2500,
        }
    }
}
