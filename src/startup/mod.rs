//! Building and running the server: `run(config, listener, shutdown)` connects the store and
//! Redis (failing fast with one clear line), runs migrations, starts the background jobs and
//! serves HTTP until `shutdown` resolves. Tests call it on port 0.

use std::{future::Future, net::SocketAddr, sync::Arc};

use anyhow::Context;
use axum::serve::ListenerExt;
use tokio::{net::TcpListener, sync::watch};

mod checks;
pub mod routes;
mod wiring;

use tokio::task::JoinHandle;

use crate::{
    clock::{SharedClock, SystemClock},
    config::Config,
    kv::Kv,
    state::{AppState, Inner},
    store::Db,
};

/// Runs the server with the system clock.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    run_with_clock(config, Arc::new(SystemClock), listener, shutdown).await
}

/// Connects everything and builds the state (also used by CLI commands that need it).
pub async fn build_state(config: Config, clock: SharedClock) -> anyhow::Result<AppState> {
    checks::live_call(&config)?;
    checks::retention(&config)?;
    std::fs::create_dir_all(&config.server.data_dir).with_context(|| {
        format!(
            "cannot create data dir {}",
            config.server.data_dir.display()
        )
    })?;
    crate::store::probe_dir(&config.server.data_dir).with_context(|| {
        format!(
            "data dir {} is not writable",
            config.server.data_dir.display()
        )
    })?;
    let db = Db::connect(&config.database, &config.server.data_dir).await?;
    checks::durability(&config, &db).await?;
    db.migrate().await?;
    let kv = Kv::connect(&config.redis).await?;
    let audit = crate::audit::Audit::from_config(
        &config.audit,
        config.is_production(),
        &config.server.data_dir,
    )?;
    audit
        .register_key(&db, crate::clock::to_ms(clock.now()))
        .await
        .context("registering the audit key")?;
    let identity_key = Arc::new(crate::identity::DataKey::from_config(
        &config.identity,
        config.is_production(),
        &config.server.data_dir,
    )?);
    let records = wiring::records(&config, &db, &clock, identity_key.clone())?;
    let areas = wiring::areas(&config, &db, &kv, &clock, &records, identity_key.clone())?;
    // After a master-key rotation a process configured with the old key file does not start.
    areas.call.vault.check_current(&db.read).await?;
    let hearing = wiring::hearing(&config, (&db, &kv, &clock), &areas, identity_key.clone());
    // Chat in the call is sealed into the hearing's record before it is relayed.
    let chat = crate::hearing::chat::HearingChat::new(&hearing);
    areas.call.hub.set_chat_recorder(Arc::new(chat));
    // So are the changes to audio-only and back (issue 14 §2).
    let video = crate::hearing::video::HearingVideo::new(&hearing);
    areas.call.hub.set_video_recorder(Arc::new(video));
    // The links' levels: changes into and out of poor sealed, the officer's lists told.
    let link = crate::hearing::link::HearingLink::new(&hearing);
    areas.call.hub.set_link_recorder(Arc::new(link));
    Ok(AppState(Arc::new(Inner {
        config: Arc::new(config),
        db,
        kv,
        clock,
        metrics: crate::telemetry::metrics_handle(),
        sms: areas.sms,
        passwords: areas.identity.passwords.clone(),
        identity: areas.identity,
        booking: areas.booking,
        identity_key,
        audit,
        call: areas.call,
        hearing,
        records,
    })))
}

/// Runs the server with an injected clock.
pub async fn run_with_clock(
    config: Config,
    clock: SharedClock,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let state = build_state(config, clock).await?;
    serve(state, listener, shutdown).await
}

/// Serves an already built state until `shutdown` resolves, then stops the jobs; the
/// operations listener is bound from `ops.listen`.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let ops = bind_ops(&state.config.ops).await?;
    serve_with_ops(state, listener, ops, shutdown).await
}

/// The operations listener of `ops.listen` (`None` when empty); one clear line when taken.
pub async fn bind_ops(ops: &crate::config::OpsConfig) -> anyhow::Result<Option<TcpListener>> {
    let listen = ops.listen.trim();
    if listen.is_empty() {
        return Ok(None);
    }
    TcpListener::bind(listen).await.map(Some).map_err(|e| {
        anyhow::anyhow!(
            "cannot listen on ops.listen {listen}: {e} (set RH_OPS__LISTEN to a free address, or to \"\" for no metrics listener)"
        )
    })
}

