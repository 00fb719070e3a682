//! Verification codes: 6 digits, bound to a purpose and subject, kept in Redis only as
//! HMAC-SHA256(server key, purpose ‖ subject ‖ code) with an expiry on the injectable clock.
//! The code itself is derived from a stored random nonce with the server key, so a resend
//! within the validity sends the same code. Attempts are counted atomically (Lua); the 6th
//! try of a code fails even when right; success deletes it; a dead code (5 wrong tries) is
//! replaced by a new one on the next send. The outbox keeps only a reference to a code
//! (`code_ref`); [`current`] re-derives the live code when the message is sent.

use ring::{hmac, rand::SecureRandom};

use super::Sms;
use crate::{domain::SmsCode, error::AppError};

#[derive(Debug, Clone)]
pub enum Purpose {
    Login,
    Join {
        hearing_id: String,
    },
    /// The join code of a participant the officer added to a hearing (issue 19 §2).
    Participant {
        hearing_id: String,
        participant_id: String,
    },
}

impl Purpose {
    pub fn tag(&self) -> String {
        match self {
            Purpose::Login => "login".into(),
            Purpose::Join { hearing_id } => format!("join:{hearing_id}"),
            Purpose::Participant {
                hearing_id,
                participant_id,
            } => format!("participant:{hearing_id}:{participant_id}"),
        }
    }
}

const ATTEMPT: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 0 then return {'0'} end
local n = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
if n > tonumber(ARGV[1]) then return {'1'} end
return {'2', redis.call('HGET', KEYS[1], 'mac'), redis.call('HGET', KEYS[1], 'exp'), redis.call('HGET', KEYS[1], 'nonce')}
"#;

const CONSUME: &str = r#"
if redis.call('HGET', KEYS[1], 'nonce') == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end
return 0
"#;

fn key_of(sms: &Sms, tag: &str, subject: &str) -> String {
    sms.kv.key(&format!("code:{tag}:{subject}"))
}

fn mac_input(tag: &str, subject: &str, code: &str) -> Vec<u8> {
    format!("rh-code-mac-v1\n{tag}\n{subject}\n{code}").into_bytes()
}

/// The 6-digit code of `tag` (a [`Purpose::tag`]) and `subject`, derived from the stored nonce.
pub fn derive_code(key: &hmac::Key, tag: &str, subject: &str, nonce: &str) -> String {
    let tag = hmac::sign(
        key,
        format!("rh-code-derive-v1\n{tag}\n{subject}\n{nonce}").as_bytes(),
    );
    let b = tag.as_ref();
    let n = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) % 1_000_000;
    format!("{n:06}")
}

/// The hex HMAC of `code` that [`issue`] stores (the code itself is never stored).
pub fn code_mac(key: &hmac::Key, tag: &str, subject: &str, code: &str) -> String {
    hex::encode(hmac::sign(key, &mac_input(tag, subject, code)).as_ref())
}

/// Whether `code` matches the stored `mac`, in constant time (`ring::hmac::verify`).
pub fn code_matches(key: &hmac::Key, tag: &str, subject: &str, code: &str, mac: &[u8]) -> bool {
    hmac::verify(key, &mac_input(tag, subject, code), mac).is_ok()
}

/// The outbox's reference to the code of `purpose` for `subject`.
pub fn code_ref(purpose: &Purpose, subject: &str) -> String {
    format!("{}|{subject}", purpose.tag())
}

