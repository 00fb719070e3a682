//! Inputs at the edge of the contract (issue 20, finding 8): bad path and query values answer
//! our JSON error shape, the `Bearer` scheme is case-insensitive (RFC 9110), a WebSocket frame
//! far over the limit closes with 1009 instead of dropping the connection, and a plain GET on the
//! WebSocket route answers JSON.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use remote_hearing::identity::Role;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{TestApp, expect_error};

const T: Duration = Duration::from_secs(10);

async fn auditor(app: &TestApp) -> String {
    app.create_staff(Role::Auditor, "8800001", None).await;
    app.login_staff("8800001").await
}

#[tokio::test]
async fn bad_path_and_query_values_answer_json_errors() {
    let app = TestApp::spawn().await;
    let token = auditor(&app).await;
    for (path, field) in [
        ("/api/v1/audit/entries/-1/proof", "seq"),
        ("/api/v1/audit/entries/abc/proof", "seq"),
        ("/api/v1/audit/entries/99999999999999999999999/proof", "seq"),
        ("/api/v1/audit/entries/0/proof?tree_size=-1", "tree_size"),
        ("/api/v1/audit/entries?from=-1", "from"),
        ("/api/v1/audit/entries?limit=abc", "limit"),
        ("/api/v1/audit/consistency", "from"),
        ("/api/v1/audit/consistency?from=x", "from"),
        (
            "/api/v1/audit/hearings/h1/bundle?consistency_from=-5",
            "consistency_from",
        ),
    ] {
        let r = app.get(path, Some(&token)).await;
        assert_eq!(
            r.headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/json"),
            "{path}"
        );
        let body = expect_error(r, 422, "invalid_field").await;
        assert_eq!(body["error"]["field"], field, "{path}: {body}");
    }
    // Path segments that are not UTF-8 once decoded.
    let r = app.get("/api/v1/bookings/%FF%FE", Some(&token)).await;
    let body = expect_error(r, 400, "bad_path").await;
    assert_eq!(body["error"]["field"], "id", "{body}");
}

#[tokio::test]
async fn bearer_scheme_is_case_insensitive() {
    let app = TestApp::spawn().await;
    let token = auditor(&app).await;
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let r = app
            .client
            .get(app.url("/api/v1/auth/me"))
            .header("authorization", format!("{scheme} {token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "scheme {scheme}");
    }
    // Several spaces between scheme and token (RFC 9110: 1*SP).
    let r = app
        .client
        .get(app.url("/api/v1/auth/me"))
        .header("authorization", format!("bearer   {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Another scheme is not a bearer token.
    let r = app
        .client
        .get(app.url("/api/v1/auth/me"))
        .header("authorization", format!("Basic {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

/// Reads until the close frame; its code, or 0 if the connection ended without one.
async fn close_code(
    rx: &mut (impl StreamExt<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin),
) -> u16 {
    loop {
        match tokio::time::timeout(T, rx.next()).await.expect("in time") {
            Some(Ok(Message::Close(Some(c)))) => return u16::from(c.code),
            Some(Ok(Message::Close(None))) | None | Some(Err(_)) => return 0,
            Some(Ok(_)) => continue,
        }
    }
}

#[tokio::test]
async fn websocket_frames_of_any_size_over_the_limit_close_1009() {
    let app = TestApp::spawn().await;
    for size in [70 * 1024, 2 * 1024 * 1024, 8 * 1024 * 1024] {
        let url = format!("ws://{}/ws/hearings/h-big", app.addr);
        let (ws, _) = tokio::time::timeout(T, tokio_tungstenite::connect_async(url))
            .await
            .unwrap()
            .unwrap();
        let (mut tx, mut rx) = ws.split();
        // The server may stop reading mid-frame: send in the background, read the close here.
        let sender = tokio::spawn(async move {
            let _ = tx.send(Message::Text("x".repeat(size).into())).await;
            tx
        });
        assert_eq!(close_code(&mut rx).await, 1009, "a {size}-byte frame");
        let _ = sender.await;
    }
}

#[tokio::test]
async fn a_plain_get_on_the_websocket_route_answers_json() {
    let app = TestApp::spawn().await;
    let r = app.get("/ws/hearings/h1", None).await;
    assert!(r.status().is_client_error(), "{}", r.status());
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "websocket_required", "{body}");
}

/// The OpenAPI document declares the bearer scheme exactly on the operations that need a session:
/// each of them answers 401 without a token, and documents 401 and 403.
#[tokio::test]
async fn openapi_security_matches_the_routes() {
    let app = TestApp::spawn().await;
    let spec: Value = app.get_json("/api/v1/openapi.json", None).await;
    assert_eq!(
        spec["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let mut checked = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let url = app.url(&path.replace('{', "x").replace('}', ""));
            let req = match method.as_str() {
                "get" => app.client.get(&url),
                "post" => app.client.post(&url),
                "put" => app.client.put(&url),
                "patch" => app.client.patch(&url),
                "delete" => app.client.delete(&url),
                _ => continue,
            };
            let status = req
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap()
                .status()
                .as_u16();
            let secured = op["security"].is_array();
            assert_eq!(secured, status == 401, "{method} {path}: {status}");
            if secured {
                for code in ["401", "403", "503"] {
                    assert!(op["responses"][code].is_object(), "{method} {path} {code}");
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 40, "{checked}");
}
