-- WeChat subscription messages (订阅消息, issue 19 §1): a citizen who allowed the booking
-- reminder in the mini program gets it through WeChat instead of SMS. One row per booking
-- (`ref_id`): a one-time subscription is spent by one message.
CREATE TABLE wx_subscriptions (
    ref_id TEXT PRIMARY KEY,
    openid TEXT NOT NULL,
    template_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    used_at BIGINT,
    outcome TEXT
);
