//! The systemd unit in `deploy/` (issue 15 §6): `systemd-analyze verify` accepts it (with the
//! built binary in `ExecStart`), and it keeps its sandbox: a dedicated user, a read-only system,
//! no new privileges, no capabilities. systemd itself is not running in the test machine, so the
//! unit is checked, not started; where `systemd-analyze` is missing the test says so and passes
//! only outside CI (`RH_NETNS_TESTS=require`, set by `.ci/run`, makes it required).

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_remote-hearing");
const UNIT: &str = include_str!("../../deploy/remote-hearing.service");

#[test]
fn the_systemd_unit_verifies_and_keeps_its_sandbox() {
    for line in [
        "User=remote-hearing",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "CapabilityBoundingSet=",
        "PrivateTmp=yes",
        "ProtectHome=yes",
        "StateDirectory=remote-hearing",
        "ReadWritePaths=/srv/remote-hearing/recordings",
        "ExecStart=/usr/local/bin/remote-hearing serve --config /etc/remote-hearing/config.toml",
    ] {
        assert!(UNIT.lines().any(|l| l == line), "missing {line:?}");
    }
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        let required = std::env::var("RH_NETNS_TESTS").as_deref() == Ok("require");
        assert!(
            !required,
            "systemd-analyze is missing (apt-get install systemd)"
        );
        eprintln!("systemd-analyze missing: the unit's syntax was not checked");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let unit = dir.path().join("remote-hearing.service");
    std::fs::write(&unit, UNIT.replace("/usr/local/bin/remote-hearing", BIN)).unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit)
        .output()
        .unwrap();
    let said =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "systemd-analyze verify: {said}");
    assert!(said.trim().is_empty(), "warnings: {said}");
    // A unit naming a binary that does not exist is refused: the check is real.
    std::fs::write(
        &unit,
        UNIT.replace("/usr/local/bin/remote-hearing", "/nonexistent/rh"),
    )
    .unwrap();
    let bad = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit)
        .output()
        .unwrap();
    assert!(!bad.status.success());
}
