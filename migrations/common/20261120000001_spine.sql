-- The spine: people, sessions, brigades. Times are unix milliseconds.
CREATE TABLE brigades (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    address TEXT NOT NULL DEFAULT '',
    timezone TEXT NOT NULL DEFAULT 'Asia/Shanghai',
    seats_per_slot BIGINT NOT NULL DEFAULT 4,
    slot_minutes BIGINT NOT NULL DEFAULT 60,
    hours TEXT NOT NULL DEFAULT '09:00-12:00,13:30-17:30',
    weekdays TEXT NOT NULL DEFAULT 'mon-fri',
    created_at BIGINT NOT NULL
);

CREATE TABLE staff (
    id TEXT PRIMARY KEY,
    badge TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('officer', 'auditor', 'admin')),
    brigade_id TEXT REFERENCES brigades(id),
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT staff_badge_key UNIQUE (badge)
);

CREATE TABLE citizens (
    id TEXT PRIMARY KEY,
    phone TEXT,
    openid TEXT,
    unionid TEXT,
    phone_bound BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX citizens_phone_key ON citizens(phone);
CREATE UNIQUE INDEX citizens_openid_key ON citizens(openid);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expires ON sessions(expires_at);
