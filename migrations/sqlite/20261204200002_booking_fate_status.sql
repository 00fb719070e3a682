-- SQLite's version of common/…200002: a CHECK cannot be altered, so `bookings` is rebuilt with
-- the new statuses (sqlite.org/lang_altertable.html, "other kinds of table schema changes").
-- Foreign keys stay on inside the migration's transaction, so the rows that refer to bookings
-- (cancellations, no-shows) are set aside while the old table is dropped and put back after.
CREATE TABLE fate_keep_cancellations AS SELECT * FROM booking_cancellations;
CREATE TABLE fate_keep_no_shows AS SELECT * FROM booking_no_shows;
DELETE FROM booking_cancellations;
DELETE FROM booking_no_shows;
CREATE TABLE bookings_fate (
    id TEXT PRIMARY KEY,
    citizen_id TEXT NOT NULL REFERENCES citizens(id),
    brigade_id TEXT NOT NULL REFERENCES brigades(id),
    slot_start BIGINT NOT NULL,
    slot_end BIGINT NOT NULL,
    slot_date TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('booked', 'cancelled', 'in_hearing', 'completed', 'no_show', 'referred',
        'interrupted', 'missed_by_brigade', 'cancelled_by_brigade')),
    phone TEXT NOT NULL,
    plate TEXT NOT NULL,
    owner BIGINT NOT NULL,
    violations TEXT NOT NULL,
    unhandled_count BIGINT NOT NULL,
    current_points BIGINT NOT NULL,
    urgent BIGINT NOT NULL DEFAULT 0,
    urgent_kind TEXT,
    registration_date TEXT,
    deadline BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    status_reason TEXT,
    moved_from BIGINT
);
INSERT INTO bookings_fate (id, citizen_id, brigade_id, slot_start, slot_end, slot_date, status, phone, plate, owner,
    violations, unhandled_count, current_points, urgent, urgent_kind, registration_date, deadline, created_at,
    updated_at, status_reason, moved_from)
SELECT id, citizen_id, brigade_id, slot_start, slot_end, slot_date, status, phone, plate, owner,
    violations, unhandled_count, current_points, urgent, urgent_kind, registration_date, deadline, created_at,
    updated_at, status_reason, moved_from
FROM bookings;
DROP TABLE bookings;
ALTER TABLE bookings_fate RENAME TO bookings;
CREATE UNIQUE INDEX bookings_one_active_per_citizen ON bookings(citizen_id) WHERE status IN ('booked', 'in_hearing');
CREATE INDEX bookings_brigade_date ON bookings(brigade_id, slot_date);
CREATE INDEX bookings_plate_active ON bookings(plate) WHERE status IN ('booked', 'in_hearing');
CREATE INDEX bookings_booked_end ON bookings(status, slot_end);
CREATE INDEX bookings_citizen ON bookings(citizen_id, created_at);
INSERT INTO booking_cancellations SELECT * FROM fate_keep_cancellations;
INSERT INTO booking_no_shows SELECT * FROM fate_keep_no_shows;
DROP TABLE fate_keep_cancellations;
DROP TABLE fate_keep_no_shows;
