-- Master-key rotation (docs/operations.md "Rotating the master key"): which master key wrapped
-- each hearing key (NULL: wrapped before this column existed, by the key in use then), and the
-- master key the data directory is under now (one row; a process holding another refuses to
-- start or to draw keys, so no key is wrapped under a retired master).
ALTER TABLE hearing_keys ADD COLUMN master_id TEXT;

CREATE TABLE storage_master (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    master_id TEXT NOT NULL,
    since BIGINT NOT NULL
);
