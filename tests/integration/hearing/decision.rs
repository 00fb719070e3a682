//! The complete decision document (issue 12 §3): every field in the HTML and in the PDF's text
//! (pdftotext), the seal verified by `remote-hearing decision verify`, both digests in the
//! `service` entry, numbers unique per brigade and year, and `decision_incomplete` instead of
//! any default.

use std::process::Command;

use serde_json::{Value, json};

use super::{STEPS, World, body_of, world};
use crate::helpers::{TestApp, expect_error};

const BIN: &str = env!("CARGO_BIN_EXE_remote-hearing");

/// The citizen gives a name and resident ID number (the party of the decision).
pub(crate) async fn give_identity(app: &TestApp, citizen: &str) {
    let r = reqwest::Client::new()
        .put(app.url("/api/v1/citizens/me/identity"))
        .bearer_auth(citizen)
        .json(&json!({"name": "张三", "id_number": crate::party::ID}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "identity");
}

/// Opens the world's hearing, joins, and takes every step before `service`.
pub(crate) async fn up_to_service(w: &World) -> String {
    let h = w.open().await;
    let id = h["id"].as_str().unwrap().to_string();
    let r = w.join_with_sms_code(&id).await;
    assert_eq!(r.status(), 200, "join");
    for s in STEPS.iter().take_while(|s| **s != "service") {
        w.ok_step(&id, body_of(s)).await;
    }
    id
}

pub(crate) async fn get_bytes(w: &World, path: &str, token: &str) -> (u16, String, Vec<u8>) {
    let r = w.app.get(path, Some(token)).await;
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ct, r.bytes().await.unwrap().to_vec())
}

pub(crate) fn verify(path: &std::path::Path, key: Option<&str>) -> (bool, String) {
    let mut c = Command::new(BIN);
    c.args(["decision", "verify"]).arg(path);
    if let Some(k) = key {
        c.args(["--key", k]);
    }
    let out = c.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
    )
}

/// The text of an HTML page (tags dropped, the five escapes undone).
pub(crate) fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

