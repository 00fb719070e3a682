-- The citizen reads and signs (issue 12 §4).
-- The inquiry may be taken again after the citizen asked for a correction (a new version, each
-- sealed), and so may the citizen's acknowledgement of it: those two steps may repeat; every
-- other step is still taken at most once per hearing.
DROP INDEX hearing_steps_once;
CREATE UNIQUE INDEX hearing_steps_once ON hearing_steps(hearing_id, step)
    WHERE kind = 'step' AND step NOT IN ('inquiry', 'transcript_ack');

-- The step whose entry sealed a signature: a signature signs one step only
-- (`signature_reused` otherwise). Written only by src/hearing/signing/.
ALTER TABLE hearing_evidence ADD COLUMN sealed_in TEXT;

-- The proof of service (送达回证) issued with the `receipt` step: which decision (number and
-- digest), when, by what means, the citizen's receipt signature and its digest; the sealed
-- print-ready HTML and PDF (base64), whose digests the `receipt` entry seals.
CREATE TABLE hearing_proofs_of_service (
    hearing_id TEXT PRIMARY KEY REFERENCES hearings(id),
    decision_no TEXT NOT NULL,
    fields TEXT NOT NULL,
    html TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    pdf TEXT NOT NULL,
    pdf_sha256 TEXT NOT NULL,
    signature_id TEXT NOT NULL REFERENCES hearing_evidence(id),
    signature_sha256 TEXT NOT NULL,
    issued_at BIGINT NOT NULL
);
