//! The key that encrypts the citizens' identity at rest (`[identity] data_key`): AES-256-GCM
//! (ring), a fresh random 96-bit nonce per value, the value's place (`citizens.<column>:<id>`)
//! as associated data so a ciphertext copied to another row or column does not open. A sealed
//! value is stored as `v1.` + base64(nonce ‖ ciphertext ‖ tag). The key is 32 bytes given as
//! 64 hex characters or base64; required in production, generated once into the data directory
//! in development and tests. Its `Debug` shows nothing of it.

use base64::Engine;
use ring::{
    aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey},
    rand::{SecureRandom, SystemRandom},
};
use secrecy::ExposeSecret;

use super::IdentityConfig;

const PREFIX: &str = "v1.";
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

pub struct DataKey {
    key: LessSafeKey,
    rng: SystemRandom,
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

/// A sealed value that does not open: wrong key, altered or moved ciphertext.
#[derive(Debug, thiserror::Error)]
#[error("identity data does not decrypt: {0}")]
pub struct SealError(&'static str);

impl DataKey {
    /// The configured key; in development an empty one is generated into `data_dir`.
    pub fn from_config(
        config: &IdentityConfig,
        production: bool,
        data_dir: &std::path::Path,
    ) -> anyhow::Result<DataKey> {
        let text = config.data_key.expose_secret().trim().to_string();
        if !text.is_empty() {
            return DataKey::parse(&text);
        }
        if production {
            anyhow::bail!(
                "identity.data_key must be set in production (RH_IDENTITY__DATA_KEY: 32 bytes as 64 hex characters or base64)"
            );
        }
        let dev = crate::secrets::dev_secret(data_dir, "identity-data.key")?;
        DataKey::parse(std::str::from_utf8(&dev)?)
    }

    /// 32 bytes as 64 hex characters or as base64.
    pub fn parse(text: &str) -> anyhow::Result<DataKey> {
        let raw = crate::secrets::key_32(text, "identity.data_key")?;
        let unbound = UnboundKey::new(&AES_256_GCM, &raw)
            .map_err(|_| anyhow::anyhow!("identity.data_key is not an AES-256 key"))?;
        Ok(DataKey {
            key: LessSafeKey::new(unbound),
            rng: SystemRandom::new(),
        })
    }

    /// Encrypts `plain` for the place `aad` (e.g. `citizens.id_number:<citizen id>`).
    pub fn seal(&self, aad: &str, plain: &str) -> Result<String, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng
            .fill(&mut nonce)
            .map_err(|_| SealError("no random nonce"))?;
        let mut buf = plain.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad.as_bytes()),
                &mut buf,
            )
            .map_err(|_| SealError("seal failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        Ok(format!("{PREFIX}{}", B64.encode(out)))
    }

    /// Decrypts a value sealed by [`DataKey::seal`] for the same place.
    pub fn open(&self, aad: &str, sealed: &str) -> Result<String, SealError> {
        let body = sealed
            .strip_prefix(PREFIX)
            .ok_or(SealError("unknown format"))?;
        let mut raw = B64.decode(body).map_err(|_| SealError("not base64"))?;
        if raw.len() < NONCE_LEN {
            return Err(SealError("too short"));
        }
        let mut ct = raw.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&raw).map_err(|_| SealError("bad nonce"))?;
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(aad.as_bytes()), &mut ct)
            .map_err(|_| SealError("wrong key or altered value"))?;
        String::from_utf8(plain.to_vec()).map_err(|_| SealError("not UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn round_trip_fresh_nonce_and_bound_place() {
        let k = DataKey::parse(HEX).unwrap();
        let a = k
            .seal("citizens.id_number:c1", "370102199003181234")
            .unwrap();
        let b = k
            .seal("citizens.id_number:c1", "370102199003181234")
            .unwrap();
        assert_ne!(a, b, "a fresh nonce per value");
        assert!(!a.contains("1234"));
        assert_eq!(
            k.open("citizens.id_number:c1", &a).unwrap(),
            "370102199003181234"
        );
        assert!(
            k.open("citizens.id_number:c2", &a).is_err(),
            "moved to another row"
        );
        assert!(
            k.open("citizens.real_name:c1", &a).is_err(),
            "moved to another column"
        );
        let other = DataKey::parse(&B64.encode([7u8; 32])).unwrap();
        assert!(
            other.open("citizens.id_number:c1", &a).is_err(),
            "another key"
        );
        let mut tampered = a.clone().into_bytes();
        let last = tampered.len() - 3;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert!(k.open("citizens.id_number:c1", &tampered).is_err());
        assert!(!format!("{k:?}").contains("0001"));
    }

    #[test]
    fn key_formats() {
        assert!(DataKey::parse(HEX).is_ok());
        assert!(DataKey::parse(&B64.encode([1u8; 32])).is_ok());
        assert!(DataKey::parse("short").is_err());
        assert!(DataKey::parse(&B64.encode([1u8; 16])).is_err());
    }
}

#[cfg(test)]
mod config_tests {
    use super::*;

    #[test]
    fn production_needs_a_key_development_generates_one() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = IdentityConfig::default();
        let dev = DataKey::from_config(&c, false, dir.path()).unwrap();
        let again = DataKey::from_config(&c, false, dir.path()).unwrap();
        let sealed = dev.seal("p", "x").unwrap();
        assert_eq!(
            again.open("p", &sealed).unwrap(),
            "x",
            "the same generated key"
        );
        let e = DataKey::from_config(&c, true, dir.path())
            .unwrap_err()
            .to_string();
        assert!(e.contains("identity.data_key"), "{e}");
        c.data_key = secrecy::SecretString::from(hex::encode([9u8; 32]));
        assert!(DataKey::from_config(&c, true, dir.path()).is_ok());
        assert!(!format!("{c:?}").contains("0909"));
    }
}