pub(crate) fn pdftotext(path: &std::path::Path) -> String {
    let out = Command::new("pdftotext")
        .arg(path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) must be installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn the_served_decision_names_everything_in_html_and_pdf_and_its_seal_verifies() {
    let w = world().await;
    let id = up_to_service(&w).await;
    let v = w.ok_step(&id, body_of("service")).await;
    let _ = v;
    let j: Value = w
        .app
        .get_json(
            &format!("/api/v1/hearings/{id}/decision?format=json"),
            Some(&w.citizen),
        )
        .await;
    let no = j["decision_no"].as_str().unwrap().to_string();
    assert!(
        no.starts_with("测交决字") && no.ends_with("第000001号"),
        "{no}"
    );
    let (status, ct, html) =
        get_bytes(&w, &format!("/api/v1/hearings/{id}/decision"), &w.citizen).await;
    assert_eq!((status, ct.starts_with("text/html")), (200, true));
    let html = String::from_utf8(html).unwrap();
    let (status, ct, pdf) = get_bytes(
        &w,
        &format!("/api/v1/hearings/{id}/decision?format=pdf"),
        &w.officer,
    )
    .await;
    assert_eq!((status, ct.as_str()), (200, "application/pdf"));
    assert!(pdf.starts_with(b"%PDF-"));
    let dir = w.app.data_dir.path();
    let pdf_path = dir.join("decision.pdf");
    let html_path = dir.join("decision.html");
    std::fs::write(&pdf_path, &pdf).unwrap();
    std::fs::write(&html_path, &html).unwrap();
    let text = pdftotext(&pdf_path);
    let flat: String = text.split_whitespace().collect();
    let fine = format!("罚款人民币{}元", j["fine_yuan"]);
    let needles = [
        "公安交通管理行政处罚决定书",
        no.as_str(),
        "测试交警大队",
        "测试路1号",
        "张三",
        crate::party::ID,
        "139****",
        "鲁A12345",
        "3701001234567890",
        "2026-11-0108:31",
        "经十路与舜耕路路口",
        "机动车违反信号灯通行",
        "当事人放弃陈述申辩",
        "全程同步录音录像",
        id.as_str(),
        "第九十条",
        fine.as_str(),
        "记6分",
        "交管12123App或测试市工商银行各网点",
        "百分之三",
        "60日内向测试市公安局申请行政复议",
        "6个月内依法向测试市历下区人民法院提起行政诉讼",
        "复议机关：测试市公安局",
        "管辖法院：测试市历下区人民法院",
        "警号",
        j["issued_date"].as_str().unwrap(),
        j["pay_by"].as_str().unwrap(),
        j["sha256"].as_str().unwrap(),
        j["id_still_sha256"].as_str().unwrap(),
        "电子印章",
    ];
    assert_eq!(j["id_still_sha256"].as_str().unwrap().len(), 64);
    let html_flat: String = strip_tags(&html).split_whitespace().collect();
    for n in needles {
        let n: String = n.split_whitespace().collect();
        assert!(flat.contains(&n), "PDF text lacks {n:?}:\n{text}");
        assert!(html_flat.contains(&n), "HTML lacks {n:?}");
    }
    // No dates under the review body or the court.
    for label in ["复议机关：", "管辖法院："] {
        let after = &flat[flat.find(label).unwrap() + label.len()..];
        let line: String = after.chars().take(14).collect();
        assert!(
            !line.contains('年') && !line.contains("日"),
            "{label}{line}"
        );
    }
    // The seal: both files verify, with the brigade's key pinned too; a changed copy fails.
    let (ok, out) = verify(&html_path, None);
    assert!(ok, "{out}");
    assert!(out.starts_with("OK: the html decision"), "{out}");
    let entry = service_entry(&w, &id).await;
    let key = entry["payload"]["seal_key"].as_str().unwrap().to_string();
    let (ok, out) = verify(&pdf_path, Some(&key));
    assert!(ok && out.starts_with("OK: the pdf decision"), "{out}");
    let forged = html.replace(&fine, "罚款人民币20元");
    std::fs::write(&html_path, forged).unwrap();
    let (ok, out) = verify(&html_path, None);
    assert!(!ok && out.starts_with("FAILED: "), "{out}");
    let mut bad = pdf.clone();
    bad[20] ^= 1;
    std::fs::write(&pdf_path, &bad).unwrap();
    let (ok, out) = verify(&pdf_path, None);
    assert!(!ok && out.starts_with("FAILED: "), "{out}");
    // Both digests are in the service entry.
    assert_eq!(entry["payload"]["document_sha256"], j["sha256"]);
    let pdf_sha = hex::encode(ring::digest::digest(&ring::digest::SHA256, &pdf));
    assert_eq!(entry["payload"]["pdf_sha256"], pdf_sha.as_str());
}

/// The `service` step's audit entry, from the hearing's bundle (read by an auditor).
async fn service_entry(w: &World, id: &str) -> Value {
    w.app
        .create_staff(remote_hearing::identity::Role::Auditor, "a-dec-entry", None)
        .await;
    let auditor = w.app.login_staff("a-dec-entry").await;
    // The bundle is served once a checkpoint covers the entry (signed within ~20 ms here).
    for _ in 0..400 {
        let r = w
            .app
            .get(
                &format!("/api/v1/audit/hearings/{id}/bundle"),
                Some(&auditor),
            )
            .await;
        if r.status() == 200 {
            let bundle: Value = r.json().await.unwrap();
            if let Some(e) = bundle["entries"]
                .as_array()
                .and_then(|a| a.iter().find(|e| e["step"] == "service"))
            {
                return e.clone();
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("no service entry in the bundle of {id}");
}

#[tokio::test]
async fn only_the_parties_and_auditors_get_the_pdf() {
    let w = world().await;
    let id = up_to_service(&w).await;
    w.ok_step(&id, body_of("service")).await;
    let path = format!("/api/v1/hearings/{id}/decision?format=pdf");
    let (other, _) = w.app.login_citizen("13911110000").await;
    assert_eq!(get_bytes(&w, &path, &other).await.0, 404);
    let (_, _, officer2) = w.app.login_officer().await;
    assert_eq!(get_bytes(&w, &path, &officer2).await.0, 404);
    w.app
        .create_staff(remote_hearing::identity::Role::Auditor, "a-dec", None)
        .await;
    let auditor = w.app.login_staff("a-dec").await;
    assert_eq!(get_bytes(&w, &path, &auditor).await.0, 200);
    assert_eq!(get_bytes(&w, &path, &w.citizen).await.0, 200);
    let r = w
        .app
        .get(
            &format!("/api/v1/hearings/{id}/decision?format=doc"),
            Some(&w.citizen),
        )
        .await;
    expect_error(r, 422, "invalid_field").await;
}

async fn service_refused(w: &World, id: &str, field: &str) {
    let r = w.step(id, &w.officer, body_of("service")).await;
    assert_eq!(r.status(), 409);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "decision_incomplete", "{v}");
    assert_eq!(v["error"]["field"], field, "{v}");
    let h: Value = w
        .app
        .get_json(&format!("/api/v1/hearings/{id}"), Some(&w.officer))
        .await;
    assert_eq!(h["next_step"], "service", "nothing was written: {h}");
}

#[tokio::test]
async fn a_missing_field_is_decision_incomplete_never_a_default() {
    let w = world().await;
    let id = up_to_service(&w).await;
    let db = &w.app.state.db.write;
    sqlx::query("UPDATE brigade_decision_facts SET court = '' WHERE brigade_id = $1")
        .bind(&w.brigade)
        .execute(db)
        .await
        .unwrap();
    service_refused(&w, &id, "brigade.court").await;
    w.app.set_decision_facts(&w.brigade).await;
    sqlx::query("UPDATE brigades SET timezone = '' WHERE id = $1")
        .bind(&w.brigade)
        .execute(db)
        .await
        .unwrap();
    service_refused(&w, &id, "brigade.timezone").await;
    sqlx::query("UPDATE brigades SET timezone = 'Asia/Shanghai', address = '' WHERE id = $1")
        .bind(&w.brigade)
        .execute(db)
        .await
        .unwrap();
    service_refused(&w, &id, "brigade.address").await;
    sqlx::query("UPDATE brigades SET address = '测试路1号' WHERE id = $1")
        .bind(&w.brigade)
        .execute(db)
        .await
        .unwrap();
    sqlx::query("UPDATE bookings SET violations = '[{\"record_no\": 1' WHERE id = $1")
        .bind(&w.booking)
        .execute(db)
        .await
        .unwrap();
    service_refused(&w, &id, "booking.violations").await;
    sqlx::query("DELETE FROM brigade_decision_facts WHERE brigade_id = $1")
        .bind(&w.brigade)
        .execute(db)
        .await
        .unwrap();
    service_refused(&w, &id, "brigade.doc_code").await;
}

#[tokio::test]
async fn a_record_the_notice_does_not_state_stops_the_decision() {
    let w = world().await;
    let h = w.open().await;
    let id = h["id"].as_str().unwrap().to_string();
    w.join_with_sms_code(&id).await;
    for s in STEPS.iter().take_while(|s| **s != "service") {
        let mut b = body_of(s);
        if *s == "notice" {
            b["records"][0]["record_no"] = json!("9999");
        }
        w.ok_step(&id, b).await;
    }
    service_refused(&w, &id, "notice.records").await;
}

/// The decision always names its party: without a named citizen the identity step is refused,
/// so no hearing reaches `service` with nobody to name.
#[tokio::test]
async fn a_citizen_without_identity_gets_no_decision() {
    let w = world().await;
    sqlx::query("UPDATE citizens SET real_name_enc = NULL, id_number_enc = NULL")
        .execute(&w.app.state.db.write)
        .await
        .unwrap();
    let h = w.open().await;
    let id = h["id"].as_str().unwrap().to_string();
    w.join_with_sms_code(&id).await;
    let body = w.body_for(&id, "identity").await;
    let r = w.step(&id, &w.officer, body).await;
    expect_error(r, 409, "identity_missing").await;
    let r = w
        .app
        .get(&format!("/api/v1/hearings/{id}/decision"), Some(&w.officer))
        .await;
    assert_eq!(r.status(), 404, "no decision");
}
