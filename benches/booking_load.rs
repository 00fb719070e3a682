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
    time::{Duration, Instant},
};

use chrono::TimeZone;
use remote_hearing::{
    booking::admin::{BrigadeSettings, create_brigade},
    clock::MockClock,
    config::Config,
    ids,
    state::AppState,
};
use secrecy::SecretString;

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

/// Citizens with sessions, inserted in one transaction; returns their tokens.
async fn citizens(state: &AppState, n: usize, tag: &str) -> anyhow::Result<Vec<String>> {
    let now = state.clock.now_ms();
    let mut tx = state.db.begin().await?;
    let mut tokens = Vec::with_capacity(n);
    for i in 0..n {
        let id = ids::new_id();
        let token = format!("bench-{tag}-{i}-{}", ids::new_id());
        sqlx::query(
            "INSERT INTO citizens (id, phone, phone_bound, created_at) VALUES ($1, NULL, 0, $2)",
        )
        .bind(&id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO sessions (token_hash, role, subject_id, created_at, expires_at) VALUES ($1, 'citizen', $2, $3, $4)")
            .bind(ids::token_hash(&token))
            .bind(&id)
            .bind(now)
            .bind(now + 86_400_000)
            .execute(&mut *tx)
            .await?;
        tokens.push(token);
    }
    tx.commit().await?;
    Ok(tokens)
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
                let body = serde_json::json!({
                    "brigade_id": brigade, "slot_start": slot(i), "phone": format!("{phone_prefix}{:08}", i),
                    "plate": format!("鲁A{:05}", i % 100_000), "owner": true,
                    "violations": [{"record_no": format!("R{i}"), "fine_yuan": 100, "points": 2}],
                });
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
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(0.0)
    };
    Run {
        ok,
        refused,
        failed,
        secs,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
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
    let tmp = tempfile::tempdir()?;
    let mut config = Config::defaults()?;
    config.server.data_dir = tmp.path().to_path_buf();
    if a.db != "sqlite" {
        config.database.url = SecretString::from(a.db.clone());
    }
    config.database.max_connections = 32;
    if let Ok(r) = std::env::var("REDIS_URL") {
        config.redis.url = SecretString::from(r);
    }
    config.redis.prefix = format!("bench-{}", ids::new_id());
    // Monday 2026-11-23 08:00 in Shanghai: every later slot of the week is bookable.
    let now = chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(2026, 11, 22, 8, 0, 0)
        .single()
        .map(|t| t.with_timezone(&chrono::Utc));
    let clock = MockClock::new(now.unwrap_or_default());
    let state = remote_hearing::build_state(config.clone(), clock.clone()).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(remote_hearing::run_with_clock(
        config.clone(),
        clock,
        listener,
        async move {
            let _ = stop_rx.await;
        },
    ));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let backend = if a.db == "sqlite" {
        "SQLite"
    } else {
        "PostgreSQL"
    };

    // Throughput: 7 days x 24 one-hour slots, seats enough for everyone.
    let wide = BrigadeSettings {
        name: Some("bench wide".into()),
        seats: Some(1000),
        hours: Some("00:00-24:00".into()),
        weekdays: Some("mon-sun".into()),
        ..Default::default()
    };
    let brigade = create_brigade(&state, &wide)
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
    let tokens = citizens(&state, a.bookings, "t").await?;
    let slot = |i: usize| {
        let day = 23 + (i / 24) % 7;
        let hour = i % 24;
        let (m, d) = if day > 30 { (12, day - 30) } else { (11, day) };
        format!("2026-{m:02}-{d:02}T{hour:02}:00:00+08:00")
    };
    let r = fire(&base, &brigade, tokens, a.clients, "139", slot).await;
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
    let brigade = create_brigade(&state, &narrow)
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
    let tokens = citizens(&state, a.contention, "c").await?;
    let r = fire(&base, &brigade, tokens, a.contention, "158", |_| {
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
    let _ = stop_tx.send(());
    let _ = server.await;
    Ok(())
}
