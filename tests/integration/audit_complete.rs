//! Issue 13 §1 and §5 end to end: `audit verify` refuses to run without a pinned key (exit 2,
//! one line) and trusts the bundle's own keys only with `--trust-bundle-keys` (a warning);
//! a closed hearing's chain ends with its terminal entry, so the bundle of a finished hearing
//! is `complete` and the same bundle with its tail cut, or an open hearing's, is `incomplete`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chrono::TimeDelta;
use remote_hearing::{audit::terminal::TERMINAL_STEP, clock::Clock, hearing::ports::SealedFile};
use serde_json::{Value, json};

use crate::hearing::{STEPS, World, body_of, world_with};

const BIN: &str = env!("CARGO_BIN_EXE_remote-hearing");
const INCOMPLETE: &str = "incomplete (hearing open or entries missing)";

fn vkey(w: &World) -> String {
    w.app.state.audit.signer.verifier().to_string()
}

async fn bundle(w: &World, id: &str) -> Value {
    let now = w.app.clock.now_ms();
    let b = w
        .app
        .state
        .audit
        .bundle(&w.app.state.db, id, None, now)
        .await
        .unwrap();
    serde_json::to_value(b).unwrap()
}

fn write(w: &World, name: &str, v: &Value) -> PathBuf {
    let p = w.app.data_dir.path().join(name);
    std::fs::write(&p, v.to_string()).unwrap();
    p
}

fn verify(path: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(["audit", "verify"])
        .arg(path)
        .args(args)
        .output()
        .unwrap()
}

