//! What the booking benchmarks share (`booking_load`, `booking_open`): the real server started
//! in-process on port 0 (serving the benchmark's own state) with a mock clock (SQLite in a temporary directory, or a PostgreSQL
//! URL), brigades, citizens with sessions inserted straight into the store, the booking body
//! and percentiles of latencies.
//!
//! Included by `#[path]` from each bench (not through `support/mod.rs`, whose other users do not
//! need the server in-process).

#![allow(dead_code)]

use std::time::Duration;

use chrono::TimeZone;
use remote_hearing::{
    booking::admin::{BrigadeSettings, create_brigade},
    clock::MockClock,
    config::Config,
    ids,
    state::AppState,
};
use secrecy::SecretString;

/// The server under test, its state (same database) and how to stop it.
pub struct Bench {
    pub state: AppState,
    pub clock: std::sync::Arc<MockClock>,
    pub base: String,
    pub backend: &'static str,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
    _tmp: tempfile::TempDir,
}

/// Sunday 2026-11-22 08:00 in Shanghai: every slot of 23–29 November is bookable (the booking
/// window is 7 days ahead), 30 November is not yet.
pub fn start_time() -> chrono::DateTime<chrono::Utc> {
    shanghai(2026, 11, 22, 8, 0, 0)
}

pub fn shanghai(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> chrono::DateTime<chrono::Utc> {
    chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(y, mo, d, h, mi, s)
        .single()
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or_default()
}

/// Starts the server in-process; `db` is `sqlite` or a PostgreSQL URL; `max_connections`: the
/// pool's size, `None` the server's default (`config/default.toml`); `WRITE_GROUP` in the
/// environment sets `database.write_group`.
pub async fn start(db: &str, max_connections: Option<u32>) -> anyhow::Result<Bench> {
    let tmp = tempfile::tempdir()?;
    let mut config = Config::defaults()?;
    config.server.data_dir = tmp.path().to_path_buf();
    if db != "sqlite" {
        config.database.url = SecretString::from(db.to_string());
    }
    if let Some(n) = max_connections {
        config.database.max_connections = n;
    }
    if let Ok(r) = std::env::var("REDIS_URL") {
        config.redis.url = SecretString::from(r);
    }
    // SQLite's write groups (`store::group`): `WRITE_GROUP=1` turns them off
    if let Some(n) = std::env::var("WRITE_GROUP")
        .ok()
        .and_then(|n| n.parse().ok())
    {
        config.database.write_group = n;
    }
    config.redis.prefix = format!("bench-{}", ids::new_id());
    config.ops.listen = "127.0.0.1:0".into();
    let clock = MockClock::new(start_time());
    let state = remote_hearing::build_state(config.clone(), clock.clone()).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
    // The server serves this very state: the benchmark's own writes (citizens, the raw
    // transactions) go through the server's one SQLite writer, not a second one.
    let server = tokio::spawn(remote_hearing::serve(state.clone(), listener, async move {
        let _ = stop_rx.await;
    }));
    tokio::time::sleep(Duration::from_millis(300)).await;
    Ok(Bench {
        state,
        clock,
        base,
        backend: if db == "sqlite" {
            "SQLite"
        } else {
            "PostgreSQL"
        },
        stop,
        server,
        _tmp: tmp,
    })
}

impl Bench {
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.server.await;
    }

    pub async fn brigade(&self, s: &BrigadeSettings) -> anyhow::Result<String> {
        create_brigade(&self.state, s)
            .await
            .map_err(|e| anyhow::anyhow!(e.message))
    }

    /// 7 days × 24 one-hour slots (23–29 November), `seats` each.
    pub async fn wide_brigade(&self, seats: i64) -> anyhow::Result<String> {
        self.brigade(&BrigadeSettings {
            name: Some("bench wide".into()),
            seats: Some(seats),
            hours: Some("00:00-24:00".into()),
            weekdays: Some("mon-sun".into()),
            ..Default::default()
        })
        .await
    }
}

/// The `i`-th slot of [`Bench::wide_brigade`] (168 slots, round robin).
pub fn wide_slot(i: usize) -> String {
    let day = 23 + (i / 24) % 7;
    let hour = i % 24;
    format!("2026-11-{day:02}T{hour:02}:00:00+08:00")
}

/// Citizens with sessions, inserted in transactions of 5,000; returns their tokens.
pub async fn citizens(state: &AppState, n: usize, tag: &str) -> anyhow::Result<Vec<String>> {
    Ok(citizen_ids(state, n, tag)
        .await?
        .into_iter()
        .map(|(_, t)| t)
        .collect())
}

/// [`citizens`], also returning each citizen's id: `(id, token)`.
pub async fn citizen_ids(
    state: &AppState,
    n: usize,
    tag: &str,
) -> anyhow::Result<Vec<(String, String)>> {
    let now = state.clock.now_ms();
    let mut out = Vec::with_capacity(n);
    for chunk in (0..n).collect::<Vec<_>>().chunks(5_000) {
        let mut tx = state.db.begin().await?;
        for &i in chunk {
            let id = ids::new_id();
            let token = format!("bench-{tag}-{i}-{}", ids::new_id());
            sqlx::query(
                "INSERT INTO citizens (id, phone, phone_bound, created_at) VALUES ($1, NULL, 0, $2)",
            )
            .bind(&id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            // Seen at creation, as a login makes it: a citizen who has just logged in (or
            // used the page within the minute) books without the session's touch write.
            sqlx::query("INSERT INTO sessions (token_hash, role, subject_id, created_at, expires_at, last_seen_at) VALUES ($1, 'citizen', $2, $3, $4, $3)")
                .bind(ids::token_hash(&token))
                .bind(&id)
                .bind(now)
                .bind(now + 30 * 86_400_000)
                .execute(&mut *tx)
                .await?;
            out.push((id, token));
        }
        tx.commit().await?;
    }
    Ok(out)
}

/// The body of the `i`-th booking: an owner with one violation record of its own (`R{tag}{i}`).
pub fn body(
    brigade: &str,
    slot: &str,
    phone_prefix: &str,
    tag: &str,
    i: usize,
) -> serde_json::Value {
    serde_json::json!({
        "brigade_id": brigade, "slot_start": slot, "phone": format!("{phone_prefix}{:08}", i),
        "plate": format!("鲁A{:05}", i % 100_000), "owner": true,
        "violations": [{"record_no": format!("R{tag}{i}"), "fine_yuan": 100, "points": 2}],
    })
}

/// Sorted latencies → the `p` quantile in ms.
pub fn pct_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}
