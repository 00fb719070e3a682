//! Booking at a given load (issue 18 §2; not a timed test). The real server in-process (the
//! setup of `booking_load`, `support/booking.rs`), driven by an open-loop generator
//! (`support/open_loop.rs`): offered 250, 500, 1,000, 2,000 bookings/s for 20 s each, every
//! request a different citizen over 168 slots → achieved rate, p50/p99/p99.9 from the scheduled
//! start, errors. Beside it, in the same run, the raw rate of the booking's write transaction
//! (the same store functions and SQL, its two SMS outbox rows included; no HTTP, no rules) by 32 concurrent writers, each
//! commit made durable like a request's. Then the morning release: 10,000 citizens within 2 s on
//! one brigade's day of 8 slots × 10 seats that opens at that moment → exactly 80 booked, the
//! rest `slot_full`, no 5xx. The server runs with its default pool (10 connections) unless
//! `--pool` says otherwise: before 2026-12-05 this bench used 32, which on a 2-core machine
//! put 32 PostgreSQL backends on the two cores (docs/benchmarks.md).
//!
//!     cargo bench --bench booking_open -- [--db sqlite|postgres://…] [--rates 250,500,1000,2000]
//!         [--seconds 20] [--raw 5000] [--release 10000] [--release-seconds 2] [--pool N]
//!
//! Prints a human report, and `TABLE|what|ours|beside|ratio` lines for `benches/side_by_side.sh`.
//! Needs Redis (REDIS_URL, default redis://127.0.0.1:6379); uses its own key prefix.

use std::time::{Duration, Instant};

use remote_hearing::{
    booking::{
        BookingRow,
        admin::BrigadeSettings,
        rules,
        service::write_booking,
        store::{begin_with_citizen_facts, no_show_dates, take_seat_stmt},
    },
    clock::{Clock, to_ms},
    domain::PhoneNumber,
    ids,
    sms::booking_booked_stmt,
    state::AppState,
};

#[path = "support/flushes.rs"]
mod flushes;
#[path = "support/open_loop.rs"]
mod open_loop;
#[path = "support/booking.rs"]
mod setup;

use open_loop::{Outcome, Request};
use setup::{Bench, body, citizen_ids, citizens, pct_ms, shanghai, wide_slot};

struct Args {
    db: String,
    rates: Vec<f64>,
    seconds: f64,
    raw: usize,
    release: usize,
    release_seconds: f64,
    /// The pool's size; `None`: the server's default (10), what an administrator runs.
    pool: Option<u32>,
}

fn args() -> Args {
    let mut a = Args {
        db: "sqlite".into(),
        rates: vec![250.0, 500.0, 1000.0, 2000.0],
        seconds: 20.0,
        raw: 5000,
        release: 10_000,
        release_seconds: 2.0,
        pool: None,
    };
    let v: Vec<String> = std::env::args().skip(1).collect();
    for w in v.windows(2) {
        let next = &w[1];
        match w[0].as_str() {
            "--db" => a.db = next.clone(),
            "--rates" => {
                a.rates = next
                    .split(',')
                    .filter_map(|r| r.trim().parse().ok())
                    .collect()
            }
            "--seconds" => a.seconds = next.parse().unwrap_or(a.seconds),
            "--raw" => a.raw = next.parse().unwrap_or(a.raw),
            "--release" => a.release = next.parse().unwrap_or(a.release),
            "--release-seconds" => a.release_seconds = next.parse().unwrap_or(a.release_seconds),
            "--pool" => a.pool = next.parse().ok().or(a.pool),
            _ => {}
        }
    }
    a
}

/// CPU seconds (user + system) this process (server and generator) has used so far.
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(0.0))
        .collect();
    // utime and stime, fields 14 and 15 of stat, in 1/100 s ticks
    (f.get(11).copied().unwrap_or(0.0) + f.get(12).copied().unwrap_or(0.0)) / 100.0
}

fn table(what: &str, ours: &str, beside: &str, ratio: &str) {
    println!("TABLE|{what}|{ours}|{beside}|{ratio}");
}

