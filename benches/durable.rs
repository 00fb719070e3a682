//! Durable acknowledgement benchmark (issue 18 §3; not a test):
//!
//!     cargo bench --bench durable -- [--appends 4000] [--bookings 2000]
//!
//! In one run, on this machine's disk:
//! - the raw loop: append 200 bytes to a plain file + `fdatasync`, one at a time;
//! - audit appends on SQLite (one append per transaction, the work of a hearing step's
//!   transaction) by 1, 16 and 64 concurrent appenders, each answered: without waiting (the old
//!   non-durable mode), after the commit barrier's fsync of the WAL (the server's mode), after
//!   a barrier whose flush is a one-row `synchronous=FULL` transaction (the alternative), and
//!   with `synchronous=FULL` on every commit;
//! - the real HTTP server in-process: `POST /api/v1/bookings` then `DELETE` (cancel) by 1 and 32
//!   closed-loop clients, `database.durable_ack` true and false.
//!
//! Prints rates, p50/p99 and the ratios; figures go to docs/benchmarks.md. Needs Redis for the
//! HTTP part (REDIS_URL, default redis://127.0.0.1:6379).

use std::{
    io::Write,
    sync::Arc,
    time::{Duration, Instant},
};

use remote_hearing::{
    audit,
    config::Config,
    store::{
        Db,
        durable::{Barrier, Flush},
    },
};
use secrecy::SecretString;
use serde_json::json;

mod support;

use support::{entry, env_num, percentile};

#[derive(Clone, Copy)]
struct Figure {
    rate: f64,
    p50_ms: f64,
    p99_ms: f64,
}

fn figure(n: usize, elapsed: Duration, mut lat: Vec<Duration>) -> Figure {
    lat.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    Figure {
        rate: n as f64 / elapsed.as_secs_f64(),
        p50_ms: ms(percentile(&lat, 0.50)),
        p99_ms: ms(percentile(&lat, 0.99)),
    }
}

fn show(label: &str, f: Figure, raw: f64) {
    println!(
        "{label:<46} {:>8.0}/s  p50 {:>7.2} ms  p99 {:>7.2} ms  ×raw {:>6.2}",
        f.rate,
        f.p50_ms,
        f.p99_ms,
        f.rate / raw
    );
}

fn arg(name: &str, default: usize) -> usize {
    let v: Vec<String> = std::env::args().collect();
    v.iter()
        .position(|a| a == name)
        .and_then(|i| v.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn raw_fsync(dir: &std::path::Path, n: usize) -> Figure {
    let mut f = std::fs::File::create(dir.join("raw.log")).unwrap();
    let rec = [5u8; 200];
    let mut lat = Vec::with_capacity(n);
    let t = Instant::now();
    for _ in 0..n {
        let s = Instant::now();
        f.write_all(&rec).unwrap();
        f.sync_data().unwrap();
        lat.push(s.elapsed());
    }
    figure(n, t.elapsed(), lat)
}

async fn open(dir: &std::path::Path, durable: bool) -> Db {
    std::fs::create_dir_all(dir).unwrap();
    let mut config = Config::defaults().unwrap();
    config.database.durable_ack = durable;
    let db = Db::connect(&config.database, dir).await.unwrap();
    db.migrate().await.unwrap();
    db
}

/// The alternative flush: a one-row write transaction committed with `synchronous=FULL` (what
/// the audit checkpointer does), which fsyncs the WAL on the one write connection.
fn full_transaction_flush(db: Db) -> Flush {
    Arc::new(move || {
        let db = db.clone();
        Box::pin(async move {
            use sqlx::Connection;
            let mut w = db.write.acquire().await.map_err(std::io::Error::other)?;
            let r = async {
                sqlx::query("PRAGMA synchronous=FULL")
                    .execute(&mut *w)
                    .await?;
                let mut tx = w.begin().await?;
                sqlx::query("UPDATE heartbeat SET at = at WHERE id = 1")
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await
            }
            .await;
            sqlx::query("PRAGMA synchronous=NORMAL")
                .execute(&mut *w)
                .await
                .map_err(std::io::Error::other)?;
            r.map_err(std::io::Error::other)
        })
    })
}

/// `n` appends by `tasks` concurrent appenders, each waiting for `db.durable()` after its commit.
async fn appends(db: &Db, n: usize, tasks: usize) -> Figure {
    let t = Instant::now();
    let mut hs = Vec::new();
    for k in 0..tasks {
        let db = db.clone();
        hs.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            for i in 0..n / tasks {
                let s = Instant::now();
                let mut tx = db.begin().await.unwrap();
                audit::append(&mut tx, entry((k * 1_000_000 + i) as u64))
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
                db.durable().await.unwrap();
                lat.push(s.elapsed());
            }
            lat
        }));
    }
    let mut lat = Vec::new();
    for h in hs {
        lat.extend(h.await.unwrap());
    }
    figure(lat.len(), t.elapsed(), lat)
}

