//! Storage faults: a full disk under bookings and hearing steps (a real tmpfs, filled and freed),
//! a read-only data dir at start, and the readiness write probe. Every 2xx must be durable;
//! a write the store could not take answers 503 `storage_unavailable` with `Retry-After`.
//! Needs root (mount). On SQLite the data dir (database and WAL) is the tmpfs; on PostgreSQL
//! the tables that steps and bookings write are moved to a tablespace on the tmpfs.

use std::{io::Write, path::PathBuf, process::Command};

use remote_hearing::clock::Clock;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use sqlx::Connection;

use crate::{
    booking::{at, body, citizens, phone},
    hearing::{World, body_of, world_with},
    helpers::{TestApp, expect_json},
};

/// A tmpfs of `size` mounted on a fresh directory; unmounted on drop.
struct Tmpfs {
    dir: PathBuf,
    _parent: tempfile::TempDir,
    /// A PostgreSQL tablespace on it: the mount stays until the tablespace is dropped (a
    /// tablespace whose directory vanished breaks every later CREATE DATABASE).
    tablespace: std::sync::Mutex<Option<String>>,
}

impl Tmpfs {
    /// None (with a note) where the test cannot mount (not root); CI must be able to.
    fn mount(size: &str, options: &str) -> Option<Tmpfs> {
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("data");
        std::fs::create_dir(&dir).unwrap();
        let opts = format!("size={size}{options}");
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &opts, "tmpfs"])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            assert!(
                std::env::var("CI").is_err(),
                "CI runs as root and must be able to mount a tmpfs"
            );
            eprintln!("skipped: cannot mount a tmpfs (not root?)");
            return None;
        }
        Some(Tmpfs {
            dir,
            _parent: parent,
            tablespace: std::sync::Mutex::new(None),
        })
    }

    /// PostgreSQL: the tables a booking and a step write move to a tablespace on this tmpfs
    /// (the server's WAL stays where it is: a full tablespace fails the INSERT, 53100).
    async fn hold_tables(&self, app: &TestApp) {
        use std::os::unix::fs::PermissionsExt;
        let ts = self.dir.join("ts");
        std::fs::create_dir(&ts).unwrap();
        for d in [self._parent.path(), self.dir.as_path()] {
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let ok = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(&ts)
            .status()
            .unwrap();
        assert!(ok.success(), "chown postgres");
        let name = format!("rh_ts_{}", uuid::Uuid::new_v4().simple());
        *self.tablespace.lock().unwrap() = Some(name.clone());
        let db = &app.state.db.write;
        let create = format!("CREATE TABLESPACE {name} LOCATION '{}'", ts.display());
        sqlx::query(sqlx::AssertSqlSafe(create))
            .execute(db)
            .await
            .unwrap();
        for table in [
            "bookings",
            "slots",
            "hearing_steps",
            "hearings",
            "audit_entries",
            "audit_nodes",
            "sms_outbox",
        ] {
            let q = format!("ALTER TABLE {table} SET TABLESPACE {name}");
            sqlx::query(sqlx::AssertSqlSafe(q))
                .execute(db)
                .await
                .unwrap();
        }
    }

    /// Fills the file system with `filler` until it refuses (ENOSPC).
    fn fill(&self) {
        let mut f = std::fs::File::create(self.dir.join("filler")).unwrap();
        let chunk = vec![0u8; 64 * 1024];
        loop {
            if f.write_all(&chunk).is_err() {
                break;
            }
        }
        // The last partial chunk too.
        while f.write_all(&[0u8; 512]).is_ok() {}
    }

    fn free(&self) {
        std::fs::remove_file(self.dir.join("filler")).unwrap();
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        if self.tablespace.lock().is_ok_and(|t| t.is_some()) {
            return; // left mounted: see `tablespace`
        }
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

/// What the server acknowledged: bookings answered 201 and steps answered 200.
#[derive(Default)]
struct Acked {
    bookings: Vec<String>,
    steps: Vec<String>,
    refusals: usize,
}

impl Acked {
    /// Records one answer; anything but 2xx must be the storage refusal.
    async fn answer(&mut self, r: reqwest::Response, what: &str) -> bool {
        let status = r.status().as_u16();
        let retry = r.headers().get("retry-after").cloned();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        match status {
            200 | 201 => {
                if what == "booking" {
                    self.bookings.push(v["id"].as_str().unwrap().to_string());
                } else {
                    self.steps.push(what.to_string());
                }
                true
            }
            503 => {
                assert_eq!(v["error"]["code"], "storage_unavailable", "{v}");
                assert!(retry.is_some(), "503 without Retry-After");
                self.refusals += 1;
                false
            }
            other => panic!("{what}: unexpected {other}: {v}"),
        }
    }
}

/// Books for citizen `i` of `people` (a slot of its own hour and day).
async fn book_one(
    app: &TestApp,
    brigade: &str,
    people: &[(String, String)],
    i: usize,
) -> reqwest::Response {
    let mut b = body(brigade, &at(17 + (i as u32 / 40), 8 + (i as u32 % 10)));
    b["phone"] = json!(phone(i));
    b["plate"] = json!(format!("鲁B{:05}", i));
    app.post("/api/v1/bookings", Some(&people[i].0), b).await
}

#[tokio::test]
async fn a_full_disk_loses_no_acknowledged_write() {
    let Some(fs) = Tmpfs::mount("6m", "") else {
        return;
    };
    let postgres = std::env::var("TEST_DATABASE_URL").is_ok();
    let dir = fs.dir.clone();
    let w = world_with(move |c| {
        if !postgres {
            c.server.data_dir = dir
        }
    })
    .await;
    let app = &w.app;
    if postgres {
        fs.hold_tables(app).await;
    }
    let people = citizens(app, 200).await;
    let hearing = w.open().await["id"].as_str().unwrap().to_string();
    assert_eq!(w.join_with_sms_code(&hearing).await.status(), 200);
    let mut acked = Acked::default();
    let steps = [
        "identity",
        "inquiry",
        "transcript_ack",
        "notice",
        "notice_ack",
        "statement",
        "ruling",
    ];
    let mut next_step = 0;
    acked
        .answer(step(&w, &hearing, steps[0]).await, steps[0])
        .await;
    next_step += 1;

    // Fill the disk, then write until the store refuses (bounded), and a few times more.
    fs.fill();
    let mut i = 0;
    let mut after_refusal = 0;
    while i < people.len() && after_refusal < 5 {
        let r = book_one(app, &w.brigade, &people, i).await;
        i += 1;
        if !acked.answer(r, "booking").await || acked.refusals > 0 {
            after_refusal += 1;
        }
        if acked.refusals > 0 && next_step < 3 {
            let s = steps[next_step];
            next_step += usize::from(acked.answer(step(&w, &hearing, s).await, s).await);
        }
    }
    assert!(acked.refusals > 0, "the full disk never refused a write");
    if !postgres {
        let r = app.get("/readyz", None).await;
        assert_eq!(r.status(), 503, "readyz on a full disk");
        assert!(r.headers().contains_key("retry-after"));
    }

    // Space again: writes go through, readiness comes back.
    fs.free();
    let r = app.get("/readyz", None).await;
    assert_eq!(r.status(), 200, "readyz after freeing space");
    for _ in 0..5 {
        let r = book_one(app, &w.brigade, &people, i).await;
        i += 1;
        assert!(
            acked.answer(r, "booking").await,
            "booking after space came back"
        );
    }
    while next_step < steps.len() {
        let s = steps[next_step];
        assert!(
            acked.answer(step(&w, &hearing, s).await, s).await,
            "{s} after space came back"
        );
        next_step += 1;
    }

    // Another connection (as another process would) sees every acknowledged write now…
    let url = remote_hearing::store::database_url(
        &app.state.config.database,
        &app.state.config.server.data_dir,
    );
    check_durable(&url, &acked, &hearing).await;
    // …and so does the server after a restart.
    let World { mut app, .. } = w;
    app.shutdown().await;
    app.state.db.write.close().await;
    app.state.db.read.close().await;
    check_durable(&url, &acked, &hearing).await;
    let config = (*app.state.config).clone();
    let again = TestApp::builder()
        .config(move |c| {
            c.server.data_dir = config.server.data_dir.clone();
            c.database.url = config.database.url.clone();
        })
        .spawn()
        .await;
    let got: Vec<String> = sqlx::query_scalar(
        "SELECT step FROM hearing_steps WHERE hearing_id = $1 AND kind = 'step' ORDER BY idx",
    )
    .bind(&hearing)
    .fetch_all(&again.state.db.read)
    .await
    .unwrap();
    assert_eq!(got, acked.steps);
    // The audit log took every acknowledged step and still verifies; a checkpoint signs it.
    let db = &again.state.db;
    again
        .state
        .audit
        .sign_checkpoint(db, again.clock.now_ms())
        .await
        .unwrap();
    let report = remote_hearing::audit::service::verify_log(db, &[])
        .await
        .unwrap();
    assert!(report.ok, "{}", report.human());
    if postgres {
        let url = remote_hearing::store::database_url(&config_of(&again), again.data_dir.path());
        drop_tablespace(&fs, again, &url).await;
    }
}

fn config_of(app: &TestApp) -> remote_hearing::store::DatabaseConfig {
    app.state.config.database.clone()
}

/// PostgreSQL: drops the test's database and then its tablespace, so the tmpfs can go.
async fn drop_tablespace(fs: &Tmpfs, mut app: TestApp, url: &str) {
    app.shutdown().await;
    app.state.db.write.close().await;
    app.state.db.read.close().await;
    let admin = std::env::var("TEST_DATABASE_URL").unwrap();
    let mut conn = sqlx::AnyConnection::connect(&admin).await.unwrap();
    let name = url::Url::parse(url)
        .unwrap()
        .path()
        .trim_start_matches('/')
        .to_string();
    let q = format!("DROP DATABASE {name} WITH (FORCE)");
    sqlx::query(sqlx::AssertSqlSafe(q))
        .execute(&mut conn)
        .await
        .unwrap();
    let ts = fs.tablespace.lock().unwrap().take().unwrap();
    let q = format!("DROP TABLESPACE {ts}");
    sqlx::query(sqlx::AssertSqlSafe(q))
        .execute(&mut conn)
        .await
        .unwrap();
}

/// Takes step `s`. A citizen's step is signed first: when the full disk refuses the signature's
/// upload, that refusal is the step's answer (nothing to sign with, nothing acknowledged).
async fn step(w: &World, hearing: &str, s: &str) -> reqwest::Response {
    if !crate::hearing::is_citizen_step(s) {
        return w.step(hearing, &w.officer, body_of(s)).await;
    }
    let mut body = body_of(s);
    if body["signature_id"] == "auto" {
        let r = crate::hearing::signatures::upload_signature(&w.app, &w.citizen, hearing).await;
        if r.status() != 201 {
            return r;
        }
        let v: Value = r.json().await.unwrap();
        body["signature_id"] = v["id"].clone();
    }
    w.step(hearing, &w.citizen, body).await
}

/// Opens the database on a fresh connection and finds every acknowledged booking and step.
async fn check_durable(url: &str, acked: &Acked, hearing: &str) {
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    for id in &acked.bookings {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM bookings WHERE id = $1")
            .bind(id)
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(n, 1, "booking {id} was answered 201 but is not stored");
    }
    let got: Vec<String> = sqlx::query_scalar(
        "SELECT step FROM hearing_steps WHERE hearing_id = $1 AND kind = 'step' ORDER BY idx",
    )
    .bind(hearing)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(got, acked.steps, "steps answered 200 vs stored");
    conn.close().await.unwrap();
}

#[tokio::test]
async fn readyz_writes_to_the_database() {
    let app = TestApp::spawn().await;
    let r = app.get("/readyz", None).await;
    let v: Value = expect_json(r, 200).await;
    assert_eq!(v["database"], "ok");
    assert_eq!(v["data_dir"], "ok");
    let before: i64 = sqlx::query_scalar("SELECT at FROM heartbeat WHERE id = 1")
        .fetch_one(&app.state.db.read)
        .await
        .unwrap();
    assert_eq!(before, app.clock.now_ms(), "the probe wrote the heartbeat");
    // A database that reads but refuses writes is not ready.
    sqlx::query("DROP TABLE heartbeat")
        .execute(&app.state.db.write)
        .await
        .unwrap();
    let r = app.get("/readyz", None).await;
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));
    let v: Value = r.json().await.unwrap();
    assert_ne!(v["database"], "ok");
}

