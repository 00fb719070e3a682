//! Witness cosignatures (c2sp.org/tlog-cosignature, Ed25519 `cosignature/v1`, signed-note type
//! 0x04): the cosigner's verifier key, signing and checking one cosignature line.
//!
//! Owns the signed message (`cosignature/v1\ntime <t>\n` followed by the whole checkpoint
//! body), the key id `SHA-256(name || 0x0A || 0x04 || public key)[:4]` and the signature
//! payload `key id || u64 big-endian timestamp || Ed25519 signature`. Pure: no storage, no
//! clock (the caller passes the time). Note parsing is `note.rs`'s.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::digest::{SHA256, digest};
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use std::fmt;

use super::note::{NoteError, NoteSignature, b64_decode_strict};

/// Signature-type byte of timestamped Ed25519 checkpoint cosignatures.
pub const ALG_COSIGNATURE_V1: u8 = 0x04;
/// Length of a cosignature payload after the key id: timestamp and signature.
const TIMESTAMPED_LEN: usize = 8 + 64;
const DASH: &str = "\u{2014} ";

/// `SHA-256(name || 0x0A || 0x04 || public_key)[0..4]`.
pub fn cosigner_key_id(name: &str, public_key: &[u8; 32]) -> [u8; 4] {
    let mut buf = Vec::with_capacity(name.len() + 34);
    buf.extend_from_slice(name.as_bytes());
    buf.push(b'\n');
    buf.push(ALG_COSIGNATURE_V1);
    buf.extend_from_slice(public_key);
    let d = digest(&SHA256, &buf);
    let mut id = [0u8; 4];
    id.copy_from_slice(&d.as_ref()[..4]);
    id
}

/// The message a cosigner signs at POSIX time `timestamp` over the checkpoint `body`
/// (the note text, final newline included, signature lines excluded).
pub fn signed_message(timestamp: u64, body: &str) -> String {
    format!("cosignature/v1\ntime {timestamp}\n{body}")
}

fn check_name(name: &str) -> Result<(), NoteError> {
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == '+') {
        return Err(NoteError::BadKey("invalid cosigner name"));
    }
    Ok(())
}

/// A witness's public key (vkey `name+hex(keyid)+base64(0x04 || key)`).
#[derive(Clone, PartialEq, Eq)]
pub struct CosignVerifier {
    pub name: String,
    pub key_id: [u8; 4],
    pub public_key: [u8; 32],
}

/// A checked cosignature: who signed and when (POSIX seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cosignature {
    pub name: String,
    pub timestamp: u64,
    /// The signature line without its newline.
    pub line: String,
}

impl CosignVerifier {
    pub fn new(name: &str, public_key: [u8; 32]) -> Result<Self, NoteError> {
        check_name(name)?;
        Ok(Self {
            name: name.to_owned(),
            key_id: cosigner_key_id(name, &public_key),
            public_key,
        })
    }

    /// Parses a type-0x04 vkey, checking that the id matches the name and key.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let mut parts = text.splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(NoteError::BadKey("expected name+keyid+key"));
        };
        check_name(name)?;
        let key = b64_decode_strict(key).ok_or(NoteError::BadKey("key is not canonical base64"))?;
        let (Some(&ALG_COSIGNATURE_V1), Ok(pk)) =
            (key.first(), <[u8; 32]>::try_from(&key[1.min(key.len())..]))
        else {
            return Err(NoteError::BadKey(
                "not an Ed25519 cosignature/v1 key (type 0x04)",
            ));
        };
        let v = Self::new(name, pk)?;
        if hex::encode(v.key_id) != id {
            return Err(NoteError::BadKey("key id does not match the key"));
        }
        Ok(v)
    }

    /// Whether this key names the signature line (same name and key id).
    pub fn matches(&self, sig: &NoteSignature) -> bool {
        sig.name == self.name && sig.key_id == self.key_id
    }

    /// Checks one signature line's payload (after the key id) over `body`; returns the
    /// timestamp. The timestamp must be below 2^63 and, per tlog-witness, not zero.
    pub fn verify(&self, body: &str, sig: &NoteSignature) -> Result<u64, NoteError> {
        if !self.matches(sig) {
            return Err(NoteError::UnknownSigner);
        }
        let bad = || NoteError::BadSignature(self.to_string());
        if sig.signature.len() != TIMESTAMPED_LEN {
            return Err(bad());
        }
        let mut ts = [0u8; 8];
        ts.copy_from_slice(&sig.signature[..8]);
        let ts = u64::from_be_bytes(ts);
        if ts == 0 || ts >= 1 << 63 {
            return Err(bad());
        }
        UnparsedPublicKey::new(&ED25519, &self.public_key)
            .verify(signed_message(ts, body).as_bytes(), &sig.signature[8..])
            .map_err(|_| bad())?;
        Ok(ts)
    }
}

