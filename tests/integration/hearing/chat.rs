//! Text in the call (issue 14 §4) on the real server: a message sent over the signalling socket
//! is a `chat` entry of the hearing's record (with its audit seq) before both parties see it.

use futures::SinkExt;
use serde_json::{Value, json};

use super::signalling::{both_in_call, signalling_world, ws_recv};

#[tokio::test]
async fn a_chat_message_is_in_the_record_and_reaches_both_parties() {
    let w = signalling_world().await;
    let (id, mut c, mut o, _) = both_in_call(&w).await;
    let text = "我听不见声音，请打字说明。";
    let frame = json!({"type": "chat", "text": text}).to_string();
    c.send(tokio_tungstenite::tungstenite::Message::Text(frame.into()))
        .await
        .unwrap();
    let mut seen = vec![];
    for ws in [&mut o, &mut c] {
        let m = loop {
            let m = ws_recv(ws).await;
            if m["type"] == "chat" {
                break m;
            }
        };
        assert_eq!(m["from"], "citizen");
        assert_eq!(m["text"], text);
        seen.push(m["seq"].as_i64().expect("sealed: an audit seq"));
    }
    assert_eq!(seen[0], seen[1]);
    let (payload, seq, by): (String, Option<i64>, String) = sqlx::query_as(
        "SELECT payload, audit_seq, by_role FROM hearing_steps WHERE hearing_id = $1 AND step = 'chat'",
    )
    .bind(&id)
    .fetch_one(&w.app.state.db.read)
    .await
    .unwrap();
    let payload: Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(payload["text"], text);
    assert_eq!(payload["both_connected"], true);
    assert_eq!(seq, Some(seen[0]));
    assert_eq!(by, "citizen");
}
