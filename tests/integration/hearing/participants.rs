//! Others in the room (issue 19 §2): the officer adds an interpreter, an agent or a supervisor;
//! each gets their own SMS code, joins, waits, is admitted and leaves, every change sealed; bad
//! input refused with a stable code and nothing written; an agent takes only the citizen's
//! steps its table allows; the decision names everyone admitted, with their role.

use serde_json::{Value, json};

use super::{World, body_of, world};
use crate::helpers::{expect_error, expect_json};

pub(crate) async fn add(w: &World, hearing: &str, token: &str, body: Value) -> reqwest::Response {
    w.app
        .post(
            &format!("/api/v1/hearings/{hearing}/participants"),
            Some(token),
            body,
        )
        .await
}

fn phone() -> String {
    format!("137{:08}", super::rand_digits())
}

async fn rows(w: &World, hearing: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM hearing_participants WHERE hearing_id = $1")
        .bind(hearing)
        .fetch_one(&w.app.state.db.read)
        .await
        .unwrap()
}

async fn events(w: &World, hearing: &str) -> Vec<(String, String, Value)> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT step, by_role, payload FROM hearing_steps WHERE hearing_id = $1 ORDER BY idx",
    )
    .bind(hearing)
    .fetch_all(&w.app.state.db.read)
    .await
    .unwrap();
    rows.into_iter()
        .map(|(s, b, p)| (s, b, serde_json::from_str(&p).unwrap()))
        .collect()
}

/// Adds a participant, sends their code, joins with it and (when `admit`) admits them:
/// (participant id, participant session).
pub(crate) async fn joined(w: &World, hearing: &str, body: Value, admit: bool) -> (String, String) {
    let p: Value = expect_json(add(w, hearing, &w.officer, body.clone()).await, 201).await;
    let pid = p["id"].as_str().unwrap().to_string();
    let base = format!("/api/v1/hearings/{hearing}/participants/{pid}");
    let r = w
        .app
        .post(&format!("{base}/sms-code"), Some(&w.officer), json!({}))
        .await;
    assert_eq!(r.status(), 202);
    let code = w.app.outbox_code(body["phone"].as_str().unwrap()).unwrap();
    let s: Value = expect_json(
        w.app
            .post(&format!("{base}/join"), None, json!({"code": code}))
            .await,
        200,
    )
    .await;
    assert_eq!(s["participant"]["status"], "waiting", "{s}");
    let token = s["token"].as_str().unwrap().to_string();
    if admit {
        let v: Value = expect_json(
            w.app
                .post(&format!("{base}/admit"), Some(&w.officer), json!({}))
                .await,
            200,
        )
        .await;
        assert_eq!(v["status"], "admitted");
    }
    (pid, token)
}

