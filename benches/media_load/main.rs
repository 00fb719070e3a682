//! Media load: N concurrent hearings, each with two synthetic participants (or `SEATS=3,4`:
//! citizen, officer, interpreter and agent, each receiving every other seat) that join through the
//! real signalling socket and send pre-encoded VP8 + Opus (≈500 kbps each, from
//! `tests/data/media/video-500k.ivf` and `audio.ogg`) through the server, recording on. For each
//! N it reports the server's CPU and RSS, packet loss per direction and the one-way forwarding
//! latency (client send → server relay → client receive, all on loopback).
//!
//! The server runs as its own process (the real binary), so its CPU and memory are measured apart
//! from the load generator's, which shares the same cores and is reported beside it.
//!   HEARINGS=10,25,50 SECONDS=20 cargo bench --bench media_load
//!   HEARINGS=10,25 SEATS=2,3,4 cargo bench --bench media_load   (each N with each seat count)
//! `SOAK=200` runs the connect/disconnect soak instead (`soak.rs`).
//! `TARGET=ours,janus` runs each N against our server and then against Janus (`janus.rs`, 1:1
//! videocalls, recording on) and prints the two side by side with the ratio (`compare.rs`).
//! `SERVER_WORKERS=1` runs our server with that many tokio worker threads (its default: one per
//! core; docs/benchmarks.md has the experiment). Needs Redis on 127.0.0.1:6379 (or REDIS_URL).

mod compare;
mod janus;
mod peer;
mod soak;
// the call tests' WebRTC client helpers (the client API)
#[path = "../../signaling/tests/common/mod.rs"]
mod common;
#[path = "../support/mod.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::SampleMedia;
use peer::{Synth, WINDOW, now_us};
use support::{cpu_time, env_num, percentile, proc_status, start_server_ops};
use tokio::sync::Semaphore;
use webrtc::api::API;

/// The seats of a bench hearing, in the server's slot order (none of them the supervisor, whom
/// the citizen does not receive: every seat here receives every other).
const ROLES: [&str; 4] = ["citizen", "officer", "interpreter", "agent"];

/// Joins the `seats` seats of `n` hearings, four hearings at a time; returns each hearing's.
async fn setup(
    api: &Arc<API>,
    addr: &str,
    n: usize,
    seats: usize,
) -> anyhow::Result<Vec<Vec<Synth>>> {
    let gate = Arc::new(Semaphore::new(4));
    let mut tasks = Vec::new();
    for i in 0..n {
        let (api, addr, gate) = (api.clone(), addr.to_owned(), gate.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire().await?;
            let hearing = format!("load-{i}");
            let roles = &ROLES[..seats];
            let mut group = Vec::new();
            for role in roles {
                let others: Vec<&str> = roles.iter().copied().filter(|r| r != role).collect();
                group.push(peer::connect(&api, &addr, &hearing, role, &others).await?);
            }
            link(group).await
        }));
    }
    let mut groups = Vec::new();
    for t in tasks {
        groups.push(t.await??);
    }
    Ok(groups)
}

/// Tells each seat of a hearing the others' send logs, then waits until every one is connected.
async fn link(mut group: Vec<Synth>) -> anyhow::Result<Vec<Synth>> {
    for s in &group {
        let partners = group
            .iter()
            .filter(|o| o.role != s.role)
            .map(|o| (o.role.clone(), o.sent.clone()))
            .collect();
        let _ = s.partner.set(partners);
    }
    for s in &mut group {
        tokio::time::timeout(Duration::from_secs(30), s.connected.wait_for(|c| *c))
            .await
            .map_err(|_| anyhow::anyhow!("{} not connected in 30 s", s.role))??;
    }
    Ok(group)
}

