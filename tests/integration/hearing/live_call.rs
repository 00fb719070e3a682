//! Art. 47 over a real call (two WebRTC peers through the server, recorded): a step is refused
//! with 409 `call_not_live` while the citizen is away or not recorded, nothing written, and
//! accepted when the call is live; a citizen who drops and comes back leaves a sealed `call_gap`.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use signaling::Role;

use super::{World, body_of, wait_status, world_with, ws_join};
use crate::call::{rtc_client, rtc_over};
use crate::helpers::expect_error;

pub(crate) fn live_config(c: &mut remote_hearing::config::Config) {
    c.hearing.require_live_call = true;
    c.hearing.presence_poll_ms = 50;
    c.call.include_loopback = true;
    c.call.bind_ips = vec!["127.0.0.1".into()];
}

async fn live_world() -> World {
    world_with(live_config).await
}

/// A party on the call with media flowing (for a minute); dropping it drops the connection.
pub(crate) struct OnCall {
    client: rtc_client::Client,
    socket: tokio::task::JoinHandle<()>,
    pump: tokio::task::JoinHandle<()>,
}

impl OnCall {
    pub(crate) async fn join(w: &World, grant: &Value, role: Role) -> OnCall {
        let ws = ws_join(&w.app, grant).await;
        Self::media(ws, role).await
    }
    async fn media(ws: super::Ws, role: Role) -> OnCall {
        let (mut client, socket) = rtc_over(ws, role).await;
        client.wait_connected(Duration::from_secs(15)).await;
        let pump = client.pump(Arc::new(rtc_client::load_media()), Duration::from_secs(60));
        OnCall {
            client,
            socket,
            pump,
        }
    }
    /// The connection dies without `leave` (the server sees a drop, then the grace period).
    pub(crate) async fn drop_connection(self) {
        self.pump.abort();
        self.socket.abort();
        let _ = self.client.pc.close().await;
    }
}

async fn view(w: &World, id: &str) -> Value {
    w.app
        .get_json(&format!("/api/v1/hearings/{id}"), Some(&w.officer))
        .await
}

