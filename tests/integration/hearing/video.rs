//! Audio-only (issue 14 §2) on the real server: the join grants carry the weak-link rule from
//! `[call]`; a seat's `media {video:false, reason}` is a `video_off` entry of the hearing's record
//! (with its audit seq) before the other party is told, and `video_on` likewise; a repeated state
//! is not sealed again.

use futures::SinkExt;
use serde_json::{Value, json};

use super::signalling::{Ws, both_in_call, signalling_world, ws_recv};
use super::world_with;

async fn send(ws: &mut Ws, v: Value) {
    ws.send(tokio_tungstenite::tungstenite::Message::Text(
        v.to_string().into(),
    ))
    .await
    .unwrap();
}

async fn next_media(ws: &mut Ws) -> Value {
    loop {
        let m = ws_recv(ws).await;
        if m["type"] == "media" {
            return m;
        }
    }
}

#[tokio::test]
async fn audio_only_is_in_the_record_and_reaches_the_other_party() {
    let w = world_with(|c| {
        c.hearing.presence_poll_ms = 50;
        c.call.media_enabled = false;
        c.call.audio_only_kbps = 120;
        c.call.audio_only_after_s = 4;
    })
    .await;
    let (id, mut c, mut o, grants) = both_in_call(&w).await;
    for g in &grants {
        assert_eq!(
            g["audio_only"],
            json!({"kbps": 120, "after_s": 4, "back_after_s": 10})
        );
    }
    send(
        &mut c,
        json!({"type": "media", "video": false, "reason": "no_camera"}),
    )
    .await;
    let mut seqs = vec![];
    for ws in [&mut o, &mut c] {
        let m = next_media(ws).await;
        assert_eq!(
            (&m["role"], &m["video"], &m["reason"]),
            (&json!("citizen"), &json!(false), &json!("no_camera"))
        );
        seqs.push(m["seq"].as_i64().expect("sealed: an audit seq"));
    }
    assert_eq!(seqs[0], seqs[1]);
    // The same again: the sender's acknowledgement only, no new entry.
    send(
        &mut c,
        json!({"type": "media", "video": false, "reason": "no_camera"}),
    )
    .await;
    assert!(next_media(&mut c).await["seq"].is_null());
    send(
        &mut o,
        json!({"type": "media", "video": false, "reason": "by_hand"}),
    )
    .await;
    assert_eq!(next_media(&mut c).await["reason"], "by_hand");
    send(
        &mut o,
        json!({"type": "media", "video": true, "reason": "by_hand"}),
    )
    .await;
    assert_eq!(next_media(&mut c).await["video"], true);
    // A camera that does not exist cannot come on.
    send(
        &mut c,
        json!({"type": "media", "video": true, "reason": "no_camera"}),
    )
    .await;
    let e = loop {
        let m = ws_recv(&mut c).await;
        if m["type"] == "error" {
            break m;
        }
    };
    assert_eq!(e["code"], "bad_frame");
    let rows: Vec<(String, String, Option<i64>, String)> = sqlx::query_as(
        "SELECT step, payload, audit_seq, by_role FROM hearing_steps WHERE hearing_id = $1 AND step IN ('video_off', 'video_on') ORDER BY audit_seq",
    )
    .bind(&id)
    .fetch_all(&w.app.state.db.read)
    .await
    .unwrap();
    let got: Vec<(String, String, String)> = rows
        .iter()
        .map(|(step, p, _, by)| {
            let p: Value = serde_json::from_str(p).unwrap();
            (
                step.clone(),
                p["reason"].as_str().unwrap().to_owned(),
                by.clone(),
            )
        })
        .collect();
    let want = [
        ("video_off", "no_camera", "citizen"),
        ("video_off", "by_hand", "officer"),
        ("video_on", "by_hand", "officer"),
    ];
    assert_eq!(
        got,
        want.map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()))
    );
    assert_eq!(rows[0].2, Some(seqs[0]));
}

/// A citizen whose phone sends no video cannot show the ID card: the officer refers the case
/// to the window without a still, and the record says why (the reason from the call's own
/// `video_off` entry). The same claim while the citizen's video is on is refused.
#[tokio::test]
async fn no_still_only_when_the_record_shows_the_citizens_video_off() {
    let w = signalling_world().await;
    let (id, mut c, mut o, _) = both_in_call(&w).await;
    let body = json!({"step": "identity", "id_number_matches": false, "face_matches": false,
        "remarks": "当事人手机无摄像头，无法核验证件", "no_still": "citizen_video_off"});
    let r = w.step(&id, &w.officer, body.clone()).await;
    assert_eq!(r.status(), 409);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "citizen_video_on", "{e}");
    send(
        &mut c,
        json!({"type": "media", "video": false, "reason": "no_camera"}),
    )
    .await;
    next_media(&mut o).await;
    let v = w.ok_step(&id, body).await;
    assert_eq!(v["status"], "referred", "{v}");
    let (payload,): (String,) = sqlx::query_as(
        "SELECT payload FROM hearing_steps WHERE hearing_id = $1 AND step = 'identity'",
    )
    .bind(&id)
    .fetch_one(&w.app.state.db.read)
    .await
    .unwrap();
    let p: Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(p["no_still"], "citizen_video_off");
    assert_eq!(p["citizen_video_off"], "no_camera");
    assert!(p.get("still_sha256").is_none(), "{p}");
    assert!(p["id_number_masked"].is_string(), "{p}");
}