/// The offered-rate runs; returns (offered, achieved, p99) of each.
async fn offered(b: &Bench, a: &Args) -> anyhow::Result<Vec<(f64, Outcome)>> {
    let brigade = b.wide_brigade(1000).await?;
    let url = format!("{}/api/v1/bookings", b.base);
    let mut out = vec![];
    for (k, &rate) in a.rates.iter().enumerate() {
        let n = (rate * a.seconds).round() as usize;
        let tag = format!("o{k}-");
        let tokens = citizens(&b.state, n, &tag).await?;
        let requests = tokens
            .into_iter()
            .enumerate()
            .map(|(i, token)| Request {
                url: url.clone(),
                token,
                body: body(&brigade, &wide_slot(i), &format!("13{k}"), &tag, i),
            })
            .collect();
        let (cpu0, wall0, f0) = (cpu_secs(), Instant::now(), flushes::now());
        let r = open_loop::run(requests, rate).await?;
        println!("  {}", flushes::now().since(&f0));
        let (cpu, wall) = (cpu_secs() - cpu0, wall0.elapsed().as_secs_f64());
        println!(
            "  process CPU (server + generator) {cpu:.1} s in {wall:.1} s = {:.0}% of one core, {:.2} ms per booking; load average {}",
            100.0 * cpu / wall,
            1000.0 * cpu / n as f64,
            std::fs::read_to_string("/proc/loadavg")
                .unwrap_or_default()
                .trim()
        );
        println!(
            "{} offered {rate:>5.0}/s for {:.0} s: achieved {:>6.0}/s ({} booked of {}), p50 {:.1} ms, p99 {:.1} ms, p99.9 {:.1} ms, max {:.0} ms; errors {} {:?}; late starts {} (worst {:.1} ms)",
            b.backend,
            a.seconds,
            r.achieved_rate,
            r.ok,
            r.sent,
            r.p50_ms,
            r.p99_ms,
            r.p999_ms,
            r.max_ms,
            r.errors(),
            r.by_code,
            r.late,
            r.max_late_ms
        );
        // let the outbox worker and the WAL settle between rates
        tokio::time::sleep(Duration::from_secs(2)).await;
        settle(b, "the next phase").await?;
        out.push((rate, r));
    }
    Ok(out)
}

/// The booking's write transaction without HTTP: the same store functions the service calls
/// (the `BEGIN` with the citizen facts, no-shows, then `write_booking`'s one batch of the conditional seat update,
/// the phone binding, the insert and the SMS outbox rows), committed and made durable like a request's answer; `writers` concurrent closed loops.
/// Returns (transactions/s, p50 ms, p99 ms).
async fn raw_transactions(b: &Bench, n: usize, writers: usize) -> anyhow::Result<(f64, f64, f64)> {
    let brigade = b.wide_brigade(1000).await?;
    let who = citizen_ids(&b.state, n, "raw-").await?;
    let who = std::sync::Arc::new(who);
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let t = Instant::now();
    let mut hs = vec![];
    for _ in 0..writers {
        let (state, who, next, brigade) =
            (b.state.clone(), who.clone(), next.clone(), brigade.clone());
        hs.push(tokio::spawn(async move {
            let mut lat = vec![];
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some((citizen, _)) = who.get(i) else {
                    break;
                };
                let s = Instant::now();
                book_directly(&state, &brigade, citizen, i).await?;
                lat.push(s.elapsed());
            }
            anyhow::Ok(lat)
        }));
    }
    let mut lat = vec![];
    for h in hs {
        lat.extend(h.await??);
    }
    let secs = t.elapsed().as_secs_f64();
    lat.sort();
    Ok((n as f64 / secs, pct_ms(&lat, 0.5), pct_ms(&lat, 0.99)))
}

