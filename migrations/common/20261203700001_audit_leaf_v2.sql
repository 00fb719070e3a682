-- Audit leaf version 2 (issue 13 §6, docs/audit-format.md §10): the random 16-byte salt of a
-- version-2 entry's payload commitment, 32 lowercase hex digits (NULL for version-1 entries),
-- and when the payload and salt were erased for retention (NULL while kept; the payload is
-- then the empty string). The leaf, its hash and the tree never change.
ALTER TABLE audit_entries ADD COLUMN payload_salt TEXT;
ALTER TABLE audit_entries ADD COLUMN erased_at BIGINT;