/// The live code a `code_ref` points to, re-derived from its nonce; `None` when it expired,
/// was used, or died of wrong tries.
pub async fn current(sms: &Sms, code_ref: &str) -> Result<Option<String>, AppError> {
    let Some((tag, subject)) = code_ref.split_once('|') else {
        return Ok(None);
    };
    let mut conn = sms.kv.conn();
    let (nonce, exp, attempts): (Option<String>, Option<i64>, Option<u32>) = redis::cmd("HMGET")
        .arg(key_of(sms, tag, subject))
        .arg("nonce")
        .arg("exp")
        .arg("attempts")
        .query_async(&mut conn)
        .await?;
    Ok(match (nonce, exp) {
        (Some(nonce), Some(exp))
            if exp > sms.clock.now_ms() && attempts.unwrap_or(0) < sms.config.max_attempts =>
        {
            Some(derive_code(&sms.key, tag, subject, &nonce))
        }
        _ => None,
    })
}

/// Issues a code (or returns the live one) and stores its HMAC.
pub async fn issue(sms: &Sms, purpose: &Purpose, subject: &str) -> Result<String, AppError> {
    let key = &sms.key;
    let tag = purpose.tag();
    let k = key_of(sms, &tag, subject);
    let mut conn = sms.kv.conn();
    let now = sms.clock.now_ms();
    let (nonce, exp, attempts): (Option<String>, Option<i64>, Option<u32>) = redis::cmd("HMGET")
        .arg(&k)
        .arg("nonce")
        .arg("exp")
        .arg("attempts")
        .query_async(&mut conn)
        .await?;
    if let (Some(nonce), Some(exp)) = (nonce, exp)
        && exp > now
        && attempts.unwrap_or(0) < sms.config.max_attempts
    {
        return Ok(derive_code(key, &tag, subject, &nonce));
    }
    let mut raw = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut raw)
        .map_err(|_| AppError::internal("rng failed"))?;
    let nonce = hex::encode(raw);
    let code = derive_code(key, &tag, subject, &nonce);
    let mac = code_mac(key, &tag, subject, &code);
    let ttl_ms = (sms.config.code_ttl_s as i64) * 1000;
    let _: () = redis::pipe()
        .atomic()
        .del(&k)
        .hset_multiple(
            &k,
            &[
                ("nonce", nonce.as_str()),
                ("mac", mac.as_str()),
                ("exp", &(now + ttl_ms).to_string()),
            ],
        )
        .hset(&k, "attempts", 0)
        .pexpire(&k, ttl_ms + 60_000)
        .query_async(&mut conn)
        .await?;
    Ok(code)
}

fn invalid() -> AppError {
    AppError::new(
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        "code_invalid",
        "the code is wrong or has expired",
    )
    .with_field("code")
}

/// Verifies `code`; on success the code is consumed.
pub async fn verify(
    sms: &Sms,
    purpose: &Purpose,
    subject: &str,
    code: &SmsCode,
) -> Result<(), AppError> {
    let key = &sms.key;
    let tag = purpose.tag();
    let k = key_of(sms, &tag, subject);
    let mut conn = sms.kv.conn();
    let max = sms.config.max_attempts;
    let r: Vec<String> = redis::Script::new(ATTEMPT)
        .key(&k)
        .arg(max)
        .invoke_async(&mut conn)
        .await?;
    match r.first().map(String::as_str) {
        Some("1") => {
            return Err(AppError::throttled(
                "code_attempts_exceeded",
                sms.config.resend_after_s,
            ));
        }
        Some("2") => {}
        _ => return Err(invalid()),
    }
    let field = |i: usize| -> Result<String, AppError> { r.get(i).cloned().ok_or_else(invalid) };
    let (mac, exp, nonce) = (field(1)?, field(2)?, field(3)?);
    if exp.parse::<i64>().unwrap_or(0) <= sms.clock.now_ms() {
        return Err(invalid());
    }
    let mac = hex::decode(mac).map_err(|_| invalid())?;
    if !code_matches(key, &tag, subject, code.as_str(), &mac) {
        return Err(invalid());
    }
    let consumed: i64 = redis::Script::new(CONSUME)
        .key(&k)
        .arg(&nonce)
        .invoke_async(&mut conn)
        .await?;
    if consumed != 1 {
        return Err(invalid());
    }
    Ok(())
}
