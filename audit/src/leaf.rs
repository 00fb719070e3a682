//! The audit leaf: the canonical, versioned, length-prefixed binary encoding of one audit
//! entry, and the canonical JSON form of the payload it commits to.
//!
//! Owns: the byte layout documented in `docs/audit-format.md` (keep the two in step), its
//! strict decoding (exactly one byte string per entry), and payload canonicalisation. It does
//! not decide what goes into an entry (the hearing and recordings modules do) nor where it is
//! stored. Every field is fixed-width big-endian or a u16 length prefix plus bytes, so the
//! encoding of an entry is unique and key order or whitespace can never drift.

use ring::digest::{SHA256, digest};
use serde_json::Value;

/// The domain tag that starts every leaf (after its 2-byte length).
pub const DOMAIN_TAG: &str = "remote-hearing/audit-leaf";
/// Version 1: `payload_sha256` is `SHA-256(canonical payload)` (kept valid for existing logs).
pub const VERSION_1: u8 = 1;
/// Version 2: `payload_sha256` is `SHA-256(salt || canonical payload)` with a random 16-byte
/// salt stored beside the payload (see [`crate::payload`]): erasing payload and salt leaves
/// the leaf provable and its content unguessable. New entries are written as version 2.
pub const VERSION_2: u8 = 2;
/// Limits on field lengths, in bytes.
pub const MAX_ID: usize = 128;
pub const MAX_STEP: usize = 64;
pub const MAX_ROLE: usize = 32;
pub const MAX_RECORDINGS: usize = 256;

/// Why bytes are not a valid leaf, or an entry cannot be encoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LeafError {
    #[error("leaf ends early")]
    Truncated,
    #[error("{0} trailing bytes after the leaf")]
    Trailing(usize),
    #[error("not an audit leaf (wrong domain tag)")]
    Domain,
    #[error("unsupported leaf version {0}")]
    Version(u8),
    #[error("invalid {0}")]
    Field(&'static str),
    #[error("payload is not canonical-JSON encodable: {0}")]
    Payload(&'static str),
}

/// A recorded file sealed by an entry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RecordingDigest {
    pub id: String,
    #[serde(with = "hex_32")]
    pub sha256: [u8; 32],
    pub bytes: u64,
}

/// One decoded audit entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaf {
    /// [`VERSION_1`] or [`VERSION_2`]: what `payload_sha256` commits to.
    pub version: u8,
    pub hearing_id: String,
    pub hearing_seq: u64,
    /// Merkle leaf hash of the previous entry of this hearing; zeros when `hearing_seq == 0`.
    pub prev_leaf_hash: [u8; 32],
    pub step: String,
    /// UTC, milliseconds since the Unix epoch.
    pub at_ms: i64,
    pub actor_role: String,
    pub actor_id: String,
    /// The payload commitment: `SHA-256(canonical payload)` in version 1,
    /// `SHA-256(salt || canonical payload)` in version 2.
    pub payload_sha256: [u8; 32],
    pub recordings: Vec<RecordingDigest>,
}

fn check_str(
    s: &str,
    min: usize,
    max: usize,
    ok: impl Fn(char) -> bool,
    what: &'static str,
) -> Result<(), LeafError> {
    if s.len() < min || s.len() > max || !s.chars().all(ok) {
        return Err(LeafError::Field(what));
    }
    Ok(())
}

fn is_id_char(c: char) -> bool {
    c.is_ascii_graphic()
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.' || c == '-'
}

impl Leaf {
    /// Checks every field against the rules of the format.
    pub fn validate(&self) -> Result<(), LeafError> {
        if self.version != VERSION_1 && self.version != VERSION_2 {
            return Err(LeafError::Version(self.version));
        }
        check_str(&self.hearing_id, 1, MAX_ID, is_id_char, "hearing id")?;
        check_str(&self.step, 1, MAX_STEP, is_name_char, "step")?;
        check_str(&self.actor_role, 1, MAX_ROLE, is_name_char, "actor role")?;
        check_str(&self.actor_id, 0, MAX_ID, is_id_char, "actor id")?;
        if (self.hearing_seq == 0) != (self.prev_leaf_hash == [0u8; 32]) {
            return Err(LeafError::Field(
                "previous leaf hash (zeros exactly for hearing_seq 0)",
            ));
        }
        if self.recordings.len() > MAX_RECORDINGS {
            return Err(LeafError::Field("recording count"));
        }
        for r in &self.recordings {
            check_str(&r.id, 1, MAX_ID, is_id_char, "recording id")?;
        }
        Ok(())
    }

    /// The leaf bytes.
    pub fn encode(&self) -> Result<Vec<u8>, LeafError> {
        self.validate()?;
        let mut out = Vec::with_capacity(160 + 64 * self.recordings.len());
        put_str(&mut out, DOMAIN_TAG);
        out.push(self.version);
        put_str(&mut out, &self.hearing_id);
        out.extend_from_slice(&self.hearing_seq.to_be_bytes());
        out.extend_from_slice(&self.prev_leaf_hash);
        put_str(&mut out, &self.step);
        out.extend_from_slice(&self.at_ms.to_be_bytes());
        put_str(&mut out, &self.actor_role);
        put_str(&mut out, &self.actor_id);
        out.extend_from_slice(&self.payload_sha256);
        out.extend_from_slice(&(self.recordings.len() as u16).to_be_bytes());
        for r in &self.recordings {
            put_str(&mut out, &r.id);
            out.extend_from_slice(&r.sha256);
            out.extend_from_slice(&r.bytes.to_be_bytes());
        }
        Ok(out)
    }

