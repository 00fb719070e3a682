-- Booking fates (issue 12 §5): why a booking left its course — the hearing was interrupted, the
-- brigade never opened it, the brigade cancelled or moved it — and the slot a moved booking had.
-- The status CHECK gains the new statuses in …200002 (a table rebuild on SQLite).
ALTER TABLE bookings ADD COLUMN status_reason TEXT;
ALTER TABLE bookings ADD COLUMN moved_from BIGINT;
