//! Who looked at what (issue 15 §4): every staff read of a hearing, a recording, an evidence
//! file or a bundle is in the access log with one `access` audit entry each; auditors search it
//! with `GET /api/v1/audit/access`, other roles get 403.

use remote_hearing::identity::Role;
use serde_json::Value;

use crate::helpers::{expect_error, expect_json};

#[tokio::test]
async fn staff_reads_are_logged_sealed_and_searchable_by_auditors() {
    let w = crate::hearing::world().await;
    let app = &w.app;
    let h = w.open().await;
    let id = h["id"].as_str().unwrap().to_string();
    let still = crate::evidence::try_upload_still(app, &w.officer, &id)
        .await
        .unwrap();
    // A recorded file, indexed as the recordings job does.
    let rel = format!("{id}/seg-1/citizen-audio.rtp");
    let file = app.data_dir.path().join("recordings").join(&rel);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, b"rtp").unwrap();
    let rec_id = uuid::Uuid::now_v7().to_string();
    sqlx::query(
        "INSERT INTO recordings (id, hearing_id, segment, participant, kind, format, rel_path, bytes, sha256, created_at) \
         VALUES ($1, $2, 'seg-1', 'citizen', 'audio', 'rtp', $3, 3, 'x', 0)",
    )
    .bind(&rec_id)
    .bind(&id)
    .bind(&rel)
    .execute(&app.state.db.write)
    .await
    .unwrap();
    let auditor_id = app.create_staff(Role::Auditor, "A77001", None).await;
    let auditor = app.login_staff("A77001").await;

    // Reads: the officer's view, the auditor's view, evidence, recording, bundle; the citizen's
    // own read is not staff's and is not logged, nor is a refused one.
    for (path, token) in [
        (format!("/api/v1/hearings/{id}"), &w.officer),
        (format!("/api/v1/hearings/{id}"), &auditor),
        (format!("/api/v1/hearings/{id}/evidence/{still}"), &auditor),
        (format!("/api/v1/recordings/{rec_id}"), &auditor),
        (format!("/api/v1/audit/hearings/{id}/bundle"), &auditor),
        (format!("/api/v1/hearings/{id}"), &w.citizen),
    ] {
        let r = app.get(&path, Some(token)).await;
        assert_eq!(r.status(), 200, "{path}");
    }
    let r = app.get("/api/v1/recordings/nope", Some(&auditor)).await;
    assert_eq!(r.status(), 404);
    // A player's later ranges continue the read logged above; they are not logged again.
    let r = app
        .client
        .get(app.url(&format!("/api/v1/recordings/{rec_id}")))
        .bearer_auth(&auditor)
        .header("range", "bytes=2-")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);

    let q = format!("/api/v1/audit/access?hearing_id={id}");
    let reads: Vec<Value> = expect_json(app.get(&q, Some(&auditor)).await, 200).await;
    let actions: Vec<&str> = reads
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "read_bundle",
            "read_recording",
            "read_evidence",
            "read_hearing",
            "read_hearing"
        ],
        "{reads:?}"
    );
    assert_eq!(reads[1]["object"], format!("recording:{rec_id}"));
    assert_eq!(reads[2]["object"], format!("evidence:{still}"));
    assert_eq!(reads[4]["object"], format!("hearing:{id}"));
    assert_eq!(reads[4]["actor"]["role"], "officer");
    assert_eq!(reads[4]["actor"]["id"], w.officer_id);
    assert_eq!(reads[0]["actor"]["id"], auditor_id);
    assert_eq!(reads[0]["ip"], "127.0.0.1");
    assert!(reads[0]["at"].as_str().unwrap().starts_with("2026-11-16T"));

    // By actor; with a limit.
    let mine: Vec<Value> = app
        .get_json(&format!("{q}&actor={}", w.officer_id), Some(&auditor))
        .await;
    assert_eq!(mine.len(), 1, "{mine:?}");
    let one: Vec<Value> = app.get_json(&format!("{q}&limit=1"), Some(&auditor)).await;
    assert_eq!(one.len(), 1);

    // One `access` entry per read, in the audit log's access chain; the whole log verifies.
    let sealed: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_entries WHERE hearing_id = 'access-log' AND step = 'access'",
    )
    .fetch_one(&app.state.db.read)
    .await
    .unwrap();
    assert_eq!(sealed, 5);
    let report = remote_hearing::audit::service::verify_log(&app.state.db, &[])
        .await
        .unwrap();
    assert!(report.ok, "{}", report.human());

    // Auditors only; limits as the schema says.
    for token in [&w.officer, &w.citizen] {
        expect_error(app.get(&q, Some(token)).await, 403, "forbidden").await;
    }
    expect_error(
        app.get("/api/v1/audit/access", None).await,
        401,
        "unauthorized",
    )
    .await;
    let r = app.get(&format!("{q}&limit=0"), Some(&auditor)).await;
    assert_eq!(r.status(), 422);
    let long = "x".repeat(65);
    let r = app
        .get(
            &format!("/api/v1/audit/access?actor={long}"),
            Some(&auditor),
        )
        .await;
    assert_eq!(r.status(), 422);
    let r = app
        .get(
            &format!("/api/v1/audit/access?actor={}", "字".repeat(64)),
            Some(&auditor),
        )
        .await;
    assert_eq!(
        r.status(),
        200,
        "64 characters are allowed, whatever their bytes"
    );
}
