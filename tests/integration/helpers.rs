//! `TestApp`: starts the real server in-process on port 0 with its own SQLite file (or its own
//! PostgreSQL database when `TEST_DATABASE_URL` is set), its own Redis key prefix and a
//! `MockClock`, and offers the logins most tests need.
#![allow(dead_code)]

use std::{net::SocketAddr, sync::Arc, time::Duration};

use chrono::{DateTime, TimeZone, Utc};
use remote_hearing::{clock::MockClock, config::Config, identity::Role, state::AppState};
use secrecy::SecretString;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use sqlx::Connection;
use tokio::sync::oneshot;

pub struct TestApp {
    pub addr: SocketAddr,
    /// The operations listener (`ops.listen`): `/metrics`.
    pub ops_addr: SocketAddr,
    pub client: reqwest::Client,
    pub clock: Arc<MockClock>,
    pub state: AppState,
    pub data_dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

/// Monday 2026-11-16 09:00 in Asia/Shanghai.
pub fn default_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 16, 1, 0, 0).unwrap()
}

/// A change to the test configuration before the server starts.
type ConfigTweak = Box<dyn FnOnce(&mut Config) + Send>;

pub struct Builder {
    now: DateTime<Utc>,
    tweak: Vec<ConfigTweak>,
    peer: Option<(Config, Arc<MockClock>)>,
}

impl Builder {
    pub fn now(mut self, now: DateTime<Utc>) -> Self {
        self.now = now;
        self
    }
    pub fn config(mut self, f: impl FnOnce(&mut Config) + Send + 'static) -> Self {
        self.tweak.push(Box::new(f));
        self
    }
    /// A second server process beside `app`: the same database, Redis prefix, data directory
    /// (so the same development secrets: join tokens, SMS codes, audit key) and clock; its own
    /// recordings directory and node id.
    pub fn peer_of(mut self, app: &TestApp) -> Self {
        self.peer = Some(((*app.state.config).clone(), app.clock.clone()));
        self
    }
    pub async fn spawn(self) -> TestApp {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "warn,remote_hearing=info",
            ))
            .with_test_writer()
            .try_init();
        let data_dir = tempfile::tempdir().unwrap();
        let mut config = Config::defaults().unwrap();
        config.server.data_dir = data_dir.path().to_path_buf();
        config.redis.prefix = format!("test:{}", uuid::Uuid::new_v4().simple());
        // Tests that are not about the call take steps without a live, recorded call; the
        // tests about it (hearing::live_call) turn this back on.
        config.hearing.require_live_call = false;
        // Tests jump the clock by hours with no request in between, which no real session does;
        // the tests about the staff idle timeout (staff_sessions) set it.
        config.auth.staff_idle_timeout_s = 0;
        if let Ok(url) = std::env::var("TEST_REDIS_URL") {
            config.redis.url = SecretString::from(url);
        }
        if let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") {
            config.database.url = SecretString::from(fresh_postgres(&admin_url).await);
        }
        if let Some((peer, _)) = &self.peer {
            config.database.url = peer.database.url.clone();
            config.redis.prefix = peer.redis.prefix.clone();
            config.server.data_dir = peer.server.data_dir.clone();
            config.call.recordings_dir = data_dir.path().join("recordings");
        }
        for f in self.tweak {
            f(&mut config);
        }
        let clock = match self.peer {
            Some((_, clock)) => clock,
            None => MockClock::new(self.now),
        };
        let state = remote_hearing::build_state(config, clock.clone())
            .await
            .expect("build state");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let ops = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let ops_addr = ops.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let st = state.clone();
        let server = tokio::spawn(async move {
            let _ = remote_hearing::serve_with_ops(st, listener, Some(ops), async {
                let _ = rx.await;
            })
            .await;
        });
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        TestApp {
            addr,
            ops_addr,
            client,
            clock,
            state,
            data_dir,
            stop: Some(tx),
            server: Some(server),
        }
    }
}

