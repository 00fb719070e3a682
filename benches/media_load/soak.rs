//! Connect/disconnect soak through the real server binary (`SOAK=200 cargo bench --bench
//! media_load`): each cycle joins both parties of a new hearing over the signalling socket,
//! offers, trickles ICE, sends media for a moment, leaves and closes the peer connections. The
//! server's RSS, open file descriptors and threads are read from `/proc/<pid>` after a few warm-up
//! cycles and again after the last one, and its `media_peers`, `signaling_connections` and
//! `signaling_rooms` gauges from `/metrics` at the end (all expected back at 0).

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use webrtc::api::API;

use crate::common::SampleMedia;
use crate::peer;
use crate::support::{open_fds, percentile, proc_status, start_server_ops};

/// What the soak reads from the server process.
struct Reading {
    rss_kb: u64,
    fds: usize,
    threads: u64,
}

fn read(pid: u32) -> Reading {
    Reading {
        rss_kb: proc_status(pid, "VmRSS:"),
        fds: open_fds(pid),
        threads: proc_status(pid, "Threads:"),
    }
}

/// One cycle; returns how long both parties took to connect.
async fn cycle(
    api: &API,
    addr: &str,
    media: &Arc<SampleMedia>,
    i: usize,
) -> anyhow::Result<Duration> {
    let hearing = format!("soak-{i}");
    let t0 = Instant::now();
    let mut parties = [
        peer::connect(api, addr, &hearing, "citizen", &["officer"]).await?,
        peer::connect(api, addr, &hearing, "officer", &["citizen"]).await?,
    ];
    for s in &mut parties {
        tokio::time::timeout(Duration::from_secs(30), s.connected.wait_for(|c| *c))
            .await
            .map_err(|_| anyhow::anyhow!("{hearing}: not connected within 30 s"))??;
    }
    let connected = t0.elapsed();
    let stop = Arc::new(AtomicBool::new(false));
    let pumps: Vec<_> = parties
        .iter()
        .map(|s| s.pump(media.clone(), stop.clone()))
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for p in pumps {
        let _ = p.await;
    }
    for s in &parties {
        s.leave();
        let _ = s.pc.close().await;
    }
    Ok(connected)
}

/// Waits until the server's gauges are back at 0 (at most `within`); returns their last values.
async fn settled(addr: &str, within: Duration) -> [f64; 3] {
    let names = ["media_peers", "signaling_connections", "signaling_rooms"];
    let deadline = Instant::now() + within;
    loop {
        let mut v = [0.0; 3];
        for (k, n) in names.iter().enumerate() {
            v[k] = crate::metric_value(addr, n).await.unwrap_or(f64::NAN);
        }
        if v.iter().all(|x| *x == 0.0) || Instant::now() >= deadline {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub async fn run(cycles: usize, media: &Arc<SampleMedia>, api: &Arc<API>) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (mut child, addr, ops) = start_server_ops(
        dir.path(),
        &[
            ("RH_CALL__INCLUDE_LOOPBACK", "true"),
            ("RH_CALL__BIND_IPS", "[\"127.0.0.1\"]"),
            ("RUST_LOG", "error"),
        ],
    );
    let pid = child.id();
    let warm = 5.min(cycles);
    let (mut times, mut failures) = (Vec::new(), Vec::new());
    let mut one = async |i: usize| match cycle(api, &addr, media, i).await {
        Ok(t) => times.push(t.as_millis() as u32),
        Err(e) => failures.push(format!("cycle {i}: {e}")),
    };
    for i in 0..warm {
        one(i).await;
    }
    settled(&ops, Duration::from_secs(10)).await;
    let before = read(pid);
    let t0 = Instant::now();
    for i in warm..cycles {
        one(i).await;
    }
    let elapsed = t0.elapsed();
    let gauges = settled(&ops, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_secs(1)).await; // recordings finalised, threads gone
    let after = read(pid);
    let _ = child.kill();
    let _ = child.wait();
    times.sort_unstable();
    println!(
        "| cycles | time | connect p50 / max | failed | server RSS | open fds | threads | media_peers / signaling_connections / signaling_rooms at the end |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    println!(
        "| {} (+{warm} warm-up) | {:.1} s | {} / {} ms | {} | {} → {} kB ({:+} kB) | {} → {} | {} → {} | {} / {} / {} |",
        cycles - warm,
        elapsed.as_secs_f64(),
        percentile(&times, 0.5),
        times.last().copied().unwrap_or(0),
        failures.len(),
        before.rss_kb,
        after.rss_kb,
        after.rss_kb as i64 - before.rss_kb as i64,
        before.fds,
        after.fds,
        before.threads,
        after.threads,
        gauges[0],
        gauges[1],
        gauges[2],
    );
    for f in &failures {
        eprintln!("  {f}");
    }
    anyhow::ensure!(
        failures.is_empty() && gauges.iter().all(|g| *g == 0.0),
        "soak: {} failed cycles, gauges at the end {gauges:?}",
        failures.len()
    );
    Ok(())
}
