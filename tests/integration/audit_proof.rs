//! Issue 13 §4 on the server: `GET /api/v1/hearings/{id}/proof` serves the hearing's citizen
//! (and nobody else) its proof file, a bundle that `audit verify` accepts as complete, proving
//! to the checkpoint covering the hearing that witnesses cosigned rather than to a newer one
//! not cosigned yet; `GET /api/v1/audit/witnesses` publishes the witnesses' keys and quorum.

use std::process::Command;

use remote_hearing::clock::Clock;
use serde_json::{Value, json};

use crate::{
    audit::{append, new_entry},
    hearing::{STEPS, World, body_of, world_with},
};

const BIN: &str = env!("CARGO_BIN_EXE_remote-hearing");
const W1: &str = "court.example/w1";

async fn completed(w: &World) -> String {
    let id = w.open().await["id"].as_str().unwrap().to_string();
    for s in STEPS {
        w.ok_step(&id, body_of(s)).await;
    }
    id
}

fn checkpoint_size(b: &Value) -> u64 {
    b["checkpoint"]
        .as_str()
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn the_citizen_downloads_the_proof_of_their_hearing_and_nobody_else_does() {
    let w1 = remote_hearing::audit::cosign::Cosigner::from_seed(W1, &[5u8; 32]).unwrap();
    let w1_vkey = w1.verifier().to_string();
    let cfg_vkey = w1_vkey.clone();
    let w = world_with(move |c| {
        c.audit.witnesses = vec![
            serde_json::from_value(
                json!({"name": W1, "vkey": cfg_vkey, "url": "http://127.0.0.1:9"}),
            )
            .unwrap(),
        ];
        c.audit.witness_quorum = Some(5);
    })
    .await;
    // The published witnesses (public, no session): the quorum is at most their number.
    let pub_w: Value = w.app.get_json("/api/v1/audit/witnesses", None).await;
    assert_eq!(
        pub_w,
        json!({"witnesses": [{"name": W1, "vkey": w1_vkey}], "quorum": 1})
    );

    let id = completed(&w).await;
    let path = format!("/api/v1/hearings/{id}/proof");
    let r = w.app.get(&path, Some(&w.citizen)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let cd = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        cd.starts_with("attachment;") && cd.contains(&format!("proof-{id}.json")),
        "{cd}"
    );
    let proof: Value = r.json().await.unwrap();
    assert_eq!(proof["hearing_id"], id.as_str());
    assert_eq!(
        proof["entries"].as_array().unwrap().last().unwrap()["step"],
        "hearing_closed"
    );

    // Nobody else: another citizen and a made-up id are 404, staff 403, no session 401.
    let (stranger, _) = w.app.login_citizen("13900000077").await;
    assert_eq!(w.app.get(&path, Some(&stranger)).await.status(), 404);
    assert_eq!(
        w.app
            .get("/api/v1/hearings/nope/proof", Some(&w.citizen))
            .await
            .status(),
        404
    );
    let long = format!("/api/v1/hearings/{}/proof", "x".repeat(200));
    assert_eq!(w.app.get(&long, Some(&w.citizen)).await.status(), 404);
    assert_eq!(w.app.get(&path, Some(&w.officer)).await.status(), 403);
    assert_eq!(w.app.get(&path, None).await.status(), 401);

    // The file verifies, complete, with the log's key pinned.
    let file = w.app.data_dir.path().join("proof.json");
    std::fs::write(&file, serde_json::to_vec(&proof).unwrap()).unwrap();
    let key = w.app.state.audit.signer.verifier().to_string();
    let out = Command::new(BIN)
        .args(["audit", "verify"])
        .arg(&file)
        .args(["--key", &key, "--require-complete", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // A cosignature of the checkpoint the proof proves to (stored as the witnessing job would,
    // after checking it), then more entries and a newer checkpoint nobody cosigned: the proof
    // stays on the witnessed one and carries the cosignature; the auditor's bundle moves on.
    let size = checkpoint_size(&proof);
    let body = proof["checkpoint"]
        .as_str()
        .unwrap()
        .split("\n\n")
        .next()
        .unwrap()
        .to_string()
        + "\n";
    let line = w1.cosign(&body, 1_790_000_000).unwrap();
    let root: String = sqlx::query_scalar("SELECT root FROM audit_checkpoints WHERE size = $1")
        .bind(size as i64)
        .fetch_one(&w.app.state.db.read)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO audit_cosignatures (witness, key_id, size, root, cosigned_at, line, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(W1)
    .bind(hex::encode(w1.verifier().key_id))
    .bind(size as i64)
    .bind(&root)
    .bind(1_790_000_000_i64)
    .bind(&line)
    .bind(0_i64)
    .execute(&w.app.state.db.write)
    .await
    .unwrap();
    for i in 0..3 {
        append(
            &w.app.state.db,
            new_entry(&format!("other-{i}"), "opened", 0, json!({})),
        )
        .await;
    }
    let later = w
        .app
        .state
        .audit
        .sign_checkpoint(&w.app.state.db, w.app.clock.now_ms())
        .await
        .unwrap();
    assert!(
        later.size > size,
        "a newer checkpoint ({} > {size})",
        later.size
    );
    let again: Value = w
        .app
        .get(&path, Some(&w.citizen))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        checkpoint_size(&again),
        size,
        "the witnessed checkpoint, not the newest"
    );
    assert!(again["checkpoint"].as_str().unwrap().contains(&line));
    let auditor_view = w
        .app
        .state
        .audit
        .bundle(&w.app.state.db, &id, None, w.app.clock.now_ms())
        .await
        .unwrap();
    assert_eq!(
        auditor_view.checkpoint.lines().nth(1).unwrap(),
        later.size.to_string()
    );
    // With the witness required, the proof file passes `audit verify --witness`.
    std::fs::write(&file, serde_json::to_vec(&again).unwrap()).unwrap();
    let out = Command::new(BIN)
        .args(["audit", "verify"])
        .arg(&file)
        .args(["--key", &key, "--witness", &w1_vkey, "--quorum", "1"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
