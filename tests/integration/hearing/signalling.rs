//! Over the call's signalling socket (two test clients): steps pushed to both, an interrupted
//! call resumed; the socket helpers `scale` uses too.

use std::time::Duration;

use serde_json::{Value, json};

use super::{STEPS, World, body_of, world_with};
use crate::helpers::{TestApp, expect_error};

pub(crate) type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub(crate) async fn ws_join(app: &TestApp, grant: &Value) -> Ws {
    use futures::SinkExt;
    let path = grant["ws_url"].as_str().unwrap();
    let url = if path.starts_with("ws") {
        path.to_string()
    } else {
        format!("ws://{}{path}", app.addr)
    };
    let (mut ws, _) = tokio::time::timeout(
        Duration::from_secs(10),
        tokio_tungstenite::connect_async(url),
    )
    .await
    .unwrap()
    .unwrap();
    let join = json!({"type": "join", "token": grant["join_token"]}).to_string();
    ws.send(tokio_tungstenite::tungstenite::Message::Text(join.into()))
        .await
        .unwrap();
    let j = ws_recv(&mut ws).await;
    assert_eq!(j["type"], "joined", "{j}");
    ws
}

pub(crate) async fn ws_recv(ws: &mut Ws) -> Value {
    use futures::StreamExt;
    loop {
        let m = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("frame in time")
            .expect("open")
            .expect("ok");
        match m {
            tokio_tungstenite::tungstenite::Message::Text(t) => {
                return serde_json::from_str(t.as_str()).unwrap();
            }
            tokio_tungstenite::tungstenite::Message::Close(c) => panic!("closed: {c:?}"),
            _ => continue,
        }
    }
}

/// The next `hearing` frame of a step (skipping peer frames and status-only frames).
pub(crate) async fn hearing_frame(ws: &mut Ws) -> Value {
    loop {
        let v = ws_recv(ws).await;
        if v["type"] == "hearing" && !v["step"].is_null() {
            return v;
        }
    }
}

async fn leave(ws: &mut Ws) {
    use futures::SinkExt;
    ws.send(tokio_tungstenite::tungstenite::Message::Text(
        json!({"type": "leave"}).to_string().into(),
    ))
    .await
    .unwrap();
}

/// Opens the hearing, joins the citizen (SMS code) and the officer over signalling and waits
/// until the hearing is in the call: (hearing id, citizen socket, officer socket, their join
/// grants to rejoin with).
pub(crate) async fn both_in_call(w: &World) -> (String, Ws, Ws, [Value; 2]) {
    let id = w.open().await["id"].as_str().unwrap().to_string();
    let cg: Value = w.join_with_sms_code(&id).await.json().await.unwrap();
    let og: Value = w
        .app
        .post_json(
            &format!("/api/v1/hearings/{id}/join-token"),
            Some(&w.officer),
            json!({}),
        )
        .await;
    let c = ws_join(&w.app, &cg).await;
    let o = ws_join(&w.app, &og).await;
    wait_status(w, &id, "in_call").await;
    (id, c, o, [cg, og])
}

/// A hearing world for signalling alone: no media engine, presence polled every 50 ms.
pub(crate) async fn signalling_world() -> World {
    world_with(|c| {
        c.hearing.presence_poll_ms = 50;
        c.call.media_enabled = false;
    })
    .await
}