/// Waits until the hearing's `call.live` is `live`.
pub(crate) async fn wait_live(w: &World, id: &str, live: bool) -> Value {
    for _ in 0..300 {
        let v = view(w, id).await;
        if v["call"]["live"] == live {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the call never became live = {live}: {}", view(w, id).await);
}

/// Waits until exactly `missing` is missing from the call.
async fn wait_missing(w: &World, id: &str, missing: Value) {
    for _ in 0..300 {
        if view(w, id).await["call"]["missing"] == missing {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never missing {missing}: {}", view(w, id).await);
}

pub(crate) async fn officer_grant(w: &World, id: &str) -> Value {
    w.app
        .post_json(
            &format!("/api/v1/hearings/{id}/join-token"),
            Some(&w.officer),
            json!({}),
        )
        .await
}

async fn gap_payloads(w: &World, id: &str) -> Vec<Value> {
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT payload FROM hearing_steps WHERE hearing_id = $1 AND step = 'call_gap' ORDER BY idx",
    )
    .bind(id)
    .fetch_all(&w.app.state.db.read)
    .await
    .unwrap();
    rows.iter()
        .map(|p| serde_json::from_str(p).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_needs_both_parties_connected_and_recorded() {
    let w = live_world().await;
    let id = w.open().await["id"].as_str().unwrap().to_string();
    let officer = OnCall::join(&w, &officer_grant(&w, &id).await, Role::Officer).await;
    let citizen_away = json!([{"party": "citizen", "missing": "connection"}]);
    wait_missing(&w, &id, citizen_away.clone()).await;

    // The citizen is not there: refused, naming the citizen, nothing written.
    let e = expect_error(
        w.step(&id, &w.officer, w.body_for(&id, "identity").await)
            .await,
        409,
        "call_not_live",
    )
    .await;
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("citizen is not connected"),
        "{e}"
    );
    assert_eq!(
        e["error"]["params"]["missing"],
        json!([{"party": "citizen", "missing": "connection"}])
    );
    let v = view(&w, &id).await;
    assert!(v["steps"].as_array().unwrap().is_empty(), "{v}");
    assert_eq!(v["call"]["live"], false);
    assert_eq!(v["call"]["live_call_required"], true);

    // Connected but sending no media: the citizen's recording is not running.
    let cg: Value = w.join_with_sms_code(&id).await.json().await.unwrap();
    let ws = ws_join(&w.app, &cg).await;
    wait_status(&w, &id, "in_call").await;
    wait_missing(
        &w,
        &id,
        json!([{"party": "citizen", "missing": "recording"}]),
    )
    .await;
    let e = expect_error(
        w.step(&id, &w.officer, w.body_for(&id, "identity").await)
            .await,
        409,
        "call_not_live",
    )
    .await;
    assert_eq!(
        e["error"]["params"]["missing"],
        json!([{"party": "citizen", "missing": "recording"}]),
        "{e}"
    );

    // Media flows both ways and is recorded: the step is accepted.
    let citizen = OnCall::media(ws, Role::Citizen).await;
    wait_live(&w, &id, true).await;
    let v = w.ok_step(&id, w.body_for(&id, "identity").await).await;
    assert_eq!(v["steps"][0]["both_connected"], true);
    assert!(gap_payloads(&w, &id).await.is_empty());

    // The citizen drops mid-way: refused while away.
    citizen.drop_connection().await;
    let v = wait_live(&w, &id, false).await;
    assert_eq!(
        v["call"]["missing"],
        json!([{"party": "citizen", "missing": "connection"}])
    );
    let e = expect_error(
        w.step(&id, &w.officer, body_of("inquiry")).await,
        409,
        "call_not_live",
    )
    .await;
    assert!(
        e["error"]["message"].as_str().unwrap().contains("citizen"),
        "{e}"
    );
    assert_eq!(view(&w, &id).await["steps"].as_array().unwrap().len(), 1);

    // Back on the call: the gap is sealed (who, from, to, reason) and the step goes through.
    let citizen = OnCall::join(&w, &cg, Role::Citizen).await;
    wait_live(&w, &id, true).await;
    let mut gaps = vec![];
    for _ in 0..100 {
        gaps = gap_payloads(&w, &id).await;
        if !gaps.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    let g = &gaps[0];
    assert_eq!(g["who"], "citizen");
    assert_eq!(g["reason"], "connection_lost");
    assert_eq!(g["ended"], "returned");
    assert!(g["from"].is_string() && g["to"].is_string(), "{g}");
    let v = w.ok_step(&id, body_of("inquiry")).await;
    assert_eq!(v["steps"].as_array().unwrap().len(), 2);
    let names: Vec<&str> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["step"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"call_gap"), "{names:?}");
    // Sealed into the audit log like every entry.
    let seq = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["step"] == "call_gap")
        .unwrap()["audit_seq"]
        .clone();
    assert!(seq.is_i64(), "{v}");
    for p in [citizen, officer] {
        p.drop_connection().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_process_judges_the_call_from_the_holders_snapshot() {
    let w = live_world().await;
    let b = crate::helpers::TestApp::builder()
        .peer_of(&w.app)
        .config(live_config)
        .spawn()
        .await;
    let id = w.open().await["id"].as_str().unwrap().to_string();
    let cg: Value = w.join_with_sms_code(&id).await.json().await.unwrap();
    // Both on the call held by process A.
    let officer = OnCall::join(&w, &officer_grant(&w, &id).await, Role::Officer).await;
    let citizen = OnCall::join(&w, &cg, Role::Citizen).await;
    wait_live(&w, &id, true).await;
    let path = format!("/api/v1/hearings/{id}/steps");
    let via_b = |body: Value| b.post(&path, Some(&w.officer), body);
    // Process B has no room: it reads A's snapshot (at most a poll old).
    let mut ok = false;
    for _ in 0..100 {
        let r = via_b(w.body_for(&id, "identity").await).await;
        if r.status() == 200 {
            ok = true;
            break;
        }
        expect_error(r, 409, "call_not_live").await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ok, "process B never saw the call live");
    citizen.drop_connection().await;
    // Once B's view (the snapshot) shows the citizen gone, B refuses the step too.
    let mut seen_gone = false;
    for _ in 0..100 {
        let v: Value = b
            .get_json(&format!("/api/v1/hearings/{id}"), Some(&w.officer))
            .await;
        if v["call"]["missing"] == json!([{"party": "citizen", "missing": "connection"}]) {
            seen_gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(seen_gone, "process B never saw the citizen gone");
    let e = expect_error(via_b(body_of("inquiry")).await, 409, "call_not_live").await;
    assert_eq!(
        e["error"]["params"]["missing"][0]["party"], "citizen",
        "{e}"
    );
    officer.drop_connection().await;
}

#[tokio::test]
async fn without_the_requirement_every_entry_says_so() {
    // TestApp's default (tests that are not about the call).
    let w = world_with(|_| {}).await;
    let id = w.open().await["id"].as_str().unwrap().to_string();
    let v = w.ok_step(&id, w.body_for(&id, "identity").await).await;
    assert_eq!(v["call"]["live_call_required"], false);
    let rows: Vec<String> =
        sqlx::query_scalar("SELECT payload FROM hearing_steps WHERE hearing_id = $1")
            .bind(&id)
            .fetch_all(&w.app.state.db.read)
            .await
            .unwrap();
    assert_eq!(rows.len(), 2, "opened and identity");
    for p in rows {
        let p: Value = serde_json::from_str(&p).unwrap();
        assert_eq!(p["live_call_required"], false, "{p}");
    }
}

#[tokio::test]
async fn production_refuses_to_start_without_the_recorded_call() {
    let mut c = remote_hearing::config::Config::defaults().unwrap();
    c.server.mode = remote_hearing::config::Mode::Production;
    c.hearing.require_live_call = false;
    let clock = remote_hearing::clock::MockClock::new(crate::helpers::default_now());
    let e = remote_hearing::build_state(c, clock).await.unwrap_err();
    assert!(format!("{e:#}").contains("require_live_call"), "{e:#}");
}
