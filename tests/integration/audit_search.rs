//! The auditors' search of hearings (`GET /api/v1/audit/hearings`, issue 18 §4) and one
//! hearing's summary (`GET /api/v1/audit/hearings/{id}`): every filter narrows the list, paging
//! with the cursor visits every hearing once in order, bad filters are 422 naming the field,
//! other roles 403; the summary names staff by name and badge and masks the citizen.

use std::collections::HashSet;

use remote_hearing::identity::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_error, expect_json};

/// A seeded hearing: (id, slot_start).
struct Seeded {
    brigades: [String; 2],
    officers: [(String, String); 2], // (id, badge)
    ids: Vec<(String, i64)>,
}

/// `n` closed hearings written straight into the tables (the procedure is the hearing tests'):
/// two brigades, two officers, three plates, two dates, some sharing one slot start (ties go
/// by id), every third one with a decision number.
async fn seed(app: &TestApp, n: usize) -> Seeded {
    let b1 = app.create_brigade(4).await;
    let b2 = app.create_brigade(4).await;
    let tag = &uuid::Uuid::new_v4().simple().to_string()[..5];
    let o1b = format!("S1{tag}");
    let o2b = format!("S2{tag}");
    let o1 = app.create_staff(Role::Officer, &o1b, Some(&b1)).await;
    let o2 = app.create_staff(Role::Officer, &o2b, Some(&b2)).await;
    let db = &app.state.db.write;
    let base: i64 = 1_795_000_000_000; // 2026-11-18 (Asia/Shanghai)
    let mut ids = vec![];
    for i in 0..n {
        let citizen = uuid::Uuid::now_v7().to_string();
        let booking = uuid::Uuid::now_v7().to_string();
        let id = uuid::Uuid::now_v7().to_string();
        let (brigade, officer) = if i % 2 == 0 { (&b1, &o1) } else { (&b2, &o2) };
        // Pairs share a slot start: the order falls back to the id.
        let start = base + (i as i64 / 2) * 3_600_000 + if i >= n / 2 { 86_400_000 } else { 0 };
        let date = if i >= n / 2 {
            "2026-11-19"
        } else {
            "2026-11-18"
        };
        let plate = ["鲁A12345", "鲁B67890", "京C1234D"][i % 3];
        let status = if i % 4 == 3 { "no_show" } else { "completed" };
        sqlx::query("INSERT INTO citizens (id, phone, created_at) VALUES ($1, $2, 0)")
            .bind(&citizen)
            .bind(format!("1390000{i:04}"))
            .execute(db)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO bookings (id, citizen_id, brigade_id, slot_start, slot_end, slot_date, status, phone, plate, owner, \
             violations, unhandled_count, current_points, urgent, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'completed', '13900000000', $7, 1, '[]', 1, 0, 0, 0, 0)",
        )
        .bind(&booking)
        .bind(&citizen)
        .bind(brigade)
        .bind(start)
        .bind(start + 3_600_000)
        .bind(date)
        .bind(plate)
        .execute(db)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO hearings (id, booking_id, brigade_id, citizen_id, officer_id, phone, status, outcome, \
             slot_start, slot_end, opened_at, closed_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $9, $10, $10)",
        )
        .bind(&id)
        .bind(&booking)
        .bind(brigade)
        .bind(&citizen)
        .bind(officer)
        .bind(format!("1390000{i:04}"))
        .bind(status)
        .bind(if status == "completed" { "completed" } else { "no_show" })
        .bind(start)
        .bind(start + 3_600_000)
        .execute(db)
        .await
        .unwrap();
        if i % 3 == 0 {
            sqlx::query(
                "INSERT INTO hearing_decisions (hearing_id, decision_no, year, fields, html, sha256, issued_at) \
                 VALUES ($1, $2, 2026, '{}', '', '', 0)",
            )
            .bind(&id)
            .bind(format!("测交决〔2026〕{tag}{i:03}号"))
            .execute(db)
            .await
            .unwrap();
        }
        ids.push((id, start));
    }
    Seeded {
        brigades: [b1, b2],
        officers: [(o1, o1b), (o2, o2b)],
        ids,
    }
}

async fn page(app: &TestApp, token: &str, query: &str) -> Value {
    expect_json(
        app.get(&format!("/api/v1/audit/hearings?{query}"), Some(token))
            .await,
        200,
    )
    .await
}

