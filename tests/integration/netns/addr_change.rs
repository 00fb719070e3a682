//! (c) of issue 14 §1: the citizen's address changes mid-call. The citizen (in its namespace,
//! behind the router's NAT) is in a call with the officer; the test gives it a new address on a
//! second link and deletes the old one, so its WebSocket's TCP connection and its ICE pair are
//! dead. The client notices (ICE `disconnected` or the socket ending), joins again on a new
//! socket within the grace period and sends an ICE-restart offer of the same peer connection;
//! the server answers it on the same server-side peer connection (same DTLS fingerprint as its
//! first answer, which a new peer connection would not have) and media flows both ways again.
//! Prints `recover_ms=` (from the address change to the citizen's media back); no timing is
//! asserted beyond the generous limits.

use std::time::{Duration, Instant};

use super::net::{Lines, Net};
use super::{field, skip};

/// Reads `rx` until a line starting with `prefix` (returned with when it was read), appending
/// every line to `log`; `None` at `failed…`, at the end of the output or after `limit`.
fn wait_line(
    rx: &Lines,
    prefix: &str,
    log: &mut String,
    limit: Duration,
) -> Option<(Instant, String)> {
    let end = Instant::now() + limit;
    loop {
        let (at, l) = rx
            .recv_timeout(end.saturating_duration_since(Instant::now()))
            .ok()?;
        log.push_str(&l);
        log.push('\n');
        if l.starts_with(prefix) {
            return Some((at, l));
        }
        if l.starts_with("failed") {
            return None;
        }
    }
}

/// The officer's `packets n=` count in the next tick line.
fn officer_packets(rx: &Lines, log: &mut String) -> u64 {
    let (_, l) = wait_line(rx, "packets ", log, Duration::from_secs(10))
        .unwrap_or_else(|| panic!("officer stopped ticking:\n{log}"));
    field(&l, "packets ", "n")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[test]
fn citizen_address_change_restarts_ice_on_the_same_peer_connection() {
    if skip(
        "citizen_address_change_restarts_ice_on_the_same_peer_connection",
        false,
    ) {
        return;
    }
    let mut net = Net::new(2);
    net.add_second_link();
    let addr = net.start_server(&[]);
    let (officer, citizen) = net.start_call(
        &addr,
        &["--secs", "300", "--timeout", "300", "--ticks"],
        &["--address-change", "--secs", "1", "--timeout", "120"],
    );
    let (mut clog, mut olog) = (String::new(), String::new());
    let ready = wait_line(&citizen, "ready ", &mut clog, Duration::from_secs(30));
    assert!(ready.is_some(), "the call never had media:\n{clog}");
    let first = wait_line(&citizen, "", &mut clog, Duration::ZERO);
    assert!(
        first.is_none(),
        "the citizen saw a break before the move:\n{clog}"
    );
    assert!(clog.contains("local=host/udp"), "{clog}");

    net.move_client();
    let moved = Instant::now();
    let officer_before = officer_packets(&officer, &mut olog);
    let Some((back, line)) = wait_line(&citizen, "recovered ", &mut clog, Duration::from_secs(90))
    else {
        panic!("the citizen's media never came back:\n{clog}");
    };
    let recover_ms = back.duration_since(moved).as_millis();
    eprintln!("recover_ms={recover_ms}\n{clog}");
    // the break was real: noticed, and the socket opened again
    assert!(clog.contains("lost ms="), "{clog}");
    assert!(clog.contains("rejoined ms="), "{clog}");
    // media back (the old address is gone: it can only come from the new one), through the
    // same server-side peer connection
    assert_eq!(
        field(&line, "recovered ", "same_server_dtls").as_deref(),
        Some("true"),
        "the server answered the restart with another peer connection: {line}"
    );
    // and the other way: the officer receives the citizen's audio again
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut after = officer_packets(&officer, &mut olog);
    while after < officer_before + 25 && Instant::now() < deadline {
        after = officer_packets(&officer, &mut olog);
    }
    assert!(
        after >= officer_before + 25,
        "the officer got no media after the change ({officer_before} → {after}):\n{olog}"
    );
    let end = wait_line(&citizen, "received ", &mut clog, Duration::from_secs(15));
    assert!(end.is_some(), "{clog}");
}
