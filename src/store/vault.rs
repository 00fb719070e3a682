//! Per-hearing data keys for files at rest (issue 15 §3, docs/operations.md "Encryption at
//! rest"): each hearing gets one random AES-256 key per retention class (`recordings`,
//! `personal_data`, `case_file`), drawn when its first file of that class is stored, kept in
//! `hearing_keys` wrapped (AES-256-GCM) by the master key of `[storage] master_key_file`.
//! Files are sealed with `recordings::sealed`; the key id in each file's header finds its row.
//! Deleting a row is crypto-shredding: every copy of the class's files, backups included,
//! stops decrypting. Owns `hearing_keys`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use base64::Engine;
use recordings::sealed::FileKey;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use sqlx::AnyPool;

use super::Tx;

/// The class of a hearing's call recordings (deleted after `retention.recordings_days`).
pub const RECORDINGS: &str = "recordings";
/// The class of a hearing's personal files: the ID-card still, signatures (erased after
/// `retention.personal_data_days`).
pub const PERSONAL_DATA: &str = "personal_data";
/// The class of the violations' evidence photos shown at the notice: part of the case file,
/// kept like the decision (never shredded by the retention sweep).
pub const CASE_FILE: &str = "case_file";
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// `[storage]`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct StorageConfig {
    /// A file holding the 32-byte master key (64 hex characters or base64). Required in
    /// production; empty in development: generated once into `DATA_DIR/storage-master.key`.
    pub master_key_file: PathBuf,
}

/// The master key and the `hearing_keys` table.
pub struct Vault {
    master: LessSafeKey,
    rng: SystemRandom,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault(<redacted>)")
    }
}

impl Vault {
    /// The master key of `cfg`; in development an empty path means a key generated once into
    /// `data_dir` (mode 0600). Production refuses to start without one.
    pub fn from_config(
        cfg: &StorageConfig,
        production: bool,
        data_dir: &Path,
    ) -> anyhow::Result<Vault> {
        let text = if !cfg.master_key_file.as_os_str().is_empty() {
            std::fs::read_to_string(&cfg.master_key_file).with_context(|| {
                format!(
                    "cannot read storage.master_key_file {}",
                    cfg.master_key_file.display()
                )
            })?
        } else if production {
            anyhow::bail!(
                "storage.master_key_file must be set in production (RH_STORAGE__MASTER_KEY_FILE: a \
                 file with 32 bytes as 64 hex characters, e.g. `openssl rand -hex 32`); it wraps the \
                 keys of every recording and evidence file"
            );
        } else {
            String::from_utf8(crate::secrets::dev_secret(data_dir, "storage-master.key")?)?
        };
        Ok(Vault::new(&crate::secrets::key_32(
            &text,
            "storage.master_key_file",
        )?))
    }

    pub fn new(raw: &[u8; 32]) -> Vault {
        let unbound = match UnboundKey::new(&AES_256_GCM, raw) {
            Ok(k) => k,
            Err(_) => unreachable!("32 bytes are an AES-256 key"),
        };
        Vault {
            master: LessSafeKey::new(unbound),
            rng: SystemRandom::new(),
        }
    }

    fn aad(hearing_id: &str, class: &str, key_id: &str) -> String {
        format!("hearing_keys|{hearing_id}|{class}|{key_id}")
    }

