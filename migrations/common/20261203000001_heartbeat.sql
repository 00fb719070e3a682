-- One row that /readyz updates: proof that the database takes writes, not only reads.
CREATE TABLE heartbeat (
    id BIGINT PRIMARY KEY,
    at BIGINT NOT NULL
);
INSERT INTO heartbeat (id, at) VALUES (1, 0);
