//! The audit log as a service: the signing key and its origin, signing checkpoints over
//! durable entries, building a hearing's offline bundle, and checking a whole stored log.
//!
//! Owns `Audit` (held in `AppState`); works on a `Db` so that the CLI and tests can use it
//! without the HTTP server or Redis.

use std::{collections::HashMap, sync::Arc};

use chrono::DateTime;

use super::{
    bundle::{Actor, BUNDLE_VERSION, Bundle, BundleEntry, ConsistencyProof},
    leaf::{Leaf, payload_digest},
    merkle::{self, MemoryStore},
    note::{Checkpoint, Signer, Verifier},
    store::{self, AuditError, StoredCheckpoint},
    verify::Report,
};
use crate::store::{Backend, Db};
use base64::{Engine as _, engine::general_purpose::STANDARD};

/// The log's signing identity and checkpoint policy.
#[derive(Clone, Debug)]
pub struct Audit {
    pub signer: Arc<Signer>,
    /// Sign a checkpoint once this many entries are unsigned…
    pub every: u64,
    /// …or once the oldest unsigned entry waited this long.
    pub interval: std::time::Duration,
}

impl Audit {
    pub fn origin(&self) -> &str {
        self.signer.name()
    }

    /// Makes the signing key current in `audit_keys` (rotation: closes the previous range).
    pub async fn register_key(&self, db: &Db, now_ms: i64) -> Result<(), AuditError> {
        let mut tx = db.begin().await?;
        store::ensure_current_key(&mut tx, &self.signer.verifier().to_string(), now_ms).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Signs a checkpoint of everything committed so far, unless the newest one already
    /// covers it; returns the newest checkpoint.
    #[tracing::instrument(skip_all, err)]
    pub async fn sign_checkpoint(
        &self,
        db: &Db,
        now_ms: i64,
    ) -> Result<StoredCheckpoint, AuditError> {
        let (size, root) = durable_head(db).await?;
        let mut conn = db.read.acquire().await?;
        let key_id = hex::encode(self.signer.verifier().key_id);
        if let Some(cp) = store::latest_checkpoint(&mut conn).await?
            && cp.size == size
            && cp.key_id == key_id
        {
            return Ok(cp);
        }
        let body = Checkpoint {
            origin: self.origin().to_string(),
            size,
            root,
            extensions: vec![],
        };
        let note = body
            .sign(&self.signer)
            .map_err(|_| AuditError::Invalid("cannot sign"))?;
        let cp = StoredCheckpoint {
            size,
            root,
            note,
            key_id,
            created_at_ms: now_ms,
        };
        drop(conn);
        let mut w = db.write.acquire().await?;
        store::insert_checkpoint(&mut w, &cp).await?;
        metrics::counter!("audit_checkpoints_signed_total").increment(1);
        Ok(cp)
    }

    /// The offline bundle of one hearing, proving to the newest checkpoint (signing one first
    /// if some of the hearing's entries are not yet covered).
    #[tracing::instrument(skip_all, err)]
    pub async fn bundle(
        &self,
        db: &Db,
        hearing_id: &str,
        consistency_from: Option<u64>,
        now_ms: i64,
    ) -> Result<Bundle, AuditError> {
        let mut conn = db.read.acquire().await?;
        let rows = store::hearing_entries(&mut conn, hearing_id).await?;
        if rows.is_empty() {
            return Err(AuditError::NotFound);
        }
        let mut cp = store::latest_checkpoint(&mut conn).await?;
        if cp
            .as_ref()
            .is_none_or(|c| rows.iter().any(|r| r.seq >= c.size))
        {
            drop(conn);
            cp = Some(self.sign_checkpoint(db, now_ms).await?);
            conn = db.read.acquire().await?;
        }
        let cp = cp.ok_or(AuditError::NotFound)?;
        let b64 = |h: &merkle::Hash| STANDARD.encode(h);
        let mut entries = Vec::with_capacity(rows.len());
        let mut recordings = Vec::new();
        for r in rows {
            // Built leniently: whatever the store holds goes in, the verifier judges it.
            let proof = match store::inclusion_proof(&mut conn, r.seq, cp.size).await {
                Ok(p) => p.iter().map(b64).collect(),
                Err(_) => vec![],
            };
            if let Ok(leaf) = Leaf::decode(&r.leaf) {
                recordings.extend(leaf.recordings);
            }
            entries.push(BundleEntry {
                seq: r.seq,
                hearing_seq: r.hearing_seq,
                step: r.step,
                at: DateTime::from_timestamp_millis(r.at_ms).unwrap_or_default(),
                actor: r.actor,
                leaf_hex: hex::encode(&r.leaf),
                payload: serde_json::from_str(&r.payload).unwrap_or(serde_json::Value::Null),
                proof,
            });
        }
        let consistency = match consistency_from {
            Some(from) if from > 0 && from <= cp.size => Some(ConsistencyProof {
                from_size: from,
                to_size: cp.size,
                hashes: store::consistency_proof(&mut conn, from, cp.size)
                    .await?
                    .iter()
                    .map(b64)
                    .collect(),
            }),
            Some(_) => {
                return Err(AuditError::Invalid(
                    "consistency_from must be between 1 and the checkpoint size",
                ));
            }
            None => None,
        };
        let keys = store::keys(&mut conn)
            .await?
            .into_iter()
            .map(|k| k.vkey)
            .collect();
        Ok(Bundle {
            version: BUNDLE_VERSION,
            origin: self.origin().to_string(),
            hearing_id: hearing_id.to_string(),
            checkpoint: cp.note,
            keys,
            entries,
            recordings,
            consistency,
        })
    }
}

/// The tree head of everything committed, made durable first. On SQLite (WAL with
/// `synchronous=NORMAL`, where a commit is not fsynced by itself) a one-row write transaction
/// committed with `synchronous=FULL` fsyncs the WAL, and with it every earlier commit: the
/// group commit of the entries this checkpoint covers. PostgreSQL commits are durable already.
async fn durable_head(db: &Db) -> Result<(u64, merkle::Hash), AuditError> {
    if db.backend != Backend::Sqlite {
        let mut conn = db.read.acquire().await?;
        return store::current_head(&mut conn).await;
    }
    use sqlx::Connection;
    let mut w = db.write.acquire().await?;
    sqlx::query("PRAGMA synchronous=FULL")
        .execute(&mut *w)
        .await?;
    let head = async {
        let mut tx = w.begin().await?;
        sqlx::query("UPDATE audit_log_state SET size = size WHERE id = 1")
            .execute(&mut *tx)
            .await?;
        let head = store::current_head(&mut tx).await?;
        tx.commit().await?;
        Ok::<_, AuditError>(head)
    }
    .await;
    sqlx::query("PRAGMA synchronous=NORMAL")
        .execute(&mut *w)
        .await?;
    head
}

/// Checks a whole stored log: every leaf, payload, chain, node and checkpoint. `pinned`
/// keys, if given, replace the keys table for checkpoint signatures.
pub async fn verify_log(db: &Db, pinned: &[Verifier]) -> Result<Report, AuditError> {
    let mut r = Report {
        ok: true,
        checks: vec![],
    };
    let mut conn = db.read.acquire().await?;
    let mut tree = MemoryStore::new();
    let mut heads: HashMap<String, (u64, merkle::Hash)> = HashMap::new();
    let mut bad = Vec::new();
    loop {
        let page = store::entries(&mut conn, tree.size(), 1000).await?;
        if page.is_empty() {
            break;
        }
        for e in page {
            if e.seq != tree.size() {
                bad.push(format!(
                    "entry {} missing (next stored is {})",
                    tree.size(),
                    e.seq
                ));
                break;
            }
            let h = merkle::leaf_hash(&e.leaf);
            tree.push(h);
            let leaf = match Leaf::decode(&e.leaf) {
                Ok(l) => l,
                Err(err) => {
                    bad.push(format!("entry {}: {err}", e.seq));
                    continue;
                }
            };
            let (want_seq, want_prev) = heads
                .get(&leaf.hearing_id)
                .map(|(s, h)| (s + 1, *h))
                .unwrap_or((0, [0; 32]));
            if leaf.hearing_seq != want_seq || leaf.prev_leaf_hash != want_prev {
                bad.push(format!(
                    "entry {}: hearing {} chain broken at #{}",
                    e.seq, leaf.hearing_id, leaf.hearing_seq
                ));
            }
            heads.insert(leaf.hearing_id.clone(), (leaf.hearing_seq, h));
            let cols = Actor {
                role: leaf.actor_role.clone(),
                id: leaf.actor_id.clone(),
            };
            if e.hearing_id != leaf.hearing_id
                || e.hearing_seq != leaf.hearing_seq
                || e.step != leaf.step
                || e.at_ms != leaf.at_ms
                || e.actor != cols
            {
                bad.push(format!("entry {}: columns differ from the leaf", e.seq));
            }
            let digest = serde_json::from_str(&e.payload)
                .ok()
                .and_then(|v| payload_digest(&v).ok());
            if digest != Some(leaf.payload_sha256) {
                bad.push(format!("entry {}: payload digest does not match", e.seq));
            }
        }
        if bad.len() > 50 || bad.iter().any(|b| b.contains("missing")) {
            break;
        }
    }
    let n = tree.size();
    r_push(
        &mut r,
        "entries",
        bad.is_empty(),
        if bad.is_empty() {
            format!("{n} leaves, payloads and hearing chains verified")
        } else {
            bad.join("; ")
        },
    );

    let head = store::current_head(&mut conn).await;
    let (ok, detail) = match head {
        Ok((size, root)) if size == n && root == tree.root() => {
            (true, format!("tree head of size {size} matches the leaves"))
        }
        Ok((size, _)) => (
            false,
            format!("stored tree head (size {size}) does not match the {n} leaves"),
        ),
        Err(e) => (false, e.to_string()),
    };
    r_push(&mut r, "tree head", ok, detail);

    let stored_nodes =
        sqlx::query_as::<_, (i64, i64, String)>("SELECT level, idx, hash FROM audit_nodes")
            .fetch_all(&mut *conn)
            .await?;
    let mut node_bad = 0usize;
    for (level, idx, hash) in &stored_nodes {
        let id = merkle::NodeId::new(*level as u8, *idx as u64);
        let ours = merkle::HashStore::get_nodes(&tree, &[id])
            .ok()
            .and_then(|v| v.first().copied());
        if ours.map(hex::encode).as_deref() != Some(hash.as_str()) {
            node_bad += 1;
        }
    }
    r_push(
        &mut r,
        "stored nodes",
        node_bad == 0,
        format!("{} nodes, {node_bad} wrong", stored_nodes.len()),
    );

    let stored_keys = store::keys(&mut conn).await?;
    let keys: Vec<Verifier> = if pinned.is_empty() {
        stored_keys
            .iter()
            .filter_map(|k| Verifier::parse(&k.vkey).ok())
            .collect()
    } else {
        pinned.to_vec()
    };
    let cps = sqlx::query_as::<_, (i64, String)>(
        "SELECT size, note FROM audit_checkpoints ORDER BY size",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut cp_bad = Vec::new();
    for (size, note) in &cps {
        match Checkpoint::open(note, None, &keys) {
            Err(e) => cp_bad.push(format!("size {size}: {e}")),
            Ok((cp, _)) if cp.size > n => {
                cp_bad.push(format!("size {size}: beyond the log ({n}): truncated?"))
            }
            Ok((cp, by)) => {
                // Rotation: the signing key must be listed for this size.
                let in_range = by.iter().any(|v| {
                    let text = v.to_string();
                    stored_keys.iter().any(|k| {
                        k.vkey == text
                            && k.from_size <= cp.size
                            && k.to_size.is_none_or(|t| cp.size <= t)
                    })
                });
                if !in_range {
                    cp_bad.push(format!(
                        "size {size}: signed by a key not listed for that size"
                    ));
                }
                if merkle::tree_root(&tree, cp.size).ok() != Some(cp.root) {
                    cp_bad.push(format!(
                        "size {size}: root differs from the leaves (rewritten history)"
                    ));
                }
            }
        }
    }
    r_push(
        &mut r,
        "checkpoints",
        cp_bad.is_empty(),
        if cp_bad.is_empty() {
            format!("{} checkpoints verified", cps.len())
        } else {
            cp_bad.join("; ")
        },
    );
    Ok(r)
}

fn r_push(r: &mut Report, name: &str, ok: bool, detail: String) {
    r.ok &= ok;
    r.checks.push(super::verify::Check {
        name: name.into(),
        ok,
        detail,
    });
}
