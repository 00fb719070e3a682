//! The call across emulated networks (issue 14 §1): Linux network namespaces, veth pairs and
//! iptables. The server (the real binary) runs in the root namespace on a veth address (Redis
//! stays reachable on loopback); the citizen is `examples/netns_client` started with
//! `ip netns exec` in its own namespace behind a router namespace; the officer is the same client
//! in the root namespace. `Net` deletes the namespaces (and with them the veths) and stops every
//! process it started when dropped, also when a test fails.
//!
//! Needs root, `ip` and `iptables` (and `turnserver` for the TURN test): otherwise each test
//! prints why and passes, unless `RH_NETNS_TESTS=require` (set by .ci/run), where it fails.
//! They run in the SQLite pass only (they touch no SQL).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use remote_hearing::call::tokens::{Claims, TokenKey};

const KEY: &str = "netns-test-token-key";
const TURN_SECRET: &str = "netns-turn-secret";

/// Why these tests cannot run here, if they cannot.
fn unavailable(need_turn: bool) -> Option<String> {
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|v| !v.is_empty()) {
        return Some("they run in the SQLite pass only".into());
    }
    // SAFETY-free check of the effective uid: /proc/self/status `Uid:` line.
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let root = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(2))
        == Some("0");
    if !root {
        return Some("not root".into());
    }
    let mut tools = vec!["ip", "iptables"];
    if need_turn {
        tools.push("turnserver");
    }
    for t in tools {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {t}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            return Some(format!(
                "`{t}` is missing (scripts/deps.sh netns installs it)"
            ));
        }
    }
    None
}

/// True when the test should return early (after saying why).
fn skip(test: &str, need_turn: bool) -> bool {
    let Some(why) = unavailable(need_turn) else {
        return false;
    };
    if std::env::var("RH_NETNS_TESTS").as_deref() == Ok("require") && !why.contains("SQLite") {
        panic!("{test}: cannot run: {why} (RH_NETNS_TESTS=require)");
    }
    eprintln!("SKIPPED {test}: {why}");
    true
}

