//! Evidence photos at the notice (issue 16): for a booking from the record the server fetches
//! each photo from the platform once before the notice, seals its SHA-256 in the `notice` entry,
//! and serves it to the hearing's officer, its citizen and auditors only; the platform down at
//! the notice refuses the step with nothing written.

use serde_json::{Value, json};

use crate::{
    hearing::{STEPS, body_of},
    helpers::expect_error,
    records::start_fake,
    records_writeback::{REC, records_world},
};

#[tokio::test]
async fn the_notice_seals_the_records_photos_fetched_once() {
    let fake = start_fake().await;
    let w = records_world(&fake).await;
    let id = w.open().await["id"].as_str().unwrap().to_string();
    assert_eq!(w.join_with_sms_code(&id).await.status(), 200);
    for s in STEPS.iter().take_while(|s| **s != "notice") {
        w.ok_step(&id, body_of(s)).await;
    }
    let mut notice = body_of("notice");
    notice["records"][0]["record_no"] = json!(REC);
    // The platform down: the notice is refused, nothing of it written.
    fake.fault("status:503", 2).await;
    let r = w.step(&id, &w.officer, notice.clone()).await;
    expect_error(r, 503, "records_unavailable").await;
    let v: Value = w
        .app
        .get_json(&format!("/api/v1/hearings/{id}"), Some(&w.officer))
        .await;
    assert_eq!(v["next_step"], "notice");

    w.ok_step(&id, notice).await;
    let v: Value = w
        .app
        .get_json(&format!("/api/v1/hearings/{id}"), Some(&w.citizen))
        .await;
    let photos = v["notice"]["photos"].as_array().unwrap().clone();
    assert_eq!(photos.len(), 2, "{v}");
    let served = || async {
        reqwest::get(format!("{}/_fake/photos", fake.url))
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()["served"]
            .as_i64()
            .unwrap()
    };
    assert_eq!(served().await, 2);
    // The sealed digest is the photo's, for the officer and the citizen; nobody else sees it.
    let (other, _) = w.app.login_citizen("13900000999").await;
    for p in &photos {
        let path = format!(
            "/api/v1/hearings/{id}/photos/{}/{}",
            p["record_no"].as_str().unwrap(),
            p["index"]
        );
        for token in [&w.officer, &w.citizen] {
            let r = w.app.get(&path, Some(token)).await;
            assert_eq!(r.status(), 200);
            assert_eq!(r.headers()["content-type"], "image/png");
            let body = r.bytes().await.unwrap();
            let sha = hex::encode(ring::digest::digest(&ring::digest::SHA256, &body));
            assert_eq!(p["sha256"], sha.as_str());
        }
        expect_error(w.app.get(&path, Some(&other)).await, 404, "not_found").await;
    }
    // The audit entry of the notice seals them too.
    let entry: String = sqlx::query_scalar(
        "SELECT payload FROM hearing_steps WHERE hearing_id = $1 AND step = 'notice'",
    )
    .bind(&id)
    .fetch_one(&w.app.state.db.read)
    .await
    .unwrap();
    let entry: Value = serde_json::from_str(&entry).unwrap();
    assert_eq!(entry["photos"], json!(photos));
    assert_eq!(served().await, 2, "fetched once");
    // At rest each photo is sealed with the hearing's case-file key (issue 15 §3).
    use base64::Engine;
    let bodies: Vec<String> =
        sqlx::query_scalar("SELECT body FROM notice_photos WHERE hearing_id = $1")
            .bind(&id)
            .fetch_all(&w.app.state.db.read)
            .await
            .unwrap();
    assert_eq!(bodies.len(), photos.len());
    for b in bodies {
        let stored = base64::engine::general_purpose::STANDARD.decode(b).unwrap();
        assert!(recordings::sealed::is_sealed(&stored));
    }
}
