-- Facts from the system of record (issue 16). `facts_source`: 'citizen' (typed in by the citizen,
-- `records.provider = "manual"`) or 'records' (read from the traffic management platform); the
-- decision keeps the booking's. `record_claims`: the booking that last picked a platform record;
-- a record is free again once that booking is no longer booked, in a hearing or completed (the
-- check is `booking::store::claim_records`, race-free through the row's lock).
ALTER TABLE bookings ADD COLUMN facts_source TEXT NOT NULL DEFAULT 'citizen';
ALTER TABLE hearing_decisions ADD COLUMN facts_source TEXT NOT NULL DEFAULT 'citizen';
CREATE TABLE record_claims (
    record_no TEXT PRIMARY KEY,
    booking_id TEXT NOT NULL,
    claimed_at BIGINT NOT NULL
);
