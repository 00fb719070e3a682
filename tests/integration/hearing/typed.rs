//! Typed edges: the OpenAPI document describes every step's body (a `oneOf` with a `step`
//! discriminator, each member with its required fields), and refusals carry their numbers as
//! `params` in the error body.

use serde_json::{Value, json};

use super::{body_of, insert_booking, world};
use crate::helpers::{TestApp, expect_error};

/// Follows `$ref` and `allOf` into one list of (required, properties) pairs.
fn flatten<'a>(spec: &'a Value, s: &'a Value, out: &mut Vec<&'a Value>) {
    if let Some(r) = s["$ref"].as_str() {
        let name = r.trim_start_matches("#/components/schemas/");
        flatten(spec, &spec["components"]["schemas"][name], out);
    } else if let Some(all) = s["allOf"].as_array() {
        for part in all {
            flatten(spec, part, out);
        }
    } else {
        out.push(s);
    }
}

#[tokio::test]
async fn openapi_has_a_schema_per_step() {
    let app = TestApp::spawn().await;
    let spec: Value = app.get_json("/api/v1/openapi.json", None).await;
    let body = &spec["paths"]["/api/v1/hearings/{id}/steps"]["post"]["requestBody"]["content"]["application/json"]
        ["schema"];
    assert_eq!(
        body["$ref"], "#/components/schemas/StepRequest",
        "request body: {body}"
    );
    let req = &spec["components"]["schemas"]["StepRequest"];
    assert_eq!(req["discriminator"]["propertyName"], "step", "{req}");
    let members = req["oneOf"].as_array().expect("oneOf");
    assert_eq!(members.len(), 10);
    let required: [(&str, &[&str]); 10] = [
        (
            "identity",
            &["id_number_matches", "face_matches", "still_id"],
        ),
        ("inquiry", &["transcript"]),
        ("transcript_ack", &["accept"]),
        (
            "notice",
            &[
                "facts",
                "legal_basis",
                "proposed_fine_yuan",
                "proposed_points",
            ],
        ),
        ("notice_ack", &[]),
        ("statement", &[]),
        ("ruling", &["fine_yuan", "points", "legal_basis"]),
        (
            "confirmation",
            &["accept", "e_service_consent", "signature_id"],
        ),
        ("service", &[]),
        ("receipt", &["signature_id"]),
    ];
    for (step, fields) in required {
        let target = req["discriminator"]["mapping"][step]
            .as_str()
            .unwrap_or_else(|| panic!("{step} not in the mapping: {req}"));
        assert!(
            members.iter().any(|m| m["$ref"] == target),
            "{step}: {target} not in oneOf"
        );
        let root = json!({ "$ref": target });
        let mut parts = Vec::new();
        flatten(&spec, &root, &mut parts);
        let has_required = |f: &str| {
            parts.iter().any(|p| {
                p["required"]
                    .as_array()
                    .is_some_and(|r| r.iter().any(|x| x == f))
                    && p["properties"][f].is_object()
            })
        };
        assert!(has_required("step"), "{step}: no required step tag");
        let tag = parts
            .iter()
            .find_map(|p| p["properties"]["step"]["enum"].as_array())
            .expect("step enum");
        assert_eq!(tag, &vec![json!(step)]);
        for f in fields {
            assert!(has_required(f), "{step}: {f} is not a required field");
        }
    }
    // Optional fields are described too.
    let notice = &spec["components"]["schemas"]["NoticeFields"]["properties"];
    assert!(notice["rights_text"].is_object(), "{notice}");
    assert_eq!(notice["proposed_points"]["maximum"], 12);
    // The view's status and next step are enums, not free strings.
    let view = &spec["components"]["schemas"]["HearingView"]["properties"];
    assert_eq!(
        view["status"]["$ref"], "#/components/schemas/Status",
        "{view}"
    );
    let status = &spec["components"]["schemas"]["Status"]["enum"];
    assert!(
        status
            .as_array()
            .is_some_and(|a| a.contains(&json!("in_call"))),
        "{status}"
    );
    assert!(view["next_step"].to_string().contains("Step"), "{view}");
    // Error bodies may carry params.
    assert!(
        spec["components"]["schemas"]["ErrorDetail"]["properties"]["params"].is_object(),
        "ErrorDetail.params"
    );
}

#[tokio::test]
async fn refusals_carry_their_numbers_as_params() {
    // The opening window: its minutes come from the config.
    let app = TestApp::spawn().await;
    let (brigade, _, officer) = app.login_officer().await;
    let (_, citizen_id) = app.login_citizen("13900000011").await;
    let booking = insert_booking(&app, &brigade, &citizen_id, "13900000011", 20).await;
    let e = expect_error(
        app.open_hearing(&officer, &booking).await,
        409,
        "outside_hearing_window",
    )
    .await;
    assert_eq!(e["error"]["params"], json!({"minutes": 15}), "{e}");

    // The ruling may not exceed the notice: the notice's numbers.
    let w = world().await;
    let id = w.open().await["id"].as_str().unwrap().to_string();
    for s in super::STEPS.into_iter().take(6) {
        w.ok_step(&id, body_of(s)).await;
    }
    let heavier = json!({"step": "ruling", "fine_yuan": 300, "points": 6, "legal_basis": "x"});
    let e = expect_error(
        w.step(&id, &w.officer, heavier).await,
        409,
        "ruling_exceeds_notice",
    )
    .await;
    assert_eq!(
        e["error"]["params"],
        json!({"fine_yuan": 200, "points": 6}),
        "{e}"
    );
    // A refusal without numbers has no params; a bad field keeps its field.
    let e = expect_error(
        w.step(
            &id,
            &w.officer,
            json!({"step": "ruling", "fine_yuan": 2000}),
        )
        .await,
        422,
        "invalid_field",
    )
    .await;
    assert_eq!(e["error"]["field"], "fine_yuan");
    assert!(e["error"].get("params").is_none(), "{e}");
}

#[tokio::test]
async fn booking_refusals_carry_their_numbers_as_params() {
    use crate::booking::{at, body, book};
    let app = TestApp::spawn().await;
    let (brigade, _, _) = app.login_officer().await;
    let (alice, _) = app.login_citizen("13800000021").await;
    // now = 2026-11-16 09:00 local; today + 8 is too far.
    let e = expect_error(
        book(&app, &alice, body(&brigade, &at(24, 9))).await,
        409,
        "too_far_ahead",
    )
    .await;
    assert_eq!(e["error"]["params"], json!({"days": 7}), "{e}");
    // A refusal without numbers carries none.
    let e = expect_error(
        book(&app, &alice, body(&brigade, &at(16, 10))).await,
        409,
        "same_day_not_allowed",
    )
    .await;
    assert!(e["error"].get("params").is_none(), "{e}");
    // A booking names its brigade's time zone, for pages to show dates in it.
    let r = book(&app, &alice, body(&brigade, &at(17, 9))).await;
    let v: Value = crate::helpers::expect_json(r, 201).await;
    assert_eq!(v["timezone"], "Asia/Shanghai", "{v}");
}
