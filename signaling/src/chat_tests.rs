//! Chat in the call: sealed first, then to every seat; a refused seal reaches only the sender;
//! the per-connection chat budget; bad text refused at parsing.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::chat::{ChatRecorder, ChatRefused, ChatSealed};
use crate::conn_tests::{Client, hub};
use crate::msg::{PeerState, Role, ServerMsg};

/// Seals into a list; refuses text containing "refuse".
#[derive(Default)]
struct Record(Mutex<Vec<(String, Role, String)>>);

#[async_trait]
impl ChatRecorder for Record {
    async fn record(
        &self,
        hearing_id: &str,
        from: Role,
        _: &str,
        text: &str,
    ) -> Result<ChatSealed, ChatRefused> {
        if text.contains("refuse") {
            return Err(ChatRefused {
                code: "chat_closed".into(),
                message: "no".into(),
            });
        }
        let mut l = self.0.lock().unwrap();
        l.push((hearing_id.into(), from, text.into()));
        Ok(ChatSealed {
            seq: Some(l.len() as i64),
            at: "2026-12-04T00:00:00Z".into(),
        })
    }
}

fn chat(text: &str) -> String {
    serde_json::json!({"type": "chat", "text": text}).to_string()
}

#[tokio::test(start_paused = true)]
async fn a_chat_message_is_sealed_then_reaches_every_seat() {
    let (hub, _) = hub();
    let rec = Arc::new(Record::default());
    let (mut c, _) = Client::join(&hub, "citizen").await;
    // No recorder installed yet: refused, nothing relayed.
    c.text(&chat("你好"));
    assert!(matches!(c.msg().await, ServerMsg::Error { code, .. } if code == "chat_unavailable"));
    hub.set_chat_recorder(rec.clone());
    let (mut o, _) = Client::join(&hub, "officer").await;
    assert_eq!(
        c.msg().await,
        ServerMsg::Peer {
            state: PeerState::Joined
        }
    );
    c.text(&chat("我听不清，请打字"));
    let want = ServerMsg::Chat {
        from: Role::Citizen,
        text: "我听不清，请打字".into(),
        seq: Some(1),
        at: "2026-12-04T00:00:00Z".into(),
    };
    assert_eq!(o.msg().await, want);
    assert_eq!(c.msg().await, want, "the sender's acknowledgement");
    assert_eq!(
        rec.0.lock().unwrap()[0],
        ("h1".into(), Role::Citizen, "我听不清，请打字".into())
    );
    // A refused seal: the sender gets the reason, the other seat nothing.
    o.text(&chat("please refuse this"));
    assert!(matches!(o.msg().await, ServerMsg::Error { code, .. } if code == "chat_closed"));
    o.text(r#"{"type":"ping"}"#);
    assert_eq!(o.msg().await, ServerMsg::Pong);
    c.text(r#"{"type":"ping"}"#);
    assert_eq!(
        c.msg().await,
        ServerMsg::Pong,
        "nothing relayed before the pong"
    );
    assert_eq!(rec.0.lock().unwrap().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn chat_is_limited_in_rate_and_size() {
    let (hub, _) = hub();
    let rec = Arc::new(Record::default());
    hub.set_chat_recorder(rec.clone());
    let (mut c, _) = Client::join(&hub, "citizen").await;
    for i in 0..5 {
        c.text(&chat(&format!("m{i}")));
        assert!(matches!(c.msg().await, ServerMsg::Chat { .. }));
    }
    c.text(&chat("one too many"));
    assert!(matches!(c.msg().await, ServerMsg::Error { code, .. } if code == "chat_rate_limited"));
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    c.text(&chat("after a second"));
    assert!(matches!(c.msg().await, ServerMsg::Chat { .. }));
    for (bad, code) in [
        (chat(&"字".repeat(501)), "field_too_long"),
        (chat("   "), "bad_frame"),
        (chat("a\u{0007}b"), "bad_frame"),
        (
            r#"{"type":"chat","text":"x","from":"officer"}"#.to_string(),
            "bad_frame",
        ),
    ] {
        c.text(&bad);
        assert!(
            matches!(c.msg().await, ServerMsg::Error { code: got, .. } if got == code),
            "{bad}"
        );
    }
    assert_eq!(rec.0.lock().unwrap().len(), 6);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    c.text(&chat(&"字".repeat(500)));
    assert!(matches!(c.msg().await, ServerMsg::Chat { .. }));
}
