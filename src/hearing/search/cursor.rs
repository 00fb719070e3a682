//! The opaque paging cursor of the auditors' hearing search: the last item's slot start and id
//! (the sort key, newest first), base64url without padding. Only cursors this server gave are
//! accepted; anything else is `None` (the handler answers 422 naming `cursor`).

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};

/// Most characters of a cursor (an id of at most 64 characters and an i64, encoded).
pub const MAX_CHARS: usize = 128;

/// The position after which the next page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub slot_start: i64,
    pub id: String,
}

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}.{}", self.slot_start, self.id))
    }

    pub fn decode(s: &str) -> Option<Cursor> {
        if s.is_empty() || s.chars().count() > MAX_CHARS {
            return None;
        }
        let raw = URL_SAFE_NO_PAD.decode(s).ok()?;
        let text = String::from_utf8(raw).ok()?;
        let (start, id) = text.split_once('.')?;
        let slot_start: i64 = start.parse().ok()?;
        if id.is_empty() || id.chars().count() > 64 || id.contains('\0') {
            return None;
        }
        Some(Cursor {
            slot_start,
            id: id.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_strangers() {
        let c = Cursor {
            slot_start: 1_790_000_000_000,
            id: "0193-abc.def".into(),
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c.clone()));
        assert!(c.encode().chars().count() <= MAX_CHARS);
        for bad in ["", "!!", "abc", "eA", &"A".repeat(200)] {
            assert_eq!(Cursor::decode(bad), None, "{bad}");
        }
        let neg = Cursor {
            slot_start: -5,
            id: "x".into(),
        };
        assert_eq!(Cursor::decode(&neg.encode()), Some(neg));
    }
}
