-- The SMS outbox: every message and its delivery state. Times are unix milliseconds.
-- Verification codes are never stored: `code_ref` names the live code in Redis.
CREATE TABLE sms_outbox (
    id TEXT PRIMARY KEY,
    phone TEXT NOT NULL,
    template TEXT NOT NULL,
    params TEXT NOT NULL DEFAULT '{}',
    code_ref TEXT,
    ref_id TEXT,
    provider TEXT,
    provider_message_id TEXT,
    status TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'delivered', 'failed', 'cancelled')),
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    locked_until BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    sent_at BIGINT,
    delivered_at BIGINT,
    updated_at BIGINT NOT NULL
);
CREATE INDEX sms_outbox_due ON sms_outbox(status, next_attempt_at);
CREATE INDEX sms_outbox_provider_msg ON sms_outbox(provider, provider_message_id);
CREATE INDEX sms_outbox_ref ON sms_outbox(ref_id);
