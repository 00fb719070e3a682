//! One participant's server-side peer connection: offer/answer, trickle ICE, forwarding of its
//! incoming tracks handed to [`super::forward`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use webrtc::ice_transport::ice_candidate::{RTCIceCandidate, RTCIceCandidateInit};
use webrtc::peer_connection::RTCPeerConnection;
use webrtc::peer_connection::peer_connection_state::RTCPeerConnectionState;
use webrtc::peer_connection::sdp::session_description::RTCSessionDescription;
use webrtc::rtp_transceiver::rtp_receiver::RTCRtpReceiver;
use webrtc::track::track_local::TrackLocal;
use webrtc::track::track_remote::TrackRemote;

use super::forward::{forward, read_sender_rtcp};
use super::seats::{Seats, offer_slots};
use super::{RtcRoom, Shared};
use crate::media::{MediaError, MediaEvent};
use crate::msg::{Candidate, Role};

pub(crate) struct Peer {
    /// The signalling connection this peer connection answers to: the one of its first offer,
    /// or of its latest ICE restart (`super::restart`). Its handlers read it.
    pub conn: Arc<AtomicU64>,
    pub pc: Arc<RTCPeerConnection>,
}

impl Peer {
    pub async fn close(self, shared: &Shared) {
        if let Err(e) = self.pc.close().await {
            tracing::debug!(error = %e, "peer connection close");
        }
        shared.live_peers.fetch_sub(1, Ordering::Relaxed);
        metrics::gauge!("media_peers").decrement(1.0);
    }
}

/// At most this long to gather the server's candidates before answering (host candidates only:
/// normally a few milliseconds).
const GATHER_WAIT: Duration = Duration::from_secs(2);

pub(crate) fn merr(code: &'static str) -> impl Fn(webrtc::Error) -> MediaError {
    move |e| MediaError::new(code, e.to_string())
}

fn to_init(c: Candidate) -> RTCIceCandidateInit {
    RTCIceCandidateInit {
        candidate: c.candidate,
        sdp_mid: c.sdp_mid,
        sdp_mline_index: c.sdp_mline_index,
        username_fragment: c.username_fragment,
    }
}

pub(crate) async fn offer(
    room: &RtcRoom,
    role: Role,
    participant_id: &str,
    conn_seq: u64,
    sdp: String,
) -> Result<String, MediaError> {
    let slots = offer_slots(&sdp);
    let offer = RTCSessionDescription::offer(sdp).map_err(merr("bad_sdp"))?;
    let seat = room.seats.seat(role);
    let mut peers = room.peers.lock().await;
    let (pc, old) = match peers.get(&role) {
        Some(p) if p.conn.load(Ordering::Acquire) == conn_seq => (p.pc.clone(), None),
        _ => {
            let old = peers.remove(&role);
            seat.switch_conn(conn_seq);
            let senders = Seats::senders_for(role, slots);
            let conn = Arc::new(AtomicU64::new(conn_seq));
            match new_pc(room, role, &senders, participant_id, conn.clone()).await {
                Ok(pc) => {
                    peers.insert(
                        role,
                        Peer {
                            conn,
                            pc: pc.clone(),
                        },
                    );
                    (pc, old)
                }
                Err(e) => {
                    drop(peers);
                    if let Some(old) = old {
                        old.close(&room.shared).await;
                    }
                    return Err(e);
                }
            }
        }
    };
    drop(peers);
    super::remb::start(room);
    // The replaced peer is closed without the lock: closing runs its state-change handler,
    // which may be waiting for this lock (`request_keyframe` on `connected`), and would wait
    // for it forever.
    if let Some(old) = old {
        old.close(&room.shared).await;
    }
    answer(room, role, conn_seq, &pc, offer).await
}

/// Applies `offer` to `pc` and returns the answer with the server's candidates, after the
/// candidates `conn_seq` trickled before it.
pub(crate) async fn answer(
    room: &RtcRoom,
    role: Role,
    conn_seq: u64,
    pc: &Arc<RTCPeerConnection>,
    offer: RTCSessionDescription,
) -> Result<String, MediaError> {
    let seat = room.seats.seat(role);
    pc.set_remote_description(offer)
        .await
        .map_err(merr("bad_sdp"))?;
    let answer = pc.create_answer(None).await.map_err(merr("media_error"))?;
    let mut gathered = pc.gathering_complete_promise().await;
    pc.set_local_description(answer)
        .await
        .map_err(merr("media_error"))?;
    // The answer carries the server's candidates (they are trickled as well). Otherwise the
    // server's first connectivity check can reach the client before its candidate does over the
    // socket: the client then knows the server only as a peer-reflexive candidate and waits 1 s
    // (the ICE agent's prflx acceptance delay) before nominating it. The server gathers host
    // candidates only, which takes milliseconds; the bound is a safety net.
    let _ = tokio::time::timeout(GATHER_WAIT, gathered.recv()).await;
    let early: Vec<Candidate> = {
        let mut e = seat.early.lock().unwrap_or_else(|e| e.into_inner());
        std::mem::take(&mut *e)
            .into_iter()
            .filter(|(s, _)| *s == conn_seq)
            .map(|(_, c)| c)
            .collect()
    };
    for c in early {
        if let Err(e) = pc.add_ice_candidate(to_init(c)).await {
            tracing::debug!(error = %e, "early candidate refused");
        }
    }
    let local = pc
        .local_description()
        .await
        .ok_or_else(|| MediaError::new("media_error", "no local description"))?;
    Ok(local.sdp)
}