async fn book_directly(
    state: &AppState,
    brigade: &str,
    citizen: &str,
    i: usize,
) -> anyhow::Result<()> {
    let start = chrono::DateTime::parse_from_rfc3339(&wide_slot(i))?;
    let date = start.date_naive();
    let (start_ms, end_ms) = (to_ms(start.to_utc()), to_ms(start.to_utc()) + 3_600_000);
    let now = state.clock.now();
    let phone = format!("17{i:09}");
    let since = rules::blacklist_lookback(date);
    let (mut tx, facts) =
        begin_with_citizen_facts(&state.db, citizen, brigade, date, since).await?;
    if facts.is_some_and(|f| f.recent_no_shows) {
        no_show_dates(&mut tx, citizen, since).await?;
    }
    let now_ms = to_ms(now);
    let row = BookingRow {
        id: ids::new_id(),
        citizen_id: citizen.to_string(),
        brigade_id: brigade.to_string(),
        slot_start: start_ms,
        slot_end: end_ms,
        slot_date: date.to_string(),
        status: "booked".into(),
        phone,
        plate: format!("鲁B{:05}", i % 100_000),
        owner: true,
        violations: r#"[{"record_no":"X","fine_yuan":100,"points":2}]"#.into(),
        unhandled_count: 1,
        current_points: 0,
        urgent: false,
        urgent_kind: None,
        registration_date: None,
        deadline: None,
        created_at: now_ms,
        updated_at: now_ms,
        timezone: "Asia/Shanghai".into(),
        status_reason: None,
        moved_from: None,
        facts_source: "citizen".into(),
    };
    let phone = PhoneNumber::parse(&row.phone).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let tz = chrono_tz::Asia::Shanghai;
    let messages = booking_booked_stmt(&state.sms, &row.id, &phone, "bench", start.to_utc(), tz)
        .map_err(|e| anyhow::anyhow!(e.message))?;
    let seat = take_seat_stmt(brigade, start_ms, end_ms, date, 1000);
    let taken = write_booking(&mut tx, seat, citizen, true, &row, Some(messages))
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
    anyhow::ensure!(taken, "seat refused");
    tx.commit().await?;
    remote_hearing::sms::wake(&state.sms);
    state.db.durable().await?;
    Ok(())
}

