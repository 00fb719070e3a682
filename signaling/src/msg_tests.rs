//! The wire format's parsing tests: every frame, every limit, every bad shape.

use super::*;

#[test]
fn parses_every_client_frame() {
    assert_eq!(
        ClientMsg::parse(r#"{"type":"join","token":"abc"}"#),
        Ok(ClientMsg::Join {
            token: "abc".into()
        })
    );
    assert_eq!(
        ClientMsg::parse(r#"{"type":"offer","sdp":"v=0"}"#),
        Ok(ClientMsg::Offer {
            sdp: "v=0".into(),
            ice_restart: false
        })
    );
    assert_eq!(
        ClientMsg::parse(r#"{"type":"offer","sdp":"v=0","ice_restart":true}"#),
        Ok(ClientMsg::Offer {
            sdp: "v=0".into(),
            ice_restart: true
        })
    );
    assert!(ClientMsg::parse(r#"{"type":"offer","sdp":"v=0","ice_restart":1}"#).is_err());
    let c = ClientMsg::parse(
        r#"{"type":"candidate","candidate":"candidate:1 1 udp 1 1.2.3.4 5 typ host","sdpMid":"0","sdpMLineIndex":0}"#,
    )
    .unwrap();
    match c {
        ClientMsg::Candidate(c) => {
            assert_eq!(c.sdp_mid.as_deref(), Some("0"));
            assert_eq!(c.sdp_mline_index, Some(0));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        ClientMsg::parse(r#"{"type":"leave"}"#),
        Ok(ClientMsg::Leave {})
    );
    assert_eq!(
        ClientMsg::parse(r#"{"type":"ping"}"#),
        Ok(ClientMsg::Ping {})
    );
    // browsers' toJSON() shape, with a null sdpMid
    assert!(ClientMsg::parse(
        r#"{"type":"candidate","candidate":"","sdpMid":null,"sdpMLineIndex":null,"usernameFragment":"x"}"#
    )
    .is_ok());
}

#[test]
fn rejects_bad_frames_without_panicking() {
    for bad in [
        "",
        "null",
        "[]",
        "{}",
        r#"{"type":"nope"}"#,
        r#"{"type":"join"}"#,
        r#"{"type":"join","token":5}"#,
        r#"{"type":"join","token":"a","extra":1}"#,
        r#"{"type":"ping","x":1}"#,
        r#"{"type":"offer","sdp":"  "}"#,
        r#"{"type":"candidate","candidate":"x","sdpMLineIndex":-1}"#,
        "{\"type\":\"join\",\"token\":\"\u{0}\"",
        "\u{feff}garbage",
    ] {
        assert!(ClientMsg::parse(bad).is_err(), "accepted {bad:?}");
    }
    let big = format!(
        r#"{{"type":"offer","sdp":"{}"}}"#,
        "a".repeat(MAX_SDP_BYTES + 1)
    );
    assert_eq!(ClientMsg::parse(&big), Err(ParseError::FieldTooLong("sdp")));
    let huge = "x".repeat(MAX_FRAME_BYTES + 1);
    assert!(matches!(
        ClientMsg::parse(&huge),
        Err(ParseError::TooLarge(_))
    ));
}

#[test]
fn server_frames_have_the_documented_shape() {
    let j = ServerMsg::Joined {
        role: Role::Citizen,
        peer_present: false,
        ice_servers: vec![IceServer {
            urls: vec!["stun:x".into()],
            ..Default::default()
        }],
    };
    assert_eq!(
        j.to_json(),
        r#"{"type":"joined","role":"citizen","peer_present":false,"ice_servers":[{"urls":["stun:x"]}]}"#
    );
    assert_eq!(
        ServerMsg::Peer {
            state: PeerState::Reconnecting
        }
        .to_json(),
        r#"{"type":"peer","state":"reconnecting"}"#
    );
    assert_eq!(ServerMsg::Pong.to_json(), r#"{"type":"pong"}"#);
    assert_eq!(
        ServerMsg::Hearing {
            status: "in_call".into(),
            step: Some("identity".into())
        }
        .to_json(),
        r#"{"type":"hearing","status":"in_call","step":"identity"}"#
    );
    assert_eq!(
        ServerMsg::error("bad_frame", "x").to_json(),
        r#"{"type":"error","code":"bad_frame","message":"x"}"#
    );
    let c = ServerMsg::Candidate(Candidate {
        candidate: "candidate:1".into(),
        sdp_mid: Some("0".into()),
        sdp_mline_index: Some(0),
        username_fragment: None,
    });
    assert_eq!(
        c.to_json(),
        r#"{"type":"candidate","candidate":"candidate:1","sdpMid":"0","sdpMLineIndex":0}"#
    );
}

#[test]
fn seat_frames_have_the_documented_shape() {
    assert_eq!(
        ClientMsg::parse(r#"{"type":"seats"}"#),
        Ok(ClientMsg::Seats {})
    );
    assert!(ClientMsg::parse(r#"{"type":"seats","x":1}"#).is_err());
    assert_eq!(
        ServerMsg::Seat {
            role: Role::Interpreter,
            state: PeerState::Joined
        }
        .to_json(),
        r#"{"type":"seat","role":"interpreter","state":"joined"}"#
    );
    let roster = ServerMsg::Seats {
        seats: vec![SeatState {
            role: Role::Officer,
            state: PeerState::Reconnecting,
        }],
    };
    assert_eq!(
        roster.to_json(),
        r#"{"type":"seats","seats":[{"role":"officer","state":"reconnecting"}]}"#
    );
    for r in Role::ALL {
        assert_eq!(Role::parse(r.as_str()), Some(*r));
    }
    assert_eq!(Role::Citizen.others().next(), Some(Role::Officer));
    assert_eq!(Role::Officer.others().next(), Some(Role::Citizen));
}
