//! The citizen reads and signs (issue 12 §4): `transcript_ack` after the inquiry (accept with a
//! signature, or ask for a correction: a new inquiry version), `confirmation` with explicit
//! Art. 61 consent and a signature, `receipt` with a signature and the proof of service
//! (送达回证) it issues — its fields in the PDF (pdftotext), its seal verified by
//! `remote-hearing decision verify`, its digests in the `receipt` entry.

use serde_json::{Value, json};

use super::{
    STEPS, World, body_of,
    decision::{get_bytes, pdftotext, strip_tags, up_to_service, verify},
    world,
};
use crate::{
    evidence::{JPEG, PNG, upload},
    helpers::{expect_error, expect_json},
};

/// A 120×40 RGBA PNG with a diagonal pen stroke on a transparent ground (as the page's canvas
/// makes one); `seed` varies the stroke so each upload has its own digest.
pub(crate) fn signature_png(seed: u8) -> Vec<u8> {
    let (w, h) = (120usize, 40usize);
    let mut raw = Vec::new();
    for y in 0..h {
        raw.push(0);
        for x in 0..w {
            let ink = (x / 3 + usize::from(seed)) % 40 == y || (x + y) % 37 == 0;
            raw.extend_from_slice(if ink { &[0, 0, 0, 255] } else { &[0, 0, 0, 0] });
        }
    }
    let z = miniz_oxide::deflate::compress_to_vec_zlib(&raw, 6);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], body: &[u8]| {
        out.extend_from_slice(&(body.len() as u32).to_be_bytes());
        let mut c = kind.to_vec();
        c.extend_from_slice(body);
        out.extend_from_slice(&c);
        out.extend_from_slice(&crc32(&c).to_be_bytes());
    };
    let mut ihdr = (w as u32).to_be_bytes().to_vec();
    ihdr.extend_from_slice(&(h as u32).to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", &z);
    chunk(b"IEND", &[]);
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 == 1 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// Uploads a fresh signature as `citizen`; its id, or `None` when refused.
/// Replaces `signature_id: "auto"` in a step body with a signature `citizen` uploads now; the
/// id, when one was uploaded.
pub(crate) async fn sign_auto(
    app: &crate::helpers::TestApp,
    citizen: &str,
    hearing: &str,
    body: &mut Value,
) -> Option<String> {
    if body["signature_id"] != "auto" {
        return None;
    }
    let sig = try_upload_signature(app, citizen, hearing).await?;
    body["signature_id"] = json!(sig);
    Some(sig)
}

/// Uploads a fresh signature (a random drawing) as `citizen`; the server's answer.
pub(crate) async fn upload_signature(
    app: &crate::helpers::TestApp,
    citizen: &str,
    hearing: &str,
) -> reqwest::Response {
    let seed = (uuid::Uuid::new_v4().as_u128() % 40) as u8;
    let png = signature_png(seed);
    upload(app, citizen, hearing, "signature", "image/png", png).await
}

pub(crate) async fn try_upload_signature(
    app: &crate::helpers::TestApp,
    citizen: &str,
    hearing: &str,
) -> Option<String> {
    let r = upload_signature(app, citizen, hearing).await;
    let status = r.status();
    let v: Value = r.json().await.ok()?;
    if status != 201 {
        eprintln!("signature upload refused: {status} {v}");
        return None;
    }
    v["id"].as_str().map(str::to_string)
}

async fn sign(w: &World, id: &str) -> (String, String) {
    let r = upload(
        &w.app,
        &w.citizen,
        id,
        "signature",
        "image/png",
        signature_png(7),
    )
    .await;
    let v: Value = expect_json(r, 201).await;
    (
        v["id"].as_str().unwrap().to_string(),
        v["sha256"].as_str().unwrap().to_string(),
    )
}

/// The stored entries of `step`, in order (payloads as sealed).
async fn entries(w: &World, id: &str, step: &str) -> Vec<Value> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT payload FROM hearing_steps WHERE hearing_id = $1 AND step = $2 AND kind = 'step' ORDER BY idx",
    )
    .bind(id)
    .bind(step)
    .fetch_all(&w.app.state.db.read)
    .await
    .unwrap();
    rows.into_iter()
        .map(|(p,)| serde_json::from_str(&p).unwrap())
        .collect()
}

