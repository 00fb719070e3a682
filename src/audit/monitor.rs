//! `remote-hearing audit monitor PREFIX --key VKEY`: follows a log published in the
//! c2sp.org/tlog-tiles read format (issue 13 §3, docs/audit-format.md §10). Each checkpoint
//! at `PREFIX/checkpoint` must carry a valid signature by a pinned key; it must be consistent
//! with the last one seen (kept in `--state FILE` across runs). The consistency proof is
//! computed here from the public hash tiles `PREFIX/tile/<L>/<N>[.p/<W>]` (the API's
//! consistency endpoint needs an auditor token) and checked against both signed roots, so the
//! monitor trusts nothing the server says beyond what its signatures commit to.
//!
//! Exit: 0 consistent, 2 bad key or signature, 3 fork (both checkpoints printed), 1 other
//! errors (network, unreadable state).

use std::{
    collections::{HashMap, hash_map::Entry},
    path::PathBuf,
    time::Duration,
};

use ::audit::tiles::{HASH_SIZE, TileKind, TilePath};

use super::{
    merkle::{Hash, NodeId, consistency_plan, node_hash},
    note::{Checkpoint, Verifier},
    proof::verify_consistency,
    usage::UsageError,
    witness_policy::WitnessPolicy,
};

/// Largest checkpoint note accepted (with cosignatures).
const MAX_NOTE: usize = 64 * 1024;
/// Hashes in a full tile.
const TILE_WIDTH: u64 = 256;
/// Shortest polling interval.
const MIN_INTERVAL_MS: u64 = 100;

/// What `audit monitor` was asked to do.
#[derive(Debug, clap::Args)]
pub struct MonitorArgs {
    /// The log's tlog-tiles prefix, e.g. `https://host/audit/log`.
    pub url: String,
    /// The log's pinned verifier key (`name+keyid+base64`); repeatable.
    #[arg(long = "key", required = true)]
    pub keys: Vec<String>,
    /// A trusted witness's cosignature verifier key (type 0x04); repeatable: each one's
    /// cosignature is reported.
    #[arg(long = "witness")]
    pub witnesses: Vec<String>,
    /// Where the last verified checkpoint is kept between runs.
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// Polling interval.
    #[arg(long, default_value_t = 10_000)]
    pub interval_ms: u64,
    /// Check once and exit (for cron).
    #[arg(long)]
    pub once: bool,
}

/// The log forked: the two conflicting checkpoints (exit status 3).
#[derive(Debug)]
pub struct ForkError(pub String);

impl std::fmt::Display for ForkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ForkError {}

/// A checkpoint note and its verified body.
struct Seen {
    note: String,
    cp: Checkpoint,
}

struct Monitor {
    prefix: String,
    keys: Vec<Verifier>,
    witnesses: WitnessPolicy,
    http: reqwest::Client,
}

