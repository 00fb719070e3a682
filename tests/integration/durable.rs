//! Durable acknowledgement (issue 18 §3), checked on the system calls: this test binary runs
//! itself again under an `LD_PRELOAD` shim (`tests/data/fsync_shim.c`, compiled here with `cc`)
//! that logs, in one order, SQLite's writes to its `-wal` file, every fsync of it and every HTTP
//! response the server sends. Each booking and cancel carries its own plate, so the WAL writes
//! of its commit are found by content; its 2xx must leave only after an fsync of the WAL that
//! began after those writes had completed and returned before the answer. The same run with
//! `database.durable_ack = false` (no barrier) must break that, or the check proves nothing.
//! SQLite only: PostgreSQL fsyncs in its own process (its setting is checked at start, below).

use std::{collections::HashMap, path::Path, process::Command};

use serde_json::json;

use crate::{
    booking::{at, body, citizens},
    helpers::TestApp,
};

const REQUESTS: usize = 6;

#[derive(Debug)]
enum Event {
    /// A write to the WAL, with the plate numbers in its data.
    Wal(Vec<u32>),
    /// An fsync of the WAL: started at this seq, ended at `end` with `ok`.
    Sync { end: u64, ok: bool },
    /// An HTTP response with this status is about to be sent.
    Response(u16),
    /// The child's mark: "B|D book|cancel N" (before sending / after the answer).
    Mark(String),
}

fn parse(log: &str) -> Vec<(u64, Event)> {
    let mut ends: HashMap<u64, (u64, bool)> = HashMap::new();
    let mut out = Vec::new();
    for line in log.lines() {
        let mut f = line.splitn(3, ' ');
        let (kind, seq, rest) = (f.next(), f.next(), f.next().unwrap_or(""));
        let seq: u64 = seq.and_then(|s| s.parse().ok()).unwrap_or(0);
        match kind {
            Some("W") => out.push((
                seq,
                Event::Wal(rest.split(',').filter_map(|m| m.parse().ok()).collect()),
            )),
            Some("S") => out.push((seq, Event::Sync { end: 0, ok: false })),
            Some("E") => {
                let mut p = rest.split(' ');
                let start = p.next().and_then(|s| s.parse().ok()).unwrap_or(0);
                ends.insert(start, (seq, p.next() == Some("0")));
            }
            Some("R") => out.push((seq, Event::Response(rest.parse().unwrap_or(0)))),
            Some("K") => out.push((seq, Event::Mark(rest.to_string()))),
            _ => {}
        }
    }
    for (seq, e) in &mut out {
        if let Event::Sync { end, ok } = e
            && let Some((s, good)) = ends.get(seq)
        {
            (*end, *ok) = (*s, *good);
        }
    }
    out.sort_by_key(|(s, _)| *s);
    out
}

/// For each acknowledged request: whether an fsync covering its commit returned before its 2xx.
/// Panics when the log cannot show it (no 2xx, no WAL write of the request's plate).
fn covered(events: &[(u64, Event)]) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    for (i, (begin, e)) in events.iter().enumerate() {
        let Event::Mark(m) = e else { continue };
        let Some(what) = m.strip_prefix("B ") else {
            continue;
        };
        let plate: u32 = what
            .rsplit(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap();
        let done = events[i..]
            .iter()
            .find(|(_, e)| matches!(e, Event::Mark(d) if d == &format!("D {what}")))
            .map(|(s, _)| *s)
            .expect("done mark");
        let responses: Vec<_> = events
            .iter()
            .filter(|(s, e)| *s > *begin && *s < done && matches!(e, Event::Response(_)))
            .collect();
        assert_eq!(responses.len(), 1, "{what}: one answer in its window");
        let (answer, Event::Response(status)) = responses[0] else {
            unreachable!()
        };
        assert!((200..300).contains(status), "{what}: answered {status}");
        let commit = events
            .iter()
            .filter(|(s, e)| {
                *s > *begin && *s < *answer && matches!(e, Event::Wal(p) if p.contains(&plate))
            })
            .map(|(s, _)| *s)
            .max()
            .unwrap_or_else(|| panic!("{what}: no WAL write of its plate seen"));
        let synced = events.iter().any(|(s, e)| {
            matches!(e, Event::Sync { end, ok: true } if *s > commit && *end < *answer && *end > 0)
        });
        out.push((what.to_string(), synced));
    }
    out
}

fn shim(dir: &Path) -> std::path::PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fsync_shim.c");
    let so = dir.join("fsync_shim.so");
    let out = Command::new("cc")
        .args(["-shared", "-fPIC", "-O1", "-o"])
        .arg(&so)
        .arg(&src)
        .arg("-ldl")
        .output()
        .expect("cc (the C compiler Rust links with)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    so
}

