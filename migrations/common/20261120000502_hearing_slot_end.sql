-- The slot's end, for the no-show sweep (open hearings the citizen never joined, after the slot).
ALTER TABLE hearings ADD COLUMN slot_end BIGINT NOT NULL DEFAULT 0;
CREATE INDEX hearings_status_joined ON hearings(status, citizen_joined_at);