/// A line on stdout for whoever started us; a closed stdout is no reason to stop serving
/// (`println!` would panic on it).
fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{line}");
}

/// [`serve`] with the operations listener given (tests bind one on port 0).
pub async fn serve_with_ops(
    state: AppState,
    listener: TcpListener,
    ops: Option<TcpListener>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let jobs = spawn_jobs(&state, stop_rx.clone());
    // Every staff read of a hearing, recording, evidence or bundle goes to the access log
    // (inside the shared middleware: request id, headers and metrics cover it too).
    let api = routes::api().layer(axum::middleware::from_fn_with_state(
        state.clone(),
        crate::hearing::reads::record,
    ));
    let app = crate::http::app(state.clone(), api);
    let addr = listener.local_addr()?;
    state.call.node.listening_on(addr);
    let ops_server = match ops {
        Some(l) => {
            let ops_addr = l.local_addr()?;
            say(&format!("metrics on http://{ops_addr}/metrics"));
            tracing::info!(%ops_addr, "operations listener");
            let mut stop = stop_rx;
            let app = crate::http::ops_app(state.clone());
            Some(tokio::spawn(async move {
                let _ = axum::serve(l, app)
                    .with_graceful_shutdown(async move {
                        let _ = stop.wait_for(|s| *s).await;
                    })
                    .await;
            }))
        }
        None => None,
    };
    // The last line printed: whoever waits for it may close our stdout right after.
    say(&format!("listening on http://{addr}"));
    tracing::info!(%addr, "listening");
    // Small signalling and API frames must not wait for delayed ACKs (Nagle).
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .context("serving HTTP")?;
    // Hand the calls over before the jobs stop (the recordings job still indexes what closes).
    crate::call::nodes::leave(&state.call).await;
    let _ = stop_tx.send(true);
    for job in jobs.into_iter().chain(ops_server) {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), job).await;
    }
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutdown signal received");
}

/// Every module's background jobs; each stops when `stop` flips.
fn spawn_jobs(state: &AppState, stop: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    let mut jobs = vec![
        tokio::spawn(crate::identity::sessions::sweep_expired(
            state.identity.clone(),
            stop.clone(),
        )),
        tokio::spawn(crate::audit::checkpointer::run(
            crate::audit::checkpointer::Checkpointer {
                audit: state.audit.clone(),
                db: state.db.clone(),
                clock: state.clock.clone(),
            },
            stop.clone(),
        )),
        tokio::spawn(crate::audit::witnessing::run(
            crate::audit::witnessing::Job {
                db: state.db.clone(),
                clock: state.clock.clone(),
                witnesses: state.config.audit.witnesses.clone(),
                timeout: std::time::Duration::from_millis(
                    state.config.audit.witness_timeout_ms.max(1),
                ),
                poll: state.audit.interval.clamp(
                    std::time::Duration::from_millis(20),
                    std::time::Duration::from_millis(250),
                ),
                alert_after: std::time::Duration::from_secs(
                    state.config.audit.witness_alert_after_s,
                ),
            },
            stop.clone(),
        )),
        tokio::spawn(crate::hearing::lifecycle::no_show_job(
            state.hearing.clone(),
            stop.clone(),
        )),
        tokio::spawn(crate::hearing::presence::watcher(
            state.hearing.clone(),
            stop.clone(),
        )),
        tokio::spawn(crate::hearing::retention::run_job(
            state.hearing.clone(),
            state.config.retention.clone(),
            stop.clone(),
        )),
        tokio::spawn(crate::booking::urgent::sweeper(
            state.booking.clone(),
            stop.clone(),
        )),
        tokio::spawn(crate::booking::jobs::no_show_job(
            state.booking.clone(),
            stop.clone(),
        )),
        tokio::spawn(crate::sms::delivery::run_worker(
            state.sms.clone(),
            stop.clone(),
        )),
    ];
    // The call seals finished recordings, the records outbox the write-back's outcome, into
    // the hearing's audit chain.
    let sealer = Arc::new(crate::hearing::sealer::HearingSealer(state.hearing.clone()));
    jobs.push(tokio::spawn(crate::records::outbox::run_worker(
        state.records.clone(),
        sealer.clone(),
        stop.clone(),
    )));

    jobs.extend(crate::call::spawn_jobs(&state.call, sealer, stop.clone()));
    jobs
}
