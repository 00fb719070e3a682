//! Auditors at scale (issue 18 §4; not a timed test). Fills a SQLite database with `--hearings`
//! closed hearings (default 100,000) of 20 brigades and 20 officers, each with its citizen,
//! booking, decision (9 in 10) and 10 audit entries appended through the real append path
//! (`audit::append` + the terminal `audit::close`, 1,000 hearings per transaction: 1,000,000
//! valid entries), then signs a checkpoint. Then, with the real server in-process on that
//! database and one auditor logged in, sequential requests (one client) measure p50/p99 of
//! `GET /api/v1/audit/hearings` with each filter, deep paging with the cursor, the summary and
//! `GET /api/v1/audit/hearings/{id}/bundle`; after the server stopped, `remote-hearing audit
//! verify-log` (the CLI, a child process) beside ring SHA-256 over every stored leaf and
//! payload of the same log, in memory (ratio).
//!
//!     cargo bench --bench audit_scale -- [--hearings 100000] [--requests 100] [--dir DIR]
//!
//! `--dir` keeps the database there and reuses it when it already holds the hearings. Prints a
//! human report and `TABLE|what|ours|beside|ratio` lines for `benches/side_by_side.sh`.

use std::time::{Duration, Instant};

use remote_hearing::{
    audit::{Actor, NewEntry},
    booking::admin::{BrigadeSettings, create_brigade},
    clock::{MockClock, from_ms},
    config::Config,
    identity::{Role, staff},
    ids,
    state::AppState,
};
use secrecy::SecretString;

struct Args {
    hearings: usize,
    requests: usize,
    dir: Option<std::path::PathBuf>,
}

fn args() -> Args {
    let mut a = Args {
        hearings: 100_000,
        requests: 100,
        dir: None,
    };
    let v: Vec<String> = std::env::args().skip(1).collect();
    for w in v.windows(2) {
        match w[0].as_str() {
            "--hearings" => a.hearings = w[1].parse().unwrap_or(a.hearings),
            "--requests" => a.requests = w[1].parse().unwrap_or(a.requests),
            "--dir" => a.dir = Some(w[1].clone().into()),
            _ => {}
        }
    }
    a
}

fn table(what: &str, ours: &str, beside: &str, ratio: &str) {
    println!("TABLE|{what}|{ours}|{beside}|{ratio}");
}

const BRIGADES: usize = 20;
/// 2026-06-01 00:00 in Shanghai; hearings run over the following days, 500 a day.
const BASE_MS: i64 = 1_780_243_200_000;
const STEPS: [&str; 9] = [
    "opened",
    "identity_confirmed",
    "rights_read",
    "facts_stated",
    "statement",
    "evidence_shown",
    "defence",
    "decision_announced",
    "decision_served",
];

async fn count(state: &AppState, sql: &'static str) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(sql).fetch_one(&state.db.read).await?)
}