/// Runs `child_books_and_cancels_under_the_shim` in a new process under the shim; its log.
fn run_child(so: &Path, log: &Path, durable: bool) -> String {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "durable::child_books_and_cancels_under_the_shim",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("LD_PRELOAD", so)
        .env("SHIM_LOG", log)
        .env("DURABLE_CHILD", if durable { "durable" } else { "fast" })
        .env_remove("TEST_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "child failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(log).unwrap()
}

#[test]
fn no_2xx_leaves_before_the_fsync_of_its_commit() {
    let dir = tempfile::tempdir().unwrap();
    let so = shim(dir.path());
    let events = parse(&run_child(&so, &dir.path().join("durable.log"), true));
    let result = covered(&events);
    assert_eq!(
        result.len(),
        2 * REQUESTS,
        "every booking and cancel checked"
    );
    let late: Vec<_> = result.iter().filter(|(_, ok)| !ok).collect();
    assert!(late.is_empty(), "answered before their fsync: {late:?}");

    // The control: without the barrier the same check fails (SQLite alone does not fsync at
    // commit with synchronous=NORMAL), so the check above can fail.
    let events = parse(&run_child(&so, &dir.path().join("fast.log"), false));
    let result = covered(&events);
    assert_eq!(result.len(), 2 * REQUESTS);
    assert!(
        result.iter().any(|(_, ok)| !ok),
        "without the barrier some answer must precede its fsync: {result:?}"
    );
}

/// The child: books and cancels `REQUESTS` times on SQLite, one request at a time, marking each
/// window. Run only by the test above (it sets `DURABLE_CHILD`).
#[tokio::test]
#[ignore = "run by no_2xx_leaves_before_the_fsync_of_its_commit under LD_PRELOAD"]
async fn child_books_and_cancels_under_the_shim() {
    let Ok(mode) = std::env::var("DURABLE_CHILD") else {
        return;
    };
    let app = TestApp::builder()
        .config(move |c| c.database.durable_ack = mode == "durable")
        .spawn()
        .await;
    let brigade = app.create_brigade(REQUESTS as i64 + 2).await;
    let people = citizens(&app, REQUESTS).await;
    // The marks go through write(2) to /dev/null, where the shim sees them in order.
    let mut null = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/null")
        .unwrap();
    let mut mark = |m: String| {
        use std::io::Write;
        null.write_all(format!("MARK {m}\n").as_bytes()).unwrap();
    };
    let mut ids = Vec::new();
    for (i, (token, _)) in people.iter().enumerate() {
        let n = 1000 + i;
        let mut b = body(&brigade, &at(17, 9));
        b["plate"] = json!(format!("京QZ{n}"));
        b["phone"] = json!(format!("1370000{n:04}"));
        mark(format!("B book {n}"));
        let r = app.post("/api/v1/bookings", Some(token), b).await;
        mark(format!("D book {n}"));
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
        let v: serde_json::Value = r.json().await.unwrap();
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    for (i, ((token, _), id)) in people.iter().zip(&ids).enumerate() {
        let n = 1000 + i;
        mark(format!("B cancel {n}"));
        let r = app
            .delete(&format!("/api/v1/bookings/{id}"), Some(token))
            .await;
        mark(format!("D cancel {n}"));
        assert!(r.status().is_success(), "cancel: {}", r.status());
    }
}

/// PostgreSQL: the start-up check reads `synchronous_commit` and `fsync` as our connections see
/// them; a database set to `synchronous_commit = off` is named, refused in production and
/// started with a warning in development.
#[tokio::test]
async fn postgres_without_synchronous_commit_is_refused_in_production() {
    let Ok(admin) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("skipped: TEST_DATABASE_URL not set");
        return;
    };
    let url = crate::helpers::fresh_postgres(&admin).await;
    let mut config = remote_hearing::config::Config::defaults().unwrap();
    let dir = tempfile::tempdir().unwrap();
    config.database.url = secrecy::SecretString::from(url.clone());
    let db = remote_hearing::store::Db::connect(&config.database, dir.path())
        .await
        .unwrap();
    assert_eq!(
        db.durability_problem().await.unwrap(),
        None,
        "the default is on"
    );
    let name = url.rsplit('/').next().unwrap().to_string();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "ALTER DATABASE {name} SET synchronous_commit = off"
    )))
    .execute(&db.write)
    .await
    .unwrap();
    db.write.close().await;
    let db = remote_hearing::store::Db::connect(&config.database, dir.path())
        .await
        .unwrap();
    let problem = db.durability_problem().await.unwrap();
    assert!(
        problem
            .as_deref()
            .is_some_and(|p| p.contains("synchronous_commit = off")),
        "{problem:?}"
    );

    config.server.data_dir = dir.path().to_path_buf();
    config.server.mode = remote_hearing::config::Mode::Production;
    let clock = remote_hearing::clock::MockClock::new(crate::helpers::default_now());
    let Err(err) = remote_hearing::build_state(config, clock).await else {
        panic!("started in production on a database without synchronous_commit");
    };
    assert!(
        format!("{err:#}").contains("synchronous_commit = off"),
        "{err:#}"
    );
}