fn report(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

async fn completed(w: &World) -> String {
    let id = w.open().await["id"].as_str().unwrap().to_string();
    for s in STEPS {
        w.ok_step(&id, body_of(s)).await;
    }
    id
}

#[tokio::test]
async fn a_finished_hearing_is_complete_and_its_cut_tail_is_not() {
    let w = world_with(|_| {}).await;
    let id = completed(&w).await;
    let b = bundle(&w, &id).await;
    let entries = b["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 12, "opened + 10 steps + terminal");
    let last = entries.last().unwrap();
    assert_eq!(last["step"], TERMINAL_STEP);
    assert_eq!(last["payload"]["outcome"], "completed");
    assert_eq!(last["payload"]["entries"], 11);
    let key = vkey(&w);
    let whole = write(&w, "whole.json", &b);
    let out = verify(&whole, &["--key", &key, "--json", "--require-complete"]);
    let r = report(&out);
    assert!(out.status.success(), "{r}");
    assert_eq!(r["complete"], true, "{r}");
    assert!(
        r["completeness"]
            .as_str()
            .unwrap()
            .starts_with("complete (outcome completed")
    );

    for cut in [1, 3] {
        let mut c = b.clone();
        let list = c["entries"].as_array_mut().unwrap();
        list.truncate(list.len() - cut);
        let p = write(&w, &format!("cut-{cut}.json"), &c);
        // What is left is genuine: every check passes, only completeness tells the cut.
        let out = verify(&p, &["--key", &key, "--json"]);
        let r = report(&out);
        assert!(out.status.success(), "{r}");
        assert_eq!(r["complete"], false, "{r}");
        assert!(
            r["completeness"].as_str().unwrap().starts_with(INCOMPLETE),
            "{r}"
        );
        let human = verify(&p, &["--key", &key]);
        let text = String::from_utf8_lossy(&human.stdout);
        assert!(
            text.contains(&format!("COMPLETENESS: {INCOMPLETE}")),
            "{text}"
        );
        let strict = verify(&p, &["--key", &key, "--require-complete"]);
        assert_eq!(strict.status.code(), Some(1));
    }
}

#[tokio::test]
async fn an_open_hearing_is_incomplete_and_a_no_show_is_complete() {
    let w = world_with(|_| {}).await;
    let open = w.open().await["id"].as_str().unwrap().to_string();
    let key = vkey(&w);
    let p = write(&w, "open.json", &bundle(&w, &open).await);
    let r = report(&verify(&p, &["--key", &key, "--json"]));
    assert_eq!(
        (r["ok"].clone(), r["complete"].clone()),
        (json!(true), json!(false)),
        "{r}"
    );

    // The same hearing closes as a no-show after the wait, the join code sent 10 minutes
    // before (issue 12 §5).
    w.send_code(&open).await;
    w.app.clock.advance(TimeDelta::minutes(21));
    let r = w
        .app
        .post(
            &format!("/api/v1/hearings/{open}/no-show"),
            Some(&w.officer),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let b = bundle(&w, &open).await;
    let last = b["entries"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["step"], TERMINAL_STEP);
    assert_eq!(last["payload"]["outcome"], "no_show");
    let p = write(&w, "no-show.json", &b);
    let r = report(&verify(&p, &["--key", &key, "--json"]));
    assert_eq!(r["complete"], true, "{r}");
}

#[tokio::test]
async fn recordings_sealed_after_the_close_are_followed_by_a_new_terminal_entry() {
    let w = world_with(|_| {}).await;
    let id = completed(&w).await;
    let files = [SealedFile {
        id: "rec-late".into(),
        sha256: [7; 32],
        bytes: 10,
    }];
    remote_hearing::hearing::lifecycle::seal_entry(&w.app.state, &id, &files, json!({}))
        .await
        .unwrap();
    let b = bundle(&w, &id).await;
    let steps: Vec<&str> = b["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        &steps[steps.len() - 3..],
        &[TERMINAL_STEP, "recordings_sealed", TERMINAL_STEP]
    );
    let p = write(&w, "late.json", &b);
    let r = report(&verify(&p, &["--key", &vkey(&w), "--json"]));
    assert_eq!(r["complete"], true, "{r}");
    assert_eq!(
        b["entries"].as_array().unwrap().last().unwrap()["payload"]["entries"],
        13
    );
}

#[tokio::test]
async fn verify_needs_a_pinned_key() {
    let w = world_with(|_| {}).await;
    let id = completed(&w).await;
    let p = write(&w, "b.json", &bundle(&w, &id).await);
    let key = vkey(&w);

    // No key anywhere: exit 2, one line, no report.
    let out = verify(&p, &["--json"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("no trusted key"), "{err}");
    assert!(out.stdout.is_empty());

    // The bundle's own keys only when asked, with a warning.
    let out = verify(&p, &["--trust-bundle-keys", "--json"]);
    assert!(out.status.success(), "{}", report(&out));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("warning: --trust-bundle-keys"));

    // A key file (comments and blank lines skipped).
    let kf = w.app.data_dir.path().join("keys.txt");
    std::fs::write(&kf, format!("# the log\n\n{key}\n")).unwrap();
    let out = verify(&p, &["--keys", kf.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", report(&out));
    assert!(out.stderr.is_empty());
    std::fs::write(&kf, "not a key\n").unwrap();
    let out = verify(&p, &["--keys", kf.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let out = verify(&p, &["--keys", "/nonexistent/keys.txt"]);
    assert_eq!(out.status.code(), Some(2));

    // The config's audit.trusted_keys: the right key verifies, another key fails.
    let cf = w.app.data_dir.path().join("verify.toml");
    std::fs::write(&cf, format!("[audit]\ntrusted_keys = [\"{key}\"]\n")).unwrap();
    let out = verify(&p, &["--config", cf.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", report(&out));
    let other = remote_hearing::audit::note::Signer::from_pkcs8(
        w.app.state.audit.origin(),
        &remote_hearing::audit::note::Signer::generate_pkcs8().unwrap(),
    )
    .unwrap();
    std::fs::write(
        &cf,
        format!("[audit]\ntrusted_keys = [\"{}\"]\n", other.verifier()),
    )
    .unwrap();
    let out = verify(&p, &["--config", cf.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", report(&out));
    // A pinned key wins over --trust-bundle-keys: the bundle's keys are not added.
    let out = verify(
        &p,
        &[
            "--key",
            &other.verifier().to_string(),
            "--trust-bundle-keys",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
}
