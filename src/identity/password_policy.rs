//! The staff password rule (issue 15 §2), the same for the admin API and the CLI: 12 to 128
//! characters (characters, not bytes), and not in the breached-password list. The list is a text
//! file, one password per line, compared exactly (case-sensitive; a trailing `\r` and empty lines
//! are ignored): `auth.breached_passwords_file`, or when that is empty the list shipped in
//! `config/breached-passwords.txt` (compiled in). It is read once at start into a set of SHA-256
//! digests, so the server keeps no list of clear passwords in memory and a look-up costs one hash.

use std::{collections::HashSet, sync::Arc};

use axum::http::StatusCode;
use ring::digest::{SHA256, digest};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::AuthConfig;
use crate::error::{ApiResult, AppError};

/// Password length rule, in characters.
pub const PASSWORD_MIN: usize = 12;
pub const PASSWORD_MAX: usize = 128;

/// The list shipped with the server (used when `auth.breached_passwords_file` is empty).
const SHIPPED: &str = include_str!("../../config/breached-passwords.txt");

/// The rule, with its breached list loaded (one per server, in the `Identity` sub-state).
#[derive(Clone)]
pub struct PasswordPolicy {
    breached: Arc<HashSet<[u8; 32]>>,
}

impl std::fmt::Debug for PasswordPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordPolicy")
            .field("breached", &self.breached.len())
            .finish()
    }
}

/// Why a password was refused (`params.rule` of the 422).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weakness {
    /// Fewer than [`PASSWORD_MIN`] or more than [`PASSWORD_MAX`] characters.
    Length,
    /// In the breached-password list.
    Breached,
}

fn sha256(p: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, p.as_bytes()).as_ref());
    out
}

impl PasswordPolicy {
    /// The list of `auth.breached_passwords_file`, or the shipped one; a file that cannot be
    /// read stops the start with one line naming it.
    pub fn from_config(cfg: &AuthConfig) -> anyhow::Result<PasswordPolicy> {
        let path = cfg.breached_passwords_file.trim();
        if path.is_empty() {
            return Ok(PasswordPolicy::from_list(SHIPPED));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read auth.breached_passwords_file {path}: {e}"))?;
        Ok(PasswordPolicy::from_list(&text))
    }

    /// A policy over `text`: one password per line.
    pub fn from_list(text: &str) -> PasswordPolicy {
        let breached = text
            .lines()
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .filter(|l| !l.is_empty())
            .map(sha256)
            .collect();
        PasswordPolicy {
            breached: Arc::new(breached),
        }
    }

    /// How many passwords the list holds.
    pub fn breached_count(&self) -> usize {
        self.breached.len()
    }

    /// What is wrong with `p`, if anything.
    pub fn weakness(&self, p: &str) -> Option<Weakness> {
        let n = p.chars().count();
        if !(PASSWORD_MIN..=PASSWORD_MAX).contains(&n) {
            return Some(Weakness::Length);
        }
        self.breached
            .contains(&sha256(p))
            .then_some(Weakness::Breached)
    }

    /// 422 `password_too_weak` on field `password`, `params.rule` = `length` (with `min`, `max`)
    /// or `breached`.
    pub fn check(&self, p: &SecretString) -> ApiResult<()> {
        let err = |rule: &str, message: String| {
            AppError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "password_too_weak",
                message,
            )
            .with_field("password")
            .with_params(json!({"rule": rule, "min": PASSWORD_MIN, "max": PASSWORD_MAX}))
        };
        match self.weakness(p.expose_secret()) {
            None => Ok(()),
            Some(Weakness::Length) => Err(err(
                "length",
                format!("a password has {PASSWORD_MIN} to {PASSWORD_MAX} characters"),
            )),
            Some(Weakness::Breached) => Err(err(
                "breached",
                "this password is in a list of breached passwords; choose another".to_string(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_counts_characters_and_the_list_is_exact() {
        let p = PasswordPolicy::from_list("Password1234\r\n\nqwertyuiop12\n");
        assert_eq!(p.breached_count(), 2);
        assert_eq!(p.weakness("short"), Some(Weakness::Length));
        assert_eq!(p.weakness(&"x".repeat(129)), Some(Weakness::Length));
        assert_eq!(p.weakness(&"x".repeat(128)), None);
        // Twelve characters of three bytes each: long enough.
        assert_eq!(p.weakness("一二三四五六七八九十一二"), None);
        assert_eq!(p.weakness("一二三四五六七八九十一"), Some(Weakness::Length));
        assert_eq!(p.weakness("Password1234"), Some(Weakness::Breached));
        assert_eq!(p.weakness("password1234"), None, "case-sensitive");
        assert_eq!(p.weakness("qwertyuiop12"), Some(Weakness::Breached));
        assert_eq!(p.weakness(" qwertyuiop12"), None);
        let e = p.check(&SecretString::from("Password1234")).unwrap_err();
        assert_eq!((e.status.as_u16(), e.code), (422, "password_too_weak"));
        assert_eq!(e.field.as_deref(), Some("password"));
        assert_eq!(e.params.unwrap()["rule"], "breached");
        let e = p.check(&SecretString::from("short")).unwrap_err();
        assert_eq!(e.params.unwrap()["rule"], "length");
    }

    #[test]
    fn the_shipped_list_refuses_common_passwords_but_not_the_demo_ones() {
        let p = PasswordPolicy::from_list(SHIPPED);
        assert!(p.breached_count() >= 100, "{}", p.breached_count());
        for weak in [
            "password1234",
            "123456789012",
            "qwertyuiop123",
            "1q2w3e4r5t6y",
        ] {
            assert_eq!(p.weakness(weak), Some(Weakness::Breached), "{weak}");
        }
        for demo in ["demo-officer-1", "demo-auditor-1", "demo-admin-1"] {
            assert_eq!(p.weakness(demo), None, "{demo}");
        }
        // Every shipped line that is long enough is refused (the file has no comment lines).
        for line in SHIPPED
            .lines()
            .filter(|l| l.chars().count() >= PASSWORD_MIN)
        {
            assert_eq!(p.weakness(line), Some(Weakness::Breached), "{line}");
        }
    }
}
