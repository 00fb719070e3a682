-- Retention (issue 15 §3, docs/operations.md "Retention"): a hearing kept as evidence in a case
-- is never swept; recordings and personal data past their class's period are gone, and when.
CREATE TABLE hearing_holds (
    hearing_id TEXT PRIMARY KEY REFERENCES hearings(id),
    reason TEXT NOT NULL,
    by_role TEXT NOT NULL,
    by_id TEXT NOT NULL,
    at BIGINT NOT NULL
);
ALTER TABLE hearings ADD COLUMN recordings_deleted_at BIGINT;
ALTER TABLE hearings ADD COLUMN anonymised_at BIGINT;
ALTER TABLE recordings ADD COLUMN deleted_at BIGINT;
CREATE INDEX hearings_closed_at ON hearings(closed_at);
