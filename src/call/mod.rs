//! The call: the signalling WebSocket (`GET /ws/hearings/{id}`), join tokens, the server's media
//! engine (the `signaling` crate over `webrtc`), recording segments (the `recordings` crate),
//! their index, listing/download API and sealing into the audit log, and the citizen's
//! self-test against an echo peer ([`selftest`]).
//!
//! Owns the `recordings` table, the per-hearing room registry ([`Call::hub`]), the hearing →
//! process map ([`nodes`]) and the call bus between processes ([`bus`]). It does not
//! decide who may join a hearing (the hearing module does, then calls [`tokens::mint`]) and does
//! not write the audit log itself (it calls a [`sealer::RecordingSealer`]).

pub mod bus;
pub mod config;
pub mod files;
pub mod nodes;
pub mod sealer;
pub mod selftest;
pub mod tokens;
mod ws;

use std::collections::HashSet;
use std::ops::Deref;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::FromRef;
use signaling::rtc::{FinishedSegment, RtcConfig, RtcEngine};
use signaling::{Hub, HubConfig, MediaEngine, NoMedia, Presence};
use tokio::sync::mpsc;
use utoipa_axum::router::OpenApiRouter;

pub use config::CallConfig;

use crate::{clock::SharedClock, error::ApiResult, identity::Identity, kv::Kv, store::Db};

/// The call area's sub-state (`state.call`; handlers take `State<Call>`, `AppState` implements
/// `FromRef`): its services and what they use (the store, Redis, the clock, `[call]` and the
/// few server facts of [`Site`]). Cheap to clone; the entry points other areas call take any
/// state it can be taken from.
#[derive(Clone)]
pub struct Call(Arc<Inner>);

impl Deref for Call {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// Where the call runs: the server facts it needs beside `[call]`.
#[derive(Debug, Clone)]
pub struct Site {
    /// Development keys and, unless `call.recordings_dir` is set, the recordings.
    pub data_dir: PathBuf,
    /// A token key must then be configured.
    pub production: bool,
    /// `server.public_url`: absolute WebSocket URLs when set.
    pub public_url: String,
    /// Redis, for the call bus's own subscription connection.
    pub redis_url: secrecy::SecretString,
    /// The per-hearing keys of the files at rest.
    pub vault: Arc<crate::store::vault::Vault>,
}

/// How long a start waits for its node id's lock (a process finishing a recovery of this
/// node's segments holds it briefly).
const LOCK_WAIT: Duration = Duration::from_secs(5);

/// The parts of [`Call`].
pub struct Inner {
    pub db: Db,
    pub kv: Kv,
    pub clock: SharedClock,
    pub config: CallConfig,
    pub public_url: String,
    redis_url: secrecy::SecretString,
    /// Rooms and presence per hearing; `push_hearing`/`presence` are for the hearing module.
    pub hub: Arc<Hub>,
    pub tokens: tokens::TokenKey,
    pub turn_secret: Option<Vec<u8>>,
    pub engine: Option<Arc<RtcEngine>>,
    pub recordings_dir: PathBuf,
    /// The per-hearing keys the recordings are sealed with (src/store/vault.rs).
    pub vault: Arc<crate::store::vault::Vault>,
    /// Held for the process's lifetime: recovery elsewhere leaves this node's segments alone.
    pub node_lock: Arc<recordings::NodeLock>,
    finished: Mutex<Option<mpsc::UnboundedReceiver<FinishedSegment>>>,
    ended: Arc<Mutex<HashSet<String>>>,
    /// This process in the hearing → process map.
    pub node: nodes::Node,
    /// True once the call bus subscription is up (tests wait for it).
    pub bus_ready: tokio::sync::watch::Sender<bool>,
    /// The users with a self-test echo running here.
    pub selftest_running: selftest::Running,
}

impl std::fmt::Debug for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call")
            .field("media", &self.engine.is_some())
            .field("recordings_dir", &self.recordings_dir)
            .finish_non_exhaustive()
    }
}

