-- Staff administration (issue 15 §1): an admin disables an account (it can no longer log in and
-- its sessions are deleted at once, src/identity/staff_admin.rs) and enables it again. NULL: active.
ALTER TABLE staff ADD COLUMN disabled_at BIGINT;
