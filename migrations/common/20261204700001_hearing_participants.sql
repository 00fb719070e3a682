-- Others in the room (issue 19 §2): the interpreter, agent or guardian and legal supervisor the
-- hearing's officer adds. Name and phone are sealed with the identity data key (AES-256-GCM,
-- `hearing_participants.<column>:<id>` as associated data) like the citizen's identity; the
-- masked phone is kept for views. Written only by src/hearing/participants/.
CREATE TABLE hearing_participants (
    id TEXT PRIMARY KEY,
    hearing_id TEXT NOT NULL REFERENCES hearings(id),
    role TEXT NOT NULL CHECK (role IN ('interpreter', 'agent', 'supervisor')),
    kind TEXT,
    language TEXT,
    name_enc TEXT NOT NULL,
    phone_enc TEXT NOT NULL,
    phone_masked TEXT NOT NULL,
    added_by TEXT NOT NULL,
    added_at BIGINT NOT NULL,
    joined_at BIGINT,
    admitted_at BIGINT,
    left_at BIGINT,
    -- An agent's power of attorney or guardianship document (base64 image, its SHA-256).
    authority_type TEXT,
    authority_data TEXT,
    authority_sha256 TEXT,
    authority_at BIGINT
);
CREATE INDEX hearing_participants_hearing ON hearing_participants(hearing_id, added_at);
