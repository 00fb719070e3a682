-- The citizen's device and network self-test (issue 14 §3): one row per result the page sent for
-- a booking, newest read first by the officer's view of the waiting citizen. `report` is the
-- measured figures as JSON (src/call/selftest/score.rs: SelfTestReport); `score` is the server's
-- Good / Okay / Bad of it, `advice` its reasons (JSON array of codes).
CREATE TABLE selftests (
    id TEXT PRIMARY KEY,
    booking_id TEXT NOT NULL,
    citizen_id TEXT NOT NULL,
    at BIGINT NOT NULL,
    score TEXT NOT NULL,
    advice TEXT NOT NULL,
    report TEXT NOT NULL
);
CREATE INDEX selftests_booking ON selftests(booking_id, at);