#[tokio::test]
async fn a_read_only_data_dir_refuses_to_start_with_one_line() {
    let Some(fs) = Tmpfs::mount("1m", ",ro") else {
        return;
    };
    let out = Command::new(env!("CARGO_BIN_EXE_remote-hearing"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&fs.dir)
        .env("REDIS_URL", "redis://127.0.0.1:1")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].contains("is not writable"), "{err}");
    assert!(lines[0].contains("Read-only file system"), "{err}");
}

/// A PostgreSQL app whose pool was warmed (several connections opened, then idle) and whose
/// every backend was then terminated by the server (`pg_terminate_backend`, as an administrator
/// or a restart would): the app, a citizen's token, the connections dropped (at least two).
async fn drop_warm_connections(admin: &str) -> (TestApp, String, Vec<bool>) {
    let app = TestApp::spawn().await;
    let (token, _) = app.login_citizen("13800138000").await;
    let warm = (0..8).map(|_| app.get("/api/v1/auth/me", Some(&token)));
    for r in futures::future::join_all(warm).await {
        assert_eq!(r.status(), 200);
    }
    let url = app.state.config.database.url.expose_secret().to_string();
    let name = url::Url::parse(&url).unwrap().path()[1..].to_string();
    let mut conn = sqlx::AnyConnection::connect(admin).await.unwrap();
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind(&name)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    assert!(killed.len() >= 2, "the app held connections: {killed:?}");
    (app, token, killed)
}