async fn append_modes(dir: &std::path::Path, n: usize, raw: f64) {
    for tasks in [1, 16, 64] {
        let n = if tasks == 1 { n / 4 } else { n };
        println!("-- audit appends, {tasks} concurrent appenders");
        let fast = appends(
            &open(&dir.join(format!("fast{tasks}")), false).await,
            n,
            tasks,
        )
        .await;
        show("no wait (non-durable, before)", fast, raw);
        let db = open(&dir.join(format!("wal{tasks}")), true).await;
        let durable = appends(&db, n, tasks).await;
        show("barrier: fdatasync of the -wal (server)", durable, raw);
        let db = open(&dir.join(format!("full{tasks}")), false).await;
        let db = Db {
            barrier: Some(Barrier::new(full_transaction_flush(db.clone()))),
            ..db
        };
        let alt = appends(&db, n, tasks).await;
        show("barrier: synchronous=FULL one-row commit", alt, raw);
        let db = open(&dir.join(format!("each{tasks}")), false).await;
        sqlx::query("PRAGMA synchronous=FULL")
            .execute(&db.write)
            .await
            .unwrap();
        let each = appends(&db, n / 4, tasks).await;
        show("synchronous=FULL, an fsync per commit", each, raw);
        println!(
            "   durable/raw {:.1}×, durable/non-durable {:.2}× rate, p99 {:.1}× ; fdatasync/FULL-commit flush {:.2}×",
            durable.rate / raw,
            durable.rate / fast.rate,
            durable.p99_ms / fast.p99_ms.max(0.001),
            durable.rate / alt.rate
        );
    }
}

