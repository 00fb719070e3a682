//! The command line as scripts use it: `demo`, `admin`, `serve` printing its URL, and one-line
//! errors with a non-zero exit.

use std::{
    io::{BufRead, BufReader, Write},
    process::{Command, Stdio},
    time::Duration,
};

use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_remote-hearing");

pub(crate) struct Env {
    dir: tempfile::TempDir,
    vars: Vec<(String, String)>,
}

impl Env {
    pub(crate) async fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let mut vars = vec![
            (
                "RH_REDIS__PREFIX".to_string(),
                format!("test:{}", uuid::Uuid::new_v4().simple()),
            ),
            ("RH_OPS__LISTEN".to_string(), "127.0.0.1:0".to_string()),
        ];
        if let Ok(u) = std::env::var("TEST_REDIS_URL") {
            vars.push(("REDIS_URL".into(), u));
        }
        if let Ok(admin) = std::env::var("TEST_DATABASE_URL") {
            vars.push((
                "DATABASE_URL".into(),
                crate::helpers::fresh_postgres(&admin).await,
            ));
        }
        Env { dir, vars }
    }
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.args(args)
            .arg("--data-dir")
            .arg(self.dir.path())
            .env_remove("DATABASE_URL")
            .envs(self.vars.clone());
        c
    }
    /// `serve` on a free port with `envs` added; the child and the URL it printed.
    pub(crate) async fn serve(&self, envs: &[(&str, &str)]) -> (std::process::Child, String) {
        let mut child = self
            .cmd(&["serve", "--listen", "127.0.0.1:0"])
            .envs(envs.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        let url = tokio::task::spawn_blocking(move || {
            while reader.read_line(&mut line).unwrap_or(0) > 0 {
                if let Some(u) = line.trim().strip_prefix("listening on ") {
                    return Some(u.to_string());
                }
                line.clear();
            }
            None
        });
        let url = tokio::time::timeout(Duration::from_secs(30), url)
            .await
            .unwrap()
            .unwrap()
            .expect("listening line");
        (child, url)
    }
    fn run(&self, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
        let mut c = self.cmd(args);
        c.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        if let Some(s) = stdin {
            child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
        }
        drop(child.stdin.take());
        let out = child.wait_with_output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into(),
            String::from_utf8_lossy(&out.stderr).into(),
        )
    }
}

fn last_line(s: &str) -> String {
    s.lines().last().unwrap_or("").trim().to_string()
}

