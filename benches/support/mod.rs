//! What the load benchmarks share: the real server binary started as its own process (so that
//! its CPU, RSS and file descriptors are measured apart from the load generator's), join tokens
//! signed with the key the benchmark gives it, `/proc` readings, percentiles and the audit
//! entry the log benchmarks append.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use remote_hearing::call::tokens::{Claims, TokenKey};
use tokio_tungstenite::{connect_async_with_config, tungstenite::Message};

/// The join-token key handed to the server under test.
pub const KEY: &str = "bench-token-key-not-secret";

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A `kB` field of `/proc/<pid>/status` (`VmRSS:`, `VmHWM:`).
pub fn proc_status(pid: u32, field: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    text.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

pub fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// CPU time (user + system) a process has used so far.
pub fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // the fields after the command name, which is in parentheses and may contain spaces
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(0))
        .collect();
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the name and state
    let ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    // in USER_HZ ticks, which are 1/100 s on every Linux architecture this runs on
    Duration::from_millis(ticks * 10)
}

pub fn token(hearing: &str, role: &str) -> String {
    let claims = Claims {
        h: hearing.into(),
        r: role.into(),
        p: format!("{role}-{hearing}"),
        e: chrono::Utc::now().timestamp_millis() + 3_600_000,
        n: uuid::Uuid::new_v4().simple().to_string()[..16].to_string(),
    };
    TokenKey::new(KEY.as_bytes()).sign(&claims)
}

pub fn percentile<T: Copy + Default>(sorted: &[T], p: f64) -> T {
    if sorted.is_empty() {
        return T::default();
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Starts `remote-hearing serve` on a free loopback port with a fresh SQLite data dir and Redis
/// keyspace; returns the child and its `host:port`.
pub fn start_server(dir: &std::path::Path, env: &[(&str, &str)]) -> (Child, String) {
    let (child, addr, _) = start_server_ops(dir, env);
    (child, addr)
}

/// [`start_server`], also returning the operations listener's `host:port` (`/metrics`).
pub fn start_server_ops(dir: &std::path::Path, env: &[(&str, &str)]) -> (Child, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_remote-hearing"));
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .env(
            "RH_REDIS__PREFIX",
            format!("bench:{}", uuid::Uuid::new_v4().simple()),
        )
        .env("RH_CALL__TOKEN_KEY", KEY)
        .env("RH_OPS__LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start the server binary");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    // "metrics on …" comes first, "listening on …" last.
    let (mut addr, mut ops) = (None, None);
    for l in lines.by_ref() {
        let l = l.expect("server stdout");
        if let Some(a) = l.strip_prefix("metrics on http://") {
            ops = a.strip_suffix("/metrics").map(str::to_string);
        }
        if let Some(a) = l.strip_prefix("listening on http://") {
            addr = Some(a.to_string());
            break;
        }
    }
    let addr = addr.expect("listening line");
    let ops = ops.expect("metrics line");
    // keep draining stdout so that the server never blocks on a full pipe
    std::thread::spawn(move || for _ in lines {});
    (child, addr.trim_end_matches('/').to_owned(), ops)
}

/// Connects to `ws://{addr}/ws/hearings/{hearing}` and joins; returns the socket once `joined`
/// arrived.
pub async fn join(addr: &str, hearing: &str, role: &str) -> anyhow::Result<Ws> {
    let url = format!("ws://{addr}/ws/hearings/{hearing}");
    let (mut ws, _) = connect_async_with_config(url, None, true).await?;
    let frame = serde_json::json!({"type": "join", "token": token(hearing, role)}).to_string();
    ws.send(Message::text(frame)).await?;
    wait_for(&mut ws, "\"joined\"").await?;
    Ok(ws)
}

/// Reads until a text frame containing `needle` (30 s at most).
pub async fn wait_for(ws: &mut Ws, needle: &str) -> anyhow::Result<()> {
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

/// The `i`-th audit entry the log benchmarks append: a statement of about 200 bytes, nine
/// entries per hearing.
pub fn entry(i: u64) -> remote_hearing::audit::NewEntry {
    use remote_hearing::audit::{Actor, NewEntry};
    NewEntry {
        hearing_id: format!("0193a1b2-c3d4-7e5f-8a9b-{:012x}", i / 9),
        step: "statement".into(),
        actor: Actor {
            role: "officer".into(),
            id: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".into(),
        },
        at: chrono::DateTime::from_timestamp_millis(1_795_000_000_000 + i as i64).unwrap(),
        payload: serde_json::json!({"text": "当事人陈述：对违法事实无异议。", "n": i, "both_connected": true}),
        recordings: vec![],
    }
}
