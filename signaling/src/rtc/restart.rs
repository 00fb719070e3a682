//! ICE restarts: `offer {ice_restart}` on a seat's existing peer connection, also from a new
//! signalling connection (docs/call.md "Address change"). The peer connection, its tracks, the
//! relay and the recording taps stay; only the connection it answers to and its ICE change.

use std::sync::atomic::Ordering;

use webrtc::peer_connection::sdp::session_description::RTCSessionDescription;

use super::RtcRoom;
use super::peer::{answer, merr};
use crate::media::MediaError;
use crate::msg::Role;

/// The `a=fingerprint` value of an SDP (session or first media level), e.g. `sha-256 AB:…`.
fn fingerprint(sdp: &str) -> Option<&str> {
    sdp.lines()
        .find_map(|l| l.trim_end().strip_prefix("a=fingerprint:"))
        .map(str::trim)
        .filter(|f| !f.is_empty())
}

/// An ICE restart of `role`'s existing peer connection, maybe from a new signalling connection:
/// the offer must carry the DTLS fingerprint of the offers before it (the same client peer
/// connection); the peer connection then answers to `conn_seq` and answers the restart. Its
/// tracks, the relay and the recording taps are untouched.
pub(crate) async fn restart(
    room: &RtcRoom,
    role: Role,
    conn_seq: u64,
    sdp: String,
) -> Result<String, MediaError> {
    let offer = RTCSessionDescription::offer(sdp).map_err(merr("bad_sdp"))?;
    let pc = {
        let peers = room.peers.lock().await;
        let Some(p) = peers.get(&role) else {
            return Err(MediaError::new(
                "restart_unavailable",
                "no peer connection to restart: send a plain offer",
            ));
        };
        let before = p.pc.remote_description().await;
        let same = match (&before, fingerprint(&offer.sdp)) {
            (Some(b), Some(f)) => fingerprint(&b.sdp) == Some(f),
            _ => false,
        };
        if !same {
            return Err(MediaError::new(
                "bad_sdp",
                "an ICE restart must come from the same peer connection (DTLS fingerprint)",
            ));
        }
        p.conn.store(conn_seq, Ordering::SeqCst);
        // (webrtc-rs drops the selected pair: the media may pause until the new one is chosen)
        room.seats.seat(role).switch_conn(conn_seq);
        p.pc.clone()
    };
    answer(room, role, conn_seq, &pc, offer).await
}
