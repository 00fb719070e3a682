//! The log's side of c2sp.org/tlog-witness: one `add-checkpoint` request to one witness, and
//! the strict reading of its answer. A 200 answer counts only if it holds a cosignature by the
//! configured key over exactly the submitted checkpoint; anything else is an error to log,
//! never something to store.

use std::time::Duration;

use base64::{Engine as _, engine::general_purpose::STANDARD};
use reqwest::StatusCode;

use super::{
    cosign::{CosignVerifier, Cosignature, cosignatures},
    merkle::Hash,
};

/// Largest answer read from a witness.
pub const MAX_ANSWER: usize = 64 * 1024;

/// A configured witness: its key (the name is the key's) and submission prefix.
#[derive(Debug, Clone)]
pub struct Witness {
    pub key: CosignVerifier,
    /// The submission prefix, without a trailing `/`.
    pub url: String,
}

/// What one submission came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A valid cosignature by the configured key over the submitted checkpoint.
    Cosigned(Cosignature),
    /// 409: the witness is at this size.
    Conflict(u64),
    /// Another status (403, 404, 422, 400, 5xx…), with the start of the body.
    Refused(u16, String),
    /// No answer: connection error or timeout.
    Unreachable(String),
    /// An answer that is malformed, oversize, signed by another key or for another checkpoint.
    BadAnswer(String),
}

impl Outcome {
    /// A short stable label for metrics and logs.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Cosigned(_) => "cosigned",
            Outcome::Conflict(_) => "conflict",
            Outcome::Refused(403, _) => "forbidden",
            Outcome::Refused(404, _) => "unknown_log",
            Outcome::Refused(422, _) => "bad_proof",
            Outcome::Refused(_, _) => "refused",
            Outcome::Unreachable(_) => "unreachable",
            Outcome::BadAnswer(_) => "bad_answer",
        }
    }
}

/// The request body: `old <size>`, the proof lines, an empty line, the signed checkpoint.
pub fn request_body(old_size: u64, proof: &[Hash], note: &str) -> String {
    let mut s = format!("old {old_size}\n");
    for h in proof {
        s.push_str(&STANDARD.encode(h));
        s.push('\n');
    }
    s.push('\n');
    s.push_str(note);
    s
}

/// Reads an answer of a 200: one or more signature lines; keeps the configured witness's
/// valid cosignature over `note`'s body.
pub fn read_cosignature(note: &str, answer: &str, key: &CosignVerifier) -> Outcome {
    if answer.is_empty()
        || !answer.ends_with('\n')
        || answer[..answer.len() - 1]
            .split('\n')
            .any(|l| !l.starts_with("\u{2014} "))
    {
        return Outcome::BadAnswer("not a sequence of signature lines".into());
    }
    let merged = format!("{note}{answer}");
    match cosignatures(&merged, std::slice::from_ref(key)) {
        Ok(mut c) if !c.is_empty() => Outcome::Cosigned(c.remove(0)),
        Ok(_) => Outcome::BadAnswer("no cosignature by the configured witness key".into()),
        Err(e) => Outcome::BadAnswer(e.to_string()),
    }
}

/// Reads a 409's body: the witness's size in decimal and a newline.
pub fn read_conflict(answer: &str) -> Outcome {
    let digits = answer.strip_suffix('\n').unwrap_or("");
    if digits.is_empty()
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || (digits.len() > 1 && digits.starts_with('0'))
    {
        return Outcome::BadAnswer("409 without a size line".into());
    }
    match digits.parse() {
        Ok(n) => Outcome::Conflict(n),
        Err(_) => Outcome::BadAnswer("409 size out of range".into()),
    }
}

async fn read_limited(mut res: reqwest::Response) -> Result<String, String> {
    if res.content_length().is_some_and(|l| l > MAX_ANSWER as u64) {
        return Err("answer over 64 KiB".into());
    }
    let mut buf = Vec::new();
    while let Some(chunk) = res.chunk().await.map_err(|e| e.to_string())? {
        buf.extend_from_slice(&chunk);
        if buf.len() > MAX_ANSWER {
            return Err("answer over 64 KiB".into());
        }
    }
    String::from_utf8(buf).map_err(|_| "answer is not UTF-8".into())
}

/// Sends one `add-checkpoint`: `note` is the log-signed checkpoint, `proof` a consistency
/// proof from `old_size` to its size.
pub async fn add_checkpoint(
    http: &reqwest::Client,
    w: &Witness,
    old_size: u64,
    proof: &[Hash],
    note: &str,
    timeout: Duration,
) -> Outcome {
    let res = http
        .post(format!("{}/add-checkpoint", w.url))
        .timeout(timeout)
        .body(request_body(old_size, proof, note))
        .send()
        .await;
    let res = match res {
        Ok(r) => r,
        Err(e) => return Outcome::Unreachable(e.to_string()),
    };
    let status = res.status();
    let body = match read_limited(res).await {
        Ok(b) => b,
        Err(e) if status == StatusCode::OK => return Outcome::BadAnswer(e),
        Err(e) => e,
    };
    match status {
        StatusCode::OK => read_cosignature(note, &body, &w.key),
        StatusCode::CONFLICT => read_conflict(&body),
        s => Outcome::Refused(s.as_u16(), body.chars().take(200).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::cosign::Cosigner;

    const NOTE: &str = "example.com/log\n3\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\u{2014} example.com/log AAAAAAAA\n";
    const BODY: &str = "example.com/log\n3\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

    #[test]
    fn answers_are_read_strictly() {
        let w = Cosigner::from_seed("w1", &[1u8; 32]).unwrap();
        let k = w.verifier().clone();
        let line = w.cosign(BODY, 10).unwrap();
        assert!(matches!(
            read_cosignature(NOTE, &format!("{line}\n"), &k),
            Outcome::Cosigned(c) if c.line == line && c.timestamp == 10
        ));
        // Other keys' lines are ignored beside ours.
        let other = Cosigner::from_seed("w2", &[2u8; 32]).unwrap();
        let theirs = other.cosign(BODY, 10).unwrap();
        assert!(matches!(
            read_cosignature(NOTE, &format!("{theirs}\n{line}\n"), &k),
            Outcome::Cosigned(_)
        ));
        for bad in [
            String::new(),
            line.clone(),
            format!("{theirs}\n"),
            format!("hello\n{line}\n"),
            format!("{}\n", w.cosign(&BODY.replace('3', "4"), 10).unwrap()),
            format!(
                "{}\n",
                Cosigner::from_seed("w1", &[3u8; 32])
                    .unwrap()
                    .cosign(BODY, 10)
                    .unwrap()
            ),
        ] {
            assert!(
                matches!(read_cosignature(NOTE, &bad, &k), Outcome::BadAnswer(_)),
                "{bad:?}"
            );
        }
        assert_eq!(read_conflict("12\n"), Outcome::Conflict(12));
        for bad in ["12", "012\n", "\n", "x\n", "99999999999999999999999\n"] {
            assert!(
                matches!(read_conflict(bad), Outcome::BadAnswer(_)),
                "{bad:?}"
            );
        }
        assert_eq!(
            request_body(2, &[[0u8; 32]], "n\n"),
            "old 2\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\nn\n"
        );
    }
}
