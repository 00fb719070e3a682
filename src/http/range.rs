//! Serving a file at rest as its plaintext with `Range` (RFC 9110 §14): one byte range per
//! request (`bytes=a-b`, `bytes=a-`, `bytes=-n`) answered 206 with `Content-Range`, a range
//! past the end 416, anything else (no header, several ranges) the whole file with 200. The
//! file is a `recordings::sealed::PlainFile`: a sealed container decrypts only the chunks the
//! range covers, streamed from a blocking task.

use std::io::{Read, Seek, SeekFrom};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use recordings::sealed::{FileKey, PlainFile};

/// Bytes read and sent per piece.
const PIECE: usize = 64 * 1024;

/// A range that cannot be served (416).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsatisfiable;

/// The requested range of a `len`-byte file (first and last byte): `Ok(None)` for the whole
/// file.
pub fn parse(value: Option<&str>, len: u64) -> Result<Option<(u64, u64)>, Unsatisfiable> {
    let Some(spec) = value.and_then(|v| v.trim().strip_prefix("bytes=")) else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return Ok(None);
    };
    let (a, b) = (a.trim(), b.trim());
    let range = if a.is_empty() {
        let n: u64 = b.parse().map_err(|_| Unsatisfiable)?;
        if n == 0 || len == 0 {
            return Err(Unsatisfiable);
        }
        (len.saturating_sub(n), len - 1)
    } else {
        let start: u64 = a.parse().map_err(|_| Unsatisfiable)?;
        let end = if b.is_empty() {
            len.saturating_sub(1)
        } else {
            b.parse::<u64>()
                .map_err(|_| Unsatisfiable)?
                .min(len.saturating_sub(1))
        };
        if start >= len || end < start {
            return Err(Unsatisfiable);
        }
        (start, end)
    };
    Ok(Some(range))
}

/// The plaintext of `file` (already opened, its key checked) as a response honouring `Range`.
pub async fn serve(
    mut file: PlainFile<Arc<FileKey>>,
    mime: &'static str,
    headers: &HeaderMap,
) -> Response {
    let len = file.len();
    let wanted = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let (status, start, end) = match parse(wanted, len) {
        Ok(Some((a, b))) => (StatusCode::PARTIAL_CONTENT, a, b + 1),
        Ok(None) => (StatusCode::OK, 0, len),
        Err(Unsatisfiable) => {
            return (
                StatusCode::RANGE_NOT_SATISFIABLE,
                [(header::CONTENT_RANGE, format!("bytes */{len}"))],
            )
                .into_response();
        }
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel::<std::io::Result<Vec<u8>>>(2);
    tokio::task::spawn_blocking(move || {
        let mut left = end - start;
        if let Err(e) = file.seek(SeekFrom::Start(start)) {
            let _ = tx.blocking_send(Err(e));
            return;
        }
        while left > 0 {
            let mut buf = vec![0u8; PIECE.min(left as usize)];
            let r = file.read_exact(&mut buf).map(|_| buf);
            let failed = r.is_err();
            if let Err(e) = &r {
                tracing::error!(error = %e, "a file at rest does not read back");
            }
            left -= if failed {
                left
            } else {
                PIECE.min(left as usize) as u64
            };
            if tx.blocking_send(r).is_err() || failed {
                return;
            }
        }
    });
    let stream = futures::stream::poll_fn(move |cx| rx.poll_recv(cx));
    let mut resp = Response::new(Body::from_stream(stream));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(end - start));
    if status == StatusCode::PARTIAL_CONTENT
        && let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{}/{len}", end - 1))
    {
        h.insert(header::CONTENT_RANGE, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::{Unsatisfiable, parse};

    #[test]
    fn ranges_are_parsed_and_clamped() {
        assert_eq!(parse(None, 10), Ok(None));
        assert_eq!(parse(Some("bytes=0-3"), 10), Ok(Some((0, 3))));
        assert_eq!(parse(Some("bytes=4-"), 10), Ok(Some((4, 9))));
        assert_eq!(parse(Some("bytes=-3"), 10), Ok(Some((7, 9))));
        assert_eq!(parse(Some("bytes=-30"), 10), Ok(Some((0, 9))));
        assert_eq!(parse(Some("bytes=5-100"), 10), Ok(Some((5, 9))));
        assert_eq!(parse(Some("bytes=10-"), 10), Err(Unsatisfiable));
        assert_eq!(parse(Some("bytes=5-4"), 10), Err(Unsatisfiable));
        assert_eq!(parse(Some("bytes=x-4"), 10), Err(Unsatisfiable));
        assert_eq!(parse(Some("bytes=-0"), 10), Err(Unsatisfiable));
        assert_eq!(parse(Some("bytes=0-1,3-4"), 10), Ok(None));
        assert_eq!(parse(Some("items=0-1"), 10), Ok(None));
        assert_eq!(parse(Some("bytes=0-"), 0), Err(Unsatisfiable));
    }
}