pub(crate) async fn wait_status(w: &World, id: &str, status: &str) -> Value {
    for _ in 0..100 {
        let v: Value = w
            .app
            .get_json(&format!("/api/v1/hearings/{id}"), Some(&w.officer))
            .await;
        if v["status"] == status {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("hearing never became {status}");
}

#[tokio::test]
async fn over_signalling_steps_are_pushed_and_an_interrupted_call_resumes() {
    let w = signalling_world().await;
    let (id, mut c, mut o, [cg, og]) = both_in_call(&w).await;
    for s in ["identity", "inquiry", "transcript_ack", "notice"] {
        let v = w.ok_step(&id, body_of(s)).await;
        assert_eq!(
            v["steps"].as_array().unwrap().last().unwrap()["both_connected"],
            true
        );
        for ws in [&mut c, &mut o] {
            let f = hearing_frame(ws).await;
            assert_eq!(f["step"], s, "{f}");
        }
    }
    // Both leave mid-procedure: interrupted; steps refused until the officer resumes.
    leave(&mut c).await;
    leave(&mut o).await;
    wait_status(&w, &id, "interrupted").await;
    expect_error(
        w.step(&id, &w.citizen, body_of("notice_ack")).await,
        409,
        "invalid_state",
    )
    .await;
    let r = w
        .app
        .post(
            &format!("/api/v1/hearings/{id}/resume"),
            Some(&w.officer),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    // Both rejoin with their tokens; the procedure goes on to the end.
    let mut c = ws_join(&w.app, &cg).await;
    let mut o = ws_join(&w.app, &og).await;
    wait_status(&w, &id, "in_call").await;
    for s in &STEPS[4..] {
        w.ok_step(&id, body_of(s)).await;
        let f = hearing_frame(&mut c).await;
        assert_eq!(f["step"], *s);
    }
    let f = hearing_frame(&mut o).await;
    let _ = f;
    let v = wait_status(&w, &id, "completed").await;
    let names: Vec<&str> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["step"].as_str().unwrap())
        .filter(|s| *s != "call_gap")
        .collect();
    // Both left: each one's absence until the call ended is a sealed gap.
    let gaps = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["step"] == "call_gap")
        .count();
    assert_eq!(gaps, 2, "{v}");
    assert_eq!(
        &names[..5],
        [
            "opened",
            "call_started",
            "interrupted",
            "resumed",
            "call_started"
        ]
    );
}

/// Makes the database refuse (`on`) or take again every `call_gap` entry: a real error from the
/// store, as a full disk or a lost connection would give.
async fn refuse_gaps(app: &TestApp, on: bool) {
    use remote_hearing::store::Backend;
    let db = &app.state.db.write;
    let statements: &[&str] = match (app.state.db.backend, on) {
        (Backend::Sqlite, true) => &["CREATE TRIGGER refuse_gap BEFORE INSERT ON hearing_steps \
             WHEN NEW.step = 'call_gap' BEGIN SELECT RAISE(ABORT, 'injected gap failure'); END"],
        (Backend::Sqlite, false) => &["DROP TRIGGER refuse_gap"],
        (Backend::Postgres, true) => &[
            "CREATE FUNCTION refuse_gap() RETURNS trigger AS $$ BEGIN \
             IF NEW.step = 'call_gap' THEN RAISE EXCEPTION 'injected gap failure'; END IF; \
             RETURN NEW; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_gap BEFORE INSERT ON hearing_steps FOR EACH ROW \
             EXECUTE FUNCTION refuse_gap()",
        ],
        (Backend::Postgres, false) => &["DROP TRIGGER refuse_gap ON hearing_steps"],
    };
    for sql in statements {
        sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(db)
            .await
            .unwrap();
    }
}

async fn gap_count(w: &World, id: &str) -> usize {
    let v: Value = w
        .app
        .get_json(&format!("/api/v1/hearings/{id}"), Some(&w.officer))
        .await;
    v["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["step"] == "call_gap")
        .count()
}

#[tokio::test]
async fn a_gap_that_fails_to_seal_is_sealed_once_the_database_takes_it() {
    let w = signalling_world().await;
    let (id, mut c, _o, [cg, _]) = both_in_call(&w).await;
    refuse_gaps(&w.app, true).await;
    // The citizen leaves and comes back: a finished gap, which the database refuses for a while.
    leave(&mut c).await;
    drop(c);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _c = ws_join(&w.app, &cg).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(gap_count(&w, &id).await, 0, "the refused gap is not sealed");
    refuse_gaps(&w.app, false).await;
    for _ in 0..100 {
        if gap_count(&w, &id).await == 1 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the gap refused by the database was lost");
}
