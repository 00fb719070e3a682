-- Witness cosignatures (c2sp.org/tlog-cosignature v1) of the log's checkpoints, each checked
-- against the configured witness key before it is stored (src/audit/witnessing.rs).
CREATE TABLE audit_cosignatures (
    witness TEXT NOT NULL,
    key_id TEXT NOT NULL,
    size BIGINT NOT NULL,
    root TEXT NOT NULL,
    cosigned_at BIGINT NOT NULL,
    line TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (witness, key_id, size)
);
CREATE INDEX audit_cosignatures_size ON audit_cosignatures (size);
