//! `remote-hearing audit verify-log`: checks a whole stored log against its leaves. Every value
//! the store derives from the leaves is recomputed and compared with what is stored: each
//! entry's `leaf_hash` column and chain link, the columns copied from the leaf, the payload
//! digests, every node of `audit_nodes` (none wrong, none missing), the state row's size and
//! peaks, and each checkpoint (signature, key range, root against the leaves, its `size`,
//! `root` and `key_id` columns against its note). Pinned keys reach later keys only through
//! the stored rotation endorsements (`audit::endorse`).

use std::collections::HashMap;

use super::{
    bundle::Actor,
    endorse::{self, Chain},
    leaf::Leaf,
    merkle::{self, HashStore, MemoryStore},
    note::{Checkpoint, Verifier},
    payload::{self, PayloadCheck},
    store::{self, AuditError},
    verify::{Check, Report},
};
use crate::store::Db;

/// At most this many problems are listed per check.
const MAX_LISTED: usize = 50;

/// Checks a whole stored log: every leaf, payload, chain, stored hash, node and checkpoint.
/// `pinned` keys, if given, replace the keys table for checkpoint signatures.
pub async fn verify_log(db: &Db, pinned: &[Verifier]) -> Result<Report, AuditError> {
    let mut r = Report {
        ok: true,
        complete: false,
        completeness: String::new(),
        erased: vec![],
        checks: vec![],
    };
    let mut conn = db.read.acquire().await?;
    let (tree, bad) = check_entries(&mut conn).await?;
    let n = tree.size();
    push(
        &mut r,
        "entries",
        &bad,
        format!("{n} leaves, stored leaf hashes, payloads and hearing chains verified"),
    );
    let bad = check_head(&mut conn, &tree).await?;
    push(
        &mut r,
        "tree head",
        &bad,
        format!("tree head and peaks of size {n} match the leaves"),
    );
    let bad = check_nodes(&mut conn, &tree).await?;
    push(
        &mut r,
        "stored nodes",
        &bad,
        format!("all {} nodes stored and right", expected_nodes(n)),
    );
    let chain = key_chain(&mut conn, pinned).await?;
    if !chain.followed.is_empty() || !chain.errors.is_empty() {
        let (ok, detail) = chain.summary();
        r.ok &= ok;
        r.checks.push(Check {
            name: "key rotations".into(),
            ok,
            detail,
        });
    }
    let (count, bad) = check_checkpoints(&mut conn, &tree, &chain).await?;
    push(
        &mut r,
        "checkpoints",
        &bad,
        format!("{count} checkpoints verified"),
    );
    Ok(r)
}

fn push(r: &mut Report, name: &str, bad: &[String], good: String) {
    let ok = bad.is_empty();
    r.ok &= ok;
    r.checks.push(Check {
        name: name.into(),
        ok,
        detail: if ok { good } else { bad.join("; ") },
    });
}

/// Reads the entries in order, rebuilding the tree from the leaves.
async fn check_entries(
    conn: &mut sqlx::AnyConnection,
) -> Result<(MemoryStore, Vec<String>), AuditError> {
    let mut tree = MemoryStore::new();
    let mut heads: HashMap<String, (u64, merkle::Hash)> = HashMap::new();
    let mut bad = Vec::new();
    loop {
        let page = match store::entries(conn, tree.size(), 1000).await {
            Ok(p) => p,
            Err(AuditError::Corrupt(m)) => {
                bad.push(m);
                break;
            }
            Err(e) => return Err(e),
        };
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
                return Ok((tree, bad));
            }
            let h = merkle::leaf_hash(&e.leaf);
            tree.push(h);
            if e.leaf_hash != hex::encode(h) {
                bad.push(format!(
                    "entry {}: the stored leaf_hash does not match its leaf",
                    e.seq
                ));
            }
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
            let payload = if e.erased {
                Some(serde_json::Value::Null)
            } else {
                serde_json::from_str(&e.payload).ok()
            };
            let salt = e.salt.map(hex::encode);
            let verdict = payload.map(|p| payload::check(&leaf, &p, salt.as_deref(), e.erased));
            if let Some(PayloadCheck::Failed(_)) | None = verdict {
                bad.push(format!("entry {}: payload digest does not match", e.seq));
            }
        }
        if bad.len() > MAX_LISTED {
            break;
        }
    }
    Ok((tree, bad))
}