/// Every item of every page of `query` (limit `limit`), following the cursors.
async fn all_pages(app: &TestApp, token: &str, query: &str, limit: usize) -> Vec<Value> {
    let mut out = vec![];
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let c = cursor
            .as_ref()
            .map(|c| format!("&cursor={c}"))
            .unwrap_or_default();
        let p = page(app, token, &format!("limit={limit}{c}&{query}")).await;
        let items = p["items"].as_array().unwrap();
        assert!(items.len() <= limit);
        out.extend(items.iter().cloned());
        match p["next_cursor"].as_str() {
            Some(c) => {
                assert_eq!(items.len(), limit, "a page before the last is full");
                cursor = Some(c.to_string());
            }
            None => return out,
        }
    }
    panic!("more than 100 pages");
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn paging_visits_every_hearing_once_newest_first() {
    let app = TestApp::spawn().await;
    let s = seed(&app, 23).await;
    app.create_staff(Role::Auditor, "AS0001", None).await;
    let auditor = app.login_staff("AS0001").await;
    let got = all_pages(&app, &auditor, "", 5).await;
    let got_ids = ids(&got);
    assert_eq!(got_ids.len(), 23, "no gaps, no duplicates: {got_ids:?}");
    assert_eq!(got_ids.iter().collect::<HashSet<_>>().len(), 23);
    let mut want = s.ids.clone();
    want.sort_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0)));
    assert_eq!(got_ids, want.into_iter().map(|w| w.0).collect::<Vec<_>>());
    // An item names the brigade, the officer by name and badge, the plate and the slot.
    let first = &got[0];
    assert_eq!(first["brigade_name"], "测试交警大队");
    assert!(first["officer"]["badge"].as_str().unwrap().starts_with("S"));
    assert!(
        first["officer"]["name"]
            .as_str()
            .unwrap()
            .starts_with("测试S")
    );
    assert_eq!(first["date"], "2026-11-19");
    assert!(first["slot_start"].as_str().unwrap().ends_with("+08:00"));
    // The default page is 20; one page of 100 holds them all.
    assert_eq!(
        page(&app, &auditor, "").await["items"]
            .as_array()
            .unwrap()
            .len(),
        20
    );
    let p = page(&app, &auditor, "limit=100").await;
    assert_eq!(p["items"].as_array().unwrap().len(), 23);
    assert!(p["next_cursor"].is_null());
    // Paging inside a filter stays inside it.
    let b1 = all_pages(&app, &auditor, &format!("brigade_id={}", s.brigades[0]), 4).await;
    assert_eq!(b1.len(), 12);
    assert!(b1.iter().all(|i| i["brigade_id"] == s.brigades[0].as_str()));
}