#[tokio::test]
async fn demo_is_idempotent_and_admin_creates_things() {
    let env = Env::new().await;
    let (ok, out, err) = env.run(&["demo"], None);
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("brigade "), "{out}");
    assert!(
        lines.iter().any(|l| l.starts_with("officer 100001 ")),
        "{out}"
    );
    assert!(lines.iter().any(|l| l.starts_with("auditor ")), "{out}");
    let (ok, out2, _) = env.run(&["demo"], None);
    assert!(ok);
    assert_eq!(out.lines().next(), out2.lines().next(), "same demo brigade");

    let (ok, out, err) = env.run(
        &[
            "admin",
            "create-brigade",
            "--name",
            "历下大队",
            "--seats",
            "6",
            "--hours",
            "09:00-12:00",
        ],
        None,
    );
    assert!(ok, "{err}");
    let brigade = last_line(&out);
    assert_eq!(brigade.len(), 36, "{out}");
    let args = [
        "admin",
        "create-user",
        "--role",
        "officer",
        "--badge",
        "P777",
        "--name",
        "王警官",
        "--brigade",
        &brigade,
        "--password-stdin",
    ];
    let (ok, out, err) = env.run(&args, Some("a-strong-password\n"));
    assert!(ok, "{err}");
    assert_eq!(last_line(&out).len(), 36);
    // The same badge again: one clear line, non-zero exit.
    let (ok, _, err) = env.run(&args, Some("a-strong-password\n"));
    assert!(!ok);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("P777"), "{err}");

    // serve prints its URL; the officer logs in there.
    let (mut child, url) = env.serve(&[]).await;
    let r = reqwest::Client::new()
        .post(format!("{url}/api/v1/auth/officer"))
        .json(&json!({"badge": "P777", "password": "a-strong-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let token = r.json::<serde_json::Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    // `admin disable-user` on the running server's data: its token and its login answer 401.
    let (ok, _, err) = env.run(&["admin", "disable-user", "--badge", "P777"], None);
    assert!(ok, "{err}");
    let me = reqwest::Client::new()
        .get(format!("{url}/api/v1/auth/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 401);
    let r = reqwest::Client::new()
        .post(format!("{url}/api/v1/auth/officer"))
        .json(&json!({"badge": "P777", "password": "a-strong-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let (ok, _, err) = env.run(&["admin", "disable-user", "--badge", "NOPE"], None);
    assert!(!ok && err.contains("NOPE"), "{err}");
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test]
async fn unreachable_redis_fails_fast_with_one_line() {
    let env = Env::new().await;
    let mut c = env.cmd(&["serve", "--listen", "127.0.0.1:0"]);
    c.env("REDIS_URL", "redis://127.0.0.1:1/");
    let out = tokio::task::spawn_blocking(move || c.output().unwrap())
        .await
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let last = err.trim().lines().last().unwrap_or("");
    assert!(
        last.starts_with("error: ") && last.contains("redis://127.0.0.1:1"),
        "{err}"
    );
}

#[tokio::test]
async fn bad_arguments_are_one_line_errors() {
    let env = Env::new().await;
    let (ok, _, err) = env.run(
        &[
            "admin",
            "create-brigade",
            "--name",
            "X",
            "--timezone",
            "Mars/Base",
        ],
        None,
    );
    assert!(!ok);
    assert!(err.contains("Mars/Base"), "{err}");
    let (ok, _, err) = env.run(
        &[
            "admin",
            "create-user",
            "--role",
            "king",
            "--badge",
            "1",
            "--name",
            "x",
            "--password-stdin",
        ],
        Some("longenough\n"),
    );
    assert!(!ok);
    assert!(err.contains("--role"), "{err}");
    // The staff password rule holds for the CLI too: 12 characters at least, not breached.
    for (pw, says) in [
        ("longenough\n", "12 to 128"),
        ("password1234\n", "breached"),
    ] {
        let (ok, _, err) = env.run(
            &[
                "admin",
                "create-user",
                "--role",
                "auditor",
                "--badge",
                "1",
                "--name",
                "x",
                "--password-stdin",
            ],
            Some(pw),
        );
        assert!(!ok);
        assert!(err.contains(says), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
}

#[tokio::test]
async fn admin_creates_and_updates_brigade_schedules() {
    let env = Env::new().await;
    let (ok, out, err) = env.run(
        &[
            "admin",
            "create-brigade",
            "--name",
            "历下大队",
            "--week-hours",
            "mon-thu=09:00-12:00;fri=09:00-11:00",
            "--slot-minutes",
            "30",
            "--closed",
            "2026-10-01,2026-10-02",
        ],
        None,
    );
    assert!(ok, "{err}");
    let id = last_line(&out);
    let (ok, out, err) = env.run(
        &[
            "admin",
            "update-brigade",
            "--id",
            &id,
            "--seats",
            "9",
            "--close",
            "2026-10-03",
            "--reopen",
            "2026-10-01",
        ],
        None,
    );
    assert!(ok, "{err}");
    assert_eq!(last_line(&out), id);
    let (ok, _, err) = env.run(
        &["admin", "update-brigade", "--id", &id, "--hours", "9-12"],
        None,
    );
    assert!(!ok);
    assert!(
        err.trim().lines().last().unwrap_or("").contains("--hours"),
        "{err}"
    );

    sqlx::any::install_default_drivers();
    let url = env
        .vars
        .iter()
        .find(|(k, _)| k == "DATABASE_URL")
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| {
            remote_hearing::store::sqlite_url(&env.dir.path().join("remote-hearing.db"))
        });
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    let (seats, minutes, week): (i64, i64, String) = sqlx::query_as(
        "SELECT seats_per_slot, slot_minutes, week_hours FROM brigades WHERE id = $1",
    )
    .bind(&id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((seats, minutes), (9, 30));
    assert_eq!(
        week,
        "mon=09:00-12:00;tue=09:00-12:00;wed=09:00-12:00;thu=09:00-12:00;fri=09:00-11:00"
    );
    let closed: Vec<(String,)> =
        sqlx::query_as("SELECT date FROM brigade_closed_dates WHERE brigade_id = $1 ORDER BY date")
            .bind(&id)
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        closed,
        [("2026-10-02".to_string(),), ("2026-10-03".to_string(),)]
    );
}
