-- Decisions written back to the system of record (issue 16): one row per decision made on facts
-- from the record, inserted in the decision's transaction; the decision number is the
-- idempotency key the platform dedupes on. `rejected` (with the platform's reason) is final.
CREATE TABLE records_outbox (
    decision_no TEXT PRIMARY KEY,
    hearing_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'rejected')),
    reason TEXT,
    last_error TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX records_outbox_due ON records_outbox(status, next_attempt_at);
CREATE INDEX records_outbox_hearing ON records_outbox(hearing_id);