/// PostgreSQL: the server drops every connection of the app while they sit idle in the pool (a
/// restart, an administrator's `pg_terminate_backend`). The pool no longer pings before every
/// use (issue 18 §2), so a connection idle for a second or more is pinged first: no request
/// after that sees the dead sockets. Without that ping the first uses fail (503).
#[tokio::test]
async fn postgresql_dropping_idle_connections_fails_no_request() {
    let Ok(admin) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("skipped: PostgreSQL only (TEST_DATABASE_URL)");
        return;
    };
    let (app, token, _) = drop_warm_connections(&admin).await;
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    for i in 0..12 {
        let r = app.get("/api/v1/auth/me", Some(&token)).await;
        assert_eq!(
            r.status(),
            200,
            "request {i} after the connections were dropped"
        );
    }
    let again = (0..8).map(|_| app.get("/api/v1/auth/me", Some(&token)));
    for r in futures::future::join_all(again).await {
        assert_eq!(r.status(), 200, "concurrent requests after the drop");
    }
}

/// PostgreSQL: the server drops every connection of the app and requests follow at once, before
/// any connection has been idle long enough to be pinged. Nothing pings a connection after use
/// (issue 18 §2), so each dead connection is found by the statement that uses it: that request
/// fails (503 `storage_unavailable`) and the connection is closed instead of going back to the
/// pool. At most one request fails per dropped connection, and every later one succeeds.
/// Without the close the dead connections went back to the pool and failed request after
/// request until one was idle for a second.
#[tokio::test]
async fn postgresql_a_broken_connection_fails_once() {
    let Ok(admin) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("skipped: PostgreSQL only (TEST_DATABASE_URL)");
        return;
    };
    let (app, token, killed) = drop_warm_connections(&admin).await;
    let mut failed = Vec::new();
    for i in 0..40 {
        let r = app.get("/api/v1/auth/me", Some(&token)).await;
        match r.status().as_u16() {
            200 => {}
            503 => failed.push(i),
            s => panic!("request {i}: {s}"),
        }
    }
    assert!(
        failed.len() <= killed.len(),
        "{} requests failed for {} dropped connections: {failed:?}",
        failed.len(),
        killed.len()
    );
    assert!(
        failed.iter().all(|&i| i < 20),
        "a dead connection was handed out again late: {failed:?}"
    );
}

