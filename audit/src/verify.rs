//! Offline verification of a hearing bundle: a list of named checks, each OK or FAIL with a
//! readable detail, so that `remote-hearing audit verify` (and its `--json`) and the tests
//! share one verdict.
//!
//! Owns: what "the bundle verifies" means. It never talks to the server or the database.

use crate::bundle::{BUNDLE_VERSION, Bundle, BundleEntry};
use crate::endorse::{self, Chain};
use crate::leaf::{Leaf, decode_lower_hex};
use crate::merkle::leaf_hash;
use crate::note::{Checkpoint, Verifier, b64_decode_strict};
use crate::payload::{self, PayloadCheck};
use crate::proof::{verify_consistency, verify_inclusion};
use crate::terminal::{INCOMPLETE, completeness};

#[path = "verify_files.rs"]
mod files;
use files::check_files;
use serde::Serialize;
use std::collections::BTreeMap;

/// One verification check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub detail: String,
}

/// The verdict: `ok` only when every check is; `complete` when the chain ends with its
/// terminal entry (`terminal::completeness`; an open hearing is whole but not complete).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub ok: bool,
    pub complete: bool,
    /// `complete (…)` or `incomplete (hearing open or entries missing): …`; empty for a
    /// report that is not about one hearing (the whole-log check).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub completeness: String,
    /// `hearing_seq` of the entries whose payload and salt were erased (retention): their
    /// inclusion is verified, their content is gone by design (not a failure).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub erased: Vec<u64>,
    pub checks: Vec<Check>,
}

impl Report {
    fn push(&mut self, name: impl Into<String>, ok: bool, detail: impl Into<String>) {
        self.ok &= ok;
        self.checks.push(Check {
            name: name.into(),
            ok,
            detail: detail.into(),
        });
    }

    /// The report for people: one line per check.
    pub fn human(&self) -> String {
        let mut s = String::new();
        for c in &self.checks {
            s.push_str(&format!(
                "{:<4} {}: {}\n",
                if c.ok { "OK" } else { "FAIL" },
                c.name,
                c.detail
            ));
        }
        if !self.erased.is_empty() {
            let list: Vec<String> = self.erased.iter().map(|n| format!("#{n}")).collect();
            s.push_str(&format!(
                "ERASED: {} (payload and salt deleted; leaf and inclusion verified)\n",
                list.join(", ")
            ));
        }
        if !self.completeness.is_empty() {
            s.push_str(&format!("COMPLETENESS: {}\n", self.completeness));
        }
        s.push_str(if self.ok {
            "RESULT: OK, everything verifies\n"
        } else {
            "RESULT: FAIL\n"
        });
        s
    }
}

/// What the auditor brings besides the bundle.
#[derive(Debug, Default, Clone)]
pub struct Options {
    /// Pinned verifier keys. Empty: nothing is trusted (the checkpoint check fails) unless
    /// `trust_bundle_keys`.
    pub trusted_keys: Vec<Verifier>,
    /// With no pinned key, trust the keys inside the bundle (the report says so): only the
    /// bundle's internal consistency is then checked, not who signed it.
    pub trust_bundle_keys: bool,
    /// A signed checkpoint the auditor kept from earlier (note text).
    pub older_checkpoint: Option<String>,
    /// A directory holding the recorded files, each named by its recording id (optionally
    /// with an extension): their SHA-256 and size are checked against the sealed digests.
    pub recordings_dir: Option<std::path::PathBuf>,
}

/// Parses and verifies bundle JSON text.
pub fn verify_bundle_text(text: &str, opts: &Options) -> Report {
    match serde_json::from_str::<Bundle>(text) {
        Ok(b) => verify_bundle(&b, opts),
        Err(e) => {
            let mut r = Report {
                ok: true,
                complete: false,
                completeness: INCOMPLETE.into(),
                erased: vec![],
                checks: vec![],
            };
            r.push("bundle", false, format!("not a bundle: {e}"));
            r
        }
    }
}