/// The real server in-process with `durable_ack`; `clients` closed-loop clients each book then
/// cancel, `n` bookings in all; the figure of every request (both kinds).
async fn http_bookings(durable: bool, clients: usize, n: usize) -> anyhow::Result<Figure> {
    use chrono::TimeZone;
    let tmp = tempfile::tempdir()?;
    let mut config = Config::defaults()?;
    config.server.data_dir = tmp.path().to_path_buf();
    config.database.durable_ack = durable;
    config.database.max_connections = 32;
    if let Ok(r) = std::env::var("REDIS_URL") {
        config.redis.url = SecretString::from(r);
    }
    config.redis.prefix = format!("bench-{}", remote_hearing::ids::new_id());
    let now = chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(2026, 11, 22, 8, 0, 0)
        .single()
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or_default();
    let clock = remote_hearing::clock::MockClock::new(now);
    let state = remote_hearing::build_state(config, clock).await?;
    let settings = remote_hearing::booking::admin::BrigadeSettings {
        name: Some("bench durable".into()),
        seats: Some(1_000),
        hours: Some("00:00-24:00".into()),
        weekdays: Some("mon-sun".into()),
        ..Default::default()
    };
    let brigade = remote_hearing::booking::admin::create_brigade(&state, &settings)
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
    let tokens = Arc::new(citizens(&state, n).await?);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(remote_hearing::serve(state, listener, async move {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::new();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let t = Instant::now();
    let mut hs = Vec::new();
    for _ in 0..clients {
        let (http, tokens, next, base, brigade) = (
            http.clone(),
            tokens.clone(),
            next.clone(),
            base.clone(),
            brigade.clone(),
        );
        hs.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(token) = tokens.get(i) else { break };
                let body = json!({
                    "brigade_id": brigade, "slot_start": format!("2026-11-24T{:02}:00:00+08:00", i % 24),
                    "phone": format!("137{i:08}"), "plate": format!("鲁A{:05}", i % 100_000), "owner": true,
                    "violations": [{"record_no": format!("R{i}"), "fine_yuan": 100, "points": 2}],
                });
                let s = Instant::now();
                let r = http
                    .post(format!("{base}/api/v1/bookings"))
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await;
                let Ok(r) = r.map(|r| r.error_for_status()) else { continue };
                let Ok(v) = r.map(|r| r.json::<serde_json::Value>()) else { continue };
                let id = v.await.ok().and_then(|v| v["id"].as_str().map(str::to_owned));
                lat.push(s.elapsed());
                let s = Instant::now();
                let cancelled = http
                    .delete(format!("{base}/api/v1/bookings/{}", id.unwrap_or_default()))
                    .bearer_auth(token)
                    .send()
                    .await;
                if cancelled.is_ok_and(|r| r.status().is_success()) {
                    lat.push(s.elapsed());
                }
            }
            lat
        }));
    }
    let mut lat = Vec::new();
    for h in hs {
        lat.extend(h.await?);
    }
    let f = figure(lat.len(), t.elapsed(), lat);
    let _ = stop.send(());
    let _ = server.await;
    Ok(f)
}

async fn citizens(
    state: &remote_hearing::state::AppState,
    n: usize,
) -> anyhow::Result<Vec<String>> {
    let mut tx = state.db.begin().await?;
    let mut tokens = Vec::with_capacity(n);
    for i in 0..n {
        let id = remote_hearing::ids::new_id();
        let token = format!("bench-durable-{i}-{id}");
        sqlx::query(
            "INSERT INTO citizens (id, phone, phone_bound, created_at) VALUES ($1, NULL, 0, 0)",
        )
        .bind(&id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO sessions (token_hash, role, subject_id, created_at, expires_at) VALUES ($1, 'citizen', $2, 0, $3)")
            .bind(remote_hearing::ids::token_hash(&token))
            .bind(&id)
            .bind(i64::MAX / 2)
            .execute(&mut *tx)
            .await?;
        tokens.push(token);
    }
    tx.commit().await?;
    Ok(tokens)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n = arg("--appends", env_num("APPENDS", 4000));
    let bookings = arg("--bookings", 2000);
    let dir = tempfile::tempdir()?;
    println!(
        "durable acknowledgement benchmark; tmp dir {}",
        dir.path().display()
    );
    let raw = raw_fsync(dir.path(), 500);
    show("raw append 200 B + fdatasync (plain file)", raw, raw.rate);
    append_modes(dir.path(), n, raw.rate).await;
    for clients in [1, 32] {
        let n = if clients == 1 { bookings / 4 } else { bookings };
        println!("-- HTTP book + cancel, {clients} clients (each request measured)");
        let fast = http_bookings(false, clients, n).await?;
        show("durable_ack = false (before)", fast, raw.rate);
        let durable = http_bookings(true, clients, n).await?;
        show("durable_ack = true (server default)", durable, raw.rate);
        println!(
            "   durable/non-durable: rate {:.2}×, p99 {:.2}×",
            durable.rate / fast.rate,
            durable.p99_ms / fast.p99_ms.max(0.001)
        );
    }
    Ok(())
}
