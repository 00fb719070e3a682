//! The brigade's electronic seal: an Ed25519 key per brigade (`<keys_dir>/<brigade id>.p8`,
//! PKCS#8, like the audit key; in development generated on first use in the data dir) that
//! signs, as a C2SP signed note, the digest of the document. The HTML page carries the note
//! over the article's digest; the PDF carries it printed and, after `%%EOF`, one comment line
//! `%RH-SEAL <verifier key> <base64 note>` whose note signs the digest of every byte before
//! that line. [`verify`] checks either kind of file.

use std::path::{Path, PathBuf};

use base64::{Engine as _, engine::general_purpose::STANDARD};

use super::{DecisionConfig, fields::Incomplete, html};
use crate::audit::note::{Note, Signer, Verifier};

/// Starts the PDF's seal line.
pub const PDF_MARK: &[u8] = b"%RH-SEAL ";

/// Which document a seal is over: the decision, or the proof of service issued with the
/// receipt (`hearing::signing::proof`). Each has its own note heads and article element, so
/// one cannot pass for the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    Decision,
    ProofOfService,
}

impl Document {
    pub const ALL: [Document; 2] = [Document::Decision, Document::ProofOfService];

    /// First line of the note over an HTML article.
    fn html_head(self) -> &'static str {
        match self {
            Document::Decision => "remote-hearing decision seal v1 html",
            Document::ProofOfService => "remote-hearing proof-of-service seal v1 html",
        }
    }

    /// First line of the note over a PDF.
    fn pdf_head(self) -> &'static str {
        match self {
            Document::Decision => "remote-hearing decision seal v1 pdf",
            Document::ProofOfService => "remote-hearing proof-of-service seal v1 pdf",
        }
    }

    /// The opening tag of the document proper on its HTML page.
    pub fn article_open(self) -> &'static str {
        match self {
            Document::Decision => html::ARTICLE_OPEN,
            Document::ProofOfService => "<article id=\"proof-of-service\">",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Document::Decision => "decision",
            Document::ProofOfService => "proof of service",
        }
    }
}

/// The brigade's key file: `<keys_dir>/<id>.p8`, or in development `DATA_DIR/decision-keys/`.
pub fn key_path(
    cfg: &DecisionConfig,
    data_dir: &Path,
    production: bool,
    brigade_id: &str,
) -> Result<PathBuf, Incomplete> {
    if brigade_id.is_empty()
        || !brigade_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(Incomplete::new(
            "seal_key",
            "the brigade id is not a file name",
        ));
    }
    let dir = if !cfg.keys_dir.as_os_str().is_empty() {
        cfg.keys_dir.clone()
    } else if production {
        return Err(Incomplete::new(
            "decision.keys_dir",
            "no seal keys directory configured in production",
        ));
    } else {
        data_dir.join("decision-keys")
    };
    Ok(dir.join(format!("{brigade_id}.p8")))
}

/// The seal key's name in notes.
pub fn key_name(brigade_id: &str) -> String {
    format!("decision/{brigade_id}")
}

/// Loads the brigade's signer; in development a missing key is generated once.
pub fn load(path: &Path, brigade_id: &str, generate: bool) -> Result<Signer, Incomplete> {
    let name = key_name(brigade_id);
    if !path.exists() && generate {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| Incomplete::new("seal_key", format!("{}: {e}", dir.display())))?;
        }
        return crate::audit::keys::keygen(&name, path)
            .map_err(|e| Incomplete::new("seal_key", e.to_string()));
    }
    let der = std::fs::read(path).map_err(|e| {
        Incomplete::new(
            "seal_key",
            format!("no seal key for the brigade at {}: {e}", path.display()),
        )
    })?;
    Signer::from_pkcs8(&name, &der)
        .map_err(|e| Incomplete::new("seal_key", format!("{}: {e}", path.display())))
}

fn body(head: &str, sha256: &str) -> String {
    format!("{head}\n{sha256}\n")
}

/// The signed note over a decision article's digest.
pub fn seal_html(signer: &Signer, article_sha256: &str) -> String {
    seal_html_as(Document::Decision, signer, article_sha256)
}

/// The signed note over the digest of `doc`'s article.
pub fn seal_html_as(doc: Document, signer: &Signer, article_sha256: &str) -> String {
    let b = body(doc.html_head(), article_sha256);
    format!("{b}\n{}\n", signer.signature_line(&b))
}

