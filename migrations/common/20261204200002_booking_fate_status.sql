-- The booking statuses of issue 12 §5: `interrupted` (the hearing was interrupted: the booking is
-- freed, never a no-show), `missed_by_brigade` (the brigade never opened the hearing) and
-- `cancelled_by_brigade`. PostgreSQL swaps the CHECK; SQLite rebuilds the table
-- (migrations/sqlite/ holds its version of this file).
ALTER TABLE bookings DROP CONSTRAINT bookings_status_check;
ALTER TABLE bookings ADD CONSTRAINT bookings_status_check CHECK (status IN ('booked', 'cancelled', 'in_hearing',
    'completed', 'no_show', 'referred', 'interrupted', 'missed_by_brigade', 'cancelled_by_brigade'));