    fn wrap(&self, aad: &str, raw: &[u8; 32]) -> anyhow::Result<String> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng
            .fill(&mut nonce)
            .map_err(|_| anyhow::anyhow!("rng failed"))?;
        let mut buf = raw.to_vec();
        self.master
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad.as_bytes()),
                &mut buf,
            )
            .map_err(|_| anyhow::anyhow!("wrapping a key failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        Ok(B64.encode(out))
    }

    fn unwrap_key(&self, aad: &str, wrapped: &str) -> anyhow::Result<[u8; 32]> {
        let mut raw = B64.decode(wrapped)?;
        if raw.len() != NONCE_LEN + 32 + 16 {
            anyhow::bail!("a wrapped key of the wrong length");
        }
        let nonce = Nonce::try_assume_unique_for_key(&raw[..NONCE_LEN])
            .map_err(|_| anyhow::anyhow!("bad nonce"))?;
        let plain = self
            .master
            .open_in_place(nonce, Aad::from(aad.as_bytes()), &mut raw[NONCE_LEN..])
            .map_err(|_| {
                anyhow::anyhow!(
                    "a hearing key does not unwrap: another master key, or an altered row"
                )
            })?;
        plain
            .try_into()
            .map_err(|_| anyhow::anyhow!("a wrapped key of the wrong length"))
    }

    fn file_key(
        &self,
        hearing_id: &str,
        class: &str,
        id: &str,
        wrapped: &str,
    ) -> anyhow::Result<FileKey> {
        let raw = self.unwrap_key(&Self::aad(hearing_id, class, id), wrapped)?;
        let id: [u8; 16] = hex::decode(id)?
            .try_into()
            .map_err(|_| anyhow::anyhow!("a key id of the wrong length"))?;
        Ok(FileKey::new(id, &raw))
    }

    /// The hearing's key of `class`, drawn and stored on first use, inside `tx` (concurrent
    /// first uses agree on one row).
    pub async fn key_in(
        &self,
        tx: &mut Tx,
        hearing_id: &str,
        class: &str,
        now_ms: i64,
    ) -> anyhow::Result<Arc<FileKey>> {
        let (mut raw, mut id) = ([0u8; 32], [0u8; 16]);
        self.rng
            .fill(&mut raw)
            .and_then(|_| self.rng.fill(&mut id))
            .map_err(|_| anyhow::anyhow!("rng failed"))?;
        let id_hex = hex::encode(id);
        let wrapped = self.wrap(&Self::aad(hearing_id, class, &id_hex), &raw)?;
        sqlx::query(
            "INSERT INTO hearing_keys (key_id, hearing_id, class, wrapped, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (hearing_id, class) DO NOTHING",
        )
        .bind(&id_hex)
        .bind(hearing_id)
        .bind(class)
        .bind(&wrapped)
        .bind(now_ms)
        .execute(&mut **tx)
        .await?;
        let (key_id, wrapped): (String, String) = sqlx::query_as(
            "SELECT key_id, wrapped FROM hearing_keys WHERE hearing_id = $1 AND class = $2",
        )
        .bind(hearing_id)
        .bind(class)
        .fetch_one(&mut **tx)
        .await?;
        Ok(Arc::new(
            self.file_key(hearing_id, class, &key_id, &wrapped)?,
        ))
    }

    /// [`Vault::key_in`] in its own transaction.
    pub async fn key_for(
        &self,
        db: &super::Db,
        hearing_id: &str,
        class: &str,
        now_ms: i64,
    ) -> anyhow::Result<Arc<FileKey>> {
        let mut tx = db.begin().await?;
        let k = self.key_in(&mut tx, hearing_id, class, now_ms).await?;
        tx.commit().await?;
        Ok(k)
    }

    /// The key of id `key_id` if it still exists and belongs to `hearing_id` (None once the
    /// retention sweep destroyed it).
    pub async fn key_by_id(
        &self,
        pool: &AnyPool,
        hearing_id: &str,
        key_id: &[u8; 16],
    ) -> anyhow::Result<Option<Arc<FileKey>>> {
        let id = hex::encode(key_id);
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT class, wrapped FROM hearing_keys WHERE key_id = $1 AND hearing_id = $2",
        )
        .bind(&id)
        .bind(hearing_id)
        .fetch_optional(pool)
        .await?;
        row.map(|(class, w)| self.file_key(hearing_id, &class, &id, &w).map(Arc::new))
            .transpose()
    }

    /// [`Vault::open_blob`] inside `tx`.
    pub async fn open_blob_in(
        &self,
        tx: &mut Tx,
        hearing_id: &str,
        stored: Vec<u8>,
    ) -> anyhow::Result<Vec<u8>> {
        let Some(id) = recordings::sealed::key_id(&stored) else {
            return Ok(stored);
        };
        let id_hex = hex::encode(id);
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT class, wrapped FROM hearing_keys WHERE key_id = $1 AND hearing_id = $2",
        )
        .bind(&id_hex)
        .bind(hearing_id)
        .fetch_optional(&mut **tx)
        .await?;
        let (class, w) =
            row.ok_or_else(|| anyhow::anyhow!("the key of this sealed file was destroyed"))?;
        let key = self.file_key(hearing_id, &class, &id_hex, &w)?;
        Ok(recordings::sealed::open_bytes(&key, &stored)?)
    }

    /// Destroys the hearing's key of `class` inside `tx` (crypto-shredding); its id (hex) when
    /// there was one.
    pub async fn destroy(
        tx: &mut Tx,
        hearing_id: &str,
        class: &str,
    ) -> Result<Option<String>, sqlx::Error> {
        let id: Option<String> = sqlx::query_scalar(
            "SELECT key_id FROM hearing_keys WHERE hearing_id = $1 AND class = $2",
        )
        .bind(hearing_id)
        .bind(class)
        .fetch_optional(&mut **tx)
        .await?;
        sqlx::query("DELETE FROM hearing_keys WHERE hearing_id = $1 AND class = $2")
            .bind(hearing_id)
            .bind(class)
            .execute(&mut **tx)
            .await?;
        Ok(id)
    }

    /// Seals a blob (an evidence image) for the hearing's `class` key, inside `tx`.
    pub async fn seal_blob(
        &self,
        tx: &mut Tx,
        hearing_id: &str,
        class: &str,
        now_ms: i64,
        plain: &[u8],
    ) -> anyhow::Result<Vec<u8>> {
        let key = self.key_in(tx, hearing_id, class, now_ms).await?;
        Ok(recordings::sealed::seal_bytes(&key, plain)?)
    }

    /// A stored blob as plaintext: opened when sealed, passed through when it was stored before
    /// encryption. An error when its key is gone or it does not decrypt.
    pub async fn open_blob(
        &self,
        pool: &AnyPool,
        hearing_id: &str,
        stored: Vec<u8>,
    ) -> anyhow::Result<Vec<u8>> {
        let Some(id) = recordings::sealed::key_id(&stored) else {
            return Ok(stored);
        };
        let key = self
            .key_by_id(pool, hearing_id, &id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the key of this sealed file was destroyed"))?;
        Ok(recordings::sealed::open_bytes(&key, &stored)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrapped_key_opens_only_in_its_place_and_under_its_master() {
        let v = Vault::new(&[3; 32]);
        let w = v.wrap("hearing_keys|h1|recordings|ab", &[9; 32]).unwrap();
        assert_eq!(
            v.unwrap_key("hearing_keys|h1|recordings|ab", &w).unwrap(),
            [9; 32]
        );
        assert!(v.unwrap_key("hearing_keys|h2|recordings|ab", &w).is_err());
        assert!(
            v.unwrap_key("hearing_keys|h1|personal_data|ab", &w)
                .is_err()
        );
        assert!(
            Vault::new(&[4; 32])
                .unwrap_key("hearing_keys|h1|recordings|ab", &w)
                .is_err()
        );
    }

    #[test]
    fn the_master_key_is_required_in_production_and_generated_in_development() {
        let dir = tempfile::tempdir().unwrap();
        let none = StorageConfig::default();
        let e = Vault::from_config(&none, true, dir.path()).unwrap_err();
        assert!(e.to_string().contains("master_key_file"), "{e}");
        Vault::from_config(&none, false, dir.path()).unwrap();
        let dev = dir.path().join("storage-master.key");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&dev).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let cfg = StorageConfig {
            master_key_file: dev,
        };
        Vault::from_config(&cfg, true, dir.path()).unwrap();
        let short = dir.path().join("short.key");
        std::fs::write(&short, "abcd").unwrap();
        let cfg = StorageConfig {
            master_key_file: short,
        };
        assert!(Vault::from_config(&cfg, true, dir.path()).is_err());
    }
}
