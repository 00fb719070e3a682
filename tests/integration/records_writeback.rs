//! Decisions written back to the system of record through the outbox (issue 16): the row is
//! queued in the decision's transaction, sent after the commit, retried while the platform is
//! down, shown to the officer and the auditor; a server that dies between sending and marking
//! re-sends with the same decision number and the platform (the fake, deduping by it) holds the
//! decision once; a rejection is shown with its reason and never sent again.

use std::time::Duration;

use remote_hearing::{
    clock::Clock,
    hearing::sealer::HearingSealer,
    identity::Role,
    records::{RecordsAdapter, http::HttpRecords, model::Decision, outbox},
};
use serde_json::{Value, json};

use crate::{
    hearing::{STEPS, World, body_of, world_with},
    helpers::TestApp,
    records::{Fake, SECRET, config, start_fake},
};

/// Driver B's one violation in the seed.
pub(crate) const REC: &str = "3701031000200001";

/// A hearing world whose booking was made from the record (REC), talking to `fake`.
pub(crate) async fn records_world(fake: &Fake) -> World {
    let url = fake.url.clone();
    let w = world_with(move |c| c.records = config(&url, SECRET, 300, 1)).await;
    sqlx::query(
        "UPDATE bookings SET facts_source = 'records', plate = '鲁AD67890', violations = $1 \
         WHERE id = $2",
    )
    .bind(json!([{"record_no": REC, "fine_yuan": 100, "points": 3}]).to_string())
    .bind(&w.booking)
    .execute(&w.app.state.db.write)
    .await
    .unwrap();
    // The booking holds its record, as a booking made from the record does.
    sqlx::query("INSERT INTO record_claims (record_no, booking_id, claimed_at) VALUES ($1, $2, 0)")
        .bind(REC)
        .bind(&w.booking)
        .execute(&w.app.state.db.write)
        .await
        .unwrap();
    // The party is driver B, whose record it is (the notice fetches its photos by it).
    crate::records::give_identity(&w.app, &w.citizen, crate::records::B).await;
    w
}

/// Opens the hearing, joins and takes every step up to and including `service` (the platform
/// failing twice just before it when `down` is given).
async fn decide(w: &World, down: Option<&Fake>) -> String {
    let h = w.open().await;
    let id = h["id"].as_str().unwrap().to_string();
    assert_eq!(w.join_with_sms_code(&id).await.status(), 200, "join");
    for s in STEPS.iter().take_while(|s| **s != "receipt") {
        let mut b = body_of(s);
        if *s == "notice" {
            b["records"][0]["record_no"] = json!(REC);
            b["proposed_fine_yuan"] = json!(100);
            b["proposed_points"] = json!(3);
        }
        if *s == "ruling" {
            b["fine_yuan"] = json!(100);
            b["points"] = json!(3);
        }
        if let (true, Some(fake)) = (*s == "service", down) {
            fake.fault("status:503", 2).await;
        }
        w.ok_step(&id, b).await;
    }
    id
}

/// The hearing area's sealer of write-back outcomes, as the server wires it.
pub(crate) fn sealer(app: &TestApp) -> HearingSealer {
    HearingSealer(app.state.hearing.clone())
}

async fn write_back(app: &TestApp, token: &str, hearing: &str) -> Value {
    let v: Value = app
        .get_json(&format!("/api/v1/hearings/{hearing}"), Some(token))
        .await;
    v["decision"]["write_back"].clone()
}

/// Waits (up to 10 s) until the hearing's write-back satisfies `done`.
async fn wait_for(app: &TestApp, token: &str, hearing: &str, done: impl Fn(&Value) -> bool) {
    for _ in 0..200 {
        if done(&write_back(app, token, hearing).await) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "write-back never reached the state: {}",
        write_back(app, token, hearing).await
    );
}

