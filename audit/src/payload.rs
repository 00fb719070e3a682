//! What a leaf's `payload_sha256` commits to, and the check of a payload against it
//! (docs/audit-format.md §3 and §10).
//!
//! Version 1 commits to `SHA-256(canonical payload)`; version 2 to
//! `SHA-256(salt || canonical payload)` with a random 16-byte salt stored beside the payload.
//! Deleting a version-2 entry's payload and salt ("erasing" it, for retention) leaves its leaf
//! and every proof unchanged and the digest unguessable; the verifier then reports the entry
//! as erased instead of checking a payload. Owns the salt (length, generation, hex form) and
//! the verdict on one entry's payload; the leaf bytes are `leaf.rs`'s.

use ring::rand::{SecureRandom, SystemRandom};
use serde_json::Value;

use crate::leaf::{
    Leaf, LeafError, VERSION_1, VERSION_2, canonical_json, decode_lower_hex, sha256,
};

/// Bytes of a version-2 salt.
pub const SALT_LEN: usize = 16;
/// A version-2 salt.
pub type Salt = [u8; SALT_LEN];

/// A fresh random salt from the system's CSPRNG.
pub fn new_salt() -> Result<Salt, LeafError> {
    let mut s = [0u8; SALT_LEN];
    SystemRandom::new()
        .fill(&mut s)
        .map_err(|_| LeafError::Field("salt (no system randomness)"))?;
    Ok(s)
}

/// Parses a salt written as 32 lowercase hex digits.
pub fn salt_from_hex(s: &str) -> Option<Salt> {
    decode_lower_hex(s)?.try_into().ok()
}

/// `SHA-256(salt || canonical)`: the version-2 commitment to a canonical JSON text.
pub fn salted_digest(salt: &Salt, canonical: &str) -> [u8; 32] {
    let mut buf = Vec::with_capacity(SALT_LEN + canonical.len());
    buf.extend_from_slice(salt);
    buf.extend_from_slice(canonical.as_bytes());
    sha256(&buf)
}

/// The commitment of a leaf of `version` to `payload` (a salt is required exactly for
/// version 2).
pub fn commitment(
    version: u8,
    salt: Option<&Salt>,
    payload: &Value,
) -> Result<[u8; 32], LeafError> {
    let text = canonical_json(payload)?;
    match (version, salt) {
        (VERSION_1, None) => Ok(sha256(text.as_bytes())),
        (VERSION_2, Some(s)) => Ok(salted_digest(s, &text)),
        (VERSION_1, Some(_)) => Err(LeafError::Field("salt (version 1 has none)")),
        (VERSION_2, None) => Err(LeafError::Field("salt (version 2 needs one)")),
        (v, _) => Err(LeafError::Version(v)),
    }
}

/// The verdict on one entry's payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayloadCheck {
    /// The payload (and salt) match the leaf's commitment.
    Verified,
    /// A version-2 entry whose payload and salt were erased: nothing to check, and nothing
    /// wrong (its inclusion is proven by the leaf alone).
    Erased,
    /// Why the payload does not match.
    Failed(String),
}

/// Checks an entry's `payload` and hex `salt` (or its `erased` mark) against `leaf`.
pub fn check(leaf: &Leaf, payload: &Value, salt: Option<&str>, erased: bool) -> PayloadCheck {
    if erased {
        return if leaf.version != VERSION_2 {
            PayloadCheck::Failed(
                "marked erased, but only version-2 payloads can be erased (a version-1 digest can be guessed)".into(),
            )
        } else if !payload.is_null() || salt.is_some() {
            PayloadCheck::Failed("marked erased but still carries a payload or salt".into())
        } else {
            PayloadCheck::Erased
        };
    }
    let salt = match salt.map(salt_from_hex) {
        None => None,
        Some(Some(s)) => Some(s),
        Some(None) => return PayloadCheck::Failed("salt is not 32 lowercase hex digits".into()),
    };
    match commitment(leaf.version, salt.as_ref(), payload) {
        Ok(d) if d == leaf.payload_sha256 => PayloadCheck::Verified,
        Ok(_) => PayloadCheck::Failed("payload digest does not match the leaf".into()),
        Err(e) => PayloadCheck::Failed(format!("payload: {e}")),
    }
}