/// Brigades and officers: (brigade ids, officer ids).
async fn staff_and_brigades(state: &AppState) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    let (mut brigades, mut officers) = (vec![], vec![]);
    for b in 0..BRIGADES {
        let id = create_brigade(
            state,
            &BrigadeSettings {
                name: Some(format!("第{b}大队")),
                seats: Some(4),
                ..Default::default()
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
        let badge = format!("70{b:04}");
        officers.push(
            staff::create(
                state,
                staff::NewStaff {
                    role: Role::Officer,
                    badge: badge.clone(),
                    name: format!("民警{b}"),
                    brigade_id: Some(id.clone()),
                    password: SecretString::from(format!("password-of-{badge}")),
                },
            )
            .await?,
        );
        brigades.push(id);
    }
    Ok((brigades, officers))
}

/// Writes hearings `[from, to)` in one transaction.
async fn hearings(
    state: &AppState,
    (brigades, officers): &(Vec<String>, Vec<String>),
    from: usize,
    to: usize,
) -> anyhow::Result<()> {
    let mut tx = state.db.begin().await?;
    for h in from..to {
        let (citizen, booking, id) = (ids::new_id(), ids::new_id(), ids::new_id());
        let b = h % BRIGADES;
        let start = BASE_MS + (h / 500) as i64 * 86_400_000 + (h % 8) as i64 * 1_800_000;
        let date = from_ms(start)
            .with_timezone(&chrono_tz::Asia::Shanghai)
            .date_naive()
            .to_string();
        let phone = format!("13{h:09}");
        let plate = format!("鲁A{:05}", h % 50_000);
        let no_show = h % 10 == 9;
        sqlx::query(
            "INSERT INTO citizens (id, phone, phone_bound, created_at) VALUES ($1, $2, 1, 0)",
        )
        .bind(&citizen)
        .bind(&phone)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO bookings (id, citizen_id, brigade_id, slot_start, slot_end, slot_date, status, phone, plate, owner, \
             violations, unhandled_count, current_points, urgent, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, '[]', 1, 0, 0, 0, 0)",
        )
        .bind(&booking)
        .bind(&citizen)
        .bind(&brigades[b])
        .bind(start)
        .bind(start + 1_800_000)
        .bind(&date)
        .bind(if no_show { "no_show" } else { "completed" })
        .bind(&phone)
        .bind(&plate)
        .execute(&mut *tx)
        .await?;
        let outcome = if no_show { "no_show" } else { "completed" };
        sqlx::query(
            "INSERT INTO hearings (id, booking_id, brigade_id, citizen_id, officer_id, phone, status, outcome, \
             slot_start, slot_end, opened_at, closed_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9, $8, $9, $9)",
        )
        .bind(&id)
        .bind(&booking)
        .bind(&brigades[b])
        .bind(&citizen)
        .bind(&officers[b])
        .bind(&phone)
        .bind(outcome)
        .bind(start)
        .bind(start + 1_800_000)
        .execute(&mut *tx)
        .await?;
        if !no_show {
            sqlx::query(
                "INSERT INTO hearing_decisions (hearing_id, decision_no, year, fields, html, sha256, issued_at) \
                 VALUES ($1, $2, 2026, '{}', '', '', $3)",
            )
            .bind(&id)
            .bind(format!("鲁公交决〔2026〕{h:06}号"))
            .bind(start + 1_700_000)
            .execute(&mut *tx)
            .await?;
        }
        for (k, step) in STEPS.iter().enumerate() {
            let actor = if k == 4 {
                ("citizen", citizen.clone())
            } else {
                ("officer", officers[b].clone())
            };
            let entry = NewEntry {
                hearing_id: id.clone(),
                step: step.to_string(),
                actor: Actor {
                    role: actor.0.into(),
                    id: actor.1,
                },
                at: from_ms(start + k as i64 * 60_000),
                payload: serde_json::json!({"text": "当事人陈述：对违法事实无异议。", "n": h, "both_connected": true}),
                recordings: vec![],
            };
            remote_hearing::audit::append(&mut tx, entry)
                .await
                .map_err(|e| anyhow::anyhow!(e.message))?;
        }
        remote_hearing::audit::close(&mut tx, &id, outcome, from_ms(start + 1_800_000))
            .await
            .map_err(|e| anyhow::anyhow!(e.message))?;
    }
    tx.commit().await?;
    Ok(())
}

async fn populate(state: &AppState, n: usize) -> anyhow::Result<()> {
    let have = count(state, "SELECT COUNT(*) FROM hearings").await? as usize;
    if have >= n {
        println!("reusing the database: {have} hearings");
        return Ok(());
    }
    anyhow::ensure!(
        have == 0,
        "the database holds {have} hearings, not {n}: use an empty --dir"
    );
    let people = staff_and_brigades(state).await?;
    let t = Instant::now();
    let mut h = 0;
    while h < n {
        let to = (h + 1000).min(n);
        hearings(state, &people, h, to).await?;
        h = to;
        if h % 10_000 == 0 {
            println!("  {h} hearings, {:.0} s", t.elapsed().as_secs_f64());
        }
    }
    let now = state.clock.now_ms();
    state.audit.sign_checkpoint(&state.db, now).await?;
    println!(
        "filled {n} hearings / {} audit entries in {:.0} s ({:.0} entries/s)",
        n * 10,
        t.elapsed().as_secs_f64(),
        (n * 10) as f64 / t.elapsed().as_secs_f64()
    );
    Ok(())
}

#[path = "support/audit_measure.rs"]
mod measure;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = args();
    let tmp = tempfile::tempdir()?;
    let dir = a.dir.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    let mut config = Config::defaults()?;
    config.server.data_dir = dir.clone();
    config.database.max_connections = 8;
    if let Ok(r) = std::env::var("REDIS_URL") {
        config.redis.url = SecretString::from(r);
    }
    config.redis.prefix = format!("bench-{}", ids::new_id());
    config.ops.listen = "127.0.0.1:0".into();
    let clock = MockClock::new(from_ms(BASE_MS + 400 * 86_400_000));
    let state = remote_hearing::build_state(config.clone(), clock.clone()).await?;
    println!("audit_scale: {} hearings in {}", a.hearings, dir.display());
    populate(&state, a.hearings).await?;
    let entries = count(&state, "SELECT COUNT(*) FROM audit_entries").await?;
    let db_mb = std::fs::metadata(dir.join("remote-hearing.db"))
        .map(|m| m.len() as f64 / 1e6)
        .unwrap_or(0.0);
    println!("{entries} audit entries, database file {db_mb:.0} MB");

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(remote_hearing::serve(state.clone(), listener, async move {
        let _ = stop_rx.await;
    }));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ok = measure::routes(&state, &base, a.requests).await;
    let _ = stop.send(());
    let _ = server.await;
    ok?;
    measure::verify_log(&state, &dir, entries).await?;
    Ok(())
}
