//! The emulated network of one namespace test: namespaces, veths, NAT and firewall rules, the
//! processes started in it (server, coturn, clients), and their cleanup on drop.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use remote_hearing::call::tokens::{Claims, TokenKey};

use super::{KEY, TURN_SECRET};

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
pub(super) struct Net {
    n: u32,
    dir: tempfile::TempDir,
    children: Vec<(String, Child)>,
}

impl Net {
    pub(super) fn new(slot: u32) -> Net {
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
    pub(super) fn server_ip(&self) -> String {
        format!("10.232.{}.1", self.n)
    }

    /// The router drops every UDP datagram it would forward (a network that blocks UDP).
    pub(super) fn block_udp(&self) {
        let r = format!("rhr{}", self.n);
        run(&[
            "ip", "netns", "exec", &r, "iptables", "-A", "FORWARD", "-p", "udp", "-j", "DROP",
        ]);
    }

    fn log(&self, name: &str) -> std::fs::File {
        std::fs::File::create(self.dir.path().join(format!("{name}.log"))).unwrap()
    }

    /// coturn on the server side, UDP and TCP 3478, REST secret `TURN_SECRET`.
    pub(super) fn start_coturn(&mut self) {
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
    pub(super) fn start_server(&mut self, env: &[(&str, String)]) -> String {
        let ip = self.server_ip();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_remote-hearing"));
        cmd.args(["serve", "--listen", &format!("{ip}:0"), "--data-dir"])
            .arg(self.dir.path().join("data"))
            .env(
                "RH_REDIS__PREFIX",
                format!("netns:{}", uuid::Uuid::new_v4().simple()),
            )
            .env("RH_CALL__TOKEN_KEY", KEY)
            .env("RH_OPS__LISTEN", "127.0.0.1:0")
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
    pub(super) fn citizen_alone(&self, addr: &str, args: &[&str]) -> String {
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
    pub(super) fn call(&self, addr: &str, citizen_args: &[&str]) -> (String, String) {
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

/// A client's stdout, line by line, each with when it was read.
pub(super) type Lines = std::sync::mpsc::Receiver<(Instant, String)>;

impl Net {
    /// A second link between the client and the router namespaces, `rhd{n}` (client, no address
    /// yet) ↔ `rhm{n}` (router, 10.233.n.1/24, NATed like the first): where
    /// [`Net::move_client`] moves the citizen.
    pub(super) fn add_second_link(&self) {
        let (n, c, r) = (self.n, self.client_ns(), format!("rhr{}", self.n));
        let (d, m) = (format!("rhd{n}"), format!("rhm{n}"));
        run(&[
            "ip", "link", "add", &d, "netns", &c, "type", "veth", "peer", "name", &m, "netns", &r,
        ]);
        let gw = format!("10.233.{n}.1/24");
        run(&[
            "ip", "netns", "exec", &r, "ip", "addr", "add", &gw, "dev", &m,
        ]);
        run(&["ip", "netns", "exec", &r, "ip", "link", "set", &m, "up"]);
        run(&["ip", "netns", "exec", &c, "ip", "link", "set", &d, "up"]);
    }

    /// The citizen's address changes: it gets 10.233.n.2 on the second link, its default route
    /// goes there, and its first address 10.231.n.2 is deleted (every socket bound to it, the
    /// WebSocket's TCP connection and the ICE host candidate, is dead).
    pub(super) fn move_client(&self) {
        let (n, c) = (self.n, self.client_ns());
        let ex = |cmd: &[&str]| {
            let mut v = vec!["ip", "netns", "exec", c.as_str()];
            v.extend_from_slice(cmd);
            run(&v);
        };
        let (new, gw) = (format!("10.233.{n}.2/24"), format!("10.233.{n}.1"));
        ex(&["ip", "addr", "add", &new, "dev", &format!("rhd{n}")]);
        ex(&["ip", "route", "replace", "default", "via", &gw]);
        let old = format!("10.231.{n}.2/24");
        ex(&["ip", "addr", "del", &old, "dev", &format!("rhc{n}")]);
    }

    /// Starts the officer (root namespace) and the citizen (client namespace) clients of one
    /// hearing, the citizen with `citizen_args`; returns their stdout lines as they come.
    pub(super) fn start_call(
        &mut self,
        addr: &str,
        officer_args: &[&str],
        citizen_args: &[&str],
    ) -> (Lines, Lines) {
        let hearing = uuid::Uuid::new_v4().simple().to_string();
        let ws = format!("ws://{addr}/ws/hearings/{hearing}");
        let client = client_bin();
        let mut officer = Command::new(&client);
        officer
            .args(["--ws", &ws, "--token", &token(&hearing, "officer")])
            .args(["--bind-ip", &self.server_ip()])
            .args(officer_args);
        let mut citizen = Command::new("ip");
        citizen
            .args(["netns", "exec", &self.client_ns()])
            .arg(&client)
            .args(["--ws", &ws, "--token", &token(&hearing, "citizen")])
            .args(citizen_args);
        (
            self.lines("officer", officer),
            self.lines("citizen", citizen),
        )
    }

    fn lines(&mut self, name: &str, mut cmd: Command) -> Lines {
        let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        self.children.push((name.to_owned(), child));
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for l in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send((Instant::now(), l)).is_err() {
                    return;
                }
            }
        });
        rx
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
