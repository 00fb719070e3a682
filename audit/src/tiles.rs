//! The log in the tiled read format of c2sp.org/tlog-tiles: tile paths (parsing and encoding
//! `<L>/<N>[.p/<W>]` and `entries/<N>[.p/<W>]`, `N` in x-prefixed 3-digit path elements), which
//! stored nodes a tile holds, which tiles a tree size makes full or partial, and entry bundles
//! (big-endian uint16 length-prefixed leaves).
//!
//! A level-`L` tile's hash `i` is the Merkle Tree Hash of the `256^L` leaves starting at
//! `(N * 256 + i) * 256^L`: the stored node `(8 * L, N * 256 + i)` of [`crate::merkle`].

use crate::merkle::NodeId;

/// Hashes in a full tile.
pub const TILE_WIDTH: u64 = 256;
/// Tree levels spanned by one tile level.
pub const TILE_HEIGHT: u32 = 8;
/// Bytes of one hash.
pub const HASH_SIZE: usize = 32;
/// Longest accepted tile path (an index up to `u64::MAX` takes 7 elements).
pub const MAX_PATH_LEN: usize = 64;
/// Largest tile level the spec allows.
pub const MAX_LEVEL: u8 = 63;

/// What a tile holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TileKind {
    /// Merkle Tree Hashes at tile level `L`.
    Hashes(u8),
    /// An entry bundle (the leaves under the level-0 tile of the same index).
    Entries,
}

/// A tile's coordinates as they appear after `<prefix>/tile/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TilePath {
    pub kind: TileKind,
    /// Index within the level.
    pub index: u64,
    /// `Some(W)` (1..=255) for a partial tile, `None` for a full one.
    pub partial: Option<u8>,
}

/// A path that is not a tile path of the spec (wrong shape, leading zeros, out of range).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed tile path: {0}")]
pub struct TilePathError(pub &'static str);

fn decimal(s: &str, what: &'static str) -> Result<u64, TilePathError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return Err(TilePathError(what));
    }
    s.parse().map_err(|_| TilePathError(what))
}

fn three_digits(s: &str) -> Result<u64, TilePathError> {
    if s.len() != 3 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TilePathError("index element must be 3 digits"));
    }
    s.parse().map_err(|_| TilePathError("index"))
}

impl TilePath {
    /// Parses the part of a URL after `tile/`. Only the canonical encoding is accepted.
    pub fn parse(path: &str) -> Result<TilePath, TilePathError> {
        if path.len() > MAX_PATH_LEN {
            return Err(TilePathError("path too long"));
        }
        let (head, rest) = path.split_once('/').ok_or(TilePathError("missing index"))?;
        let kind = if head == "entries" {
            TileKind::Entries
        } else {
            let level = decimal(head, "level")?;
            if level > u64::from(MAX_LEVEL) {
                return Err(TilePathError("level above 63"));
            }
            TileKind::Hashes(level as u8)
        };
        let (index_part, partial) = match rest.split_once(".p/") {
            Some((i, w)) => {
                let w = decimal(w, "width")?;
                if !(1..TILE_WIDTH).contains(&w) {
                    return Err(TilePathError("width must be 1 to 255"));
                }
                (i, Some(w as u8))
            }
            None => (rest, None),
        };
        let elems: Vec<&str> = index_part.split('/').collect();
        let (last, init) = elems.split_last().ok_or(TilePathError("missing index"))?;
        let mut index: u64 = 0;
        for e in init {
            let d = e
                .strip_prefix('x')
                .ok_or(TilePathError("all but the last index element begin with x"))?;
            index = index
                .checked_mul(1000)
                .and_then(|i| i.checked_add(three_digits(d).ok()?))
                .ok_or(TilePathError("index"))?;
        }
        index = index
            .checked_mul(1000)
            .and_then(|i| i.checked_add(three_digits(last).ok()?))
            .ok_or(TilePathError("index"))?;
        let parsed = TilePath {
            kind,
            index,
            partial,
        };
        // Rejects non-canonical forms such as `x000/005`.
        if parsed.encode() != path {
            return Err(TilePathError("not the canonical encoding"));
        }
        Ok(parsed)
    }

