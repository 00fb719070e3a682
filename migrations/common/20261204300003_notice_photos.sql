-- Evidence photos of the violations shown at the notice (issue 16): each fetched once from the
-- system of record and kept here (base64); its SHA-256 is sealed in the `notice` step's entry.
CREATE TABLE notice_photos (
    hearing_id TEXT NOT NULL,
    record_no TEXT NOT NULL,
    idx BIGINT NOT NULL,
    content_type TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    body TEXT NOT NULL,
    fetched_at BIGINT NOT NULL,
    PRIMARY KEY (hearing_id, record_no, idx)
);