#[tokio::test]
async fn the_officer_adds_participants_sealed_with_the_phone_masked_and_stored_encrypted() {
    let w = world().await;
    let id = w.open().await["id"].as_str().unwrap().to_string();
    let ph = phone();
    let v: Value = expect_json(
        add(
            &w,
            &id,
            &w.officer,
            json!({"role": "interpreter", "name": "李手语", "phone": ph, "language": "sign"}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(
        (
            &v["role"],
            &v["kind"],
            &v["language"],
            &v["name"],
            &v["status"]
        ),
        (
            &json!("interpreter"),
            &json!("sign"),
            &json!("sign"),
            &json!("李手语"),
            &json!("added")
        )
    );
    assert_eq!(v["phone_masked"], format!("{}****{}", &ph[..3], &ph[7..]));
    // listed for the officer, the citizen and auditors
    let list: Value = w
        .app
        .get_json(
            &format!("/api/v1/hearings/{id}/participants"),
            Some(&w.citizen),
        )
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], v["id"]);
    // stored sealed: neither the phone nor the name in clear
    let (name_enc, phone_enc): (String, String) =
        sqlx::query_as("SELECT name_enc, phone_enc FROM hearing_participants WHERE id = $1")
            .bind(v["id"].as_str().unwrap())
            .fetch_one(&w.app.state.db.read)
            .await
            .unwrap();
    assert!(!name_enc.contains("李手语") && !phone_enc.contains(&ph));
    // sealed in the hearing's chain, masked
    let ev = events(&w, &id).await;
    let (_, by, p) = ev.iter().find(|e| e.0 == "participant_added").unwrap();
    assert_eq!(by, "officer");
    assert_eq!(p["phone_masked"], v["phone_masked"]);
    assert_eq!(p["name_masked"], "李**");
    assert!(!p.to_string().contains(&ph), "{p}");
    // an agent (guardian) and a supervisor too
    let g = add(
        &w,
        &id,
        &w.officer,
        json!({"role": "agent", "name": "王监护", "phone": phone(), "kind": "guardian"}),
    )
    .await;
    assert_eq!(expect_json::<Value>(g, 201).await["kind"], "guardian");
    let s = add(
        &w,
        &id,
        &w.officer,
        json!({"role": "supervisor", "name": "赵法制", "phone": phone()}),
    )
    .await;
    assert_eq!(s.status(), 201);
}

#[tokio::test]
async fn bad_participants_are_refused_with_stable_codes_and_nothing_written() {
    let w = world().await;
    let id = w.open().await["id"].as_str().unwrap().to_string();
    let ok = |role: &str| json!({"role": role, "name": "某人", "phone": phone()});
    let cases = [
        (
            json!({"role": "judge", "name": "某人", "phone": phone()}),
            "role_invalid",
            "role",
        ),
        (
            json!({"role": "supervisor", "name": "", "phone": phone()}),
            "name_invalid",
            "name",
        ),
        (
            json!({"role": "supervisor", "name": "名".repeat(51), "phone": phone()}),
            "name_invalid",
            "name",
        ),
        (
            json!({"role": "supervisor", "name": "某人", "phone": "12345"}),
            "phone_invalid",
            "phone",
        ),
        (
            json!({"role": "interpreter", "name": "某人", "phone": phone()}),
            "language_invalid",
            "language",
        ),
        (
            json!({"role": "interpreter", "name": "某人", "phone": phone(), "language": "语".repeat(41)}),
            "language_invalid",
            "language",
        ),
        (
            json!({"role": "agent", "name": "某人", "phone": phone(), "language": "sign"}),
            "language_invalid",
            "language",
        ),
        (
            json!({"role": "agent", "name": "某人", "phone": phone(), "kind": "sign"}),
            "kind_invalid",
            "kind",
        ),
        (
            json!({"role": "supervisor", "name": "某人", "phone": phone(), "kind": "judge"}),
            "kind_invalid",
            "kind",
        ),
    ];
    for (body, code, field) in cases {
        let e = expect_error(add(&w, &id, &w.officer, body.clone()).await, 422, code).await;
        assert_eq!(e["error"]["field"], field, "{body}");
    }
    // 50 characters and 40 are allowed (characters, not bytes)
    let r = add(&w, &id, &w.officer, json!({"role": "interpreter", "name": "名".repeat(50), "phone": phone(), "language": "语".repeat(40)})).await;
    assert_eq!(r.status(), 201);
    // only the hearing's officer: the citizen 403, another brigade's officer 404
    expect_error(
        add(&w, &id, &w.citizen, ok("supervisor")).await,
        403,
        "forbidden",
    )
    .await;
    let (_, _, other) = w.app.login_officer().await;
    expect_error(
        add(&w, &id, &other, ok("supervisor")).await,
        404,
        "not_found",
    )
    .await;
    let r = w
        .app
        .get(&format!("/api/v1/hearings/{id}/participants"), Some(&other))
        .await;
    assert_eq!(r.status(), 404);
    // one supervisor (hearing.max_supervisors = 1), one interpreter
    assert_eq!(
        add(&w, &id, &w.officer, ok("supervisor")).await.status(),
        201
    );
    let e = expect_error(
        add(&w, &id, &w.officer, ok("supervisor")).await,
        409,
        "participant_limit",
    )
    .await;
    assert_eq!(e["error"]["params"]["max"], 1);
    let i =
        json!({"role": "interpreter", "name": "某人", "phone": phone(), "language": "维吾尔语"});
    expect_error(add(&w, &id, &w.officer, i).await, 409, "participant_limit").await;
    assert_eq!(rows(&w, &id).await, 2);
    let sealed = events(&w, &id)
        .await
        .iter()
        .filter(|e| e.0 == "participant_added")
        .count();
    assert_eq!(sealed, 2);
}

#[tokio::test]
async fn a_participant_joins_with_their_own_code_waits_is_admitted_and_leaves_all_sealed() {
    let w = world().await;
    let id = w.open().await["id"].as_str().unwrap().to_string();
    let ph = phone();
    let body = json!({"role": "interpreter", "name": "李手语", "phone": ph, "language": "sign"});
    let (pid, token) = joined(&w, &id, body, false).await;
    // the code is the participant's own: it never counts as the citizen's hearing code
    let refs: Vec<Option<String>> =
        sqlx::query_scalar("SELECT ref_id FROM sms_outbox WHERE template = 'hearing_code'")
            .fetch_all(&w.app.state.db.read)
            .await
            .unwrap();
    assert_eq!(refs, [Some(pid.clone())]);
    // a used code is dead; another hearing's path is 404
    let base = format!("/api/v1/hearings/{id}/participants/{pid}");
    let r = w
        .app
        .post(&format!("{base}/join"), None, json!({"code": "000000"}))
        .await;
    assert!(r.status().is_client_error());
    let r = w
        .app
        .post(
            &format!("/api/v1/hearings/nope/participants/{pid}/join"),
            None,
            json!({"code": "000000"}),
        )
        .await;
    assert_eq!(r.status(), 404);
    // waiting: no grant until admitted; the participant session reads nothing else
    let me: Value = w
        .app
        .get_json("/api/v1/participants/me", Some(&token))
        .await;
    assert_eq!(me["participant"]["status"], "waiting");
    expect_error(
        w.app
            .post(
                "/api/v1/participants/me/join-token",
                Some(&token),
                json!({}),
            )
            .await,
        409,
        "participant_not_admitted",
    )
    .await;
    assert_eq!(
        w.app
            .get(&format!("/api/v1/hearings/{id}"), Some(&token))
            .await
            .status(),
        404
    );
    expect_error(
        w.app
            .post(
                &format!("/api/v1/hearings/{id}/sms-code"),
                Some(&token),
                json!({}),
            )
            .await,
        403,
        "forbidden",
    )
    .await;
    // the citizen may not admit
    expect_error(
        w.app
            .post(&format!("{base}/admit"), Some(&w.citizen), json!({}))
            .await,
        403,
        "forbidden",
    )
    .await;
    let v: Value = expect_json(
        w.app
            .post(&format!("{base}/admit"), Some(&w.officer), json!({}))
            .await,
        200,
    )
    .await;
    assert_eq!(v["status"], "admitted");
    let g: Value = expect_json(
        w.app
            .post(
                "/api/v1/participants/me/join-token",
                Some(&token),
                json!({}),
            )
            .await,
        200,
    )
    .await;
    assert!(g["join_token"].as_str().unwrap().starts_with("v1."));
    // an interpreter may not take the citizen's steps
    let r = w.step(&id, &token, body_of("notice_ack")).await;
    assert_eq!(r.status(), 403);
    let v: Value = expect_json(
        w.app
            .post("/api/v1/participants/me/leave", Some(&token), json!({}))
            .await,
        200,
    )
    .await;
    assert_eq!(v["status"], "left");
    expect_error(
        w.app
            .post(
                "/api/v1/participants/me/join-token",
                Some(&token),
                json!({}),
            )
            .await,
        409,
        "participant_not_admitted",
    )
    .await;
    let ev: Vec<(String, String)> = events(&w, &id)
        .await
        .into_iter()
        .map(|e| (e.0, e.1))
        .collect();
    for want in [
        ("participant_added", "officer"),
        ("participant_joined", "interpreter"),
        ("participant_admitted", "officer"),
        ("participant_left", "interpreter"),
    ] {
        assert!(
            ev.iter().any(|e| (e.0.as_str(), e.1.as_str()) == want),
            "{want:?} in {ev:?}"
        );
    }
    // not waiting any more: admitting again is refused
    expect_error(
        w.app
            .post(&format!("{base}/admit"), Some(&w.officer), json!({}))
            .await,
        409,
        "participant_not_waiting",
    )
    .await;
}

async fn agent_step(w: &World, id: &str, token: &str, step: &str) -> reqwest::Response {
    let mut b = body_of(step);
    crate::hearing::signatures::sign_auto(&w.app, token, id, &mut b).await;
    w.app
        .post(&format!("/api/v1/hearings/{id}/steps"), Some(token), b)
        .await
}

#[tokio::test]
async fn an_agent_takes_only_the_allowed_steps_and_the_decision_names_everyone() {
    let w = world().await;
    let id = w.open().await["id"].as_str().unwrap().to_string();
    assert_eq!(w.join_with_sms_code(&id).await.status(), 200);
    let interp =
        json!({"role": "interpreter", "name": "李手语", "phone": phone(), "language": "sign"});
    joined(&w, &id, interp, true).await;
    let agent = json!({"role": "agent", "name": "王代理", "phone": phone()});
    let (aid, agent_tok) = joined(&w, &id, agent, true).await;
    // added but never admitted: not in the decision
    let sup = json!({"role": "supervisor", "name": "赵法制", "phone": phone()});
    assert_eq!(add(&w, &id, &w.officer, sup).await.status(), 201);
    for s in ["identity", "inquiry"] {
        w.ok_step(&id, body_of(s)).await;
    }
    // the transcript is the citizen's own
    let e = expect_error(
        agent_step(&w, &id, &agent_tok, "transcript_ack").await,
        403,
        "agent_step_not_allowed",
    )
    .await;
    assert_eq!(e["error"]["params"]["step"], "transcript_ack");
    w.ok_step(&id, body_of("transcript_ack")).await;
    w.ok_step(&id, body_of("notice")).await;
    assert_eq!(
        agent_step(&w, &id, &agent_tok, "notice_ack").await.status(),
        200
    );
    // the statement needs the power of attorney, sealed
    expect_error(
        agent_step(&w, &id, &agent_tok, "statement").await,
        409,
        "authority_document_missing",
    )
    .await;
    let r = w
        .app
        .client
        .post(w.app.url(&format!(
            "/api/v1/hearings/{id}/participants/{aid}/authority-document"
        )))
        .bearer_auth(&agent_tok)
        .header("content-type", "image/jpeg")
        .body(crate::evidence::JPEG.to_vec())
        .send()
        .await
        .unwrap();
    let doc: Value = expect_json(r, 201).await;
    let sha = doc["authority_document_sha256"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        agent_step(&w, &id, &agent_tok, "statement").await.status(),
        200
    );
    let ev = events(&w, &id).await;
    let (_, by, st) = ev.iter().find(|e| e.0 == "statement").unwrap();
    assert_eq!(by, "agent");
    assert_eq!(
        st["agent"]["authority_document_sha256"],
        sha.as_str(),
        "{st}"
    );
    assert!(
        ev.iter()
            .any(|e| e.0 == "authority_document" && e.2["sha256"] == sha.as_str())
    );
    w.ok_step(&id, body_of("ruling")).await;
    // a commissioned agent may not confirm (a guardian may)
    expect_error(
        agent_step(&w, &id, &agent_tok, "confirmation").await,
        403,
        "agent_step_not_allowed",
    )
    .await;
    w.ok_step(&id, body_of("confirmation")).await;
    w.ok_step(&id, body_of("service")).await;
    // the receipt, signed by the agent
    assert_eq!(
        agent_step(&w, &id, &agent_tok, "receipt").await.status(),
        200
    );
    let ev = events(&w, &id).await;
    assert_eq!(ev.iter().find(|e| e.0 == "receipt").unwrap().1, "agent");
    // the decision names the interpreter (sign) and the agent, not the never-admitted supervisor
    let j: Value = w
        .app
        .get_json(
            &format!("/api/v1/hearings/{id}/decision?format=json"),
            Some(&w.citizen),
        )
        .await;
    let roles: Vec<&str> = j["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["interpreter", "agent"], "{j}");
    let (_, _, html) =
        super::decision::get_bytes(&w, &format!("/api/v1/hearings/{id}/decision"), &w.citizen)
            .await;
    let html = String::from_utf8(html).unwrap();
    assert!(
        html.contains("手语翻译人员 李手语") && html.contains("委托代理人 王代理"),
        "{html}"
    );
    assert!(!html.contains("赵法制"));
    let (_, _, pdf) = super::decision::get_bytes(
        &w,
        &format!("/api/v1/hearings/{id}/decision?format=pdf"),
        &w.officer,
    )
    .await;
    let path = w.app.data_dir.path().join("participants.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let flat: String = super::decision::pdftotext(&path)
        .split_whitespace()
        .collect();
    assert!(flat.contains("李手语") && flat.contains("王代理"), "{flat}");
}
