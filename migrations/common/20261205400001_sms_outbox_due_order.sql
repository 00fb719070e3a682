-- The outbox worker claims the first due row ORDER BY next_attempt_at, id (sms/outbox.rs
-- claim_due). With only (status, next_attempt_at) indexed, every claim sorted all due rows of
-- the same millisecond in a temporary B-tree (SQLite's plan: USE TEMP B-TREE FOR RIGHT PART OF
-- ORDER BY): a backlog of confirmations queued in one burst cost O(n) per claim (issue 18 §2,
-- the profile of booking_open). With id in the index the first row is read from the index.
CREATE INDEX sms_outbox_due_order ON sms_outbox (status, next_attempt_at, id);
DROP INDEX sms_outbox_due;
