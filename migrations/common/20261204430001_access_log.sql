-- Who looked at what (issue 15 §4): one row per staff read of a hearing, its decision,
-- transcript, party, proof of service, recordings, evidence or bundle. Append-only: written only
-- by src/hearing/reads/store.rs:record, in the same transaction as the `access` audit entry
-- (chain `access-log`) whose global index is `audit_seq`, so the signed log covers every row.
CREATE TABLE access_log (
    id TEXT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor_role TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    action TEXT NOT NULL,
    object TEXT NOT NULL,
    hearing_id TEXT,
    ip TEXT NOT NULL,
    audit_seq BIGINT NOT NULL
);
CREATE INDEX access_log_hearing ON access_log(hearing_id, at);
CREATE INDEX access_log_actor ON access_log(actor_id, at);
CREATE INDEX access_log_at ON access_log(at);