/// Creates a new database next to `admin_url`'s and returns its URL.
pub async fn fresh_postgres(admin_url: &str) -> String {
    sqlx::any::install_default_drivers();
    let name = format!("rh_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::AnyConnection::connect(admin_url)
        .await
        .expect("connect TEST_DATABASE_URL");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    let mut url = url::Url::parse(admin_url).unwrap();
    url.set_path(&format!("/{name}"));
    url.to_string()
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

impl TestApp {
    pub fn builder() -> Builder {
        Builder {
            now: default_now(),
            tweak: vec![],
            peer: None,
        }
    }

    pub async fn spawn() -> TestApp {
        Self::builder().spawn().await
    }

    /// Stops the server (as on SIGTERM) and waits until its jobs have stopped.
    pub async fn shutdown(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = tokio::time::timeout(Duration::from_secs(20), server).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The Prometheus text of the operations listener's `/metrics`.
    pub async fn metrics(&self) -> String {
        let r = self
            .client
            .get(format!("http://{}/metrics", self.ops_addr))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "/metrics on the operations listener");
        r.text().await.unwrap()
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut req = self.client.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> reqwest::Response {
        let mut req = self.client.post(self.url(path)).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    pub async fn put_json(
        &self,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> reqwest::Response {
        let mut req = self.client.put(self.url(path)).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    /// `POST /api/v1/hearings` for a booking: the officer opens its hearing.
    pub async fn open_hearing(&self, token: &str, booking: &str) -> reqwest::Response {
        self.post(
            "/api/v1/hearings",
            Some(token),
            serde_json::json!({ "booking_id": booking }),
        )
        .await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut req = self.client.delete(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    /// GET `path` and its JSON body as `T` (whatever the status).
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str, token: Option<&str>) -> T {
        self.get(path, token).await.json().await.unwrap()
    }

    /// POST `body` to `path` and its JSON answer as `T` (whatever the status).
    pub async fn post_json<T: DeserializeOwned>(
        &self,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> T {
        self.post(path, token, body).await.json().await.unwrap()
    }

    /// A brigade open every day 08:00–20:00 (Asia/Shanghai), `seats` per slot.
    pub async fn create_brigade(&self, seats: i64) -> String {
        let id = remote_hearing::cli::create_brigade(
            &self.state,
            "测试交警大队",
            "测试路1号",
            "Asia/Shanghai",
            seats,
            "08:00-20:00",
            "mon-sun",
        )
        .await
        .unwrap();
        self.set_decision_facts(&id).await;
        id
    }

    /// The facts a brigade's decisions name (doc code unique per brigade).
    pub async fn set_decision_facts(&self, brigade: &str) {
        let f = remote_hearing::hearing::decision::facts::BrigadeFacts {
            doc_code: format!("测交决字{brigade}"),
            review_body: "测试市公安局".into(),
            court: "测试市历下区人民法院".into(),
            pay_place: "交管12123 App 或测试市工商银行各网点".into(),
        };
        remote_hearing::hearing::decision::facts::set(&self.state.db.write, brigade, &f, 0)
            .await
            .unwrap();
    }

    /// Creates a staff account with password [`staff_password`]; returns its id.
    pub async fn create_staff(&self, role: Role, badge: &str, brigade_id: Option<&str>) -> String {
        remote_hearing::identity::staff::create(
            &self.state,
            remote_hearing::identity::staff::NewStaff {
                role,
                badge: badge.into(),
                name: format!("测试{badge}"),
                brigade_id: brigade_id.map(str::to_string),
                password: SecretString::from(staff_password(badge)),
            },
        )
        .await
        .unwrap()
    }

    /// Logs a staff member in; returns the token.
    pub async fn login_staff(&self, badge: &str) -> String {
        let r = self
            .post(
                "/api/v1/auth/officer",
                None,
                json!({"badge": badge, "password": staff_password(badge)}),
            )
            .await;
        assert_eq!(r.status(), 200, "staff login");
        r.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// A brigade + an officer of it, logged in: (brigade_id, officer_id, token).
    pub async fn login_officer(&self) -> (String, String, String) {
        let brigade = self.create_brigade(4).await;
        let badge = format!("9{}", &uuid::Uuid::new_v4().simple().to_string()[..6]);
        let id = self
            .create_staff(Role::Officer, &badge, Some(&brigade))
            .await;
        (brigade, id, self.login_staff(&badge).await)
    }

    /// The last code the console provider sent to `phone` (from the outbox file).
    pub fn outbox_code(&self, phone: &str) -> Option<String> {
        let dir = &self.state.config.server.data_dir;
        let text = std::fs::read_to_string(dir.join("sms-outbox.jsonl")).ok()?;
        text.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .rfind(|v| v["to"] == phone)
            .and_then(|v| v["code"].as_str().map(str::to_string))
    }

    /// Logs a citizen in with the SMS code; returns (token, citizen_id).
    pub async fn login_citizen(&self, phone: &str) -> (String, String) {
        let r = self
            .post("/api/v1/auth/sms-code", None, json!({"phone": phone}))
            .await;
        assert_eq!(r.status(), 202, "sms-code");
        let code = self.outbox_code(phone).expect("code in outbox");
        let r = self
            .post(
                "/api/v1/auth/citizen",
                None,
                json!({"phone": phone, "code": code}),
            )
            .await;
        assert_eq!(r.status(), 200, "citizen login");
        let v: Value = r.json().await.unwrap();
        (
            v["token"].as_str().unwrap().to_string(),
            v["citizen"]["id"].as_str().unwrap().to_string(),
        )
    }
}

/// Asserts status and error code of a response; returns the body.
/// The password [`TestApp::create_staff`] gives `badge` (long enough for the staff rule).
pub fn staff_password(badge: &str) -> String {
    format!("password-of-{badge}")
}

pub async fn expect_error(resp: reqwest::Response, status: u16, code: &str) -> Value {
    let got = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "status; body: {body}");
    assert_eq!(body["error"]["code"], code, "code; body: {body}");
    body
}

/// Asserts the status of a response (showing the body when it differs); returns the JSON body as `T`.
pub async fn expect_json<T: DeserializeOwned>(resp: reqwest::Response, status: u16) -> T {
    let got = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    assert_eq!(got, status, "status; body: {text}");
    serde_json::from_str(&text).unwrap()
}

/// A finished child process's status and output, for an assertion message.
pub fn output_text(o: &std::process::Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Seals `file` in place with the hearing's recordings key (as the recorder's sealer does); the key.
pub async fn seal_with_hearing_key(
    state: &AppState,
    hearing_id: &str,
    file: &std::path::Path,
) -> Arc<recordings::sealed::FileKey> {
    let key = state
        .call
        .vault
        .key_for(&state.db, hearing_id, "recordings", 0)
        .await
        .unwrap();
    assert!(recordings::sealed::seal_file(file, &key).unwrap());
    key
}
