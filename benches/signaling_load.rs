//! Signalling load: many concurrent idle WebSockets on one server process, the server's memory
//! and file descriptors per socket, and two latencies under that load — a JSON `ping` → `pong`
//! round trip, and presence relay (the officer joins → the waiting citizen is told `peer joined`).
//!
//! The server runs as its own process (the real binary, media off) so that its RSS is measured
//! apart from the clients'. Run (the fd limit must allow two sockets per connection):
//!   ulimit -n 65536; SOCKETS=10000 cargo bench --bench signaling_load
//! Needs Redis on 127.0.0.1:6379 (or REDIS_URL).

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use futures::{SinkExt, StreamExt};
use remote_hearing::call::tokens::{Claims, TokenKey};
use tokio::sync::Semaphore;
use tokio_tungstenite::{connect_async_with_config, tungstenite::Message};

const KEY: &str = "bench-token-key-not-secret";

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn proc_status(pid: u32, field: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    text.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

fn token(hearing: &str, role: &str) -> String {
    let claims = Claims {
        h: hearing.into(),
        r: role.into(),
        p: format!("{role}-{hearing}"),
        e: chrono::Utc::now().timestamp_millis() + 3_600_000,
        n: uuid::Uuid::new_v4().simple().to_string()[..16].to_string(),
    };
    TokenKey::new(KEY.as_bytes()).sign(&claims)
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Connects and joins; returns the socket once `joined` arrived.
async fn join(base: &str, hearing: &str, role: &str) -> anyhow::Result<Ws> {
    let url = format!("{base}/ws/hearings/{hearing}");
    let (mut ws, _) = connect_async_with_config(url, None, true).await?;
    let frame = serde_json::json!({"type": "join", "token": token(hearing, role)}).to_string();
    ws.send(Message::text(frame)).await?;
    wait_for(&mut ws, "\"joined\"").await?;
    Ok(ws)
}

async fn wait_for(ws: &mut Ws, needle: &str) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next()).await?;
        match msg {
            Some(Ok(Message::Text(t))) if t.contains(needle) => return Ok(()),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e.into()),
            None => anyhow::bail!("closed while waiting for {needle}"),
        }
    }
}

/// Keeps a socket read (so WebSocket pings are answered) until the process ends.
fn idle(mut ws: Ws) {
    tokio::spawn(async move { while let Some(Ok(_)) = ws.next().await {} });
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn start_server(dir: &std::path::Path) -> (std::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_remote-hearing"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .env(
            "RH_REDIS__PREFIX",
            format!("bench:{}", uuid::Uuid::new_v4().simple()),
        )
        .env("RH_CALL__TOKEN_KEY", KEY)
        .env("RH_CALL__MEDIA_ENABLED", "false")
        .env("RH_CALL__RECORDING_ENABLED", "false")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the server binary");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let url = lines
        .find_map(|l| {
            l.ok()
                .and_then(|l| l.strip_prefix("listening on http://").map(str::to_string))
        })
        .expect("listening line");
    (child, format!("ws://{url}"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let sockets = env_num("SOCKETS", 10_000) / 2 * 2;
    let samples = env_num("SAMPLES", 200);
    let dir = tempfile::tempdir()?;
    let (mut child, base) = start_server(dir.path());
    let pid = child.id();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (rss0, fds0) = (proc_status(pid, "VmRSS:"), open_fds(pid));

    // Open the idle sockets, 256 handshakes at a time.
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(256));
    let mut tasks = Vec::with_capacity(sockets);
    for i in 0..sockets {
        let (base, gate) = (base.clone(), gate.clone());
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
        let mut citizen = join(&base, &hearing, "citizen").await?;
        let t0 = Instant::now();
        let officer = join(&base, &hearing, "officer").await?;
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
