//! A three-seat hearing over real WebRTC (issue 19 §2): the citizen, the officer and an admitted
//! sign-language interpreter in one recorded call through the server; the procedure runs to
//! its end with the interpreter on the call; the interpreter's own tracks are in the recordings
//! manifest and the sealed `recordings_sealed` entry of the hearing's bundle, next to its
//! joining and admission; the decision names the interpreter.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use signaling::Role;

use super::live_call::{OnCall, live_config, officer_grant, wait_live};
use super::{STEPS, world_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn citizen_officer_and_a_sign_interpreter_hold_a_recorded_hearing() {
    let w = world_with(live_config).await;
    let id = w.open().await["id"].as_str().unwrap().to_string();
    let officer = OnCall::join(&w, &officer_grant(&w, &id).await, Role::Officer).await;
    let cg: Value = w.join_with_sms_code(&id).await.json().await.unwrap();
    let citizen = OnCall::join(&w, &cg, Role::Citizen).await;
    let phone = format!("136{:08}", super::rand_digits());
    let body = json!({"role": "interpreter", "name": "李手语", "phone": phone, "language": "sign"});
    let (_pid, token) = super::participants::joined(&w, &id, body, true).await;
    let grant: Value = w
        .app
        .post_json(
            "/api/v1/participants/me/join-token",
            Some(&token),
            json!({}),
        )
        .await;
    let interpreter = OnCall::join(&w, &grant, Role::Interpreter).await;
    wait_live(&w, &id, true).await;
    for s in STEPS {
        let b = w.body_for(&id, s).await;
        w.ok_step(&id, b).await;
    }
    // The close ends the call; the recordings job seals the segment.
    let deadline = Instant::now() + Duration::from_secs(30);
    let sealed = loop {
        let v: Value = w
            .app
            .get_json(&format!("/api/v1/hearings/{id}"), Some(&w.officer))
            .await;
        let events = v["events"].as_array().cloned().unwrap_or_default();
        if let Some(e) = events
            .into_iter()
            .find(|e| e["step"] == "recordings_sealed")
        {
            break e;
        }
        assert!(Instant::now() < deadline, "never sealed: {v}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    for p in [citizen, officer, interpreter] {
        p.drop_connection().await;
    }
    w.app
        .create_staff(remote_hearing::identity::Role::Auditor, "AUD-P", None)
        .await;
    let auditor = w.app.login_staff("AUD-P").await;
    // The recordings: the interpreter's captures and WebM, listed in the manifest.
    let list: Value = w
        .app
        .get_json(&format!("/api/v1/hearings/{id}/recordings"), Some(&auditor))
        .await;
    let items = list.as_array().unwrap();
    let of_interpreter: Vec<&Value> = items
        .iter()
        .filter(|i| i["participant"] == "interpreter")
        .collect();
    assert!(
        of_interpreter.len() >= 3,
        "capture(s), copies and WebM: {list}"
    );
    assert!(
        of_interpreter.iter().any(|i| i["format"] == "webm"),
        "{list}"
    );
    let manifest = items.iter().find(|i| i["kind"] == "manifest").unwrap();
    let m: Value = w
        .app
        .get_json(
            &format!("/api/v1/recordings/{}", manifest["id"].as_str().unwrap()),
            Some(&auditor),
        )
        .await;
    assert!(m.to_string().contains("interpreter"), "{m}");
    // The bundle: joining, admission and the sealed recordings with the interpreter's files.
    let mut bundle = Value::Null;
    for _ in 0..200 {
        let r = w
            .app
            .get(
                &format!("/api/v1/audit/hearings/{id}/bundle"),
                Some(&auditor),
            )
            .await;
        if r.status() == 200 {
            bundle = r.json().await.unwrap();
            let has = |s: &str| {
                bundle["entries"]
                    .as_array()
                    .is_some_and(|e| e.iter().any(|e| e["step"] == s))
            };
            if has("recordings_sealed") && has("participant_admitted") {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let entries = bundle["entries"].as_array().expect("entries");
    for s in [
        "participant_added",
        "participant_joined",
        "participant_admitted",
    ] {
        assert!(entries.iter().any(|e| e["step"] == s), "{s}: {bundle}");
    }
    let rec = entries
        .iter()
        .find(|e| e["step"] == "recordings_sealed")
        .unwrap();
    assert!(rec.to_string().contains("interpreter"), "{rec} / {sealed}");
    // The decision names the interpreter.
    let j: Value = w
        .app
        .get_json(
            &format!("/api/v1/hearings/{id}/decision?format=json"),
            Some(&w.citizen),
        )
        .await;
    assert_eq!(j["participants"][0]["name"], "李手语", "{j}");
    assert_eq!(j["participants"][0]["kind"], "sign");
}
