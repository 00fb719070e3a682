-- Hearings: the legal procedure of one booking, its accepted steps and lifecycle events, and the
-- served decision document. Times are unix milliseconds. `booking_id` has no foreign key so that
-- this migration does not depend on the booking migration's order.
CREATE TABLE hearings (
    id TEXT PRIMARY KEY,
    booking_id TEXT NOT NULL,
    brigade_id TEXT NOT NULL REFERENCES brigades(id),
    citizen_id TEXT NOT NULL REFERENCES citizens(id),
    officer_id TEXT NOT NULL REFERENCES staff(id),
    phone TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'in_call', 'completed', 'referred', 'no_show', 'interrupted')),
    last_step TEXT,
    outcome TEXT,
    citizen_joined_at BIGINT,
    slot_start BIGINT NOT NULL,
    opened_at BIGINT NOT NULL,
    closed_at BIGINT,
    updated_at BIGINT NOT NULL
);
-- One live hearing per booking; maps to `hearing_exists`.
CREATE UNIQUE INDEX hearings_one_live_per_booking ON hearings(booking_id) WHERE status IN ('open', 'in_call', 'interrupted');
CREATE INDEX hearings_booking ON hearings(booking_id);
CREATE INDEX hearings_brigade_status ON hearings(brigade_id, status);

-- Accepted legal steps (kind 'step') and lifecycle events (kind 'event': opened, interrupted,
-- resumed, no_show, recordings_sealed), in order.
CREATE TABLE hearing_steps (
    hearing_id TEXT NOT NULL REFERENCES hearings(id),
    idx BIGINT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('step', 'event')),
    step TEXT NOT NULL,
    at BIGINT NOT NULL,
    by_role TEXT NOT NULL,
    by_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    both_connected BIGINT NOT NULL DEFAULT 0,
    audit_seq BIGINT,
    PRIMARY KEY (hearing_id, idx)
);
CREATE UNIQUE INDEX hearing_steps_once ON hearing_steps(hearing_id, step) WHERE kind = 'step';

CREATE TABLE hearing_decisions (
    hearing_id TEXT PRIMARY KEY REFERENCES hearings(id),
    decision_no TEXT NOT NULL,
    year BIGINT NOT NULL,
    fields TEXT NOT NULL,
    html TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    CONSTRAINT hearing_decisions_no_key UNIQUE (decision_no)
);