/// Opens, joins and takes the steps before `until`.
async fn up_to(w: &World, until: &str) -> String {
    let id = w.open().await["id"].as_str().unwrap().to_string();
    assert_eq!(w.join_with_sms_code(&id).await.status(), 200);
    for s in STEPS.iter().take_while(|s| **s != until) {
        w.ok_step(&id, body_of(s)).await;
    }
    id
}

#[tokio::test]
async fn the_transcript_is_acknowledged_with_a_signature_sealed_in_the_entry() {
    let w = world().await;
    let id = up_to(&w, "transcript_ack").await;
    let v: Value = w
        .app
        .get_json(
            &format!("/api/v1/hearings/{id}/transcript"),
            Some(&w.citizen),
        )
        .await;
    assert_eq!(v["version"], 1);
    assert_eq!(v["transcript"][0]["a"], "是本人驾驶。");
    assert_eq!(v["accepted"], false);
    // The officer may not acknowledge for the citizen; the notice may not skip it.
    let r = w
        .step(
            &id,
            &w.officer,
            json!({"step": "transcript_ack", "accept": true, "signature_id": "x"}),
        )
        .await;
    expect_error(r, 403, "forbidden").await;
    expect_error(
        w.step(&id, &w.officer, body_of("notice")).await,
        409,
        "invalid_state",
    )
    .await;
    // Accepting needs a signature.
    let r = w
        .step(
            &id,
            &w.citizen,
            json!({"step": "transcript_ack", "accept": true}),
        )
        .await;
    assert_eq!(
        expect_error(r, 422, "invalid_field").await["error"]["field"],
        "signature_id"
    );
    let (sig, sha) = sign(&w, &id).await;
    let v = w
        .ok_step(
            &id,
            json!({"step": "transcript_ack", "accept": true, "signature_id": sig}),
        )
        .await;
    assert_eq!(v["next_step"], "notice");
    let e = &entries(&w, &id, "transcript_ack").await[0];
    assert_eq!(e["signature_id"], sig.as_str());
    assert_eq!(e["signature_sha256"], sha.as_str());
    assert_eq!(e["inquiry_version"], 1);
    let v: Value = w
        .app
        .get_json(
            &format!("/api/v1/hearings/{id}/transcript"),
            Some(&w.officer),
        )
        .await;
    assert_eq!(v["accepted"], true);
    // Another citizen sees nothing.
    let (other, _) = w.app.login_citizen("13911112222").await;
    let r = w
        .app
        .get(&format!("/api/v1/hearings/{id}/transcript"), Some(&other))
        .await;
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn a_correction_request_brings_a_second_inquiry_version() {
    let w = world().await;
    let id = up_to(&w, "transcript_ack").await;
    let fix = json!({"step": "transcript_ack", "accept": false, "correction": "第一问我答的是“借给朋友驾驶”"});
    let r = w
        .step(
            &id,
            &w.citizen,
            json!({"step": "transcript_ack", "accept": false}),
        )
        .await;
    assert_eq!(
        expect_error(r, 422, "invalid_field").await["error"]["field"],
        "correction"
    );
    let long = json!({"step": "transcript_ack", "accept": false, "correction": "字".repeat(4001)});
    let r = w.step(&id, &w.citizen, long).await;
    assert_eq!(
        expect_error(r, 422, "invalid_field").await["error"]["field"],
        "correction"
    );
    let v = w.ok_step(&id, fix.clone()).await;
    // Back to the officer: only a new inquiry is taken now.
    assert_eq!(v["next_step"], "inquiry");
    assert_eq!(v["next_by"], "officer");
    let (sig, _) = sign(&w, &id).await;
    let ack = json!({"step": "transcript_ack", "accept": true, "signature_id": sig});
    expect_error(
        w.step(&id, &w.citizen, ack.clone()).await,
        409,
        "invalid_state",
    )
    .await;
    expect_error(
        w.step(&id, &w.officer, body_of("notice")).await,
        409,
        "invalid_state",
    )
    .await;
    let t: Value = w
        .app
        .get_json(
            &format!("/api/v1/hearings/{id}/transcript"),
            Some(&w.officer),
        )
        .await;
    assert_eq!(t["corrections"][0]["version"], 1);
    assert_eq!(
        t["corrections"][0]["correction"],
        "第一问我答的是“借给朋友驾驶”"
    );
    let second = json!({"step": "inquiry", "transcript": [{"q": "车辆是否本人驾驶？", "a": "借给朋友驾驶。"}]});
    w.ok_step(&id, second).await;
    let t: Value = w
        .app
        .get_json(
            &format!("/api/v1/hearings/{id}/transcript"),
            Some(&w.citizen),
        )
        .await;
    assert_eq!(
        (t["version"].clone(), t["accepted"].clone()),
        (json!(2), json!(false))
    );
    assert_eq!(t["transcript"][0]["a"], "借给朋友驾驶。");
    let v = w.ok_step(&id, ack).await;
    assert_eq!(v["next_step"], "notice");
    // Both versions are sealed, each with its version; each ack names the version it answers.
    let inq = entries(&w, &id, "inquiry").await;
    assert_eq!(inq.len(), 2);
    assert_eq!(
        (inq[0]["version"].clone(), inq[1]["version"].clone()),
        (json!(1), json!(2))
    );
    assert_eq!(inq[0]["transcript"][0]["a"], "是本人驾驶。");
    let acks = entries(&w, &id, "transcript_ack").await;
    assert_eq!(acks.len(), 2);
    assert_eq!(
        (
            acks[0]["inquiry_version"].clone(),
            acks[0]["accept"].clone()
        ),
        (json!(1), json!(false))
    );
    assert_eq!(
        (
            acks[1]["inquiry_version"].clone(),
            acks[1]["accept"].clone()
        ),
        (json!(2), json!(true))
    );
    let steps: Vec<String> = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap().into())
        .collect();
    assert_eq!(
        steps,
        [
            "identity",
            "inquiry",
            "transcript_ack",
            "inquiry",
            "transcript_ack"
        ]
    );
    // The rest of the procedure goes on as usual.
    for s in STEPS.iter().skip_while(|s| **s != "notice") {
        w.ok_step(&id, body_of(s)).await;
    }
}

