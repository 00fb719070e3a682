//! The proof of service (送达回证) issued inside the `receipt` step's transaction: which
//! document was served (the decision's number and digests), when, by what means (electronic,
//! with the Art. 61 consent the citizen gave at confirmation), who served it, and the citizen's
//! receipt signature (drawn in, with its SHA-256). Rendered as print-ready HTML and as a PDF by
//! the decision's machinery ([`crate::hearing::decision::pdf::Writer`]) and sealed with the
//! brigade's key as a [`seal::Document::ProofOfService`]; `remote-hearing decision verify`
//! checks both files.

use std::fmt::Write as _;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::{Sealed, png};
use crate::{
    hearing::{
        HearingError,
        decision::{
            DecisionFields, facts, fields,
            html::{self, esc},
            issue::Issuer,
            pdf::{self, BODY},
            seal::{self, Document},
        },
        store::HearingRow,
    },
    store::Tx,
};

const B64: base64::engine::general_purpose::GeneralPurpose =
    base64::engine::general_purpose::STANDARD;
const TITLE: &str = "送达回证";

/// Every field of the proof of service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProofFields {
    pub hearing_id: String,
    /// 送达机关.
    pub authority: String,
    /// 受送达文书: the document's title and number.
    pub document: String,
    pub decision_no: String,
    /// SHA-256 of the decision's HTML article, and of its sealed PDF.
    pub decision_sha256: String,
    pub decision_pdf_sha256: String,
    /// 受送达人: name and masked ID number.
    pub recipient: String,
    /// When the decision was served (the `service` step), RFC 3339 in the brigade's time zone.
    pub served_at: String,
    /// When the citizen signed for it (the `receipt` step).
    pub received_at: String,
    /// 送达方式.
    pub means: String,
    /// The Art. 61 consent, as the citizen gave it at the `confirmation` step.
    pub consent: String,
    /// 送达人.
    pub server: String,
    pub signature_id: String,
    pub signature_sha256: String,
}

/// The issued proof as the `receipt` entry seals it.
#[derive(Debug, Clone)]
pub struct Issued {
    pub fields: ProofFields,
    pub sha256: String,
    pub pdf_sha256: String,
    pub seal_key: String,
}

/// The paragraphs shared by the HTML and the PDF.
pub fn paragraphs(f: &ProofFields) -> Vec<(&'static str, String)> {
    vec![
        ("送达机关", f.authority.clone()),
        ("受送达文书", format!("{}（{}）", f.document, f.decision_no)),
        (
            "文书摘要",
            format!(
                "HTML 文书 SHA-256 {}；PDF 文书 SHA-256 {}",
                f.decision_sha256, f.decision_pdf_sha256
            ),
        ),
        ("受送达人", f.recipient.clone()),
        ("送达时间", f.served_at.clone()),
        ("签收时间", f.received_at.clone()),
        ("送达方式", f.means.clone()),
        ("当事人同意", f.consent.clone()),
        ("送达人", f.server.clone()),
        (
            "受送达人签名",
            format!(
                "签名图像 {}，SHA-256 {}（见下）",
                f.signature_id, f.signature_sha256
            ),
        ),
        ("案件编号", f.hearing_id.clone()),
    ]
}

/// The document proper (the bytes its digest covers), with the signature image inline.
pub fn article(f: &ProofFields, signature_png: &[u8]) -> String {
    let mut a = format!(
        "{}\n<h1>{}</h1>\n<h2>{TITLE}</h2>\n",
        Document::ProofOfService.article_open(),
        esc(&f.authority)
    );
    for (label, text) in paragraphs(f) {
        let _ = writeln!(a, "<p><b>{label}：</b>{}</p>", esc(&text));
    }
    let _ = writeln!(
        a,
        "<p><img id=\"signature\" alt=\"受送达人签名\" style=\"max-width:80mm;max-height:30mm;border-bottom:1px solid #000\" src=\"data:image/png;base64,{}\"></p>",
        B64.encode(signature_png)
    );
    a.push_str(html::ARTICLE_CLOSE);
    a
}