fn run(args: &[&str]) {
    let out = Command::new(args[0]).args(&args[1..]).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Client ns `rhc{n}` (10.231.n.2) — router ns `rhr{n}` (10.231.n.1 | 10.232.n.2, MASQUERADE) —
/// root namespace veth `rhh{n}` (10.232.n.1, where the server and coturn listen).
struct Net {
    n: u32,
    dir: tempfile::TempDir,
    children: Vec<(String, Child)>,
}

impl Net {
    fn new(slot: u32) -> Net {
        let n = (std::process::id() * 4 + slot) % 250;
        let net = Net {
            n,
            dir: tempfile::tempdir().unwrap(),
            children: vec![],
        };
        let (c, r, h) = (net.client_ns(), format!("rhr{n}"), format!("rhh{n}"));
        // leftovers of a killed earlier run with the same numbers
        let _ = Command::new("ip").args(["netns", "del", &c]).output();
        let _ = Command::new("ip").args(["netns", "del", &r]).output();
        let _ = Command::new("ip").args(["link", "del", &h]).output();
        run(&["ip", "netns", "add", &c]);
        run(&["ip", "netns", "add", &r]);
        let (lan_r, lan_c, wan_r) = (format!("rhl{n}"), format!("rhc{n}"), format!("rhw{n}"));
        run(&[
            "ip", "link", "add", &lan_c, "netns", &c, "type", "veth", "peer", "name", &lan_r,
            "netns", &r,
        ]);
        run(&[
            "ip", "link", "add", &h, "type", "veth", "peer", "name", &wan_r, "netns", &r,
        ]);
        let ex = |ns: &str, cmd: &[&str]| {
            let mut v = vec!["ip", "netns", "exec", ns];
            v.extend_from_slice(cmd);
            run(&v);
        };
        ex(
            &c,
            &[
                "ip",
                "addr",
                "add",
                &format!("10.231.{n}.2/24"),
                "dev",
                &lan_c,
            ],
        );
        ex(&c, &["ip", "link", "set", &lan_c, "up"]);
        ex(&c, &["ip", "link", "set", "lo", "up"]);
        ex(
            &c,
            &[
                "ip",
                "route",
                "add",
                "default",
                "via",
                &format!("10.231.{n}.1"),
            ],
        );
        ex(
            &r,
            &[
                "ip",
                "addr",
                "add",
                &format!("10.231.{n}.1/24"),
                "dev",
                &lan_r,
            ],
        );
        ex(
            &r,
            &[
                "ip",
                "addr",
                "add",
                &format!("10.232.{n}.2/24"),
                "dev",
                &wan_r,
            ],
        );
        ex(&r, &["ip", "link", "set", &lan_r, "up"]);
        ex(&r, &["ip", "link", "set", &wan_r, "up"]);
        ex(
            &r,
            &[
                "ip",
                "route",
                "add",
                "default",
                "via",
                &format!("10.232.{n}.1"),
            ],
        );
        ex(&r, &["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
        ex(
            &r,
            &[
                "iptables",
                "-t",
                "nat",
                "-A",
                "POSTROUTING",
                "-o",
                &wan_r,
                "-j",
                "MASQUERADE",
            ],
        );
        run(&["ip", "addr", "add", &format!("10.232.{n}.1/24"), "dev", &h]);
        run(&["ip", "link", "set", &h, "up"]);
        net
    }

    fn client_ns(&self) -> String {
        format!("rhc{}", self.n)
    }

    /// The server side's address (root namespace).
    fn server_ip(&self) -> String {
        format!("10.232.{}.1", self.n)
    }

    /// The router drops every UDP datagram it would forward (a network that blocks UDP).
    fn block_udp(&self) {
        let r = format!("rhr{}", self.n);
        run(&[
            "ip", "netns", "exec", &r, "iptables", "-A", "FORWARD", "-p", "udp", "-j", "DROP",
        ]);
    }

    fn log(&self, name: &str) -> std::fs::File {
        std::fs::File::create(self.dir.path().join(format!("{name}.log"))).unwrap()
    }

    /// coturn on the server side, UDP and TCP 3478, REST secret `TURN_SECRET`.
    fn start_coturn(&mut self) {
        let ip = self.server_ip();
        let child = Command::new("turnserver")
            .args(["-n", "--no-tls", "--no-dtls", "--no-cli", "--fingerprint"])
            .arg(format!("--listening-ip={ip}"))
            .arg(format!("--relay-ip={ip}"))
            .args([
                "--listening-port=3478",
                "--use-auth-secret",
                "--realm=rh.test",
            ])
            .arg(format!("--static-auth-secret={TURN_SECRET}"))
            .arg(format!("--pidfile={}/turn.pid", self.dir.path().display()))
            .args(["--log-file=stdout", "--simple-log"])
            .stdout(self.log("coturn"))
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.children.push(("coturn".into(), child));
        // ready when it accepts TCP on 3478
        for _ in 0..100 {
            if std::net::TcpStream::connect((ip.as_str(), 3478)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(30));
        }
        panic!("coturn did not start");
    }

    /// The server binary on the server side; returns its `host:port`.
    fn start_server(&mut self, env: &[(&str, String)]) -> String {
        let ip = self.server_ip();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_remote-hearing"));
        cmd.args(["serve", "--listen", &format!("{ip}:0"), "--data-dir"])
            .arg(self.dir.path().join("data"))
            .env(
                "RH_REDIS__PREFIX",
                format!("netns:{}", uuid::Uuid::new_v4().simple()),
            )
            .env("RH_CALL__TOKEN_KEY", KEY)
            .env("RH_CALL__BIND_IPS", format!("[\"{ip}\"]"))
            .env("RH_CALL__RECORDING_ENABLED", "false")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(self.log("server"));
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        self.children.push(("server".into(), child));
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            for l in lines.by_ref().map_while(Result::ok) {
                if let Some(a) = l.strip_prefix("listening on http://") {
                    let _ = tx.send(a.trim_end_matches('/').to_owned());
                    break;
                }
            }
            for _ in lines {}
        });
        rx.recv_timeout(Duration::from_secs(30))
            .expect("server listening")
    }

    /// The citizen's client alone (its peer connection is with the server, so it connects
    /// without the officer); returns its stdout.
    fn citizen_alone(&self, addr: &str, args: &[&str]) -> String {
        let hearing = uuid::Uuid::new_v4().simple().to_string();
        let out = Command::new("ip")
            .args(["netns", "exec", &self.client_ns()])
            .arg(client_bin())
            .args(["--ws", &format!("ws://{addr}/ws/hearings/{hearing}")])
            .args(["--token", &token(&hearing, "citizen")])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs the officer (root namespace) and the citizen (client namespace) clients of one
    /// hearing together; returns (officer, citizen) stdout.
    fn call(&self, addr: &str, citizen_args: &[&str]) -> (String, String) {
        let hearing = uuid::Uuid::new_v4().simple().to_string();
        let ws = format!("ws://{addr}/ws/hearings/{hearing}");
        let client = client_bin();
        let officer = Command::new(&client)
            .args(["--ws", &ws, "--token", &token(&hearing, "officer")])
            .args(["--bind-ip", &self.server_ip()])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let citizen = Command::new("ip")
            .args(["netns", "exec", &self.client_ns()])
            .arg(&client)
            .args(["--ws", &ws, "--token", &token(&hearing, "citizen")])
            .args(citizen_args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        // both exit by themselves (`--timeout`, 20 s by default)
        let text = |o: Output| String::from_utf8_lossy(&o.stdout).into_owned();
        let c = text(citizen.wait_with_output().unwrap());
        let o = text(officer.wait_with_output().unwrap());
        (o, c)
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for (_, c) in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        if std::thread::panicking() {
            for (name, _) in &self.children {
                let p = self.dir.path().join(format!("{name}.log"));
                let log = std::fs::read_to_string(&p).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(30).collect();
                eprintln!(
                    "--- {name} (last lines)\n{}",
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                );
            }
        }
        let n = self.n;
        let _ = Command::new("ip")
            .args(["netns", "del", &format!("rhc{n}")])
            .output();
        let _ = Command::new("ip")
            .args(["netns", "del", &format!("rhr{n}")])
            .output();
        let _ = Command::new("ip")
            .args(["link", "del", &format!("rhh{n}")])
            .output();
    }
}

/// `target/debug/examples/netns_client`, next to the server binary's directory.
fn client_bin() -> PathBuf {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_remote-hearing"));
    let p = bin.parent().unwrap().join("examples").join("netns_client");
    assert!(
        p.exists(),
        "{} is missing: cargo build --example netns_client (cargo test builds it)",
        p.display()
    );
    p
}

fn token(hearing: &str, role: &str) -> String {
    let claims = Claims {
        h: hearing.into(),
        r: role.into(),
        p: format!("{role}-{hearing}"),
        e: chrono::Utc::now().timestamp_millis() + 600_000,
        n: uuid::Uuid::new_v4().simple().to_string()[..16].to_string(),
    };
    TokenKey::new(KEY.as_bytes()).sign(&claims)
}

/// The `key=value` of a client's line starting with `prefix`.
fn field(out: &str, prefix: &str, key: &str) -> Option<String> {
    let line = out.lines().find(|l| l.starts_with(prefix))?;
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")).map(str::to_owned))
}

/// Connected, and media from the other party arrived.
fn assert_media(who: &str, out: &str) {
    assert!(out.contains("connected "), "{who} never connected:\n{out}");
    let bytes: u64 = field(out, "received ", "bytes")
        .and_then(|b| b.parse().ok())
        .unwrap_or(0);
    assert!(bytes > 0, "{who} received no media:\n{out}");
}

#[test]
fn citizen_behind_nat_connects_directly() {
    if skip("citizen_behind_nat_connects_directly", false) {
        return;
    }
    let mut net = Net::new(0);
    let addr = net.start_server(&[]);
    let (officer, citizen) = net.call(&addr, &[]);
    eprintln!("{citizen}");
    assert_media("officer", &officer);
    assert_media("citizen", &citizen);
    // no TURN configured: the pair is the citizen's host candidate (translated by the NAT, seen
    // as peer-reflexive by the server) and the server's host candidate
    assert_eq!(
        field(&citizen, "connected ", "local").as_deref(),
        Some("host/udp"),
        "{citizen}"
    );
    assert_eq!(
        field(&citizen, "connected ", "remote").as_deref(),
        Some("host"),
        "{citizen}"
    );
}

#[test]
fn citizen_without_udp_connects_through_coturn_over_tcp() {
    if skip("citizen_without_udp_connects_through_coturn_over_tcp", true) {
        return;
    }
    let mut net = Net::new(1);
    net.block_udp();
    net.start_coturn();
    let turn = format!("[\"turn:{}:3478?transport=tcp\"]", net.server_ip());
    let addr = net.start_server(&[
        ("RH_CALL__TURN_URLS", turn),
        ("RH_CALL__TURN_SECRET", TURN_SECRET.to_owned()),
    ]);
    // UDP really is blocked: without TURN over TCP the citizen cannot connect at all
    let alone = net.citizen_alone(&addr, &["--timeout", "5"]);
    assert!(!alone.contains("connected "), "UDP not blocked:\n{alone}");
    let (officer, citizen) = net.call(&addr, &["--turn-tcp"]);
    eprintln!("{citizen}");
    assert_media("officer", &officer);
    assert_media("citizen", &citizen);
    assert_eq!(
        field(&citizen, "connected ", "local").as_deref(),
        Some("relay/udp"),
        "{citizen}"
    );
}
