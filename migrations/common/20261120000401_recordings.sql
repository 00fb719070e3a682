-- Recorded files of hearing calls (the call module). One row per file: the raw RTP capture,
-- the playable copy and the segment's manifest. Files are write-once; rows are never updated
-- except audit_seq once the manifest is sealed.
CREATE TABLE recordings (
    id TEXT PRIMARY KEY,
    hearing_id TEXT NOT NULL,
    segment TEXT NOT NULL,
    participant TEXT,
    kind TEXT NOT NULL,
    format TEXT NOT NULL,
    rel_path TEXT NOT NULL,
    bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    started_at BIGINT,
    ended_at BIGINT,
    truncated BIGINT NOT NULL DEFAULT 0,
    audit_seq BIGINT,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX recordings_rel_path ON recordings (rel_path);
CREATE INDEX recordings_hearing ON recordings (hearing_id);