/// Runs the monitor until a fork or an error (or one round with `--once`).
pub async fn run(args: MonitorArgs) -> anyhow::Result<()> {
    let keys = args
        .keys
        .iter()
        .map(|k| Verifier::parse(k).map_err(|e| UsageError(format!("--key {k}: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let witnesses =
        WitnessPolicy::parse(&args.witnesses, None).map_err(|e| UsageError(e.to_string()))?;
    let url =
        reqwest::Url::parse(&args.url).map_err(|e| UsageError(format!("{}: {e}", args.url)))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(UsageError(format!("{}: not an http(s) URL", args.url)).into());
    }
    let m = Monitor {
        prefix: args.url.trim_end_matches('/').to_string(),
        keys,
        witnesses,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()?,
    };
    let mut last = match &args.state {
        Some(p) if p.exists() => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", p.display()))?;
            Some(
                m.open(&text)
                    .map_err(|e| UsageError(format!("state {}: {}", p.display(), e)))?,
            )
        }
        _ => None,
    };
    loop {
        let new = m.round(last.as_ref()).await?;
        if let Some(new) = new {
            if let Some(p) = &args.state {
                let tmp = p.with_extension("tmp");
                std::fs::write(&tmp, &new.note)?;
                std::fs::rename(&tmp, p)?;
            }
            last = Some(new);
        }
        if args.once {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(args.interval_ms.max(MIN_INTERVAL_MS))).await;
    }
}

impl Monitor {
    /// Checks the note's log signature with the pinned keys.
    fn open(&self, text: &str) -> Result<Seen, String> {
        let (cp, by) = Checkpoint::open(text, None, &self.keys).map_err(|e| e.to_string())?;
        // The signing key's name is the log's origin (C2SP signed-note convention).
        if !by.iter().any(|v| v.name == cp.origin) {
            return Err(format!(
                "origin {} is not the name of its signing key",
                cp.origin
            ));
        }
        Ok(Seen {
            note: text.to_string(),
            cp,
        })
    }

    /// One poll: the new checkpoint if there is one and it is consistent with `last`.
    async fn round(&self, last: Option<&Seen>) -> anyhow::Result<Option<Seen>> {
        let text = self
            .get_text(&format!("{}/checkpoint", self.prefix))
            .await?;
        let new = self
            .open(&text)
            .map_err(|e| UsageError(format!("checkpoint signature: {e}")))?;
        // Both checkpoints go to stdout whole (the error line is folded to one line).
        let fork = |why: &str, old: &Seen| {
            println!(
                "FORK: {why}\n--- previous checkpoint ---\n{}--- new checkpoint ---\n{}",
                old.note, new.note
            );
            ForkError(format!("fork: {why}"))
        };
        if let Some(old) = last {
            if new.cp.origin != old.cp.origin {
                return Err(UsageError(format!(
                    "the log's origin changed from {} to {} (another log?)",
                    old.cp.origin, new.cp.origin
                ))
                .into());
            }
            if new.cp.size < old.cp.size {
                return Err(fork("the tree is smaller than before", old).into());
            }
            if new.cp.size == old.cp.size {
                if new.cp.root != old.cp.root {
                    return Err(fork("same size, different root", old).into());
                }
                println!("unchanged size={}", new.cp.size);
                return Ok(None);
            }
            if old.cp.size > 0 {
                let proof = self.consistency_proof(old.cp.size, new.cp.size).await?;
                if let Err(e) =
                    verify_consistency(old.cp.size, new.cp.size, &proof, &old.cp.root, &new.cp.root)
                {
                    return Err(fork(&format!("consistency proof fails: {e}"), old).into());
                }
            }
        }
        let root = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, new.cp.root);
        let from = last.map_or_else(
            || "first seen".to_string(),
            |o| format!("consistent with {}", o.cp.size),
        );
        println!("ok size={} root={root} ({from})", new.cp.size);
        for c in self.witnesses.checks(&new.note) {
            println!(
                "  {} {}: {}",
                if c.ok { "ok" } else { "MISSING" },
                c.name,
                c.detail
            );
        }
        Ok(Some(new))
    }

    /// RFC 9162 consistency proof from `size1` to `size2`, its nodes read from hash tiles.
    async fn consistency_proof(&self, size1: u64, size2: u64) -> anyhow::Result<Vec<Hash>> {
        let plan = consistency_plan(size1, size2)?;
        let mut tiles: HashMap<(u8, u64), Vec<Hash>> = HashMap::new();
        let mut nodes: HashMap<NodeId, Hash> = HashMap::new();
        for &id in plan.nodes() {
            let tile_level = id.level / 8;
            let k = id.level % 8;
            let base_level = u32::from(tile_level) * 8;
            let first = id.index << k;
            let n = first / TILE_WIDTH;
            if let Entry::Vacant(slot) = tiles.entry((tile_level, n)) {
                let count = size2 >> base_level;
                let width = (count - n * TILE_WIDTH).min(TILE_WIDTH);
                slot.insert(self.tile(tile_level, n, width).await?);
            }
            let tile = &tiles[&(tile_level, n)];
            let lo = usize::try_from(first % TILE_WIDTH)?;
            let hi = lo + (1usize << k);
            let mut level: Vec<Hash> = tile
                .get(lo..hi)
                .ok_or_else(|| anyhow::anyhow!("tile {tile_level}/{n} too short"))?
                .to_vec();
            while level.len() > 1 {
                level = level.chunks(2).map(|p| node_hash(&p[0], &p[1])).collect();
            }
            nodes.insert(id, level[0]);
        }
        Ok(plan.assemble_from(&nodes)?)
    }

    /// The hash tile `level/n` of `width` hashes (partial below 256).
    async fn tile(&self, level: u8, n: u64, width: u64) -> anyhow::Result<Vec<Hash>> {
        let path = TilePath {
            kind: TileKind::Hashes(level),
            index: n,
            partial: (width < TILE_WIDTH)
                .then(|| u8::try_from(width))
                .transpose()?,
        };
        let url = format!("{}/tile/{}", self.prefix, path.encode());
        let body = self.get(&url, 8192).await?;
        if body.len() as u64 != width * HASH_SIZE as u64 {
            anyhow::bail!("{url}: {} bytes, expected {}", body.len(), width * 32);
        }
        Ok(body
            .chunks(HASH_SIZE)
            .map(|c| {
                let mut h = [0u8; HASH_SIZE];
                h.copy_from_slice(c);
                h
            })
            .collect())
    }

    async fn get_text(&self, url: &str) -> anyhow::Result<String> {
        Ok(String::from_utf8(self.get(url, MAX_NOTE).await?)?)
    }

    async fn get(&self, url: &str, limit: usize) -> anyhow::Result<Vec<u8>> {
        let mut resp = self.http.get(url).send().await?;
        if !resp.status().is_success() {
            anyhow::bail!("GET {url}: {}", resp.status());
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await? {
            body.extend_from_slice(&chunk);
            if body.len() > limit {
                anyhow::bail!("GET {url}: over {limit} bytes");
            }
        }
        Ok(body)
    }
}