/// Verifies a bundle.
pub fn verify_bundle(b: &Bundle, opts: &Options) -> Report {
    let whole = completeness(b);
    let mut r = Report {
        ok: true,
        complete: whole.complete,
        completeness: whole.detail,
        erased: vec![],
        checks: vec![],
    };
    r.push(
        "bundle version",
        b.version == BUNDLE_VERSION,
        format!("version {}", b.version),
    );

    let chain = trusted_keys(b, opts, &mut r);
    let cp = match Checkpoint::open(&b.checkpoint, Some(&b.origin), &chain.verifiers()) {
        Ok((cp, by)) => {
            let names: Vec<String> = by.iter().map(|v| v.to_string()).collect();
            let range = chain.check_range(&by, cp.size);
            r.push(
                "checkpoint signature",
                range.is_ok(),
                match &range {
                    Ok(()) => format!("size {} signed by {}", cp.size, names.join(", ")),
                    Err(e) => e.clone(),
                },
            );
            range.ok().map(|()| cp)
        }
        Err(e) => {
            r.push("checkpoint signature", false, e.to_string());
            None
        }
    };

    let mut entries: Vec<&BundleEntry> = b.entries.iter().collect();
    entries.sort_by_key(|e| e.hearing_seq);
    r.push(
        "entries present",
        !entries.is_empty(),
        format!("{} entries", entries.len()),
    );
    let mut prev: Option<[u8; 32]> = None;
    let mut sealed = BTreeMap::new();
    for (i, e) in entries.iter().enumerate() {
        let (leaf, hash) = check_entry(b, e, i as u64, prev, cp.as_ref(), &mut r);
        prev = hash;
        for rec in leaf.map(|l| l.recordings).unwrap_or_default() {
            sealed.insert(rec.id.clone(), rec);
        }
    }

    let listed: BTreeMap<_, _> = b.recordings.iter().map(|x| (x.id.clone(), x)).collect();
    let mut problems = Vec::new();
    for (id, rec) in &listed {
        match sealed.get(id) {
            Some(s) if s.sha256 == rec.sha256 && s.bytes == rec.bytes => {}
            Some(_) => problems.push(format!("{id}: digest or size differs from the sealed one")),
            None => problems.push(format!("{id}: not sealed by any entry")),
        }
    }
    for id in sealed.keys().filter(|id| !listed.contains_key(*id)) {
        problems.push(format!("{id}: sealed but not listed"));
    }
    let n = listed.len();
    r.push(
        "recordings",
        problems.is_empty(),
        if problems.is_empty() {
            format!("{n} recordings match their sealed digests")
        } else {
            problems.join("; ")
        },
    );

    if let Some(dir) = &opts.recordings_dir {
        check_files(b, dir, &mut r);
    }
    if let Some(older) = &opts.older_checkpoint {
        check_older(b, older, &chain, cp.as_ref(), &mut r);
    }
    r
}

/// The pinned keys (or the bundle's own, when asked) and the keys the bundle's endorsements
/// lead to from them, each with the sizes it may sign.
fn trusted_keys(b: &Bundle, opts: &Options, r: &mut Report) -> Chain {
    let pinned = pinned_keys(b, opts, r);
    let chain = endorse::follow(&b.origin, &pinned, &b.endorsements);
    if !b.endorsements.is_empty() {
        let (ok, detail) = chain.summary();
        r.push("key rotations", ok, detail);
    }
    chain
}

fn pinned_keys(b: &Bundle, opts: &Options, r: &mut Report) -> Vec<Verifier> {
    if !opts.trusted_keys.is_empty() {
        return opts.trusted_keys.clone();
    }
    if !opts.trust_bundle_keys {
        r.push(
            "keys",
            false,
            "no trusted key: pin the log's key (--key, --keys or audit.trusted_keys)",
        );
        return vec![];
    }
    let mut keys = Vec::new();
    for k in &b.keys {
        match Verifier::parse(k) {
            Ok(v) => keys.push(v),
            Err(e) => r.push("bundle keys", false, format!("{k}: {e}")),
        }
    }
    r.push(
        "keys",
        true,
        "--trust-bundle-keys: trusting the keys inside the bundle (pin a key for a real audit)",
    );
    keys
}