/// The printable page around the article, with its digest and seal.
pub fn page(article: &str, sha256: &str, seal_note: &str, verifier: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head><meta charset=\"utf-8\"><title>{TITLE}</title>\n\
<style>@page{{size:A4;margin:20mm}}body{{font-family:\"WenQuanYi Micro Hei\",\"Noto Sans CJK SC\",serif;max-width:170mm;margin:0 auto;line-height:1.8;font-size:11pt}}\
h1,h2{{text-align:center;margin:.2em 0}}footer{{margin-top:2em;font-size:8pt;word-break:break-all}}pre{{white-space:pre-wrap;word-break:break-all}}</style>\n\
</head>\n<body>\n{article}\n<footer>文书摘要（SHA-256，覆盖 article 元素的 UTF-8 字节）：<code id=\"sha256\">{sha256}</code>\n\
<p>电子印章（Ed25519 签名，验证：remote-hearing decision verify 本文件）：</p>{}{}</pre>\n<p>印章公钥：{}{}</code></p></footer>\n</body>\n</html>\n",
        html::SEAL_OPEN,
        esc(seal_note),
        html::KEY_OPEN,
        esc(verifier),
    )
}

/// The PDF (unsealed): the paragraphs, the signature drawn in, the article's digest and seal.
pub fn render(
    f: &ProofFields,
    signature: &pdf::Bitmap,
    article_sha256: &str,
    seal_note: &str,
    verifier: &str,
    font: krilla::text::Font,
) -> Result<Vec<u8>, String> {
    let mut w = pdf::Writer::new(format!("{TITLE} {}", f.decision_no), font);
    w.line(f.authority.clone(), 16.0, true);
    w.line(TITLE.into(), 18.0, true);
    for (label, text) in paragraphs(f) {
        w.para(&format!("{label}：{text}"), BODY);
    }
    w.para("受送达人签名：", BODY);
    w.bitmap(signature, 260.0, 110.0);
    pdf::seal_footer(w, "HTML 送达回证", article_sha256, seal_note, verifier)
}

fn missing(field: &str, message: &str) -> HearingError {
    fields::Incomplete::new(field, message).into()
}

/// Gathers the fields of hearing `h`'s proof of service, received `now` with signature `sig`.
async fn gather(
    tx: &mut Tx,
    h: &HearingRow,
    now: i64,
    sig: &Sealed,
) -> Result<(ProofFields, String), HearingError> {
    let d = sqlx::query(
        "SELECT fields, pdf_sha256, sha256 FROM hearing_decisions WHERE hearing_id = $1",
    )
    .bind(&h.id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| missing("decision", "no decision was served"))?;
    let df: DecisionFields =
        serde_json::from_str(&d.try_get::<String, _>("fields")?).map_err(|e| {
            missing(
                "decision",
                &format!("the stored decision is unreadable: {e}"),
            )
        })?;
    let pdf_sha: Option<String> = d.try_get("pdf_sha256")?;
    let brigade = facts::brigade(tx, &h.brigade_id)
        .await?
        .ok_or_else(|| missing("brigade", "the hearing's brigade does not exist"))?;
    let tz = fields::timezone(&brigade.timezone)?;
    let at = |ms: i64| crate::clock::from_ms(ms).with_timezone(&tz).to_rfc3339();
    let step = |name: &'static str| {
        sqlx::query(
            "SELECT at, audit_seq, payload FROM hearing_steps WHERE hearing_id = $1 AND kind = 'step' AND step = $2",
        )
        .bind(&h.id)
        .bind(name)
    };
    let service = step("service")
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| missing("service", "the step was not taken"))?;
    let confirmation = step("confirmation")
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| missing("confirmation", "the step was not taken"))?;
    let c: serde_json::Value = serde_json::from_str(&confirmation.try_get::<String, _>("payload")?)
        .map_err(|e| missing("confirmation", &e.to_string()))?;
    let consent_text = match (&c["e_service_consent"], c["consent_text"].as_str()) {
        (serde_json::Value::Bool(true), Some(t)) => t.to_string(),
        _ => return Err(HearingError::EServiceConsentMissing),
    };
    let consent_seq: Option<i64> = confirmation.try_get("audit_seq")?;
    let id_masked = crate::domain::IdNumber::parse(&df.party.id_number)
        .map(|n| n.masked())
        .map_err(|_| missing("party.id_number", "the decision's ID number is unreadable"))?;
    let officers: Vec<String> = df
        .officers
        .iter()
        .map(|o| format!("{}（警号 {}）", o.name, o.badge))
        .collect();
    let png_b64: String =
        sqlx::query_scalar("SELECT data FROM hearing_evidence WHERE id = $1 AND hearing_id = $2")
            .bind(&sig.id)
            .bind(&h.id)
            .fetch_one(&mut **tx)
            .await?;
    let f = ProofFields {
        hearing_id: h.id.clone(),
        authority: df.authority.clone(),
        document: "公安交通管理行政处罚决定书".into(),
        decision_no: df.decision_no.clone(),
        decision_sha256: d.try_get("sha256")?,
        decision_pdf_sha256: pdf_sha
            .ok_or_else(|| missing("decision.pdf", "the decision has no PDF"))?,
        recipient: format!("{}（公民身份号码 {id_masked}）", df.party.name),
        served_at: at(service.try_get("at")?),
        received_at: at(now),
        means: "电子送达：经本程序向受送达人推送并可下载（《中华人民共和国行政处罚法》第六十一条）"
            .into(),
        consent: match consent_seq {
            Some(seq) => format!("{consent_text}（确认环节，审计记录第 {seq} 条）"),
            None => consent_text,
        },
        server: officers.join("、"),
        signature_id: sig.id.clone(),
        signature_sha256: sig.sha256.clone(),
    };
    Ok((f, png_b64))
}

