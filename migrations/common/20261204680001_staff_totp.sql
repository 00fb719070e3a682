-- Staff second factor (issue 15 §2, src/identity/second_factor.rs): one row per staff account that
-- began TOTP enrolment. `secret_enc` is the base32 secret sealed with the identity data key
-- (AES-256-GCM, place `staff_totp.secret:<staff id>`); `confirmed_at` NULL until a first code
-- confirmed it; `last_step` is the last accepted time step (a code is accepted once).
CREATE TABLE staff_totp (
    staff_id TEXT PRIMARY KEY REFERENCES staff(id),
    secret_enc TEXT NOT NULL,
    confirmed_at BIGINT,
    last_step BIGINT,
    created_at BIGINT NOT NULL
);
-- A staff session that may only enrol TOTP (its account has none while TOTP is required).
ALTER TABLE sessions ADD COLUMN enrol_only BIGINT NOT NULL DEFAULT 0;
