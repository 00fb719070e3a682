-- Booking: per-weekday schedules, closed dates, slot seats, bookings, cancellations, no-shows.
-- Times are unix milliseconds; dates TEXT YYYY-MM-DD in the brigade's time zone; flags BIGINT 0/1.
ALTER TABLE brigades ADD COLUMN week_hours TEXT NOT NULL DEFAULT '';

CREATE TABLE brigade_closed_dates (
    brigade_id TEXT NOT NULL REFERENCES brigades(id),
    date TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (brigade_id, date)
);

CREATE TABLE slots (
    brigade_id TEXT NOT NULL REFERENCES brigades(id),
    start_at BIGINT NOT NULL,
    end_at BIGINT NOT NULL,
    date TEXT NOT NULL,
    capacity BIGINT NOT NULL,
    taken BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (brigade_id, start_at),
    CONSTRAINT slots_taken_check CHECK (taken >= 0 AND taken <= capacity)
);

CREATE TABLE bookings (
    id TEXT PRIMARY KEY,
    citizen_id TEXT NOT NULL REFERENCES citizens(id),
    brigade_id TEXT NOT NULL REFERENCES brigades(id),
    slot_start BIGINT NOT NULL,
    slot_end BIGINT NOT NULL,
    slot_date TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('booked', 'cancelled', 'in_hearing', 'completed', 'no_show', 'referred')),
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
    updated_at BIGINT NOT NULL
);
-- One active booking per citizen (DOMAIN.md); maps to `active_booking_exists`.
CREATE UNIQUE INDEX bookings_one_active_per_citizen ON bookings(citizen_id) WHERE status IN ('booked', 'in_hearing');
CREATE INDEX bookings_brigade_date ON bookings(brigade_id, slot_date);
CREATE INDEX bookings_plate_active ON bookings(plate) WHERE status IN ('booked', 'in_hearing');
CREATE INDEX bookings_booked_end ON bookings(status, slot_end);
CREATE INDEX bookings_citizen ON bookings(citizen_id, created_at);

CREATE TABLE booking_cancellations (
    booking_id TEXT PRIMARY KEY REFERENCES bookings(id),
    citizen_id TEXT NOT NULL,
    brigade_id TEXT NOT NULL,
    slot_date TEXT NOT NULL,
    cancelled_at BIGINT NOT NULL
);
CREATE INDEX booking_cancellations_lookup ON booking_cancellations(citizen_id, brigade_id, slot_date);

CREATE TABLE booking_no_shows (
    booking_id TEXT PRIMARY KEY REFERENCES bookings(id),
    citizen_id TEXT NOT NULL,
    slot_date TEXT NOT NULL,
    marked_by TEXT NOT NULL,
    marked_at BIGINT NOT NULL
);
CREATE INDEX booking_no_shows_citizen ON booking_no_shows(citizen_id, slot_date);
