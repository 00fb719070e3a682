//! Login burst (issue 20, finding 5): many concurrent `POST /api/v1/auth/officer` with wrong
//! passwords against one server process, and what they cost it in memory. Every attempt runs an
//! argon2id hash (~19 MiB of working memory each); the server's RSS is read from `/proc` before,
//! at its high-water mark (`VmHWM`), right after the burst and after a pause.
//!
//! The server runs as its own process (the real release binary, media off) with the login
//! throttles raised out of the way, so that every request reaches the hasher:
//!   LOGINS=200 ROUNDS=3 SETTLE_S=15 cargo bench --bench login_load
//! Needs Redis on 127.0.0.1:6379 (or RH_REDIS__URL).

mod support;

use std::time::{Duration, Instant};

use support::{env_num, percentile, proc_status, start_server};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let logins = env_num("LOGINS", 200);
    let rounds = env_num("ROUNDS", 3);
    let settle = Duration::from_secs(env_num("SETTLE_S", 15) as u64);
    let dir = tempfile::tempdir()?;
    let high = "1000000";
    let (mut child, addr) = start_server(
        dir.path(),
        &[
            ("RH_CALL__MEDIA_ENABLED", "false"),
            ("RH_CALL__RECORDING_ENABLED", "false"),
            // the throttles are not what is measured here: let every attempt reach the hasher
            ("RH_AUTH__LOGIN_PER_IP", high),
            ("RH_AUTH__LOGIN_PER_SUBJECT", high),
            ("RH_AUTH__LOGIN_PER_BADGE_IP", high),
            ("RH_AUTH__LOGIN_PER_BADGE", high),
        ],
    );
    let pid = child.id();
    let url = format!("http://{addr}/api/v1/auth/officer");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss0 = proc_status(pid, "VmRSS:");
    println!("login burst: {logins} concurrent wrong passwords × {rounds} rounds");
    println!("server RSS at rest: {} MB", rss0 / 1024);

    for round in 1..=rounds {
        let started = Instant::now();
        let tasks: Vec<_> = (0..logins)
            .map(|i| {
                let (client, url) = (client.clone(), url.clone());
                tokio::spawn(async move {
                    let t0 = Instant::now();
                    let body = serde_json::json!({"badge": "bench-officer", "password": format!("wrong-{i}")});
                    let status = match client.post(&url).json(&body).send().await {
                        Ok(r) => r.status().as_u16(),
                        Err(_) => 0,
                    };
                    (status, t0.elapsed())
                })
            })
            .collect();
        let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
        let mut latencies = Vec::with_capacity(logins);
        for t in tasks {
            let (status, took) = t.await?;
            *statuses.entry(status).or_default() += 1;
            latencies.push(took);
        }
        let burst = started.elapsed();
        latencies.sort();
        let (after, peak) = (proc_status(pid, "VmRSS:"), proc_status(pid, "VmHWM:"));
        tokio::time::sleep(settle).await;
        let settled = proc_status(pid, "VmRSS:");
        println!(
            "round {round}: {:.1} s, statuses {statuses:?} (0 = no answer), latency p50 {:?} p99 {:?} max {:?}",
            burst.as_secs_f64(),
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.99),
            latencies.last().copied().unwrap_or_default()
        );
        println!(
            "round {round}: server RSS peak (VmHWM) {} MB, right after {} MB, {} s later {} MB",
            peak / 1024,
            after / 1024,
            settle.as_secs(),
            settled / 1024
        );
    }
    let _ = child.kill();
    let _ = child.wait();
    Ok(())
}