/// PostgreSQL: a transaction dropped without commit or rollback (a refusal, an error, a
/// cancelled request) gives its row locks back as soon as its connection goes back to the pool,
/// though nothing pings a connection after use: sqlx queues the ROLLBACK in the connection's
/// buffer, and the pool sends it then. Left queued, an idle connection held the locks and every
/// later writer of those rows waited for it (seen once: the CI run stalled on the audit log's
/// state row).
#[tokio::test]
async fn postgresql_a_dropped_transaction_releases_its_locks_at_once() {
    if std::env::var("TEST_DATABASE_URL").is_err() {
        eprintln!("skipped: PostgreSQL only (TEST_DATABASE_URL)");
        return;
    }
    let app = TestApp::spawn().await;
    // a pool of the server's kind that nothing else uses: the app's background jobs take idle
    // connections often enough to send a queued rollback by chance
    let dir = tempfile::tempdir().unwrap();
    let db = remote_hearing::store::Db::connect(&config_of(&app), dir.path())
        .await
        .unwrap();
    let pool = &db.write;
    // this test's own row (the test has its own database)
    sqlx::query("CREATE TABLE lock_probe (id BIGINT PRIMARY KEY, n BIGINT NOT NULL)")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO lock_probe (id, n) VALUES (1, 0)")
        .execute(pool)
        .await
        .unwrap();
    for round in 0..5 {
        let mut tx = pool.begin().await.unwrap();
        // the next writer, on another connection of the pool
        let mut next = pool.acquire().await.unwrap();
        sqlx::query("UPDATE lock_probe SET n = n + 1 WHERE id = 1")
            .execute(&mut *tx)
            .await
            .unwrap();
        drop(tx);
        let other = sqlx::query("UPDATE lock_probe SET n = n + 1 WHERE id = 1").execute(&mut *next);
        let done = tokio::time::timeout(std::time::Duration::from_secs(5), other).await;
        assert!(
            matches!(done, Ok(Ok(_))),
            "round {round}: the next writer of the row waited for the dropped transaction"
        );
    }
}