#[tokio::test]
async fn a_decision_is_written_back_once_even_when_the_server_dies_between_sending_and_marking() {
    let fake = start_fake().await;
    let mut w = records_world(&fake).await;
    // The platform is down when the decision is issued: the write-back waits, pending.
    let id = decide(&w, Some(&fake)).await;
    let officer = w.officer.clone();
    wait_for(&w.app, &officer, &id, |b| b["last_error"].is_string()).await;
    let b = write_back(&w.app, &officer, &id).await;
    assert_eq!(b["status"], "pending", "{b}");
    assert!(fake.decisions().await.is_empty());
    let v: Value = w
        .app
        .get_json(&format!("/api/v1/hearings/{id}"), Some(&officer))
        .await;
    assert_eq!(v["facts_source"], "records");
    assert_eq!(v["decision"]["facts_source"], "records");
    let decision_no = v["decision"]["decision_no"].as_str().unwrap().to_string();

    // Retried after the backoff: accepted, and the officer and the auditor see it.
    w.app.clock.advance(chrono::Duration::seconds(3));
    outbox::drain_once(&w.app.state.records, &sealer(&w.app))
        .await
        .unwrap();
    wait_for(&w.app, &officer, &id, |b| b["status"] == "accepted").await;
    w.app.create_staff(Role::Auditor, "AUD-WB", None).await;
    let auditor = w.app.login_staff("AUD-WB").await;
    let b = write_back(&w.app, &auditor, &id).await;
    assert_eq!(
        (b["status"].as_str(), b["attempts"].as_i64()),
        (Some("accepted"), Some(2))
    );
    let held = fake.decisions().await;
    assert_eq!(held.len(), 1);
    assert_eq!(held[0]["decision_no"], decision_no.as_str());
    assert_eq!(held[0]["record_nos"], json!([REC]));
    assert_eq!(held[0]["fine_yuan"], 100);

    // A process sent it and died before marking: the row is claimed and pending again.
    let now = w.app.clock.now_ms();
    sqlx::query(
        "UPDATE records_outbox SET status = 'pending', lease_until = $1, attempts = 3 \
         WHERE decision_no = $2",
    )
    .bind(now + outbox::LEASE_MS)
    .bind(&decision_no)
    .execute(&w.app.state.db.write)
    .await
    .unwrap();
    w.app.shutdown().await;
    // The lease runs out; the restarted server sends it again with the same decision number.
    w.app
        .clock
        .advance(chrono::Duration::milliseconds(outbox::LEASE_MS + 1));
    let url = fake.url.clone();
    let again = TestApp::builder()
        .peer_of(&w.app)
        .config(move |c| c.records = config(&url, SECRET, 300, 1))
        .spawn()
        .await;
    wait_for(&again, &officer, &id, |b| {
        b["status"] == "accepted" && b["attempts"] == 4
    })
    .await;
    assert_eq!(fake.decisions().await.len(), 1, "written twice");
}

#[tokio::test]
async fn a_rejected_write_back_shows_the_reason_and_is_never_sent_again() {
    let fake = start_fake().await;
    // Another decision already handled the record at the platform.
    let direct = HttpRecords::new(&config(&fake.url, SECRET, 2_000, 0), "fake").unwrap();
    let earlier = Decision {
        decision_no: "鲁公交决字〔2026〕第009999号".into(),
        record_nos: vec![REC.into()],
        fine_yuan: 100,
        points: 3,
        officer: "370001".into(),
        decided_at: chrono::DateTime::parse_from_rfc3339("2026-11-15T10:00:00+08:00").unwrap(),
    };
    direct.write_back(&earlier).await.unwrap();
    let w = records_world(&fake).await;
    let id = decide(&w, None).await;
    wait_for(&w.app, &w.officer, &id, |b| b["status"] == "rejected").await;
    let b = write_back(&w.app, &w.officer, &id).await;
    assert!(
        b["reason"].as_str().unwrap().contains("already handled"),
        "{b}"
    );
    assert_eq!(b["attempts"], 1);
    let (_, entries) = sealed(&w.app, &id, "write_back").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["payload"]["answer"], "rejected");
    assert!(
        entries[0]["payload"]["reason"]
            .as_str()
            .unwrap()
            .contains("already handled")
    );
    // Time passes and the worker runs: a rejection is final.
    w.app.clock.advance(chrono::Duration::minutes(30));
    assert_eq!(
        outbox::drain_once(&w.app.state.records, &sealer(&w.app))
            .await
            .unwrap(),
        0
    );
    assert_eq!(write_back(&w.app, &w.officer, &id).await["attempts"], 1);
    assert_eq!(fake.decisions().await.len(), 1);
}