/// Waits (at most two minutes) until the SMS outbox has no message due: the confirmations of the
/// phases before are sent before the next phase starts, so that a phase measures itself and not
/// the worker draining an earlier one's backlog. Prints what it waited for.
async fn settle(b: &Bench, what: &str) -> anyhow::Result<()> {
    let due = || async {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM sms_outbox WHERE status = 'queued' AND next_attempt_at <= $1",
        )
        .bind(b.clock.now_ms())
        .fetch_one(&b.state.db.read)
        .await?;
        anyhow::Ok(n)
    };
    let (first, t0) = (due().await?, Instant::now());
    let mut left = first;
    while left > 0 && t0.elapsed() < Duration::from_secs(120) {
        tokio::time::sleep(Duration::from_millis(200)).await;
        left = due().await?;
    }
    println!(
        "  before {what}: {first} SMS due in the outbox, {left} left after {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The morning release: the day 7 days ahead opens at local midnight; `n` citizens ask for its
/// 8 slots × 10 seats within `seconds`. Returns whether exactly 80 were booked and every other
/// answer was a clean `409 slot_full`.
async fn release(b: &Bench, n: usize, seconds: f64) -> anyhow::Result<bool> {
    settle(b, "the release").await?;
    let brigade = b
        .brigade(&BrigadeSettings {
            name: Some("bench release".into()),
            seats: Some(10),
            slot_minutes: Some(30),
            hours: Some("08:00-12:00".into()),
            weekdays: Some("mon-sun".into()),
            ..Default::default()
        })
        .await?;
    // The citizens logged in (or reloaded the page) half a minute before the release: their
    // bookings need no session touch write (`last_seen_at` is written once a minute).
    b.clock.set(shanghai(2026, 11, 22, 23, 59, 30));
    let tokens = citizens(&b.state, n + 1, "rel-").await?;
    let url = format!("{}/api/v1/bookings", b.base);
    let slot = |i: usize| {
        let m = 8 * 60 + 30 * (i % 8);
        format!("2026-11-30T{:02}:{:02}:00+08:00", m / 60, m % 60)
    };
    // One minute before the release the day is not bookable yet.
    b.clock.set(shanghai(2026, 11, 22, 23, 59, 0));
    let probe = open_loop::run(
        vec![Request {
            url: url.clone(),
            token: tokens[n].clone(),
            body: body(&brigade, &slot(0), "150", "rel-", n),
        }],
        1.0,
    )
    .await?;
    println!(
        "{} release probe a minute before midnight: {:?}",
        b.backend, probe.by_code
    );
    b.clock.set(shanghai(2026, 11, 23, 0, 0, 0));
    let requests = tokens
        .into_iter()
        .take(n)
        .enumerate()
        .map(|(i, token)| Request {
            url: url.clone(),
            token,
            body: body(&brigade, &slot(i), "150", "rel-", i),
        })
        .collect();
    let f0 = flushes::now();
    let r = open_loop::run(requests, n as f64 / seconds).await?;
    println!("  {}", flushes::now().since(&f0));
    let (taken,): (i64,) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(taken), 0) AS BIGINT) FROM slots WHERE brigade_id = $1",
    )
    .bind(&brigade)
    .fetch_one(&b.state.db.read)
    .await?;
    let (rows,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM bookings WHERE brigade_id = $1")
        .bind(&brigade)
        .fetch_one(&b.state.db.read)
        .await?;
    let full = r.by_code.get("409 slot_full").copied().unwrap_or(0);
    let p99_full = r.pct_of(|a| a.code.as_deref() == Some("slot_full"), 0.99);
    let max_booked = r.pct_of(|a| a.status == 201, 1.0);
    let ok = r.ok == 80 && full == n - 80 && taken == 80 && rows == 80 && r.server_errors() == 0;
    println!(
        "{} morning release: {n} citizens in {seconds} s for 8 slots x 10 seats -> {} booked, {full} slot_full, {} 5xx/no answer {:?}; seats taken {taken}, booking rows {rows}; p50 {:.0} ms, p99 {:.0} ms (slot_full p99 {p99_full:.0} ms), max {:.0} ms (the slowest of the 80 booked {max_booked:.0} ms); late starts {} -> {}",
        b.backend,
        r.ok,
        r.server_errors(),
        r.by_code,
        r.p50_ms,
        r.p99_ms,
        r.max_ms,
        r.late,
        if ok { "OK" } else { "MISMATCH" }
    );
    table(
        &format!(
            "{} morning release, {n} citizens in {seconds} s, 80 seats",
            b.backend
        ),
        &format!(
            "{} booked, {full} slot_full, {} 5xx; slot_full p99 {p99_full:.0} ms",
            r.ok,
            r.server_errors()
        ),
        "goal: 80 booked, rest slot_full, p99 < 1000 ms",
        &format!(
            "{} ({:.2}× the 1 s goal)",
            if ok { "exact" } else { "MISMATCH" },
            p99_full / 1000.0
        ),
    );
    Ok(ok)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = args();
    let b = setup::start(&a.db, a.pool).await?;
    println!(
        "booking_open: {} (pool of {}, write groups of {}) rates {:?} for {} s; raw {} transactions; release {} in {} s",
        b.backend,
        b.state.config.database.max_connections,
        b.state.config.database.write_group,
        a.rates,
        a.seconds,
        a.raw,
        a.release,
        a.release_seconds
    );
    let runs = offered(&b, &a).await?;
    let f0 = flushes::now();
    let (raw_rate, raw_p50, raw_p99) = raw_transactions(&b, a.raw, 32).await?;
    println!("  {}", flushes::now().since(&f0));
    println!(
        "{} raw booking transaction (no HTTP), 32 writers: {raw_rate:.0}/s, p50 {raw_p50:.1} ms, p99 {raw_p99:.1} ms",
        b.backend
    );
    for (rate, r) in &runs {
        table(
            &format!("{} booking, offered {rate:.0}/s", b.backend),
            &format!(
                "{:.0}/s, p50 {:.1} ms, p99 {:.1} ms, p99.9 {:.1} ms, {} errors",
                r.achieved_rate,
                r.p50_ms,
                r.p99_ms,
                r.p999_ms,
                r.errors()
            ),
            &format!("raw write transaction {raw_rate:.0}/s (p99 {raw_p99:.1} ms)"),
            &format!("{:.2}× raw rate", r.achieved_rate / raw_rate),
        );
        if *rate == 1000.0 && b.backend == "SQLite" {
            table(
                "SQLite booking p99 at 1,000 offered/s",
                &format!("{:.1} ms", r.p99_ms),
                "goal 50 ms",
                &format!("{:.2}× the goal", r.p99_ms / 50.0),
            );
        }
    }
    let ok = release(&b, a.release, a.release_seconds).await?;
    b.stop().await;
    anyhow::ensure!(ok, "the morning release did not book exactly 80");
    Ok(())
}
