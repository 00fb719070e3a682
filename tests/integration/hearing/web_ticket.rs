//! The mini program's one-time web ticket (issue 19 §1): minted for the hearing's own citizen
//! only, redeemed once for a session of the H5 page's own, refused when reused or expired.

use chrono::TimeDelta;
use serde_json::{Value, json};

use super::world;
use crate::helpers::expect_error;

#[tokio::test]
async fn a_web_ticket_is_the_citizens_own_and_works_once() {
    let w = world().await;
    let id = w.open().await["id"].as_str().unwrap().to_string();
    let app = &w.app;
    let mint = format!("/api/v1/hearings/{id}/web-ticket");
    // Only the hearing's citizen: another citizen 404, the officer 403, nobody 401.
    let (stranger, _) = app.login_citizen("13900000077").await;
    expect_error(
        app.post(&mint, Some(&stranger), json!({})).await,
        404,
        "not_found",
    )
    .await;
    expect_error(
        app.post(&mint, Some(&w.officer), json!({})).await,
        403,
        "forbidden",
    )
    .await;
    assert_eq!(app.post(&mint, None, json!({})).await.status(), 401);

    let t: Value = app.post_json(&mint, Some(&w.citizen), json!({})).await;
    let ticket = t["ticket"].as_str().unwrap();
    assert_eq!(ticket.len(), 64);
    assert_eq!(t["hearing_id"], id.as_str());
    let redeem =
        |ticket: &str| app.post("/api/v1/auth/web-ticket", None, json!({"ticket": ticket}));
    let r = redeem(ticket).await;
    assert_eq!(r.status(), 200);
    let s: Value = r.json().await.unwrap();
    assert_eq!(s["hearing_id"], id.as_str());
    let token = s["token"].as_str().unwrap();
    assert_ne!(token, w.citizen, "a session of its own");
    // The new session is the same citizen: it reads the hearing.
    assert_eq!(
        app.get(&format!("/api/v1/hearings/{id}"), Some(token))
            .await
            .status(),
        200
    );
    // Used once: refused the second time, like a malformed one.
    expect_error(redeem(ticket).await, 401, "ticket_invalid").await;
    expect_error(redeem("not-a-ticket").await, 401, "ticket_invalid").await;

    // Expired: past its 60 s on the server's clock.
    let t: Value = app.post_json(&mint, Some(&w.citizen), json!({})).await;
    app.clock.advance(TimeDelta::seconds(61));
    expect_error(
        redeem(t["ticket"].as_str().unwrap()).await,
        401,
        "ticket_invalid",
    )
    .await;
}
