//! Signalling load: many concurrent idle WebSockets on one server process, the server's memory
//! and file descriptors per socket, and two latencies under that load — a JSON `ping` → `pong`
//! round trip, and presence relay (the officer joins → the waiting citizen is told `peer joined`).
//!
//! The server runs as its own process (the real binary, media off) so that its RSS is measured
//! apart from the clients'. Run (the fd limit must allow two sockets per connection):
//!   ulimit -n 65536; SOCKETS=10000 cargo bench --bench signaling_load
//! Needs Redis on 127.0.0.1:6379 (or REDIS_URL).

mod support;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use futures::{SinkExt, StreamExt};
use support::{Ws, env_num, join, open_fds, percentile, proc_status, start_server, wait_for};
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;

/// Keeps a socket read (so WebSocket pings are answered) until the process ends.
fn idle(mut ws: Ws) {
    tokio::spawn(async move { while let Some(Ok(_)) = ws.next().await {} });
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let sockets = env_num("SOCKETS", 10_000) / 2 * 2;
    let samples = env_num("SAMPLES", 200);
    let dir = tempfile::tempdir()?;
    let (mut child, addr) = start_server(
        dir.path(),
        &[
            ("RH_CALL__MEDIA_ENABLED", "false"),
            ("RH_CALL__RECORDING_ENABLED", "false"),
        ],
    );
    let base = addr.as_str();
    let pid = child.id();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (rss0, fds0) = (proc_status(pid, "VmRSS:"), open_fds(pid));

    // Open the idle sockets, 256 handshakes at a time.
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(256));
    let mut tasks = Vec::with_capacity(sockets);
    for i in 0..sockets {
        let (base, gate) = (addr.clone(), gate.clone());
        let role = if i % 2 == 0 { "citizen" } else { "officer" };
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire().await;
            join(&base, &format!("idle-{}", i / 2), role)
                .await
                .map(idle)
        }));
    }
    let mut failed = 0;
    for t in tasks {
        if !matches!(t.await, Ok(Ok(()))) {
            failed += 1;
        }
    }
    let open_time = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (rss1, fds1) = (proc_status(pid, "VmRSS:"), open_fds(pid));
    let open = sockets - failed;

    // Latencies with all of them open.
    let mut ping_rtt = Vec::with_capacity(samples);
    let mut relay = Vec::with_capacity(samples);
    for i in 0..samples {
        let hearing = format!("probe-{i}");
        let mut citizen = join(base, &hearing, "citizen").await?;
        let t0 = Instant::now();
        let officer = join(base, &hearing, "officer").await?;
        wait_for(&mut citizen, "\"joined\"").await?;
        relay.push(t0.elapsed());
        let t0 = Instant::now();
        citizen.send(Message::text(r#"{"type":"ping"}"#)).await?;
        wait_for(&mut citizen, "\"pong\"").await?;
        ping_rtt.push(t0.elapsed());
        drop((citizen, officer));
    }
    ping_rtt.sort();
    relay.sort();

    println!(
        "signalling load: {open} idle sockets open ({failed} failed) in {:.1} s",
        open_time.as_secs_f64()
    );
    println!(
        "server RSS: {} kB before, {} kB after → {:.1} kB per socket",
        rss0,
        rss1,
        (rss1.saturating_sub(rss0)) as f64 / open.max(1) as f64
    );
    println!("server fds: {fds0} before, {fds1} after");
    println!(
        "ping→pong RTT over {samples}: p50 {:?}, p99 {:?}, max {:?}",
        percentile(&ping_rtt, 0.5),
        percentile(&ping_rtt, 0.99),
        ping_rtt.last().copied().unwrap_or_default()
    );
    println!(
        "presence relay (officer join → citizen told) over {samples}: p50 {:?}, p99 {:?}, max {:?}",
        percentile(&relay, 0.5),
        percentile(&relay, 0.99),
        relay.last().copied().unwrap_or_default()
    );
    let _ = child.kill();
    let _ = child.wait();
    Ok(())
}
