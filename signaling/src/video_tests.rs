//! Audio-only announcements: sealed, relayed to the other seats with the sender's
//! acknowledgement, kept for a seat that joins later, unchanged states not sealed again,
//! strict parsing and the per-connection budget.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::chat::ChatRefused;
use crate::conn_tests::{Client, hub};
use crate::msg::{PeerState, Role, ServerMsg};
use crate::video::{VideoReason, VideoRecorder, VideoState};

#[derive(Default)]
struct Record(Mutex<Vec<(Role, VideoState)>>);

#[async_trait]
impl VideoRecorder for Record {
    async fn record(
        &self,
        _: &str,
        from: Role,
        _: &str,
        state: VideoState,
    ) -> Result<Option<i64>, ChatRefused> {
        let mut l = self.0.lock().unwrap();
        l.push((from, state));
        Ok(Some(l.len() as i64))
    }
}

fn media(video: bool, reason: &str) -> String {
    serde_json::json!({"type": "media", "video": video, "reason": reason}).to_string()
}

fn frame(role: Role, video: bool, reason: VideoReason, seq: Option<i64>) -> ServerMsg {
    ServerMsg::Media {
        role,
        video,
        reason,
        seq,
    }
}

#[tokio::test(start_paused = true)]
async fn audio_only_is_sealed_relayed_and_told_to_a_later_seat() {
    let (hub, _) = hub();
    let rec = Arc::new(Record::default());
    hub.set_video_recorder(rec.clone());
    let (mut c, _) = Client::join(&hub, "citizen").await;
    c.text(&media(false, "no_camera"));
    let off = frame(Role::Citizen, false, VideoReason::NoCamera, Some(1));
    assert_eq!(c.msg().await, off, "the sender's acknowledgement");
    // The officer joins later and is told at once, behind `joined`.
    let (mut o, joined) = Client::join(&hub, "officer").await;
    assert!(matches!(joined, ServerMsg::Joined { .. }));
    assert_eq!(
        o.msg().await,
        frame(Role::Citizen, false, VideoReason::NoCamera, None)
    );
    assert_eq!(
        c.msg().await,
        ServerMsg::Peer {
            state: PeerState::Joined
        }
    );
    // The same state again (e.g. after a reconnect): acknowledged, not sealed, not relayed.
    c.text(&media(false, "no_camera"));
    assert_eq!(
        c.msg().await,
        frame(Role::Citizen, false, VideoReason::NoCamera, None)
    );
    // The officer turns video off and on by hand: both sealed, both relayed.
    o.text(&media(false, "by_hand"));
    let o_off = frame(Role::Officer, false, VideoReason::ByHand, Some(2));
    assert_eq!(c.msg().await, o_off);
    assert_eq!(o.msg().await, o_off);
    o.text(&media(true, "by_hand"));
    let o_on = frame(Role::Officer, true, VideoReason::ByHand, Some(3));
    assert_eq!(c.msg().await, o_on);
    assert_eq!(o.msg().await, o_on);
    o.text(r#"{"type":"ping"}"#);
    assert_eq!(o.msg().await, ServerMsg::Pong);
    assert_eq!(rec.0.lock().unwrap().len(), 3);
    assert_eq!(
        hub.video_state("h1", Role::Citizen),
        Some(VideoState {
            video: false,
            reason: VideoReason::NoCamera
        })
    );
}

#[tokio::test(start_paused = true)]
async fn media_frames_are_strict_and_limited() {
    let (hub, _) = hub();
    let (mut c, _) = Client::join(&hub, "citizen").await;
    for bad in [
        r#"{"type":"media","video":false}"#.to_string(),
        r#"{"type":"media","video":false,"reason":"bored"}"#.to_string(),
        r#"{"type":"media","video":"no","reason":"by_hand"}"#.to_string(),
        r#"{"type":"media","video":false,"reason":"by_hand","role":"officer"}"#.to_string(),
        media(true, "no_camera"),
        media(true, "camera_denied"),
    ] {
        c.text(&bad);
        assert!(
            matches!(c.msg().await, ServerMsg::Error { code, .. } if code == "bad_frame"),
            "{bad}"
        );
    }
    // Five changes at once, then one every two seconds.
    for i in 0..5 {
        c.text(&media(i % 2 == 1, "by_hand"));
        assert!(matches!(c.msg().await, ServerMsg::Media { .. }));
    }
    c.text(&media(false, "weak_link"));
    assert!(matches!(c.msg().await, ServerMsg::Error { code, .. } if code == "media_rate_limited"));
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    c.text(&media(false, "weak_link"));
    assert_eq!(
        c.msg().await,
        frame(Role::Citizen, false, VideoReason::WeakLink, None)
    );
}