#[tokio::test]
async fn every_filter_narrows_the_list() {
    let app = TestApp::spawn().await;
    let s = seed(&app, 12).await;
    app.create_staff(Role::Auditor, "AS0002", None).await;
    let auditor = app.login_staff("AS0002").await;
    let count = |q: String| {
        let (app, auditor) = (&app, &auditor);
        async move {
            page(app, auditor, &format!("limit=100&{q}")).await["items"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    assert_eq!(count("date=2026-11-18".into()).await, 6);
    assert_eq!(count("date=2026-11-19".into()).await, 6);
    assert_eq!(count("date=2026-11-20".into()).await, 0);
    assert_eq!(count(format!("brigade_id={}", s.brigades[1])).await, 6);
    let (o1, o1b) = &s.officers[0];
    assert_eq!(count(format!("officer={o1b}")).await, 6);
    assert_eq!(count(format!("officer={o1}")).await, 6);
    assert_eq!(count(format!("officer=测试{o1b}")).await, 6);
    assert_eq!(count("officer=nobody".into()).await, 0);
    assert_eq!(count("status=no_show".into()).await, 3);
    assert_eq!(count("status=completed".into()).await, 9);
    assert_eq!(count("status=open".into()).await, 0);
    // The plate in any letter case; "鲁A12345" is every third hearing.
    assert_eq!(count("plate=鲁a12345".into()).await, 4);
    assert_eq!(count("plate=京C1234D".into()).await, 4);
    let with_no: Vec<Value> = page(&app, &auditor, "limit=100").await["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| !i["decision_no"].is_null())
        .cloned()
        .collect();
    assert_eq!(with_no.len(), 4);
    let no = with_no[0]["decision_no"].as_str().unwrap();
    let hit = page(&app, &auditor, &format!("decision_no={no}")).await;
    assert_eq!(
        ids(hit["items"].as_array().unwrap()),
        [with_no[0]["id"].as_str().unwrap()]
    );
    // Filters combine.
    assert_eq!(
        count(format!(
            "date=2026-11-18&brigade_id={}&plate=鲁A12345",
            s.brigades[0]
        ))
        .await,
        1
    );
}

#[tokio::test]
async fn bad_filters_are_422_naming_the_field_and_only_auditors_search() {
    let app = TestApp::spawn().await;
    app.create_staff(Role::Auditor, "AS0003", None).await;
    let auditor = app.login_staff("AS0003").await;
    let long = "x".repeat(65);
    for (q, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=abc", "limit"),
        ("date=2026-02-30", "date"),
        ("date=20261118", "date"),
        ("plate=XA12345", "plate"),
        ("status=finished", "status"),
        ("cursor=zzzz", "cursor"),
        ("cursor=", "cursor"),
        (&format!("brigade_id={long}"), "brigade_id"),
        (&format!("officer={long}"), "officer"),
        ("decision_no=", "decision_no"),
    ] {
        let body = expect_error(
            app.get(&format!("/api/v1/audit/hearings?{q}"), Some(&auditor))
                .await,
            422,
            "invalid_field",
        )
        .await;
        assert_eq!(body["error"]["field"], field, "{q}: {body}");
    }
    // 64 characters (not bytes) are fine.
    let p = page(&app, &auditor, &format!("officer={}", "警".repeat(64))).await;
    assert_eq!(p["items"], json!([]));
    // Other roles: 403; no session: 401.
    let (_, _, officer) = app.login_officer().await;
    app.create_staff(Role::Admin, "AS0004", None).await;
    let admin = app.login_staff("AS0004").await;
    let (citizen, _) = app.login_citizen("13911112222").await;
    for token in [&officer, &admin, &citizen] {
        for path in ["/api/v1/audit/hearings", "/api/v1/audit/hearings/x"] {
            expect_error(app.get(path, Some(token)).await, 403, "forbidden").await;
        }
    }
    assert_eq!(app.get("/api/v1/audit/hearings", None).await.status(), 401);
    // The OpenAPI states the same limits the server checks.
    let spec: Value = app.get_json("/api/v1/openapi.json", None).await;
    let op = &spec["paths"]["/api/v1/audit/hearings"]["get"];
    let param = |name: &str| {
        op["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("parameter {name}: {op}"))["schema"]
            .clone()
    };
    assert_eq!(
        (
            param("limit")["minimum"].as_i64(),
            param("limit")["maximum"].as_i64()
        ),
        (Some(1), Some(100))
    );
    for name in ["brigade_id", "officer", "decision_no"] {
        assert_eq!(param(name)["maxLength"], 64, "{name}");
        assert_eq!(param(name)["minLength"], 1, "{name}");
    }
    assert_eq!(param("cursor")["maxLength"], 128);
    assert_eq!(param("date")["format"], "date");
    assert!(
        param("plate")["pattern"]
            .as_str()
            .unwrap()
            .starts_with("^[京")
    );
    let ok = &op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"];
    assert_eq!(ok, "#/components/schemas/AuditHearingPage");
    assert!(spec["paths"]["/api/v1/audit/hearings/{id}"]["get"].is_object());
    expect_error(
        app.get("/api/v1/audit/hearings/nope", Some(&auditor)).await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn a_hearing_names_its_staff_and_masks_the_citizen() {
    let w = crate::hearing::world().await;
    let app = &w.app;
    let h = w.open().await;
    let id = h["id"].as_str().unwrap();
    app.create_staff(Role::Auditor, "AS0005", None).await;
    let auditor = app.login_staff("AS0005").await;
    let d: Value = expect_json(
        app.get(&format!("/api/v1/audit/hearings/{id}"), Some(&auditor))
            .await,
        200,
    )
    .await;
    assert_eq!(d["hearing"]["id"], id);
    assert_eq!(d["hearing"]["status"], "open");
    assert_eq!(d["hearing"]["plate"], "鲁A12345");
    assert_eq!(d["hearing"]["officer"]["id"], w.officer_id.as_str());
    let officer = d["actors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["role"] == "officer")
        .unwrap_or_else(|| panic!("the officer among the actors: {d}"));
    assert_eq!(officer["id"], w.officer_id.as_str());
    assert_eq!(officer["name"], d["hearing"]["officer"]["name"]);
    assert!(officer["badge"].as_str().is_some_and(|b| !b.is_empty()));
    // The search finds it by its brigade; the summary read is in the access log.
    let p = page(app, &auditor, &format!("brigade_id={}", w.brigade)).await;
    assert_eq!(ids(p["items"].as_array().unwrap()), [id]);
    let reads: Vec<Value> = expect_json(
        app.get(
            &format!("/api/v1/audit/access?hearing_id={id}"),
            Some(&auditor),
        )
        .await,
        200,
    )
    .await;
    assert!(
        reads.iter().any(|r| r["action"] == "read_hearing"),
        "{reads:?}"
    );
    // No citizen's phone in the clear anywhere in the answer.
    assert!(!d.to_string().contains(&w.phone), "{d}");
    let masked = &w.phone[7..];
    for a in d["actors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["role"] == "citizen")
    {
        assert!(a["name"].is_null());
        assert!(a["phone_masked"].as_str().unwrap().ends_with(masked));
    }
}
