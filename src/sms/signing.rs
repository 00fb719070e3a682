//! Shared primitives of the SMS providers' request signatures (ring SHA-256 / HMAC-SHA256,
//! canonical headers, RFC 3986 encoding). Owns nothing else; the provider-specific string-to-sign
//! and key derivations live in `tencent.rs` and `aliyun.rs`.

use ring::{digest, hmac};

/// Lower-case hex of SHA-256(data).
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(digest::digest(&digest::SHA256, data))
}

/// HMAC-SHA256(key, data) as raw bytes.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    hmac::sign(&key, data).as_ref().to_vec()
}

/// Constant-time comparison of two hex signatures (case-insensitive on the hex digits).
pub fn signature_eq(expected_hex: &str, given_hex: &str) -> bool {
    match (
        hex::decode(expected_hex.to_ascii_lowercase()),
        hex::decode(given_hex.to_ascii_lowercase()),
    ) {
        (Ok(a), Ok(b)) => bytes_eq(&a, &b),
        _ => false,
    }
}

/// Constant-time equality of two byte strings (secrets, signatures): both are MACed with a
/// throwaway key and the tags compared with `ring::hmac::verify`.
pub fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    let key = hmac::Key::new(hmac::HMAC_SHA256, b"rh-constant-time-compare");
    let tag = hmac::sign(&key, a);
    hmac::verify(&key, b, tag.as_ref()).is_ok()
}

/// Canonical headers block and signed-headers list: names lower-cased and sorted, values trimmed
/// (and lower-cased when `lowercase_values`, as Tencent TC3 requires). Each line ends with `\n`.
pub fn canonical_headers(headers: &[(&str, &str)], lowercase_values: bool) -> (String, String) {
    let mut items: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| {
            let v = v.trim();
            let v = if lowercase_values {
                v.to_ascii_lowercase()
            } else {
                v.to_string()
            };
            (k.trim().to_ascii_lowercase(), v)
        })
        .collect();
    items.sort();
    let mut block = String::new();
    for (k, v) in &items {
        block.push_str(k);
        block.push(':');
        block.push_str(v);
        block.push('\n');
    }
    let signed = items
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(";");
    (block, signed)
}

/// The values of the headers a received signature names, as they arrived (missing → empty).
pub fn received_headers(
    names: &[String],
    header: &dyn Fn(&str) -> Option<String>,
) -> Vec<(String, String)> {
    names
        .iter()
        .map(|h| (h.clone(), header(h).unwrap_or_default()))
        .collect()
}

/// Borrowed `(&str, &str)` view of owned pairs (what the signers take).
pub fn as_pairs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// RFC 3986 percent-encoding: unreserved characters stay, everything else (space → `%20`) is
/// `%XX` with upper-case hex.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `k=v&k=v` with both sides percent-encoded and pairs sorted by encoded key, then value.
pub fn canonical_query(params: &[(&str, &str)]) -> String {
    let mut items: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (percent_encode(k), percent_encode(v)))
        .collect();
    items.sort();
    items
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Hex of `n` random bytes from ring's CSPRNG (nonces, lock tokens).
pub fn random_hex(n: usize) -> String {
    use ring::rand::SecureRandom;
    let mut b = vec![0u8; n];
    if ring::rand::SystemRandom::new().fill(&mut b).is_err() {
        // Only uniqueness is needed from a nonce: fall back to a fresh v4 UUID's bytes.
        return uuid::Uuid::new_v4().simple().to_string();
    }
    hex::encode(b)
}

/// Decode an `application/x-www-form-urlencoded` or query string into pairs.
pub fn parse_query(s: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(s.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_empty() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn rfc3986_encoding() {
        assert_eq!(percent_encode("a b*~/+"), "a%20b%2A~%2F%2B");
        assert_eq!(percent_encode("中"), "%E4%B8%AD");
        assert_eq!(canonical_query(&[("b", "2"), ("a", "1 2")]), "a=1%202&b=2");
    }

    #[test]
    fn headers_sorted_and_trimmed() {
        let (block, signed) = canonical_headers(&[("Host", " h "), ("Content-Type", "A/B")], true);
        assert_eq!(block, "content-type:a/b\nhost:h\n");
        assert_eq!(signed, "content-type;host");
    }

    #[test]
    fn signature_comparison() {
        assert!(signature_eq("ABcd", "abcd"));
        assert!(!signature_eq("abcd", "abce"));
        assert!(!signature_eq("abcd", "zz"));
    }
}