    /// The path after `tile/`, as the spec encodes it.
    pub fn encode(&self) -> String {
        let mut n = self.index;
        let mut s = format!("{:03}", n % 1000);
        while n >= 1000 {
            n /= 1000;
            s = format!("x{:03}/{s}", n % 1000);
        }
        let head = match self.kind {
            TileKind::Hashes(l) => l.to_string(),
            TileKind::Entries => "entries".to_string(),
        };
        match self.partial {
            Some(w) => format!("{head}/{s}.p/{w}"),
            None => format!("{head}/{s}"),
        }
    }

    /// The tile level (entry bundles sit at level 0).
    pub fn level(&self) -> u8 {
        match self.kind {
            TileKind::Hashes(l) => l,
            TileKind::Entries => 0,
        }
    }

    /// Number of hashes (or entries) in the tile.
    pub fn width(&self) -> u64 {
        self.partial.map_or(TILE_WIDTH, u64::from)
    }

    /// The first stored node of the tile and how many follow it (`None` when the tile lies
    /// beyond any 64-bit tree).
    pub fn nodes(&self) -> Option<(NodeId, u64)> {
        let tree_level = u32::from(self.level()) * TILE_HEIGHT;
        let first = self.index.checked_mul(TILE_WIDTH)?;
        let end = first.checked_add(self.width())?;
        // The last node must cover leaves that fit in u64.
        end.checked_shl(tree_level)
            .filter(|e| (e >> tree_level) == end)?;
        Some((
            NodeId::new(u8::try_from(tree_level).ok()?, first),
            self.width(),
        ))
    }

    /// Whether the tile exists in a tree of `size` leaves: a full tile once the tree covers
    /// all its hashes, a partial tile of width `W` only when `size` is one it represents
    /// (`floor(size / 256^L) = N * 256 + W`).
    pub fn exists_at(&self, size: u64) -> bool {
        match self.partial {
            None => self.sizes().is_some_and(|(lo, _)| size >= lo),
            Some(_) => self.sizes().is_some_and(|(lo, hi)| lo <= size && size < hi),
        }
    }

    /// For a partial tile, the tree sizes whose partial tile at this level is this one,
    /// `[lo, hi)`; for a full tile, `lo` is the smallest tree holding it.
    pub fn sizes(&self) -> Option<(u64, u64)> {
        let (_, _) = self.nodes()?;
        let shift = u32::from(self.level()) * TILE_HEIGHT;
        let end = self.index * TILE_WIDTH + self.width();
        let lo = end << shift;
        let hi = (end + 1)
            .checked_shl(shift)
            .filter(|h| h >> shift == end + 1);
        Some((lo, hi.unwrap_or(u64::MAX)))
    }
}

/// The partial tile at `level` of a tree of `size` leaves (`None` when that level has none).
pub fn partial_tile(level: u8, size: u64, kind_entries: bool) -> Option<TilePath> {
    let shift = u32::from(level) * TILE_HEIGHT;
    let count = size.checked_shr(shift).unwrap_or(0);
    let w = count % TILE_WIDTH;
    if w == 0 {
        return None;
    }
    Some(TilePath {
        kind: if kind_entries {
            TileKind::Entries
        } else {
            TileKind::Hashes(level)
        },
        index: count / TILE_WIDTH,
        partial: Some(w as u8),
    })
}

/// An entry bundle: each leaf as a big-endian uint16 length and its bytes. `None` if a leaf
/// is longer than 65,535 bytes.
pub fn entry_bundle<'a>(leaves: impl IntoIterator<Item = &'a [u8]>) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for leaf in leaves {
        let len = u16::try_from(leaf.len()).ok()?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(leaf);
    }
    Some(out)
}

#[cfg(test)]
#[path = "tiles_tests.rs"]
mod tests;
