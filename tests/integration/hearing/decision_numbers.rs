//! Decision numbers unique per brigade and year under concurrent issue, and the OpenAPI
//! description of the decision (the PDF, the notice's per-record facts).

use serde_json::{Value, json};

use super::{STEPS, World, body_of, decision::up_to_service, world};
use crate::helpers::TestApp;

/// A second citizen, booking and officer in the world's brigade: a world of its own sharing
/// the app.
async fn second_in_brigade(w: &World, brigade: &str, badge: &str, phone: &str) -> (String, String) {
    use remote_hearing::identity::Role;
    let phone = phone.to_string();
    let (citizen, citizen_id) = w.app.login_citizen(&phone).await;
    let booking = super::insert_booking(&w.app, brigade, &citizen_id, &phone, 10).await;
    w.app
        .create_staff(Role::Officer, badge, Some(brigade))
        .await;
    let officer = w.app.login_staff(badge).await;
    let r = w.app.open_hearing(&officer, &booking).await;
    assert_eq!(r.status(), 201, "open");
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    w.app
        .post(
            &format!("/api/v1/hearings/{id}/sms-code"),
            Some(&officer),
            json!({}),
        )
        .await;
    let code = w.app.outbox_code(&phone).unwrap();
    let r = w
        .app
        .post(
            "/api/v1/hearings/join",
            Some(&citizen),
            json!({"hearing_id": id, "code": code}),
        )
        .await;
    assert_eq!(r.status(), 200, "join");
    for s in STEPS.iter().take_while(|s| **s != "service") {
        let token = if super::is_citizen_step(s) {
            &citizen
        } else {
            &officer
        };
        let body = if *s == "identity" {
            crate::evidence::identity_body(&w.app, &citizen, &officer, &id).await
        } else {
            body_of(s)
        };
        let r = w.step(&id, token, body).await;
        assert_eq!(r.status(), 200, "{s}");
    }
    (id, officer)
}

async fn number(app: &TestApp, hearing: &str, token: &str) -> String {
    let j: Value = app
        .get_json(
            &format!("/api/v1/hearings/{hearing}/decision?format=json"),
            Some(token),
        )
        .await;
    j["decision_no"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn numbers_are_per_brigade_and_year_and_never_collide() {
    // Two hearings of one brigade served at the same time, then one of another brigade.
    let w = world().await;
    let h1 = up_to_service(&w).await;
    let (h2, officer2) = second_in_brigade(&w, &w.brigade, "o-dec-2", "13922220000").await;
    let (r1, r2) = tokio::join!(
        w.step(&h1, &w.officer, body_of("service")),
        w.step(&h2, &officer2, body_of("service")),
    );
    assert_eq!((r1.status().as_u16(), r2.status().as_u16()), (200, 200));
    let mut a = vec![
        number(&w.app, &h1, &w.officer).await,
        number(&w.app, &h2, &officer2).await,
    ];
    a.sort();
    assert!(
        a[0].ends_with("第000001号") && a[1].ends_with("第000002号"),
        "{a:?}"
    );
    assert_ne!(a[0], a[1]);
    // Another brigade's first decision of the year is its number 1.
    let other = w.app.create_brigade(4).await;
    let (hb, officer_b) = second_in_brigade(&w, &other, "o-dec-3", "13922220001").await;
    let r = w.step(&hb, &officer_b, body_of("service")).await;
    assert_eq!(r.status(), 200);
    let nb = number(&w.app, &hb, &officer_b).await;
    assert!(nb.ends_with("第000001号") && !a.contains(&nb), "{nb}");
}

#[tokio::test]
async fn the_openapi_describes_the_pdf_and_every_reference_resolves() {
    let app = TestApp::spawn().await;
    let spec: Value = app.get_json("/api/v1/openapi.json", None).await;
    let ok = &spec["paths"]["/api/v1/hearings/{id}/decision"]["get"]["responses"]["200"]["content"];
    assert!(ok.get("application/pdf").is_some(), "{ok}");
    let notice = &spec["components"]["schemas"]["NoticeFields"]["properties"]["records"];
    assert_eq!(notice["items"]["$ref"], "#/components/schemas/RecordFact");
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r.clone());
                }
                m.values().for_each(|x| refs(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&spec, &mut all);
    for r in all {
        let name = r.trim_start_matches("#/components/schemas/");
        assert!(
            spec["components"]["schemas"].get(name).is_some(),
            "dangling {r}"
        );
    }
}