/// Checks one entry (the `i`-th of the hearing); returns its decoded leaf and leaf hash.
fn check_entry(
    b: &Bundle,
    e: &BundleEntry,
    i: u64,
    prev: Option<[u8; 32]>,
    cp: Option<&Checkpoint>,
    r: &mut Report,
) -> (Option<Leaf>, Option<[u8; 32]>) {
    let label = format!(
        "entry {} #{} {} by {} at {}",
        e.seq,
        e.hearing_seq,
        e.step,
        e.actor,
        e.at.to_rfc3339()
    );
    let bytes = match decode_lower_hex(&e.leaf_hex) {
        Some(b) => b,
        None => {
            r.push(label, false, "leaf_hex is not lowercase hex");
            return (None, None);
        }
    };
    let hash = leaf_hash(&bytes);
    let leaf = match Leaf::decode(&bytes) {
        Ok(l) => l,
        Err(err) => {
            r.push(label, false, format!("leaf does not decode: {err}"));
            return (None, Some(hash));
        }
    };
    let mut fails = Vec::new();
    if leaf.hearing_id != b.hearing_id {
        fails.push(format!(
            "leaf belongs to hearing {}, not {}",
            leaf.hearing_id, b.hearing_id
        ));
    }
    if e.hearing_seq != i || leaf.hearing_seq != i {
        fails.push(format!(
            "hearing_seq {} (leaf {}) where {i} was due: a gap or a duplicate",
            e.hearing_seq, leaf.hearing_seq
        ));
    }
    let want_prev = prev.unwrap_or([0u8; 32]);
    if leaf.prev_leaf_hash != want_prev {
        fails.push("chain broken: previous-leaf hash does not match the previous entry".into());
    }
    if leaf.step != e.step
        || leaf.actor_role != e.actor.role
        || leaf.actor_id != e.actor.id
        || leaf.at_ms != e.at.timestamp_millis()
    {
        fails.push("step, actor or time differ from the leaf".into());
    }
    let erased = match payload::check(&leaf, &e.payload, e.salt.as_deref(), e.erased) {
        PayloadCheck::Verified => false,
        PayloadCheck::Erased => true,
        PayloadCheck::Failed(why) => {
            fails.push(why);
            false
        }
    };
    match cp {
        None => fails.push("no trusted checkpoint to prove inclusion against".into()),
        Some(cp) => {
            let proof: Option<Vec<Vec<u8>>> =
                e.proof.iter().map(|p| b64_decode_strict(p)).collect();
            match proof {
                None => fails.push("proof is not canonical base64".into()),
                Some(p) => {
                    if let Err(err) = verify_inclusion(e.seq, cp.size, &hash, &p, &cp.root) {
                        fails.push(format!(
                            "not included at seq {} in the checkpoint's tree of {}: {err}",
                            e.seq, cp.size
                        ));
                    }
                }
            }
        }
    }
    let ok = fails.is_empty();
    if ok && erased {
        r.erased.push(e.hearing_seq);
    }
    r.push(
        label,
        ok,
        if ok && erased {
            "erased: payload and salt deleted; leaf, chain and inclusion verified".into()
        } else if ok {
            format!(
                "v{} leaf, payload, chain and inclusion verified",
                leaf.version
            )
        } else {
            fails.join("; ")
        },
    );
    (Some(leaf), Some(hash))
}

fn check_older(b: &Bundle, older: &str, chain: &Chain, cp: Option<&Checkpoint>, r: &mut Report) {
    let name = "consistency with the older checkpoint";
    let old = match Checkpoint::open(older, Some(&b.origin), &chain.verifiers()) {
        Ok((c, by)) => match chain.check_range(&by, c.size) {
            Ok(()) => c,
            Err(e) => return r.push(name, false, format!("older checkpoint: {e}")),
        },
        Err(e) => return r.push(name, false, format!("older checkpoint: {e}")),
    };
    let Some(cp) = cp else {
        return r.push(name, false, "the bundle's checkpoint is not trusted");
    };
    if old.size > cp.size {
        return r.push(name, false, format!("rollback: the bundle's checkpoint (size {}) is older than the one you hold (size {})", cp.size, old.size));
    }
    if old.size == cp.size {
        let ok = old.root == cp.root;
        let detail = if ok {
            "same tree".to_string()
        } else {
            format!("fork: two different roots for size {}", cp.size)
        };
        return r.push(name, ok, detail);
    }
    let Some(c) = b
        .consistency
        .as_ref()
        .filter(|c| c.from_size == old.size && c.to_size == cp.size)
    else {
        return r.push(name, false, format!("the bundle has no consistency proof from size {} (request it with ?consistency_from={})", old.size, old.size));
    };
    let hashes: Option<Vec<Vec<u8>>> = c.hashes.iter().map(|h| b64_decode_strict(h)).collect();
    let res = match hashes {
        None => Err("proof is not canonical base64".to_string()),
        Some(h) => verify_consistency(old.size, cp.size, &h, &old.root, &cp.root)
            .map_err(|e| e.to_string()),
    };
    match res {
        Ok(()) => r.push(
            name,
            true,
            format!(
                "tree of size {} extends the one of size {}",
                cp.size, old.size
            ),
        ),
        Err(e) => r.push(name, false, format!("fork or rewrite: {e}")),
    }
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;
