-- Evidence of a hearing (issue 12 §2, §4): the still of the ID card the officer's page takes from
-- the citizen's video (`id_still`) and the citizen's handwritten signatures (`signature`), as
-- uploaded (JPEG or PNG, at most 2 MiB, stored base64 in `data` so that one schema serves SQLite
-- and PostgreSQL). The step that uses one seals its id and `sha256` in its entry. Written only by
-- src/hearing/evidence.rs.
CREATE TABLE hearing_evidence (
    id TEXT PRIMARY KEY,
    hearing_id TEXT NOT NULL REFERENCES hearings(id),
    kind TEXT NOT NULL CHECK (kind IN ('id_still', 'signature')),
    content_type TEXT NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png')),
    sha256 TEXT NOT NULL,
    bytes BIGINT NOT NULL,
    width BIGINT NOT NULL,
    height BIGINT NOT NULL,
    data TEXT NOT NULL,
    by_role TEXT NOT NULL,
    by_id TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX hearing_evidence_hearing ON hearing_evidence(hearing_id, created_at);