#[tokio::test]
async fn corrections_are_bounded() {
    let w = world().await;
    let id = up_to(&w, "transcript_ack").await;
    let fix = json!({"step": "transcript_ack", "accept": false, "correction": "不对"});
    for _ in 1..remote_hearing::hearing::signing::MAX_INQUIRY_VERSIONS {
        w.ok_step(&id, fix.clone()).await;
        w.ok_step(&id, body_of("inquiry")).await;
    }
    let r = w.step(&id, &w.citizen, fix).await;
    let e = expect_error(r, 409, "correction_limit").await;
    assert_eq!(e["error"]["params"]["max_versions"], 5);
    // Accepting is still possible.
    w.ok_step(&id, body_of("transcript_ack")).await;
}

#[tokio::test]
async fn consent_is_explicit_and_every_signature_is_the_citizens_own_for_one_step() {
    let w = world().await;
    let id = up_to(&w, "confirmation").await;
    let (sig, sha) = sign(&w, &id).await;
    // Consent omitted: 422 naming the field, nothing written.
    let r = w
        .step(
            &id,
            &w.citizen,
            json!({"step": "confirmation", "accept": true, "signature_id": sig}),
        )
        .await;
    assert_eq!(
        expect_error(r, 422, "invalid_field").await["error"]["field"],
        "e_service_consent"
    );
    let r = w
        .step(
            &id,
            &w.citizen,
            json!({"step": "confirmation", "accept": true, "e_service_consent": true}),
        )
        .await;
    assert_eq!(
        expect_error(r, 422, "invalid_field").await["error"]["field"],
        "signature_id"
    );
    let with = |s: &str| json!({"step": "confirmation", "accept": true, "e_service_consent": true, "signature_id": s});
    // Unknown id; the officer's ID-card still; the signature sealed into the transcript ack.
    let e = expect_error(
        w.step(&id, &w.citizen, with("nope")).await,
        422,
        "signature_invalid",
    )
    .await;
    assert_eq!(e["error"]["field"], "signature_id");
    let still = crate::evidence::try_upload_still(&w.app, &w.officer, &id)
        .await
        .unwrap();
    expect_error(
        w.step(&id, &w.citizen, with(&still)).await,
        422,
        "signature_invalid",
    )
    .await;
    let acked = entries(&w, &id, "transcript_ack").await[0]["signature_id"]
        .as_str()
        .unwrap()
        .to_string();
    let e = expect_error(
        w.step(&id, &w.citizen, with(&acked)).await,
        422,
        "signature_reused",
    )
    .await;
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("transcript_ack"),
        "{e}"
    );
    // A signature of another hearing (another citizen's).
    let phone2 = "13922223333";
    let (citizen2, citizen2_id) = w.app.login_citizen(phone2).await;
    let booking2 = super::insert_booking(&w.app, &w.brigade, &citizen2_id, phone2, 10).await;
    let r = w.app.open_hearing(&w.officer, &booking2).await;
    let h2: Value = expect_json(r, 201).await;
    let h2 = h2["id"].as_str().unwrap();
    let r = upload(
        &w.app,
        &citizen2,
        h2,
        "signature",
        "image/png",
        signature_png(3),
    )
    .await;
    let foreign: Value = expect_json(r, 201).await;
    let e = expect_error(
        w.step(&id, &w.citizen, with(foreign["id"].as_str().unwrap()))
            .await,
        422,
        "signature_invalid",
    )
    .await;
    assert_eq!(e["error"]["field"], "signature_id");
    let v: Value = w
        .app
        .get_json(&format!("/api/v1/hearings/{id}"), Some(&w.citizen))
        .await;
    assert_eq!(v["next_step"], "confirmation", "nothing was written");
    // The own, fresh signature is sealed with its digest and the explicit consent.
    w.ok_step(&id, with(&sig)).await;
    let c = &entries(&w, &id, "confirmation").await[0];
    assert_eq!(
        (c["signature_id"].as_str(), c["signature_sha256"].as_str()),
        (Some(sig.as_str()), Some(sha.as_str()))
    );
    assert_eq!(c["e_service_consent"], true);
    assert!(c["consent_text"].as_str().unwrap().contains("第六十一条"));
}

