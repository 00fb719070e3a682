//! The request signature of the records contract (docs/records-api.md): HMAC-SHA256 with the
//! shared secret over `METHOD \n PATH \n TIMESTAMP \n BODY`, hex in `X-RH-Signature`, the unix
//! seconds in `X-RH-Timestamp`. Pure: used by the HTTP adapter to sign and by the fake to check.

use ring::hmac;

/// The header carrying the hex signature.
pub const SIGNATURE_HEADER: &str = "x-rh-signature";
/// The header carrying the unix seconds the signature was made at.
pub const TIMESTAMP_HEADER: &str = "x-rh-timestamp";
/// A signature older or newer than this many seconds is stale.
pub const MAX_SKEW_S: i64 = 300;

fn message(method: &str, path: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    let mut m = format!("{method}\n{path}\n{timestamp}\n").into_bytes();
    m.extend_from_slice(body);
    m
}

/// The hex signature of one request.
pub fn sign(secret: &[u8], method: &str, path: &str, timestamp: i64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    hex::encode(hmac::sign(&key, &message(method, path, timestamp, body)).as_ref())
}

/// Why a request's signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BadSignature {
    #[error("missing or malformed signature headers")]
    Missing,
    #[error("the timestamp is more than {MAX_SKEW_S} s away from now")]
    Stale,
    #[error("the signature does not match")]
    Mismatch,
}

/// Checks a request's headers (`timestamp`, hex `signature`) at `now_s`, in constant time.
pub fn verify(
    secret: &[u8],
    method: &str,
    path: &str,
    body: &[u8],
    timestamp: Option<&str>,
    signature: Option<&str>,
    now_s: i64,
) -> Result<(), BadSignature> {
    let ts: i64 = timestamp
        .and_then(|t| t.parse().ok())
        .ok_or(BadSignature::Missing)?;
    let sig = signature
        .filter(|s| s.len() == 64)
        .and_then(|s| hex::decode(s).ok())
        .ok_or(BadSignature::Missing)?;
    if (now_s - ts).abs() > MAX_SKEW_S {
        return Err(BadSignature::Stale);
    }
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    hmac::verify(&key, &message(method, path, ts, body), &sig).map_err(|_| BadSignature::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"id_number":"370102198503120012"}"#;

    /// Computed independently: python3 -c 'import hmac,hashlib; print(hmac.new(
    /// b"rh-test-secret", b"POST\n/v1/violations/query\n1764806400\n{\"id_number\":
    /// \"370102198503120012\"}", hashlib.sha256).hexdigest())'
    #[test]
    fn known_answer() {
        assert_eq!(
            sign(
                b"rh-test-secret",
                "POST",
                "/v1/violations/query",
                1_764_806_400,
                BODY
            ),
            "514ad8931dcfa2e11823b8374421a6369b2ea14e660b6d003c994699f88aad27"
        );
    }

    #[test]
    fn verify_accepts_fresh_and_refuses_stale_tampered_or_missing() {
        let ts = 1_764_806_400;
        let sig = sign(b"k", "POST", "/v1/x", ts, BODY);
        let check = |body: &[u8], t: &str, s: &str, now| {
            verify(b"k", "POST", "/v1/x", body, Some(t), Some(s), now)
        };
        assert_eq!(check(BODY, "1764806400", &sig, ts + 10), Ok(()));
        assert_eq!(
            check(BODY, "1764806400", &sig, ts + MAX_SKEW_S + 1),
            Err(BadSignature::Stale)
        );
        assert_eq!(
            check(b"{}", "1764806400", &sig, ts),
            Err(BadSignature::Mismatch)
        );
        assert_eq!(
            check(BODY, "1764806401", &sig, ts),
            Err(BadSignature::Mismatch)
        );
        assert_eq!(check(BODY, "soon", &sig, ts), Err(BadSignature::Missing));
        assert_eq!(
            verify(b"k", "POST", "/v1/x", BODY, Some("1764806400"), None, ts),
            Err(BadSignature::Missing)
        );
    }
}