pub(crate) async fn candidate(
    room: &RtcRoom,
    role: Role,
    conn_seq: u64,
    c: Candidate,
) -> Result<(), MediaError> {
    if c.candidate.is_empty() {
        return Ok(()); // end of candidates
    }
    let pc = {
        let peers = room.peers.lock().await;
        peers
            .get(&role)
            .filter(|p| p.conn.load(Ordering::Acquire) == conn_seq)
            .map(|p| p.pc.clone())
    };
    match pc {
        Some(pc) if pc.remote_description().await.is_some() => pc
            .add_ice_candidate(to_init(c))
            .await
            .map_err(merr("bad_candidate")),
        _ => {
            let seat = room.seats.seat(role);
            let mut e = seat.early.lock().unwrap_or_else(|e| e.into_inner());
            if e.len() < 64 {
                e.push((conn_seq, c));
            }
            Ok(())
        }
    }
}

/// A new peer connection for `role`, carrying the media of `senders` (a link each).
async fn new_pc(
    room: &RtcRoom,
    role: Role,
    senders: &[Role],
    participant_id: &str,
    conn: Arc<AtomicU64>,
) -> Result<Arc<RTCPeerConnection>, MediaError> {
    let shared = &room.shared;
    let pc = shared.new_peer().await?;
    // the other seats' media, sent to this participant: audio and video of each sender in turn
    let tracks = senders.iter().flat_map(|s| {
        let link = room.seats.link(role, *s);
        [
            (link.audio.clone(), *s, false),
            (link.video.clone(), *s, true),
        ]
    });
    for (track, source, video) in tracks.collect::<Vec<_>>() {
        let t: Arc<dyn TrackLocal + Send + Sync> = track;
        let sender = match pc.add_track(t).await {
            Ok(s) => s,
            Err(e) => {
                let _ = pc.close().await;
                shared.live_peers.fetch_sub(1, Ordering::Relaxed);
                metrics::gauge!("media_peers").decrement(1.0);
                return Err(MediaError::new("media_error", e.to_string()));
            }
        };
        tokio::spawn(read_sender_rtcp(
            sender,
            video.then(|| (room.me.clone(), role, source)),
        ));
    }

    let me = room.me.clone();
    let mine = conn.clone();
    pc.on_ice_candidate(Box::new(move |c: Option<RTCIceCandidate>| {
        let me = me.clone();
        let conn_seq = mine.load(Ordering::Acquire);
        Box::pin(async move {
            let (Some(c), Some(room)) = (c, me.upgrade()) else {
                return;
            };
            if room.seats.seat(role).current_conn.load(Ordering::Acquire) != conn_seq {
                return;
            }
            if let Ok(init) = c.to_json() {
                let cand = Candidate {
                    candidate: init.candidate,
                    sdp_mid: None,
                    sdp_mline_index: Some(0),
                    username_fragment: None,
                };
                (room.events)(role, MediaEvent::LocalCandidate(cand));
            }
        })
    }));

    let me = room.me.clone();
    let sources: Arc<[Role]> = senders.into();
    let mine = conn.clone();
    pc.on_peer_connection_state_change(Box::new(move |s: RTCPeerConnectionState| {
        let me = me.clone();
        let sources = sources.clone();
        let conn_seq = conn.load(Ordering::Acquire);
        Box::pin(async move {
            let Some(room) = me.upgrade() else { return };
            if s == RTCPeerConnectionState::Connected {
                // this participant can now receive: ask every seat it gets for a keyframe
                for source in sources.iter() {
                    room.request_keyframe(*source).await;
                }
            }
            if room.seats.seat(role).current_conn.load(Ordering::Acquire) == conn_seq {
                (room.events)(role, MediaEvent::State(s.to_string()));
            }
        })
    }));

    let me = room.me.clone();
    let pid = participant_id.to_owned();
    pc.on_track(Box::new(
        move |track: Arc<TrackRemote>, receiver: Arc<RTCRtpReceiver>, _| {
            let me = me.clone();
            let pid = pid.clone();
            let conn = mine.clone();
            Box::pin(async move {
                if let Some(room) = me.upgrade() {
                    let parts = room.clone_parts(role, conn);
                    tokio::spawn(forward(parts, role, pid, track, receiver));
                }
            })
        },
    ));
    Ok(pc)
}
