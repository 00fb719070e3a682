-- Key rotation (src/audit/rotation.rs): the signed note by which the previous key endorses a
-- rotated key (NULL for a key registered at start).
ALTER TABLE audit_keys ADD COLUMN endorsement TEXT;
