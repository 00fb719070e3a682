//! HTTP tests of the witness: status codes and bodies per c2sp.org/tlog-witness, the state
//! surviving a restart, concurrent submissions.
use super::*;
use crate::audit::{
    cosign::cosignatures,
    merkle::{prove_consistency, tree_root},
};
use crate::witness::request::tests::{SPEC_REQUEST, body, log_signer, tree};
use axum::body::Body;
use axum::http::Request;
use tower::ServiceExt as _;

async fn witness(dir: &std::path::Path) -> Shared {
    let cosigner = Cosigner::from_seed("witness.example/w1", &[5u8; 32]).unwrap();
    let logs = Logs::parse(&[log_signer().verifier().to_string()]).unwrap();
    Arc::new(Witness {
        cosigner,
        logs,
        state: State::open(dir).await.unwrap(),
    })
}

async fn post(w: &Shared, body: impl Into<Body>) -> (StatusCode, Option<String>, String) {
    let res = router(w.clone())
        .oneshot(Request::post("/add-checkpoint").body(body.into()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let ct = res
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string());
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, ct, String::from_utf8(bytes.to_vec()).unwrap())
}

#[tokio::test]
async fn spec_request_example_gets_the_spec_statuses() {
    let dir = tempfile::tempdir().unwrap();
    // Same origin, but our key for it is not among its signatures: 403.
    let w = witness(dir.path()).await;
    assert_eq!(log_signer().name(), "example.com/behind-the-sofa");
    let (s, _, _) = post(&w, SPEC_REQUEST).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // A witness that does not follow that origin: 404.
    let other = crate::audit::note::Signer::from_seed("other.example/log", &[6u8; 32]).unwrap();
    let w2 = Arc::new(Witness {
        cosigner: Cosigner::from_seed("w2", &[6u8; 32]).unwrap(),
        logs: Logs::parse(&[other.verifier().to_string()]).unwrap(),
        state: State::open(&dir.path().join("b")).await.unwrap(),
    });
    let (s, _, _) = post(&w2, SPEC_REQUEST).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Over 64 KiB: 413; garbage: 400.
    let (s, _, _) = post(&w, vec![b'a'; MAX_BODY + 1]).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    let (s, _, _) = post(&w, "hello").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn cosigns_in_order_and_remembers_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let s = log_signer();
    let t = tree(30);
    let r = |n| tree_root(&t, n).unwrap();
    let w = witness(dir.path()).await;
    let v = w.cosigner.verifier().clone();

    let (st, _, text) = post(&w, body(0, &[], 7, r(7), &s)).await;
    assert_eq!(st, StatusCode::OK, "{text}");
    assert!(text.starts_with("\u{2014} witness.example/w1 ") && text.ends_with('\n'));
    let note = body(0, &[], 7, r(7), &s)
        .split_once("\n\n")
        .unwrap()
        .1
        .to_string();
    let got = cosignatures(&format!("{note}{text}"), std::slice::from_ref(&v)).unwrap();
    assert_eq!(got.len(), 1);
    assert!(got[0].timestamp > 1_600_000_000);

    // The monitoring read serves it with both signatures.
    let hash = hex::encode(digest(&SHA256, s.name().as_bytes()));
    let res = router(w.clone())
        .oneshot(
            Request::get(format!("/{hash}/checkpoint"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let served = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    assert_eq!(
        String::from_utf8(served.to_vec()).unwrap(),
        format!("{note}{text}")
    );

    drop(w);
    let w = witness(dir.path()).await;
    // After the restart it still is at 7: old 0 gets 409 with "7\n" as text/x.tlog.size.
    let (st, ct, text) = post(&w, body(0, &[], 20, r(20), &s)).await;
    assert_eq!(
        (st, ct.as_deref(), text.as_str()),
        (StatusCode::CONFLICT, Some("text/x.tlog.size"), "7\n")
    );
    // A smaller tree after the larger one: refused (400, old > size).
    let (st, _, _) = post(&w, body(7, &[], 5, r(5), &s)).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    // A fork at the same size: 422.
    let (st, _, _) = post(&w, body(7, &[], 7, r(6), &s)).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    // A bad proof: 422; the right one: 200.
    let proof = prove_consistency(&t, 7, 20).unwrap();
    let (st, _, _) = post(&w, body(7, &proof[1..], 20, r(20), &s)).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, _, _) = post(&w, body(7, &proof, 20, r(20), &s)).await;
    assert_eq!(st, StatusCode::OK);

    // Racing submissions from the same old size: exactly one wins, the other gets 409.
    let p25 = prove_consistency(&t, 20, 25).unwrap();
    let p30 = prove_consistency(&t, 20, 30).unwrap();
    let (a, b) = tokio::join!(
        post(&w, body(20, &p25, 25, r(25), &s)),
        post(&w, body(20, &p30, 30, r(30), &s))
    );
    let mut codes = [a.0, b.0];
    codes.sort();
    assert_eq!(codes, [StatusCode::OK, StatusCode::CONFLICT]);
}
