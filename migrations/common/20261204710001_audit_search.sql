-- The auditors' search of hearings (issue 18 §4, src/hearing/search): newest booked slot first,
-- keyset-paged on (slot_start, id), filtered by brigade, officer, status, the booking's
-- brigade-local date and plate, and the decision number (already unique-indexed). The same SQL
-- on SQLite and PostgreSQL (both scan a B-tree backwards for DESC), so no per-backend override.
CREATE INDEX hearings_audit_order ON hearings (slot_start, id);
CREATE INDEX hearings_audit_brigade ON hearings (brigade_id, slot_start, id);
CREATE INDEX hearings_audit_officer ON hearings (officer_id, slot_start, id);
CREATE INDEX hearings_audit_status ON hearings (status, slot_start, id);
CREATE INDEX bookings_plate_any ON bookings (plate);
CREATE INDEX bookings_slot_date ON bookings (slot_date);