/// The decision PDF with its seal line appended.
pub fn seal_pdf(signer: &Signer, pdf: Vec<u8>) -> Vec<u8> {
    seal_pdf_as(Document::Decision, signer, pdf)
}

/// `doc`'s PDF with its seal line appended.
pub fn seal_pdf_as(doc: Document, signer: &Signer, mut pdf: Vec<u8>) -> Vec<u8> {
    if !pdf.ends_with(b"\n") {
        pdf.push(b'\n');
    }
    let b = body(doc.pdf_head(), &html::digest(&pdf));
    let note = format!("{b}\n{}\n", signer.signature_line(&b));
    pdf.extend_from_slice(PDF_MARK);
    pdf.extend_from_slice(format!("{} {}\n", signer.verifier(), STANDARD.encode(note)).as_bytes());
    pdf
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// `html` or `pdf`.
    pub kind: &'static str,
    /// The decision or the proof of service.
    pub document: Document,
    pub sha256: String,
    pub key: String,
}

fn between<'a>(s: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = s.find(open)? + open.len();
    let len = s[start..].find(close)?;
    Some(&s[start..start + len])
}

fn open_note(note: &str, key: &str, trusted: Option<&str>) -> Result<(Note, Verifier), String> {
    let v = Verifier::parse(key).map_err(|e| format!("the seal key is unreadable: {e}"))?;
    if let Some(t) = trusted {
        let t = Verifier::parse(t).map_err(|e| format!("--key is unreadable: {e}"))?;
        if t != v {
            return Err(format!("sealed by {v}, not by the given key {t}"));
        }
    }
    let known = [v.clone()];
    let (n, _) = Note::open(note, &known).map_err(|e| format!("the seal does not verify: {e}"))?;
    Ok((n, v))
}

/// Checks a decision file (HTML page or PDF); `trusted` is the brigade's verifier key, if the
/// caller has it.
pub fn verify(bytes: &[u8], trusted: Option<&str>) -> Result<Verified, String> {
    if bytes.starts_with(b"%PDF-") {
        let at = bytes
            .windows(PDF_MARK.len())
            .rposition(|w| w == PDF_MARK)
            .ok_or("the PDF carries no seal line")?;
        let (signed, line) = bytes.split_at(at);
        let line = std::str::from_utf8(&line[PDF_MARK.len()..])
            .map_err(|_| "the seal line is not UTF-8")?
            .trim_end_matches('\n');
        let (key, note) = line.split_once(' ').ok_or("the seal line is malformed")?;
        let note = STANDARD
            .decode(note)
            .ok()
            .and_then(|n| String::from_utf8(n).ok())
            .ok_or("the seal note is not base64 text")?;
        let (n, v) = open_note(&note, key, trusted)?;
        let sha = html::digest(signed);
        let document = Document::ALL
            .into_iter()
            .find(|d| n.body == body(d.pdf_head(), &sha))
            .ok_or_else(|| format!("the PDF was changed after sealing (its digest is {sha})"))?;
        return Ok(Verified {
            kind: "pdf",
            document,
            sha256: sha,
            key: v.to_string(),
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|_| "neither a PDF nor a UTF-8 HTML page")?;
    let (document, start) = Document::ALL
        .into_iter()
        .find_map(|d| text.find(d.article_open()).map(|at| (d, at)))
        .ok_or("no decision or proof-of-service article in the file")?;
    let len = text[start..]
        .find(html::ARTICLE_CLOSE)
        .ok_or("the decision article is not closed")?
        + html::ARTICLE_CLOSE.len();
    let article = &text[start..start + len];
    let note = between(text, html::SEAL_OPEN, "</pre>").ok_or("the page carries no seal")?;
    let key = between(text, html::KEY_OPEN, "</code>").ok_or("the page names no seal key")?;
    let (n, v) = open_note(&html::unesc(note), &html::unesc(key), trusted)?;
    let sha = html::digest(article.as_bytes());
    if n.body != body(document.html_head(), &sha) {
        return Err(format!(
            "the document was changed after sealing (its digest is {sha})"
        ));
    }
    Ok(Verified {
        kind: "html",
        document,
        sha256: sha,
        key: v.to_string(),
    })
}
