//! Identifiers: time-ordered UUIDv7 strings for rows, random tokens for sessions.

use ring::rand::{SecureRandom, SystemRandom};

pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// 32 random bytes, hex-encoded (64 characters).
pub fn random_token() -> anyhow::Result<String> {
    let mut buf = [0u8; 32];
    SystemRandom::new()
        .fill(&mut buf)
        .map_err(|_| anyhow::anyhow!("system random number generator failed"))?;
    Ok(hex::encode(buf))
}

/// SHA-256 of a token, hex: what is stored instead of the token.
pub fn token_hash(token: &str) -> String {
    hex::encode(ring::digest::digest(
        &ring::digest::SHA256,
        token.as_bytes(),
    ))
}