/// Builds, seals, renders and stores the proof of service of `h` (inside the `receipt` step).
pub async fn issue(
    issuer: Issuer<'_>,
    tx: &mut Tx,
    h: &HearingRow,
    now: i64,
    sig: &Sealed,
) -> Result<Issued, HearingError> {
    let (f, png_b64) = gather(tx, h, now, sig).await?;
    let stored = B64
        .decode(&png_b64)
        .map_err(|e| HearingError::internal("the stored signature", e))?;
    let png_bytes = issuer
        .vault
        .open_blob(&mut **tx, &h.id, stored)
        .await
        .map_err(|e| HearingError::internal("the stored signature", e))?;
    let bitmap = png::decode(&png_bytes).map_err(|m| {
        HearingError::from(crate::hearing::values::field(
            "signature_id",
            format!("the signature cannot be drawn: {m}"),
        ))
    })?;
    let key_path = seal::key_path(
        issuer.config,
        issuer.data_dir,
        issuer.production,
        &h.brigade_id,
    )?;
    let signer = seal::load(&key_path, &h.brigade_id, !issuer.production)?;
    let article = article(&f, &png_bytes);
    let sha256 = html::digest(article.as_bytes());
    let note = seal::seal_html_as(Document::ProofOfService, &signer, &sha256);
    let verifier = signer.verifier().to_string();
    let page = page(&article, &sha256, &note, &verifier);
    let (font_path, font_index) = (issuer.config.font_path.clone(), issuer.config.font_index);
    let (f2, sha2, note2, key2) = (f.clone(), sha256.clone(), note.clone(), verifier.clone());
    let body = tokio::task::spawn_blocking(move || {
        let font = pdf::load_font(&font_path, font_index)
            .map_err(|m| fields::Incomplete::new("decision.font_path", m))?;
        render(&f2, &bitmap, &sha2, &note2, &key2, font)
            .map_err(|m| HearingError::broken(format!("the proof-of-service PDF: {m}")))
    })
    .await
    .map_err(|e| HearingError::internal("the proof-of-service PDF renderer", e))??;
    let pdf = seal::seal_pdf_as(Document::ProofOfService, &signer, body);
    let pdf_sha256 = html::digest(&pdf);
    sqlx::query(
        "INSERT INTO hearing_proofs_of_service (hearing_id, decision_no, fields, html, sha256, pdf, \
         pdf_sha256, signature_id, signature_sha256, issued_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&h.id)
    .bind(&f.decision_no)
    .bind(serde_json::to_string(&f).map_err(|e| HearingError::internal("the proof fields", e))?)
    .bind(&page)
    .bind(&sha256)
    .bind(B64.encode(&pdf))
    .bind(&pdf_sha256)
    .bind(&sig.id)
    .bind(&sig.sha256)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(Issued {
        fields: f,
        sha256,
        pdf_sha256,
        seal_key: verifier,
    })
}

/// The stored proof of a hearing: (fields JSON, html, pdf bytes).
pub async fn stored(
    pool: &sqlx::AnyPool,
    hearing_id: &str,
) -> Result<Option<(String, String, Vec<u8>)>, HearingError> {
    let row: Option<(String, String, String)> = sqlx::query_as(
        "SELECT fields, html, pdf FROM hearing_proofs_of_service WHERE hearing_id = $1",
    )
    .bind(hearing_id)
    .fetch_optional(pool)
    .await?;
    match row {
        None => Ok(None),
        Some((fields, html, pdf)) => {
            let pdf = B64
                .decode(pdf)
                .map_err(|e| HearingError::internal("the stored proof-of-service PDF", e))?;
            Ok(Some((fields, html, pdf)))
        }
    }
}