/// [`setup`] against Janus: `n` 1:1 videocalls (citizen calls officer), four at a time.
async fn setup_janus(
    api: &Arc<API>,
    j: &janus::Client,
    n: usize,
) -> anyhow::Result<Vec<Vec<Synth>>> {
    let gate = Arc::new(Semaphore::new(4));
    let mut groups = Vec::new();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let (api, gate) = (api.clone(), gate.clone());
        let j = j.clone();
        tasks.spawn(async move {
            let _permit = gate.acquire().await?;
            link(janus::call(&api, &j, &format!("load-{i}"), ["citizen", "officer"]).await?).await
        });
    }
    while let Some(t) = tasks.join_next().await {
        groups.push(t??);
    }
    Ok(groups)
}

/// The server under test.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Target {
    Ours,
    Janus,
}

pub struct Row {
    pub target: Target,
    pub n: usize,
    pub seats: usize,
    setup: Duration,
    pub server_cpu: f64,
    gen_cpu: f64,
    pub rss0_kb: u64,
    /// at the start of the measurement window, and at its end
    rss_w0_kb: u64,
    pub rss_kb: u64,
    pub loss: [(u64, u64); 2],
    worst_loss: f64,
    pub lat: [Vec<u32>; 2],
    /// Mean RTP bitrate one participant sends (kbit/s).
    send_kbps: f64,
    pub recorded_bytes: u64,
    captures: usize,
    recording_dropped: u64,
    /// RTP bytes delivered to the receivers of every hearing, sent inside the window
    pub forwarded_bytes: u64,
    pub wall: f64,
    /// How long media flowed (what the recordings hold).
    pub media_secs: f64,
}

/// A value from the server's `/metrics` at `addr`, its operations listener (`None` when absent
/// or unreachable).
async fn metric_value(addr: &str, name: &str) -> Option<f64> {
    let resp = reqwest::get(format!("http://{addr}/metrics")).await.ok()?;
    let text = resp.text().await.ok()?;
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with([' ', '{']))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse::<f64>().ok())
}

/// A counter from the server's `/metrics` (0 when absent).
async fn metric(addr: &str, name: &str) -> u64 {
    metric_value(addr, name).await.map_or(0, |v| v as u64)
}

fn dir_size(dir: &std::path::Path) -> (u64, usize) {
    let (mut bytes, mut rtp) = (0, 0);
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            let (b, r) = dir_size(&p);
            bytes += b;
            rtp += r;
        } else {
            bytes += e.metadata().map(|m| m.len()).unwrap_or(0);
            rtp += usize::from(p.extension().is_some_and(|x| x == "rtp" || x == "mjr"));
        }
    }
    (bytes, rtp)
}

