//! The pages' cookie mode (issue 15 §2, `identity::cookie`): a login asked for in cookie mode
//! keeps the token out of the body and in an HttpOnly SameSite=Strict cookie; the cookie counts
//! only with the scope header, writes need the CSRF token, a logout clears the cookies and ends
//! the session; Bearer is unchanged for API clients.

use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::{Value, json};

use crate::helpers::TestApp;
use remote_hearing::identity::Role;

fn cookies(r: &reqwest::Response) -> Vec<String> {
    r.headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

fn value_of(set: &[String], name: &str) -> String {
    let c = set
        .iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap();
    c.split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_string()
}

#[tokio::test]
async fn staff_in_cookie_mode_never_see_the_token_and_writes_need_the_csrf_token() {
    let app = TestApp::spawn().await;
    app.create_staff(Role::Admin, "CK1-A-LONG-BADGE-FOR-THE-QR-CODE", None)
        .await;
    let login = app
        .client
        .post(app.url("/api/v1/auth/officer"))
        .header("X-Session-Mode", "cookie")
        .header("X-Session", "staff")
        .json(&json!({"badge": "CK1-A-LONG-BADGE-FOR-THE-QR-CODE", "password": crate::helpers::staff_password("CK1-A-LONG-BADGE-FOR-THE-QR-CODE")}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let set = cookies(&login);
    let body: Value = login.json().await.unwrap();
    assert_eq!(body["token"], "", "the token is not in the body: {body}");
    assert_eq!(body["session"], "cookie");
    let session = set.iter().find(|c| c.starts_with("rh_s_staff=")).unwrap();
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Strict"),
        "{session}"
    );
    let csrf_cookie = set.iter().find(|c| c.starts_with("rh_c_staff=")).unwrap();
    assert!(
        !csrf_cookie.contains("HttpOnly"),
        "the page reads the CSRF cookie"
    );
    let (tok, csrf) = (value_of(&set, "rh_s_staff"), value_of(&set, "rh_c_staff"));
    assert_eq!(body["csrf"], csrf.as_str());
    let jar = format!("rh_s_staff={tok}; rh_c_staff={csrf}");
    let get = |scope: Option<&str>| {
        let mut r = app
            .client
            .get(app.url("/api/v1/auth/me"))
            .header(COOKIE, &jar);
        if let Some(s) = scope {
            r = r.header("X-Session", s);
        }
        r.send()
    };
    // The cookie alone (what a cross-site request carries) is no session; with the header it is.
    assert_eq!(get(None).await.unwrap().status(), 401);
    assert_eq!(get(Some("citizen")).await.unwrap().status(), 401);
    let me: Value = get(Some("staff")).await.unwrap().json().await.unwrap();
    assert_eq!(me["role"], "admin", "{me}");
    // A write without the CSRF token, or with another, is 403 csrf_failed; with it, it goes.
    let write = |token: Option<&str>| {
        let mut r = app
            .client
            .post(app.url("/api/v1/admin/retention/run"))
            .header(COOKIE, &jar)
            .header("X-Session", "staff")
            .json(&json!({}));
        if let Some(t) = token {
            r = r.header("X-CSRF-Token", t);
        }
        r.send()
    };
    for bad in [None, Some("0000")] {
        let r = write(bad).await.unwrap();
        assert_eq!(r.status(), 403);
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"]["code"], "csrf_failed", "{e}");
    }
    assert_eq!(write(Some(&csrf)).await.unwrap().status(), 200);
    // A page's write in cookie mode: the cookies, the session header and the CSRF token.
    let cookie_post = |path: &str| {
        app.client
            .post(app.url(path))
            .header(COOKIE, &jar)
            .header("X-Session", "staff")
            .header("X-Session-Mode", "cookie")
            .header("X-CSRF-Token", &csrf)
    };
    // Other answers under /auth/ pass whole, however large (a TOTP enrolment's QR code).
    let enrol = cookie_post("/api/v1/auth/totp/enroll")
        .send()
        .await
        .unwrap();
    assert_eq!(enrol.status(), 200);
    let setup: Value = enrol.json().await.unwrap();
    let svg = setup["qr_svg"].as_str().unwrap();
    eprintln!("qr_svg: {} bytes", svg.len());
    assert!(
        svg.len() > 16 * 1024,
        "a QR code bigger than a sign-in answer: {} bytes",
        svg.len()
    );
    assert!(setup.get("csrf").is_none(), "not a sign-in answer");
    // Logout in cookie mode clears both cookies and ends the session.
    let out = cookie_post("/api/v1/auth/logout").send().await.unwrap();
    assert!(out.status().is_success(), "{}", out.status());
    let cleared = cookies(&out);
    assert!(
        cleared
            .iter()
            .any(|c| c.starts_with("rh_s_staff=;") && c.contains("Max-Age=0")),
        "{cleared:?}"
    );
    assert_eq!(get(Some("staff")).await.unwrap().status(), 401);
    // Bearer, as before.
    let bearer = app.login_staff("CK1-A-LONG-BADGE-FOR-THE-QR-CODE").await;
    assert!(!bearer.is_empty());
    assert_eq!(
        app.get("/api/v1/auth/me", Some(&bearer)).await.status(),
        200
    );
}
