-- The complete decision document (issue 12 §3).
-- What a brigade's decisions must name and that the brigade table lacks: the document-number
-- prefix (文号, unique: decision numbers are unique across brigades), the review body
-- (复议机关), the court (管辖法院) and where to pay. No defaults: a brigade without a row, or
-- with an empty field, cannot issue a decision (decision_incomplete names the field).
CREATE TABLE brigade_decision_facts (
    brigade_id TEXT PRIMARY KEY REFERENCES brigades(id),
    doc_code TEXT NOT NULL,
    review_body TEXT NOT NULL,
    court TEXT NOT NULL,
    pay_place TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX brigade_decision_facts_doc_code ON brigade_decision_facts (doc_code);

-- One counter row per (brigade, year), incremented inside the issuing transaction: the row
-- lock serialises concurrent issues on PostgreSQL, so serials never collide.
CREATE TABLE decision_counters (
    brigade_id TEXT NOT NULL,
    year BIGINT NOT NULL,
    last_serial BIGINT NOT NULL,
    PRIMARY KEY (brigade_id, year)
);

-- The issued document: its brigade and serial (unique per brigade and year), the PDF (base64)
-- and its digest, and the electronic seal (Ed25519 signature and the brigade key's id).
ALTER TABLE hearing_decisions ADD COLUMN brigade_id TEXT;
ALTER TABLE hearing_decisions ADD COLUMN serial BIGINT;
ALTER TABLE hearing_decisions ADD COLUMN pdf TEXT;
ALTER TABLE hearing_decisions ADD COLUMN pdf_sha256 TEXT;
ALTER TABLE hearing_decisions ADD COLUMN seal TEXT;
CREATE UNIQUE INDEX hearing_decisions_serial ON hearing_decisions (brigade_id, year, serial);