impl Call {
    /// Builds the call service from `[call]` (media engine included when enabled); `node` is
    /// this process in the hearing → process map.
    pub fn new(
        (db, kv, clock): (Db, Kv, SharedClock),
        cfg: &CallConfig,
        site: Site,
        node: nodes::Node,
    ) -> anyhow::Result<Call> {
        let data_dir = &site.data_dir;
        let token_secret = secret_or_dev(&cfg.token_key, &site, "call-token.key")?;
        let turn_secret = {
            use secrecy::ExposeSecret;
            let s = cfg.turn_secret.expose_secret();
            (!s.is_empty()).then(|| s.as_bytes().to_vec())
        };
        let recordings_dir = if cfg.recordings_dir.as_os_str().is_empty() {
            data_dir.join("recordings")
        } else {
            cfg.recordings_dir.clone()
        };
        std::fs::create_dir_all(&recordings_dir)?;
        // this process's claim on its node id in the directory, for its lifetime
        let node_lock = recordings::NodeLock::acquire(&recordings_dir, &node.id, LOCK_WAIT)
            .map(Arc::new)
            .map_err(|e| {
                anyhow::anyhow!("recordings directory {}: {e}", recordings_dir.display())
            })?;
        // segments cut by a crash of this node or of a process that is gone: finalised now
        // (truncated), indexed and sealed by the job; a live process's are left alone
        match recordings::recover_orphans(&recordings_dir, &node_lock) {
            Ok(done) if !done.is_empty() => {
                tracing::warn!(segments = done.len(), "recovered cut recordings")
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "recovering recordings failed"),
        }
        let (engine, media, finished): (Option<Arc<RtcEngine>>, Arc<dyn MediaEngine>, _) = if cfg
            .media_enabled
        {
            let clk = clock.clone();
            let rtc = RtcConfig {
                udp_port_min: cfg.udp_port_min,
                udp_port_max: cfg.udp_port_max,
                nat_1to1_ips: cfg.nat_1to1_ips.clone(),
                include_loopback: cfg.include_loopback,
                bind_ips: cfg.bind_ips.iter().filter_map(|s| s.parse().ok()).collect(),
                recordings_dir: cfg.recording_enabled.then(|| recordings_dir.clone()),
                node_id: node.id.clone(),
                link_every: Duration::from_secs(cfg.link.sample_every_s.max(1)),
                remb: signaling::rtc::RembLimits {
                    min_bps: u64::from(cfg.remb_min_kbps) * 1000,
                    max_bps: u64::from(cfg.remb_max_kbps) * 1000,
                    ..Default::default()
                },
                clock: Arc::new(move || clk.now().timestamp_micros()),
            };
            let (e, rx) = RtcEngine::new(rtc).map_err(|e| anyhow::anyhow!("media engine: {e}"))?;
            let e = Arc::new(e);
            (Some(e.clone()), e as Arc<dyn MediaEngine>, Some(rx))
        } else {
            (None, Arc::new(NoMedia) as Arc<dyn MediaEngine>, None)
        };
        let hub = Hub::new(
            HubConfig {
                join_timeout: Duration::from_secs(cfg.join_timeout_s),
                ping_interval: Duration::from_secs(cfg.ping_interval_s.max(1)),
                idle_timeout: Duration::from_secs(cfg.idle_timeout_s.max(2)),
                grace: Duration::from_secs(cfg.grace_s),
                rate_per_sec: cfg.rate_per_s,
                rate_burst: cfg.rate_burst,
                max_abuse: cfg.max_abuse,
                link: cfg.link.clone(),
                ..HubConfig::default()
            },
            media,
        );
        Ok(Call(Arc::new(Inner {
            db,
            kv,
            clock,
            config: cfg.clone(),
            public_url: site.public_url,
            redis_url: site.redis_url,
            hub,
            tokens: tokens::TokenKey::new(&token_secret),
            turn_secret,
            engine,
            recordings_dir,
            vault: site.vault,
            node_lock,
            finished: Mutex::new(finished),
            ended: Arc::new(Mutex::new(HashSet::new())),
            node,
            bus_ready: tokio::sync::watch::channel(false).0,
            selftest_running: selftest::Running::default(),
        })))
    }

    /// Presence of both parties of a hearing (for audit entries: "both connected").
    pub fn presence(&self, hearing_id: &str) -> Presence {
        self.hub.presence(hearing_id)
    }

    /// Pushes a `hearing` frame to both parties (called on every accepted step).
    pub fn push_hearing(&self, hearing_id: &str, status: &str, step: Option<&str>) {
        self.hub.push_hearing(hearing_id, status, step);
    }

    /// The hearing closed: sockets are closed, tokens stop working, the recording segment is
    /// finalised (and then indexed and sealed by the recordings job). `false` when this process
    /// had no room for it (see [`bus::end_hearing`] for ending it wherever it is).
    pub async fn end_hearing(&self, hearing_id: &str) -> bool {
        self.ended
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(hearing_id.to_owned());
        let code = signaling::room::close_code::HEARING_CLOSED;
        self.hub
            .close_room(hearing_id, code, "the hearing is closed")
            .await
    }

    fn is_ended(&self, hearing_id: &str) -> bool {
        self.ended
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(hearing_id)
    }

    /// The receiver of finished segments (taken once by the recordings job).
    pub(crate) fn take_finished(&self) -> Option<mpsc::UnboundedReceiver<FinishedSegment>> {
        self.finished
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }
}

fn secret_or_dev(s: &secrecy::SecretString, site: &Site, file: &str) -> anyhow::Result<Vec<u8>> {
    use secrecy::ExposeSecret;
    let v = s.expose_secret();
    if !v.is_empty() {
        return Ok(v.as_bytes().to_vec());
    }
    if site.production {
        anyhow::bail!("call.token_key must be set in production (RH_CALL__TOKEN_KEY)");
    }
    crate::secrets::dev_secret(&site.data_dir, file)
}

/// What the call asks the hearing area before letting a participant in (the hearing sits
/// above the call: the server's state provides it through `FromRef`, see `state.rs`).
#[async_trait::async_trait]
pub trait HearingGate: Send + Sync {
    /// Whether the hearing is closed: joins are refused in every process.
    async fn refuses_joins(&self, hearing_id: &str) -> ApiResult<bool>;
}

/// The [`HearingGate`] a handler extracts (`State<JoinGate>`).
#[derive(Clone)]
pub struct JoinGate(pub Arc<dyn HearingGate>);

/// The call's routes: the signalling socket, the recordings API and the self-test.
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Call: FromRef<S>,
    JoinGate: FromRef<S>,
    Identity: FromRef<S>,
    crate::booking::Booking: FromRef<S>,
{
    ws::router()
        .merge(files::router())
        .merge(selftest::router())
}

/// Background jobs of the call: index finished segments and seal them with `sealer`, keep
/// this process's claims, listen to the call bus.
pub fn spawn_jobs(
    call: &Call,
    sealer: Arc<dyn sealer::RecordingSealer>,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    vec![
        tokio::spawn(sealer::run(call.clone(), sealer, stop.clone())),
        tokio::spawn(nodes::run(call.clone(), stop.clone())),
        tokio::spawn(bus::run(call.clone(), stop)),
    ]
}