/// The hearing's audit entries named `step`, from the bundle the auditor downloads.
async fn sealed(app: &TestApp, hearing: &str, step: &str) -> (Value, Vec<Value>) {
    let b = app
        .state
        .audit
        .bundle(&app.state.db, hearing, None, app.clock.now_ms())
        .await
        .unwrap();
    let b = serde_json::to_value(b).unwrap();
    let found = b["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["step"] == step)
        .cloned()
        .collect();
    (b, found)
}

#[tokio::test]
async fn the_platforms_answer_is_sealed_in_the_hearings_chain_and_verifies() {
    let fake = start_fake().await;
    let w = records_world(&fake).await;
    let id = decide(&w, None).await;
    wait_for(&w.app, &w.officer, &id, |b| b["status"] == "accepted").await;
    let v: Value = w
        .app
        .get_json(&format!("/api/v1/hearings/{id}"), Some(&w.officer))
        .await;
    let decision_no = v["decision"]["decision_no"].as_str().unwrap();
    let events: Vec<&str> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["step"].as_str())
        .collect();
    assert!(events.contains(&"write_back"), "{events:?}");
    let (bundle, entries) = sealed(&w.app, &id, "write_back").await;
    assert_eq!(entries.len(), 1, "sealed once");
    let p = &entries[0]["payload"];
    assert_eq!(p["decision_no"], decision_no);
    assert_eq!(p["records"], json!([REC]));
    assert_eq!(p["answer"], "accepted");
    assert_eq!(p["attempts"], 1);
    assert!(p.get("reason").is_none(), "{p}");
    assert!(p["at"].as_str().unwrap().ends_with('Z'), "{p}");
    // Another drain changes nothing: the outcome is sealed once.
    w.app.clock.advance(chrono::Duration::minutes(5));
    assert_eq!(
        outbox::drain_once(&w.app.state.records, &sealer(&w.app))
            .await
            .unwrap(),
        0
    );
    assert_eq!(sealed(&w.app, &id, "write_back").await.1.len(), 1);
    // `audit verify` of the bundle, with the log's key pinned, still passes.
    let path = w.app.data_dir.path().join("write-back-bundle.json");
    std::fs::write(&path, bundle.to_string()).unwrap();
    let key = w.app.state.audit.signer.verifier().to_string();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_remote-hearing"))
        .args(["audit", "verify"])
        .arg(&path)
        .args(["--key", &key, "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn a_decision_on_typed_facts_says_citizen_and_queues_nothing() {
    let w = world_with(|_| {}).await;
    let h = w.open().await;
    let id = h["id"].as_str().unwrap().to_string();
    assert_eq!(w.join_with_sms_code(&id).await.status(), 200);
    for s in STEPS.iter().take_while(|s| **s != "receipt") {
        w.ok_step(&id, body_of(s)).await;
    }
    let v: Value = w
        .app
        .get_json(&format!("/api/v1/hearings/{id}"), Some(&w.officer))
        .await;
    assert_eq!(v["facts_source"], "citizen");
    assert_eq!(v["decision"]["facts_source"], "citizen");
    assert!(v["decision"]["write_back"].is_null());
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM records_outbox")
        .fetch_one(&w.app.state.db.read)
        .await
        .unwrap();
    assert_eq!(n, 0);
}
