//! In-memory tests of presence with three seats: the aggregated `peer` frame of two-party
//! clients and the `seats`/`seat` roster of clients that subscribe (no network, virtual time).

use std::time::Duration;

use crate::conn::Ended;
use crate::conn_tests::{Client, hub};
use crate::msg::{PeerState, Role, SeatState, ServerMsg};

/// The next frame after a ping: asserts nothing else was queued before the pong.
async fn nothing_queued(c: &mut Client) {
    c.text(r#"{"type":"ping"}"#);
    assert_eq!(c.msg().await, ServerMsg::Pong);
}

fn seat(role: Role, state: PeerState) -> ServerMsg {
    ServerMsg::Seat { role, state }
}

#[tokio::test(start_paused = true)]
async fn three_seats_roster_and_aggregated_peer() {
    let (hub, _log) = hub();
    let (mut c, _) = Client::join(&hub, "citizen").await;
    c.text(r#"{"type":"seats"}"#);
    assert_eq!(c.msg().await, ServerMsg::Seats { seats: vec![] });

    // a two-party officer: `peer` as before
    let (mut o, j) = Client::join(&hub, "officer").await;
    assert!(matches!(
        j,
        ServerMsg::Joined {
            peer_present: true,
            ..
        }
    ));
    assert_eq!(c.msg().await, seat(Role::Officer, PeerState::Joined));

    // a third seat: the subscriber is told; the officer's aggregate (someone is here) holds
    let (mut i, j) = Client::join(&hub, "interpreter").await;
    assert!(matches!(
        j,
        ServerMsg::Joined {
            role: Role::Interpreter,
            peer_present: true,
            ..
        }
    ));
    assert_eq!(c.msg().await, seat(Role::Interpreter, PeerState::Joined));
    nothing_queued(&mut o).await;
    i.text(r#"{"type":"seats"}"#);
    let roster = vec![
        SeatState {
            role: Role::Citizen,
            state: PeerState::Joined,
        },
        SeatState {
            role: Role::Officer,
            state: PeerState::Joined,
        },
    ];
    assert_eq!(i.msg().await, ServerMsg::Seats { seats: roster });
    assert_eq!(hub.push_hearing("h1", "in_call", None), 3);

    // the interpreter leaves
    i.text(r#"{"type":"leave"}"#);
    assert_eq!(i.ended().await, Ended::Left);
    assert!(matches!(c.msg().await, ServerMsg::Hearing { .. }));
    assert_eq!(c.msg().await, seat(Role::Interpreter, PeerState::Left));
    // the officer gets the hearing push only: its aggregate is still `joined`
    assert!(matches!(o.msg().await, ServerMsg::Hearing { .. }));
    nothing_queued(&mut o).await;
    let p = hub.presence("h1");
    assert_eq!(p.of(Role::Interpreter), Some(PeerState::Left));
    assert!(p.both_connected());

    // the citizen drops: now nobody else is connected, the officer sees `reconnecting`
    assert!(matches!(c.ended().await, Ended::Dropped(_)));
    assert_eq!(
        o.msg().await,
        ServerMsg::Peer {
            state: PeerState::Reconnecting
        }
    );
    // grace runs out: `left`
    let mut left = false;
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_secs(5)).await;
        o.text(r#"{"type":"ping"}"#);
        loop {
            match o.msg().await {
                ServerMsg::Pong => break,
                ServerMsg::Peer {
                    state: PeerState::Left,
                } => left = true,
                other => panic!("unexpected {other:?}"),
            }
        }
        if left {
            break;
        }
    }
    assert!(left);
    assert!(hub.close_room("h1", 4009, "done").await);
    assert_eq!(o.closed_with().await, 4009);
}

#[tokio::test(start_paused = true)]
async fn the_citizen_never_sees_the_supervisor() {
    let (hub, _log) = hub();
    let (mut c, _) = Client::join(&hub, "citizen").await;
    c.text(r#"{"type":"seats"}"#);
    assert_eq!(c.msg().await, ServerMsg::Seats { seats: vec![] });
    // the supervisor joins first: the citizen is told nothing and its `joined` says nobody
    let (mut s, j) = Client::join(&hub, "supervisor").await;
    assert!(matches!(
        j,
        ServerMsg::Joined {
            role: Role::Supervisor,
            peer_present: true,
            ..
        }
    ));
    nothing_queued(&mut c).await;
    let (mut o, _) = Client::join(&hub, "officer").await;
    assert_eq!(c.msg().await, seat(Role::Officer, PeerState::Joined));
    // the supervisor sees both
    s.text(r#"{"type":"seats"}"#);
    let roster = vec![
        SeatState {
            role: Role::Citizen,
            state: PeerState::Joined,
        },
        SeatState {
            role: Role::Officer,
            state: PeerState::Joined,
        },
    ];
    assert_eq!(s.msg().await, ServerMsg::Seats { seats: roster });
    // the officer's roster lists the supervisor; the citizen's does not
    o.text(r#"{"type":"seats"}"#);
    match o.msg().await {
        ServerMsg::Seats { seats } => {
            assert!(
                seats.iter().any(|x| x.role == Role::Supervisor),
                "{seats:?}"
            )
        }
        other => panic!("unexpected {other:?}"),
    }
    c.text(r#"{"type":"seats"}"#);
    match c.msg().await {
        ServerMsg::Seats { seats } => {
            assert!(
                seats.iter().all(|x| x.role != Role::Supervisor),
                "{seats:?}"
            )
        }
        other => panic!("unexpected {other:?}"),
    }
    // the supervisor leaves: the officer is told, the citizen is not
    s.text(r#"{"type":"leave"}"#);
    assert_eq!(s.ended().await, Ended::Left);
    assert_eq!(o.msg().await, seat(Role::Supervisor, PeerState::Left));
    nothing_queued(&mut c).await;
}
