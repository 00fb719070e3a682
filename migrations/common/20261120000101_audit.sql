-- The signed audit log (src/audit/store.rs). Hashes are lowercase hex, times unix ms.
-- One row: the tree size and the hashes of its peaks; appends update it first (the lock).
CREATE TABLE audit_log_state (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    size BIGINT NOT NULL,
    frontier TEXT NOT NULL
);
INSERT INTO audit_log_state (id, size, frontier) VALUES (1, 0, '');

CREATE TABLE audit_entries (
    seq BIGINT PRIMARY KEY,
    hearing_id TEXT NOT NULL,
    hearing_seq BIGINT NOT NULL,
    step TEXT NOT NULL,
    at BIGINT NOT NULL,
    actor_role TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    leaf_hex TEXT NOT NULL,
    leaf_hash TEXT NOT NULL,
    payload TEXT NOT NULL,
    CONSTRAINT audit_entries_hearing_seq_key UNIQUE (hearing_id, hearing_seq)
);

-- Hash of the perfect subtree over leaves [idx * 2^level, (idx + 1) * 2^level).
CREATE TABLE audit_nodes (
    level BIGINT NOT NULL,
    idx BIGINT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (level, idx)
);

CREATE TABLE audit_checkpoints (
    size BIGINT NOT NULL,
    root TEXT NOT NULL,
    note TEXT NOT NULL,
    key_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT audit_checkpoints_size_key UNIQUE (size, key_id)
);

CREATE TABLE audit_keys (
    vkey TEXT NOT NULL,
    from_size BIGINT NOT NULL,
    to_size BIGINT,
    created_at BIGINT NOT NULL,
    CONSTRAINT audit_keys_vkey_key UNIQUE (vkey)
);