async fn run(
    target: Target,
    n: usize,
    seats: usize,
    secs: u64,
    media: &Arc<SampleMedia>,
    api: &Arc<API>,
) -> anyhow::Result<Row> {
    let dir = tempfile::tempdir()?;
    let (mut child, mut janus, ops, recordings);
    let groups;
    let (pid, rss0_kb, setup_time);
    if target == Target::Janus {
        let j = janus::start(dir.path()).await?;
        pid = j.child.id();
        tokio::time::sleep(Duration::from_millis(300)).await;
        rss0_kb = proc_status(pid, "VmRSS:");
        let t0 = Instant::now();
        groups = setup_janus(api, &j.client(), n).await?;
        setup_time = t0.elapsed();
        (child, ops, recordings) = (None, None, j.recordings.clone());
        janus = Some(j);
    } else {
        let workers = std::env::var("SERVER_WORKERS").unwrap_or_default();
        let mut env = vec![
            ("RH_CALL__INCLUDE_LOOPBACK", "true"),
            ("RH_CALL__BIND_IPS", "[\"127.0.0.1\"]"),
            ("RH_CALL__RATE_BURST", "1000"),
            ("RUST_LOG", "error"),
        ];
        if !workers.is_empty() {
            env.push(("TOKIO_WORKER_THREADS", workers.as_str()));
        }
        let (c, addr, o) = start_server_ops(dir.path(), &env);
        pid = c.id();
        tokio::time::sleep(Duration::from_millis(300)).await;
        rss0_kb = proc_status(pid, "VmRSS:");
        let t0 = Instant::now();
        groups = setup(api, &addr, n, seats).await?;
        setup_time = t0.elapsed();
        (child, ops, recordings) = (Some(c), Some(o), dir.path().join("recordings"));
        janus = None;
    }

    let stop = Arc::new(AtomicBool::new(false));
    let media0 = Instant::now();
    let pumps: Vec<_> = groups
        .iter()
        .flat_map(|p| p.iter().map(|s| s.pump(media.clone(), stop.clone())))
        .collect();
    tokio::time::sleep(Duration::from_secs(3)).await; // warm-up: keyframes, NACK, pacing settle
    let (srv0, gen0, w0) = (cpu_time(pid), cpu_time(std::process::id()), Instant::now());
    let rss_w0 = proc_status(pid, "VmRSS:");
    WINDOW[1].store(u64::MAX, Ordering::Relaxed);
    WINDOW[0].store(now_us(), Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(secs)).await;
    WINDOW[1].store(now_us(), Ordering::Relaxed);
    let wall = w0.elapsed().as_secs_f64();
    let server_cpu = (cpu_time(pid) - srv0).as_secs_f64() / wall * 100.0;
    let gen_cpu = (cpu_time(std::process::id()) - gen0).as_secs_f64() / wall * 100.0;
    let rss_kb = proc_status(pid, "VmRSS:");
    let recording_dropped = match &ops {
        Some(ops) => metric(ops, "recording_dropped_packets_total").await,
        None => 0,
    };
    tokio::time::sleep(Duration::from_secs(2)).await; // let the last packets arrive
    stop.store(true, Ordering::Relaxed);
    for p in pumps {
        let _ = p.await;
    }
    let media_secs = media0.elapsed().as_secs_f64();

    let (mut loss, mut lat, mut worst_loss) = ([(0u64, 0u64); 2], [vec![], vec![]], 0f64);
    let (mut sent_bytes, mut forwarded_bytes) = (0u64, 0u64);
    for group in &groups {
        for k in 0..2 {
            for tx in group {
                sent_bytes += tx.sent[k].sent_in_window().1;
            }
        }
        let links = group
            .iter()
            .flat_map(|rx| group.iter().map(move |tx| (rx, tx)))
            .filter(|(rx, tx)| rx.role != tx.role);
        for (rx, tx) in links {
            for k in 0..2 {
                let (sent, _) = tx.sent[k].sent_in_window();
                let Some(recv) = rx.recv.get(&tx.role) else {
                    continue;
                };
                let got = recv[k].received.load(Ordering::Relaxed);
                loss[k].0 += sent;
                loss[k].1 += got;
                forwarded_bytes += recv[k].bytes.load(Ordering::Relaxed);
                worst_loss = worst_loss.max(1.0 - got as f64 / sent.max(1) as f64);
                let mut l = recv[k]
                    .latencies_us
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                lat[k].append(&mut l);
            }
        }
    }
    for group in &groups {
        for s in group {
            s.leave();
            let _ = s.pc.close().await;
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (recorded_bytes, captures) = dir_size(&recordings);
    if let Some(c) = &mut child {
        let _ = c.kill();
        let _ = c.wait();
    }
    drop(janus.take()); // stops Janus
    for l in &mut lat {
        l.sort_unstable();
    }
    Ok(Row {
        target,
        n,
        seats,
        setup: setup_time,
        server_cpu,
        gen_cpu,
        rss0_kb,
        rss_w0_kb: rss_w0,
        rss_kb,
        loss,
        worst_loss,
        lat,
        send_kbps: sent_bytes as f64 * 8.0 / 1000.0 / wall / (seats * n) as f64,
        recorded_bytes,
        captures,
        recording_dropped,
        forwarded_bytes,
        wall,
        media_secs,
    })
}

fn ms(us: u32) -> f64 {
    us as f64 / 1000.0
}

fn print(r: &Row) {
    let pct = |(sent, got): (u64, u64)| 100.0 * (1.0 - got as f64 / sent.max(1) as f64);
    println!(
        "| {:?} | {} | {} | {:.0} ms | {:.0} % | {:.0} % | {} → {} → {} MB | {:.2} % / {:.2} % (worst stream {:.2} %) | {:.1} / {:.1} / {:.1} ms | {:.1} / {:.1} / {:.1} ms | {:.0} kbit/s | {} captures, {} MB, {} dropped |",
        r.target,
        r.n,
        r.seats,
        r.setup.as_secs_f64() * 1000.0,
        r.server_cpu,
        r.gen_cpu,
        r.rss0_kb / 1024,
        r.rss_w0_kb / 1024,
        r.rss_kb / 1024,
        pct(r.loss[0]),
        pct(r.loss[1]),
        r.worst_loss * 100.0,
        ms(percentile(&r.lat[0], 0.5)),
        ms(percentile(&r.lat[0], 0.99)),
        ms(r.lat[0].last().copied().unwrap_or(0)),
        ms(percentile(&r.lat[1], 0.5)),
        ms(percentile(&r.lat[1], 0.99)),
        ms(r.lat[1].last().copied().unwrap_or(0)),
        r.send_kbps,
        r.captures,
        r.recorded_bytes / 1_000_000,
        r.recording_dropped,
    );
    eprintln!(
        "  N={} × {} seats: audio {} sent / {} received, video {} sent / {} received in the window (sent: counted once per receiver)",
        r.n, r.seats, r.loss[0].0, r.loss[0].1, r.loss[1].0, r.loss[1].1
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let list = std::env::var("HEARINGS").unwrap_or_else(|_| "10,25,50".into());
    let secs = env_num("SECONDS", 20) as u64;
    let media = Arc::new(common::load_sample("video-500k.ivf"));
    // one API for every synthetic peer (default codecs and interceptors, loopback only)
    let api = Arc::new(common::loopback_api());
    if let Ok(cycles) = std::env::var("SOAK") {
        return soak::run(cycles.parse()?, &media, &api).await;
    }
    println!(
        "| server | hearings | seats | setup | server CPU | generator CPU | server RSS (idle → window start → end) | loss audio / video | audio latency p50 / p99 / max | video latency p50 / p99 / max | sent per participant | recorded |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    let seat_list = std::env::var("SEATS").unwrap_or_else(|_| "2".into());
    let mut targets = Vec::new();
    for t in std::env::var("TARGET")
        .unwrap_or_else(|_| "ours".into())
        .split(',')
    {
        match t.trim() {
            "ours" => targets.push(Target::Ours),
            "janus" if janus::installed() => targets.push(Target::Janus),
            "janus" => println!("janus not installed (bash scripts/deps.sh janus)"),
            other => anyhow::bail!("TARGET: ours, janus (not {other:?})"),
        }
    }
    let (mut rows, mut janus_api) = (Vec::new(), None);
    for n in list.split(',').filter_map(|v| v.trim().parse().ok()) {
        for seats in seat_list.split(',').filter_map(|v| v.trim().parse().ok()) {
            anyhow::ensure!((2..=ROLES.len()).contains(&seats), "SEATS: 2 to 4");
            for &target in &targets {
                // Janus's videocall is 1:1: two seats only
                if target == Target::Janus && seats != 2 {
                    continue;
                }
                let api = match target {
                    Target::Ours => &api,
                    Target::Janus => {
                        janus_api.get_or_insert(Arc::new(janus::api(janus::local_ip()?)?))
                    }
                };
                let offset = u16::from(target == Target::Janus);
                peer::SEQ_OFFSET.store(offset, std::sync::atomic::Ordering::Relaxed);
                let row = run(target, n, seats, secs, &media, api).await?;
                print(&row);
                rows.push(row);
            }
        }
    }
    compare::print(&rows);
    Ok(())
}