impl fmt::Display for CosignVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut key = vec![ALG_COSIGNATURE_V1];
        key.extend_from_slice(&self.public_key);
        write!(
            f,
            "{}+{}+{}",
            self.name,
            hex::encode(self.key_id),
            STANDARD.encode(&key)
        )
    }
}

impl fmt::Debug for CosignVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CosignVerifier({self})")
    }
}

/// A witness's private key. `Debug` never shows it.
pub struct Cosigner {
    keypair: Ed25519KeyPair,
    verifier: CosignVerifier,
}

impl fmt::Debug for Cosigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cosigner({}, private key redacted)", self.verifier)
    }
}

impl Cosigner {
    fn from_keypair(name: &str, keypair: Ed25519KeyPair) -> Result<Self, NoteError> {
        let pk = <[u8; 32]>::try_from(keypair.public_key().as_ref())
            .map_err(|_| NoteError::BadKey("public key"))?;
        Ok(Self {
            verifier: CosignVerifier::new(name, pk)?,
            keypair,
        })
    }

    /// From a PKCS#8 Ed25519 private key document.
    pub fn from_pkcs8(name: &str, der: &[u8]) -> Result<Self, NoteError> {
        Self::from_keypair(name, crate::audit::note::keypair_from_pkcs8(der)?)
    }

    /// From a raw 32-byte Ed25519 seed.
    pub fn from_seed(name: &str, seed: &[u8]) -> Result<Self, NoteError> {
        Self::from_keypair(name, crate::audit::note::keypair_from_seed(seed)?)
    }

    pub fn verifier(&self) -> &CosignVerifier {
        &self.verifier
    }

    /// The cosignature line (without its newline) over checkpoint `body` at `timestamp`
    /// (POSIX seconds, 1 ≤ t < 2^63).
    pub fn cosign(&self, body: &str, timestamp: u64) -> Result<String, NoteError> {
        if timestamp == 0 || timestamp >= 1 << 63 {
            return Err(NoteError::Malformed("cosignature timestamp out of range"));
        }
        let mut sig = self.verifier.key_id.to_vec();
        sig.extend_from_slice(&timestamp.to_be_bytes());
        sig.extend_from_slice(
            self.keypair
                .sign(signed_message(timestamp, body).as_bytes())
                .as_ref(),
        );
        Ok(format!(
            "{DASH}{} {}",
            self.verifier.name,
            STANDARD.encode(&sig)
        ))
    }
}

/// The valid cosignatures in a signed note `text` by the `trusted` witnesses (at most one per
/// witness). Lines by unknown keys are ignored; a line that names a trusted key but does not
/// verify makes the whole note an error (signed-note: such a note is malformed).
pub fn cosignatures(text: &str, trusted: &[CosignVerifier]) -> Result<Vec<Cosignature>, NoteError> {
    let note = super::note::Note::parse(text)?;
    let mut out: Vec<Cosignature> = Vec::new();
    let mut seen: Vec<[u8; 4]> = Vec::new();
    for sig in &note.signatures {
        let Some(w) = trusted.iter().find(|w| w.matches(sig)) else {
            continue;
        };
        let timestamp = w.verify(&note.body, sig)?;
        if seen.contains(&w.key_id) {
            continue;
        }
        seen.push(w.key_id);
        let mut payload = sig.key_id.to_vec();
        payload.extend_from_slice(&sig.signature);
        out.push(Cosignature {
            name: w.name.clone(),
            timestamp,
            line: format!("{DASH}{} {}", sig.name, STANDARD.encode(&payload)),
        });
    }
    Ok(out)
}

#[cfg(test)]
#[path = "cosign_tests.rs"]
mod tests;
