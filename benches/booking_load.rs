//! Booking load generator (not a timed test): starts the real server in-process on port 0,
//! creates citizens with sessions directly in the store, then drives `POST /api/v1/bookings`
//! over HTTP. Scenarios: throughput (N bookings by C concurrent clients over many slots) and
//! contention (K clients racing for one slot of S seats: exactly S must win). With a PostgreSQL
//! URL it also runs `pgbench` against the same server as the ceiling.
//!
//!     cargo bench --bench booking_load -- [--db sqlite|postgres://…] [--clients 500]
//!         [--bookings 20000] [--contention 1000] [--seats 10]
//!
//! Needs Redis (REDIS_URL, default redis://127.0.0.1:6379); uses its own key prefix.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Instant,
};

use remote_hearing::booking::admin::BrigadeSettings;

#[path = "support/booking.rs"]
mod setup;

use setup::{body, citizens, pct_ms, wide_slot};

struct Args {
    db: String,
    clients: usize,
    bookings: usize,
    contention: usize,
    seats: i64,
}

fn args() -> Args {
    let mut a = Args {
        db: "sqlite".into(),
        clients: 500,
        bookings: 20_000,
        contention: 1000,
        seats: 10,
    };
    let v: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < v.len() {
        let next = v.get(i + 1).cloned().unwrap_or_default();
        match v[i].as_str() {
            "--db" => a.db = next,
            "--clients" => a.clients = next.parse().unwrap_or(a.clients),
            "--bookings" => a.bookings = next.parse().unwrap_or(a.bookings),
            "--contention" => a.contention = next.parse().unwrap_or(a.contention),
            "--seats" => a.seats = next.parse().unwrap_or(a.seats),
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    a
}

struct Run {
    ok: usize,
    refused: usize,
    failed: usize,
    secs: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// Fires one booking per token with `clients` concurrent workers; `slot(i)` picks the slot.
async fn fire(
    base: &str,
    brigade: &str,
    tokens: Vec<String>,
    clients: usize,
    phone_prefix: &'static str,
    tag: &'static str,
    slot: impl Fn(usize) -> String + Send + Sync + 'static,
) -> Run {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .unwrap_or_default();
    let tokens = Arc::new(tokens);
    let next = Arc::new(AtomicUsize::new(0));
    let slot = Arc::new(slot);
    let start = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..clients {
        let (http, tokens, next, slot) = (http.clone(), tokens.clone(), next.clone(), slot.clone());
        let url = format!("{base}/api/v1/bookings");
        let brigade = brigade.to_string();
        handles.push(tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(token) = tokens.get(i) else { break };
                let body = body(&brigade, &slot(i), phone_prefix, tag, i);
                let t = Instant::now();
                let r = http.post(&url).bearer_auth(token).json(&body).send().await;
                let status = r.map(|r| r.status().as_u16()).unwrap_or(0);
                out.push((status, t.elapsed()));
            }
            out
        }));
    }
    let mut lat = Vec::new();
    let (mut ok, mut refused, mut failed) = (0, 0, 0);
    for h in handles {
        for (status, d) in h.await.unwrap_or_default() {
            match status {
                201 => ok += 1,
                409 => refused += 1,
                _ => failed += 1,
            }
            lat.push(d);
        }
    }
    let secs = start.elapsed().as_secs_f64();
    lat.sort();
    Run {
        ok,
        refused,
        failed,
        secs,
        p50_ms: pct_ms(&lat, 0.50),
        p99_ms: pct_ms(&lat, 0.99),
    }
}

fn pgbench(url: &str) -> Option<f64> {
    let run = |args: &[&str]| {
        std::process::Command::new("pgbench")
            .args(args)
            .arg(url)
            .output()
            .ok()
    };
    run(&["-i", "-q", "-s", "10"])?;
    let out = run(&["-c", "32", "-j", "2", "-T", "15", "-n"])?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    text.lines()
        .find(|l| l.starts_with("tps ="))?
        .split_whitespace()
        .nth(2)?
        .parse()
        .ok()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = args();
    let bench = setup::start(&a.db, Some(32)).await?;
    let (state, base, backend) = (&bench.state, bench.base.clone(), bench.backend);

    // Throughput: 7 days x 24 one-hour slots, seats enough for everyone.
    let brigade = bench.wide_brigade(1000).await?;
    let tokens = citizens(state, a.bookings, "t").await?;
    let r = fire(&base, &brigade, tokens, a.clients, "139", "t", wide_slot).await;
    println!(
        "{backend} throughput: {} bookings in {:.2} s = {:.0} bookings/s, p50 {:.1} ms, p99 {:.1} ms ({} clients; refused {}, failed {})",
        r.ok,
        r.secs,
        r.ok as f64 / r.secs,
        r.p50_ms,
        r.p99_ms,
        a.clients,
        r.refused,
        r.failed
    );

    // Contention: everyone wants the same slot.
    let narrow = BrigadeSettings {
        name: Some("bench narrow".into()),
        seats: Some(a.seats),
        weekdays: Some("mon-sun".into()),
        ..Default::default()
    };
    let brigade = bench.brigade(&narrow).await?;
    let tokens = citizens(state, a.contention, "c").await?;
    let r = fire(&base, &brigade, tokens, a.contention, "158", "c", |_| {
        "2026-11-24T09:00:00+08:00".into()
    })
    .await;
    let (taken,): (i64,) = sqlx::query_as("SELECT taken FROM slots WHERE brigade_id = $1")
        .bind(&brigade)
        .fetch_one(&state.db.read)
        .await?;
    let (rows,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM bookings WHERE brigade_id = $1")
        .bind(&brigade)
        .fetch_one(&state.db.read)
        .await?;
    println!(
        "{backend} contention: {} clients for {} seats -> {} booked, {} slot_full, {} failed; seats taken {taken}, booking rows {rows}; {:.2} s, p99 {:.1} ms{}",
        a.contention,
        a.seats,
        r.ok,
        r.refused,
        r.failed,
        r.secs,
        r.p99_ms,
        if r.ok as i64 == a.seats && taken == a.seats && rows == a.seats {
            " (no overbooking)"
        } else {
            " (MISMATCH)"
        }
    );

    if a.db != "sqlite"
        && let Some(tps) = pgbench(&a.db)
    {
        println!("pgbench (TPC-B-like, 32 clients, 15 s) on the same database: {tps:.0} tps");
    }
    bench.stop().await;
    Ok(())
}
