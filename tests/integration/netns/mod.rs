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

mod addr_change;
mod net;

use std::process::Command;

use net::Net;

pub(super) const KEY: &str = "netns-test-token-key";
pub(super) const TURN_SECRET: &str = "netns-turn-secret";

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