/// The state row: its size, each stored peak, and the head they make.
async fn check_head(
    conn: &mut sqlx::AnyConnection,
    tree: &MemoryStore,
) -> Result<Vec<String>, AuditError> {
    let n = tree.size();
    let (size, frontier): (i64, String) =
        sqlx::query_as("SELECT size, frontier FROM audit_log_state WHERE id = 1")
            .fetch_one(&mut *conn)
            .await?;
    let mut bad = Vec::new();
    if u64::try_from(size).ok() != Some(n) {
        bad.push(format!("stored size {size} where the log has {n} leaves"));
    }
    let ids = merkle::peaks(n);
    let ours: Vec<String> = tree
        .get_nodes(&ids)
        .map_err(AuditError::Proof)?
        .iter()
        .map(hex::encode)
        .collect();
    if frontier.len() != 64 * ids.len() {
        bad.push(format!(
            "{} stored peak digits where {} peaks are due",
            frontier.len(),
            ids.len()
        ));
    } else {
        for (i, (id, want)) in ids.iter().zip(&ours).enumerate() {
            if frontier.get(i * 64..(i + 1) * 64) != Some(want.as_str()) {
                bad.push(format!(
                    "stored peak {i} (level {}, index {}) does not match the leaves",
                    id.level, id.index
                ));
            }
        }
    }
    if bad.is_empty() && store::current_head(conn).await?.1 != tree.root() {
        bad.push("stored tree head does not match the leaves".into());
    }
    Ok(bad)
}

/// Number of complete perfect subtrees (nodes) of a tree of `size` leaves.
fn expected_nodes(size: u64) -> u64 {
    (0..64).map(|level| size >> level).sum()
}

/// Every stored node against the tree rebuilt from the leaves; none may be missing.
async fn check_nodes(
    conn: &mut sqlx::AnyConnection,
    tree: &MemoryStore,
) -> Result<Vec<String>, AuditError> {
    let stored =
        sqlx::query_as::<_, (i64, i64, String)>("SELECT level, idx, hash FROM audit_nodes")
            .fetch_all(&mut *conn)
            .await?;
    let mut wrong = Vec::new();
    let mut right = 0u64;
    for (level, idx, hash) in &stored {
        let ours = match (u8::try_from(*level), u64::try_from(*idx)) {
            (Ok(l), Ok(i)) => tree.get_nodes(&[merkle::NodeId::new(l, i)]).ok(),
            _ => None,
        };
        if ours.as_ref().and_then(|v| v.first()).map(hex::encode) == Some(hash.clone()) {
            right += 1;
        } else if wrong.len() < MAX_LISTED {
            wrong.push(format!("node level {level} index {idx} is wrong"));
        }
    }
    let due = expected_nodes(tree.size());
    if right < due && wrong.is_empty() {
        wrong.push(format!("{} of {due} nodes missing", due - right));
    } else if right < due {
        wrong.push(format!("{right} of {due} nodes right"));
    }
    Ok(wrong)
}

/// The keys checkpoints are checked with: the `pinned` ones and those the stored endorsements
/// lead to from them (`audit::endorse`); with none pinned, the keys table, its endorsements
/// still checked (a forged one fails) and narrowing the keys' ranges.
async fn key_chain(
    conn: &mut sqlx::AnyConnection,
    pinned: &[Verifier],
) -> Result<Chain, AuditError> {
    let start: Vec<Verifier> = if pinned.is_empty() {
        store::keys(conn)
            .await?
            .iter()
            .filter_map(|k| Verifier::parse(&k.vkey).ok())
            .collect()
    } else {
        pinned.to_vec()
    };
    let origin = start.first().map(|v| v.name.clone()).unwrap_or_default();
    Ok(endorse::follow(
        &origin,
        &start,
        &store::endorsements(conn).await?,
    ))
}

/// Each checkpoint: signature, key range (the table's and the endorsements'), root against the
/// leaves, and its columns.
async fn check_checkpoints(
    conn: &mut sqlx::AnyConnection,
    tree: &MemoryStore,
    chain: &Chain,
) -> Result<(usize, Vec<String>), AuditError> {
    let n = tree.size();
    let stored_keys = store::keys(conn).await?;
    let keys = chain.verifiers();
    let cps = sqlx::query_as::<_, (i64, String, String, String)>(
        "SELECT size, root, key_id, note FROM audit_checkpoints ORDER BY size",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut bad = Vec::new();
    for (size, root, key_id, note) in &cps {
        match Checkpoint::open(note, None, &keys) {
            Err(e) => bad.push(format!("size {size}: {e}")),
            Ok((cp, _)) if cp.size > n => {
                bad.push(format!("size {size}: beyond the log ({n}): truncated?"))
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
                    bad.push(format!(
                        "size {size}: signed by a key not listed for that size"
                    ));
                } else if let Err(e) = chain.check_range(&by, cp.size) {
                    bad.push(e);
                }
                if merkle::tree_root(tree, cp.size).ok() != Some(cp.root) {
                    bad.push(format!(
                        "size {size}: root differs from the leaves (rewritten history)"
                    ));
                }
                if u64::try_from(*size).ok() != Some(cp.size) || *root != hex::encode(cp.root) {
                    bad.push(format!(
                        "size {size}: the stored size or root column differs from the signed note"
                    ));
                }
                if !by.iter().any(|v| hex::encode(v.key_id) == *key_id) {
                    bad.push(format!(
                        "size {size}: the stored key_id column names no key that signed it"
                    ));
                }
            }
        }
    }
    Ok((cps.len(), bad))
}
