//! The measuring half of `audit_scale`: the auditor's routes by one sequential client (p50,
//! p99 per kind of request, every answer checked to be 200), and `audit verify-log` (the CLI)
//! beside raw SHA-256 over the same stored bytes.

use std::time::{Duration, Instant};

use remote_hearing::{
    identity::{Role, staff},
    state::AppState,
};
use secrecy::SecretString;

use super::table;

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1000.0
}

async fn login(state: &AppState, base: &str) -> anyhow::Result<String> {
    let badge = format!("8{}", &ids6());
    let password = format!("password-of-{badge}");
    staff::create(
        state,
        staff::NewStaff {
            role: Role::Auditor,
            badge: badge.clone(),
            name: "审计员".into(),
            brigade_id: None,
            password: SecretString::from(password.clone()),
        },
    )
    .await?;
    let v: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/officer"))
        .json(&serde_json::json!({"badge": badge, "password": password}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    v["token"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("no token in {v}"))
}

fn ids6() -> String {
    remote_hearing::ids::new_id()
        .chars()
        .filter(char::is_ascii_digit)
        .rev()
        .take(6)
        .collect()
}

type Query = Vec<(&'static str, String)>;

/// Sample values of the filters, read from the database.
async fn samples(state: &AppState, n: usize) -> anyhow::Result<Vec<(String, String, Query)>> {
    let db = &state.db.read;
    let brigades: Vec<String> = sqlx::query_scalar("SELECT id FROM brigades ORDER BY id")
        .fetch_all(db)
        .await?;
    let badges: Vec<String> =
        sqlx::query_scalar("SELECT badge FROM staff WHERE role = 'officer' ORDER BY badge")
            .fetch_all(db)
            .await?;
    let picks: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT h.id, b.slot_date, b.plate, d.decision_no FROM hearings h JOIN bookings b ON b.id = h.booking_id \
         LEFT JOIN hearing_decisions d ON d.hearing_id = h.id ORDER BY h.id LIMIT $1",
    )
    .bind(n as i64 * 7)
    .fetch_all(db)
    .await?;
    anyhow::ensure!(!picks.is_empty() && !brigades.is_empty(), "empty database");
    let mut out = vec![];
    for i in 0..n {
        let (_, date, plate, decision) = &picks[(i * 7) % picks.len()];
        let b = brigades[i % brigades.len()].clone();
        let badge = badges
            .get(i % badges.len().max(1))
            .cloned()
            .unwrap_or_default();
        let decision = decision.clone().unwrap_or_else(|| "none".into());
        for (kind, q) in [
            ("no filter, first page of 50", vec![]),
            ("brigade", vec![("brigade_id", b.clone())]),
            ("officer (badge)", vec![("officer", badge)]),
            ("status = no_show", vec![("status", "no_show".to_string())]),
            ("date", vec![("date", date.clone())]),
            ("plate", vec![("plate", plate.clone())]),
            ("decision number", vec![("decision_no", decision)]),
            (
                "brigade + date",
                vec![("brigade_id", b), ("date", date.clone())],
            ),
        ] {
            let mut q: Query = q;
            q.push(("limit", "50".into()));
            out.push((kind.to_string(), String::new(), q));
        }
    }
    Ok(out)
}

async fn get(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    q: &[(&'static str, String)],
) -> anyhow::Result<(Duration, serde_json::Value)> {
    let t = Instant::now();
    let r = http.get(url).bearer_auth(token).query(q).send().await?;
    let status = r.status();
    let v: serde_json::Value = r.json().await?;
    let d = t.elapsed();
    anyhow::ensure!(status == 200, "{url} {q:?}: {status} {v}");
    Ok((d, v))
}

fn report(kind: &str, lat: &mut [Duration], goal_ms: f64) {
    lat.sort();
    let (p50, p99) = (pct(lat, 0.5), pct(lat, 0.99));
    println!(
        "{kind:<40} n={:<4} p50 {p50:>7.1} ms  p99 {p99:>7.1} ms  max {:>7.1} ms",
        lat.len(),
        pct(lat, 1.0)
    );
    table(
        &format!("auditor: {kind}"),
        &format!("p50 {p50:.1} ms, p99 {p99:.1} ms"),
        &format!("goal p99 < {goal_ms:.0} ms"),
        &format!("{:.2}× the goal", p99 / goal_ms),
    );
}

/// The auditor's routes, `n` requests of each kind.
pub async fn routes(state: &AppState, base: &str, n: usize) -> anyhow::Result<()> {
    let token = login(state, base).await?;
    let http = reqwest::Client::new();
    let list = format!("{base}/api/v1/audit/hearings");
    let mut by_kind: std::collections::BTreeMap<String, Vec<Duration>> = Default::default();
    let mut ids = vec![];
    for (kind, _, q) in samples(state, n).await? {
        let (d, v) = get(&http, &list, &token, &q).await?;
        if let Some(items) = v["items"].as_array() {
            ids.extend(
                items
                    .iter()
                    .filter_map(|i| i["id"].as_str().map(str::to_string)),
            );
        }
        by_kind.entry(kind).or_default().push(d);
    }
    // Deep paging: follow the cursor of the unfiltered list, 50 a page.
    let mut cursor: Option<String> = None;
    let mut pages = vec![];
    for _ in 0..n.max(20) {
        let mut q: Query = vec![("limit", "50".into())];
        if let Some(c) = &cursor {
            q.push(("cursor", c.clone()));
        }
        let (d, v) = get(&http, &list, &token, &q).await?;
        pages.push(d);
        cursor = v["next_cursor"].as_str().map(str::to_string);
        if cursor.is_none() {
            break;
        }
    }
    by_kind.insert("paging: next page by cursor".into(), pages);
    ids.sort();
    ids.dedup();
    let step = (ids.len() / n.max(1)).max(1);
    let picked: Vec<String> = ids.iter().step_by(step).take(n).cloned().collect();
    let (mut summary, mut bundle) = (vec![], vec![]);
    for id in &picked {
        summary.push(get(&http, &format!("{list}/{id}"), &token, &[]).await?.0);
        let (d, v) = get(&http, &format!("{list}/{id}/bundle"), &token, &[]).await?;
        anyhow::ensure!(
            v["entries"].as_array().map(Vec::len) == Some(10),
            "bundle of {id}: {v}"
        );
        bundle.push(d);
    }
    by_kind.insert("one hearing's summary".into(), summary);
    by_kind.insert("one hearing's bundle (10 entries)".into(), bundle);
    for (kind, lat) in by_kind.iter_mut() {
        report(kind, lat, 100.0);
    }
    Ok(())
}

/// `remote-hearing audit verify-log` on the database, beside ring SHA-256 of every stored leaf
/// and payload (read into memory first, hashing timed alone).
pub async fn verify_log(
    state: &AppState,
    dir: &std::path::Path,
    entries: i64,
) -> anyhow::Result<()> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT leaf_hex, payload FROM audit_entries ORDER BY seq")
            .fetch_all(&state.db.read)
            .await?;
    let leaves: Vec<Vec<u8>> = rows
        .iter()
        .map(|(l, _)| hex::decode(l).unwrap_or_default())
        .collect();
    let bytes: usize = leaves.iter().map(Vec::len).sum::<usize>()
        + rows.iter().map(|(_, p)| p.len()).sum::<usize>();
    let t = Instant::now();
    let mut acc = 0u8;
    for (leaf, (_, payload)) in leaves.iter().zip(&rows) {
        acc ^= ring::digest::digest(&ring::digest::SHA256, leaf).as_ref()[0];
        acc ^= ring::digest::digest(&ring::digest::SHA256, payload.as_bytes()).as_ref()[0];
    }
    std::hint::black_box(acc);
    let raw = t.elapsed().as_secs_f64();
    drop((rows, leaves));
    let t = Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_remote-hearing"))
        .args(["audit", "verify-log", "--data-dir"])
        .arg(dir)
        .env("RUST_LOG", "warn")
        .output()?;
    let cli = t.elapsed().as_secs_f64();
    let text = String::from_utf8_lossy(&out.stdout);
    println!(
        "raw ring SHA-256 of every leaf and payload ({entries} entries, {:.0} MB): {raw:.2} s ({:.0} entries/s)",
        bytes as f64 / 1e6,
        entries as f64 / raw
    );
    println!(
        "remote-hearing audit verify-log: {cli:.2} s ({:.0} entries/s), exit {}; last line: {}",
        entries as f64 / cli,
        out.status,
        text.lines().last().unwrap_or("")
    );
    anyhow::ensure!(out.status.success(), "verify-log failed:\n{text}");
    table(
        &format!("audit verify-log, {entries} entries"),
        &format!("{cli:.1} s ({:.0} entries/s)", entries as f64 / cli),
        &format!("raw SHA-256 of leaves + payloads {raw:.2} s"),
        &format!("{:.1}× raw", cli / raw),
    );
    Ok(())
}