    /// Decodes leaf bytes strictly: the bytes must be exactly what [`Leaf::encode`] produces.
    pub fn decode(bytes: &[u8]) -> Result<Self, LeafError> {
        let mut r = Reader(bytes);
        if r.str()? != DOMAIN_TAG {
            return Err(LeafError::Domain);
        }
        let version = r.u8()?;
        if version != VERSION_1 && version != VERSION_2 {
            return Err(LeafError::Version(version));
        }
        let hearing_id = r.str()?;
        let hearing_seq = r.u64()?;
        let prev_leaf_hash = r.h32()?;
        let step = r.str()?;
        let at_ms = r.u64()? as i64;
        let actor_role = r.str()?;
        let actor_id = r.str()?;
        let payload_sha256 = r.h32()?;
        let n = r.u16()? as usize;
        if n > MAX_RECORDINGS {
            return Err(LeafError::Field("recording count"));
        }
        let mut recordings = Vec::with_capacity(n);
        for _ in 0..n {
            recordings.push(RecordingDigest {
                id: r.str()?,
                sha256: r.h32()?,
                bytes: r.u64()?,
            });
        }
        if !r.0.is_empty() {
            return Err(LeafError::Trailing(r.0.len()));
        }
        let leaf = Self {
            version,
            hearing_id,
            hearing_seq,
            prev_leaf_hash,
            step,
            at_ms,
            actor_role,
            actor_id,
            payload_sha256,
            recordings,
        };
        leaf.validate()?;
        Ok(leaf)
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    // Callers validate lengths (all limits are far below u16::MAX).
    out.extend_from_slice(&(s.len() as u16).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], LeafError> {
        if self.0.len() < n {
            return Err(LeafError::Truncated);
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8, LeafError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, LeafError> {
        Ok(u16::from_be_bytes(
            self.take(2)?.try_into().map_err(|_| LeafError::Truncated)?,
        ))
    }
    fn u64(&mut self) -> Result<u64, LeafError> {
        Ok(u64::from_be_bytes(
            self.take(8)?.try_into().map_err(|_| LeafError::Truncated)?,
        ))
    }
    fn h32(&mut self) -> Result<[u8; 32], LeafError> {
        self.take(32)?.try_into().map_err(|_| LeafError::Truncated)
    }
    fn str(&mut self) -> Result<String, LeafError> {
        let n = self.u16()? as usize;
        String::from_utf8(self.take(n)?.to_vec()).map_err(|_| LeafError::Field("UTF-8 string"))
    }
}

/// The canonical JSON text of a payload: no whitespace, object keys sorted by their UTF-8
/// bytes, strings escaped as serde_json does (only `"`, `\` and control characters), numbers
/// only integers (a float is rejected).
pub fn canonical_json(v: &Value) -> Result<String, LeafError> {
    let mut out = String::new();
    write_canonical(v, &mut out, 0)?;
    Ok(out)
}

fn write_canonical(v: &Value, out: &mut String, depth: usize) -> Result<(), LeafError> {
    if depth > 64 {
        return Err(LeafError::Payload("nested too deeply"));
    }
    match v {
        Value::Null | Value::Bool(_) => out.push_str(&v.to_string()),
        Value::Number(n) => {
            if !(n.is_i64() || n.is_u64()) {
                return Err(LeafError::Payload("only integer numbers are allowed"));
            }
            out.push_str(&n.to_string());
        }
        Value::String(s) => out.push_str(&Value::String(s.clone()).to_string()),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(x, out, depth + 1)?;
            }
            out.push(']');
        }
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&m[k], out, depth + 1)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

/// SHA-256 of the canonical JSON text of `payload`.
pub fn payload_digest(payload: &Value) -> Result<[u8; 32], LeafError> {
    let text = canonical_json(payload)?;
    Ok(sha256(text.as_bytes()))
}

/// Plain SHA-256.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut h = [0u8; 32];
    h.copy_from_slice(digest(&SHA256, bytes).as_ref());
    h
}

/// Decodes lowercase hex, the one spelling of docs/audit-format.md: uppercase digits are refused
/// so that every value has a single text form.
pub fn decode_lower_hex(s: &str) -> Option<Vec<u8>> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    hex::decode(s).ok()
}

/// Serde helper: a 32-byte hash as lowercase hex.
pub mod hex_32 {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(h: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(h))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let s = String::deserialize(d)?;
        let v = match super::decode_lower_hex(&s) {
            Some(v) if v.len() == 32 => v,
            _ => return Err(D::Error::custom("expected 64 lowercase hex digits")),
        };
        v.try_into()
            .map_err(|_| D::Error::custom("expected 32 bytes"))
    }
}

#[cfg(test)]
#[path = "leaf_tests.rs"]
mod tests;
