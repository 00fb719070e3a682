//! argon2id password hashing, always off the async runtime (`spawn_blocking`).

use argon2::{
    Argon2,
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
};
use secrecy::{ExposeSecret, SecretString};

/// A hash verified against when the badge is unknown, so that both answers take the same time.
static DUMMY_HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn hash_blocking(password: &[u8]) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut rand_core::OsRng);
    Argon2::default()
        .hash_password(password, &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
}

pub async fn hash(password: SecretString) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash_blocking(password.expose_secret().as_bytes())).await?
}

/// Verifies `password` against `stored` (or a dummy hash when `None`, returning false).
pub async fn verify(password: SecretString, stored: Option<String>) -> anyhow::Result<bool> {
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let stored = match stored {
            Some(s) => s,
            None => match DUMMY_HASH.get() {
                Some(d) => d.clone(),
                None => DUMMY_HASH
                    .get_or_init(|| hash_blocking(b"dummy").unwrap_or_default())
                    .clone(),
            },
        };
        let parsed = PasswordHash::new(&stored).map_err(|e| anyhow::anyhow!("stored hash: {e}"))?;
        let ok = Argon2::default()
            .verify_password(password.expose_secret().as_bytes(), &parsed)
            .is_ok();
        Ok(ok && known)
    })
    .await?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn round_trip() {
        let h = hash(SecretString::from("correct horse")).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(
            verify(SecretString::from("correct horse"), Some(h.clone()))
                .await
                .unwrap()
        );
        assert!(!verify(SecretString::from("wrong"), Some(h)).await.unwrap());
        assert!(!verify(SecretString::from("x"), None).await.unwrap());
    }
}