#[tokio::test]
async fn signature_uploads_are_checked() {
    let w = world().await;
    let id = up_to(&w, "transcript_ack").await;
    let up =
        |ct: &'static str, body: Vec<u8>| upload(&w.app, &w.citizen, &id, "signature", ct, body);
    expect_error(
        up("image/png", b"not an image at all".to_vec()).await,
        422,
        "not_an_image",
    )
    .await;
    // Cut short, or a PNG too large to be a signature.
    let png = signature_png(1);
    expect_error(
        up("image/png", png[..png.len() - 20].to_vec()).await,
        422,
        "not_an_image",
    )
    .await;
    let mut big = vec![0u8; 2 * 1024 * 1024 + 1];
    big[..PNG.len()].copy_from_slice(&PNG);
    expect_error(up("image/png", big).await, 413, "body_too_large").await;
    // The canvas makes PNGs: a JPEG signature cannot be drawn into the proof of service.
    expect_error(
        up("image/jpeg", JPEG.to_vec()).await,
        415,
        "unsupported_media_type",
    )
    .await;
    // The officer does not sign for the citizen.
    let r = upload(
        &w.app,
        &w.officer,
        &id,
        "signature",
        "image/png",
        signature_png(1),
    )
    .await;
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn the_receipt_issues_a_sealed_proof_of_service_naming_everything() {
    let w = world().await;
    let id = up_to_service(&w).await;
    w.ok_step(&id, body_of("service")).await;
    let r = w.step(&id, &w.citizen, json!({"step": "receipt"})).await;
    assert_eq!(
        expect_error(r, 422, "invalid_field").await["error"]["field"],
        "signature_id"
    );
    assert_eq!(
        get_bytes(
            &w,
            &format!("/api/v1/hearings/{id}/proof-of-service"),
            &w.citizen
        )
        .await
        .0,
        404
    );
    let (sig, sig_sha) = sign(&w, &id).await;
    let v = w
        .ok_step(&id, json!({"step": "receipt", "signature_id": sig}))
        .await;
    assert_eq!(v["status"], "completed");
    let d: Value = w
        .app
        .get_json(
            &format!("/api/v1/hearings/{id}/decision?format=json"),
            Some(&w.citizen),
        )
        .await;
    let p: Value = w
        .app
        .get_json(
            &format!("/api/v1/hearings/{id}/proof-of-service?format=json"),
            Some(&w.citizen),
        )
        .await;
    assert_eq!(p["decision_no"], d["decision_no"]);
    assert_eq!(p["decision_sha256"], d["sha256"]);
    let (status, ct, pdf) = get_bytes(
        &w,
        &format!("/api/v1/hearings/{id}/proof-of-service?format=pdf"),
        &w.officer,
    )
    .await;
    assert_eq!((status, ct.as_str()), (200, "application/pdf"));
    let (status, _, html) = get_bytes(
        &w,
        &format!("/api/v1/hearings/{id}/proof-of-service"),
        &w.citizen,
    )
    .await;
    assert_eq!(status, 200);
    let html = String::from_utf8(html).unwrap();
    let dir = w.app.data_dir.path();
    let (pdf_path, html_path) = (dir.join("proof.pdf"), dir.join("proof.html"));
    std::fs::write(&pdf_path, &pdf).unwrap();
    std::fs::write(&html_path, &html).unwrap();
    let flat: String = pdftotext(&pdf_path).split_whitespace().collect();
    let html_flat: String = strip_tags(&html).split_whitespace().collect();
    let received: String = p["received_at"]
        .as_str()
        .unwrap()
        .chars()
        .take(16)
        .collect();
    let served: String = p["served_at"].as_str().unwrap().chars().take(16).collect();
    let needles = [
        "送达回证",
        "送达机关：测试交警大队",
        "公安交通管理行政处罚决定书",
        d["decision_no"].as_str().unwrap(),
        d["sha256"].as_str().unwrap(),
        p["decision_pdf_sha256"].as_str().unwrap(),
        "张三",
        "3701**********",
        served.as_str(),
        received.as_str(),
        "电子送达",
        "第六十一条",
        "同意采用电子方式",
        "警号",
        sig.as_str(),
        sig_sha.as_str(),
        id.as_str(),
        "电子印章",
    ];
    for n in needles {
        assert!(flat.contains(n), "PDF text lacks {n:?}:\n{flat}");
        assert!(html_flat.contains(n), "HTML lacks {n:?}");
    }
    assert!(
        !flat.contains(crate::party::ID),
        "the proof masks the ID number"
    );
    // The signature image is in the PDF (drawn as ink runs) and inline in the HTML.
    assert!(html.contains("<img id=\"signature\""));
    // The seal: both verify as a proof of service; the receipt entry seals both digests.
    let (ok, out) = verify(&html_path, None);
    assert!(
        ok && out.starts_with("OK: the html proof of service"),
        "{out}"
    );
    let (ok, out) = verify(&pdf_path, None);
    assert!(
        ok && out.starts_with("OK: the pdf proof of service"),
        "{out}"
    );
    let e = &entries(&w, &id, "receipt").await[0];
    assert_eq!(
        (e["signature_id"].as_str(), e["signature_sha256"].as_str()),
        (Some(sig.as_str()), Some(sig_sha.as_str()))
    );
    let pdf_sha = hex::encode(ring::digest::digest(&ring::digest::SHA256, &pdf));
    assert_eq!(e["proof_of_service"]["pdf_sha256"], pdf_sha.as_str());
    assert_eq!(e["proof_of_service"]["decision_no"], d["decision_no"]);
    let mut bad = pdf.clone();
    bad[30] ^= 1;
    std::fs::write(&pdf_path, &bad).unwrap();
    assert!(!verify(&pdf_path, None).0);
    // Only the parties, the brigade and auditors read it.
    let path = format!("/api/v1/hearings/{id}/proof-of-service?format=pdf");
    let (other, _) = w.app.login_citizen("13911113333").await;
    assert_eq!(get_bytes(&w, &path, &other).await.0, 404);
    let (_, _, officer2) = w.app.login_officer().await;
    assert_eq!(get_bytes(&w, &path, &officer2).await.0, 404);
    w.app
        .create_staff(remote_hearing::identity::Role::Auditor, "a-proof", None)
        .await;
    let auditor = w.app.login_staff("a-proof").await;
    assert_eq!(get_bytes(&w, &path, &auditor).await.0, 200);
    let r = w
        .app
        .get(
            &format!("/api/v1/hearings/{id}/proof-of-service?format=doc"),
            Some(&w.citizen),
        )
        .await;
    expect_error(r, 422, "invalid_field").await;
}

#[tokio::test]
async fn the_openapi_document_describes_the_signing_routes_and_steps() {
    let w = world().await;
    let spec: Value = w.app.get_json("/api/v1/openapi.json", None).await;
    for p in [
        "/api/v1/hearings/{id}/transcript",
        "/api/v1/hearings/{id}/proof-of-service",
    ] {
        assert!(
            spec["paths"][p]["get"].is_object(),
            "{p} missing from the OpenAPI document"
        );
    }
    let schemas = &spec["components"]["schemas"];
    for s in [
        "TranscriptAckStep",
        "TranscriptAckFields",
        "ReceiptFields",
        "TranscriptView",
        "ProofFields",
    ] {
        assert!(schemas[s].is_object(), "{s} missing");
    }
    let required = schemas["ConfirmationFields"]["required"].to_string();
    assert!(
        required.contains("e_service_consent") && required.contains("signature_id"),
        "{required}"
    );
}
