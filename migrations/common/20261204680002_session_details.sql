-- Session list, revoke and idle timeout (issue 15 §2, src/identity/session_list.rs): a public id
-- (never the token or its hash), when the session was last used, and where from (the address and
-- the User-Agent at login; NULL for older and citizen sessions).
ALTER TABLE sessions ADD COLUMN id TEXT;
ALTER TABLE sessions ADD COLUMN last_seen_at BIGINT;
ALTER TABLE sessions ADD COLUMN ip TEXT;
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
UPDATE sessions SET id = substr(token_hash, 1, 32), last_seen_at = created_at;
CREATE UNIQUE INDEX sessions_id_key ON sessions(id);
CREATE INDEX sessions_subject ON sessions(subject_id);
