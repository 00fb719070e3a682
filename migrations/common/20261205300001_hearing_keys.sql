-- Encryption at rest (issue 15 §3, src/store/vault.rs): one random AES-256 data key per hearing
-- and retention class, wrapped (AES-256-GCM) by the master key of `[storage] master_key_file`.
-- Recording files and evidence images carry the key's id in their header. The retention sweep
-- deletes the row before the files (crypto-shredding): no copy decrypts afterwards. `case_file`
-- (the violations' evidence photos of the notice) is kept with the case file: never shredded.
CREATE TABLE hearing_keys (
    key_id TEXT PRIMARY KEY,
    hearing_id TEXT NOT NULL,
    class TEXT NOT NULL CHECK (class IN ('recordings', 'personal_data', 'case_file')),
    wrapped TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (hearing_id, class)
);
