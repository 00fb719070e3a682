//! Issuing the decision inside the `service` step's transaction: gather every field (the
//! steps, the booking, the brigade and its decision facts, the officer, the party, the
//! recordings so far), allocate the number, build, seal and render, store. Any missing field
//! stops it with `decision_incomplete`.

use serde_json::Value;
use sqlx::Row;

use super::{
    facts, fields,
    fields::{Incomplete, OfficerRef, Party, RecordingRef},
    html, pdf, seal,
};
use crate::{
    hearing::{
        HearingError, content, ports,
        store::{self, HearingRow},
    },
    identity::DataKey,
    store::Tx,
};

/// What issuing takes besides the transaction: the identity key (to read the party), the
/// decision config (seal keys, font) and where development keys live.
#[derive(Clone, Copy)]
pub struct Issuer<'a> {
    pub identity_key: &'a DataKey,
    pub config: &'a super::DecisionConfig,
    pub data_dir: &'a std::path::Path,
    pub production: bool,
    /// Opens the signature drawn into the proof of service (sealed at rest).
    pub vault: &'a crate::store::vault::Vault,
}

/// The issued document as stored.
#[derive(Debug, Clone)]
pub struct Issued {
    pub row: store::DecisionRow,
    pub pdf_sha256: String,
    pub seal_key: String,
}

/// The stored payload of an earlier step; unreadable → `decision_incomplete` naming the step.
async fn step<T: serde::de::DeserializeOwned>(
    tx: &mut Tx,
    id: &str,
    name: &str,
) -> Result<T, HearingError> {
    let text = store::step_payload(tx, id, name)
        .await?
        .ok_or_else(|| Incomplete::new(name, "the step was not taken"))?;
    serde_json::from_str(&text)
        .map_err(|e| Incomplete::new(name, format!("the stored step is unreadable: {e}")).into())
}

/// The party of the hearing (name, ID number, licence number) from the citizen's encrypted
/// identity (`identity::citizens::party_in`, on the transaction); empty fields when the citizen gave none, so that
/// [`fields::build`] names `party.name`. A resident's driving-licence number is the ID number.
async fn party(key: &DataKey, tx: &mut Tx, citizen_id: &str) -> Result<Party, HearingError> {
    let p = crate::identity::citizens::party_in(tx, key, citizen_id).await?;
    Ok(match p {
        Some(p) => Party {
            name: p.name,
            licence_no: p.id_number.clone(),
            id_number: p.id_number,
        },
        None => Party {
            name: String::new(),
            id_number: String::new(),
            licence_no: String::new(),
        },
    })
}

async fn officer(tx: &mut Tx, id: &str) -> Result<OfficerRef, HearingError> {
    let o = sqlx::query("SELECT name, badge FROM staff WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| Incomplete::new("officer", "the hearing's officer does not exist"))?;
    Ok(OfficerRef {
        name: o.try_get("name")?,
        badge: o.try_get("badge")?,
    })
}

async fn recordings(tx: &mut Tx, hearing_id: &str) -> Result<Vec<RecordingRef>, HearingError> {
    let rows = sqlx::query(
        "SELECT id, kind, participant, sha256 FROM recordings WHERE hearing_id = $1 \
         ORDER BY segment, kind, participant, format",
    )
    .bind(hearing_id)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(RecordingRef {
                id: r.try_get("id")?,
                kind: r.try_get("kind")?,
                participant: r.try_get("participant")?,
                sha256: r.try_get("sha256")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// Builds, seals, renders and stores the decision of `h`.
pub async fn issue(
    issuer: Issuer<'_>,
    tx: &mut Tx,
    h: &HearingRow,
    now: i64,
) -> Result<Issued, HearingError> {
    let notice: content::Notice = step(tx, &h.id, "notice").await?;
    let ruling: content::Ruling = step(tx, &h.id, "ruling").await?;
    let (ruling_fine, ruling_points) = (ruling.fine_yuan.get(), ruling.points.get());
    let statement: content::Statement = step(tx, &h.id, "statement").await?;
    let confirmation: Value = step(tx, &h.id, "confirmation").await?;
    let identity: Value = step(tx, &h.id, "identity").await?;
    if confirmation["e_service_consent"] != Value::Bool(true) {
        return Err(HearingError::EServiceConsentMissing);
    }
    let booking = ports::booking_tx(tx, &h.booking_id)
        .await?
        .ok_or(HearingError::NotFound)?;
    let brigade = facts::brigade(tx, &h.brigade_id)
        .await?
        .ok_or_else(|| Incomplete::new("brigade", "the hearing's brigade does not exist"))?;
    let bf = brigade.facts.ok_or_else(|| {
        Incomplete::new(
            "brigade.doc_code",
            "the brigade's decision facts are not set",
        )
    })?;
    let doc_code = fields::required("brigade.doc_code", bf.doc_code)?;
    let tz = fields::timezone(&brigade.timezone)?;
    let officer = officer(tx, &h.officer_id).await?;
    let badge = officer.badge.clone();
    let party = party(issuer.identity_key, tx, &h.citizen_id).await?;
    let recordings = recordings(tx, &h.id).await?;
    let (cfg, production) = (issuer.config, issuer.production);
    let key_path = seal::key_path(cfg, issuer.data_dir, production, &h.brigade_id)?;
    let signer = seal::load(&key_path, &h.brigade_id, !production)?;
    let issued_at = crate::clock::from_ms(now);
    let year = chrono::Datelike::year(&issued_at.with_timezone(&tz));
    let head = ports::audit_head(tx).await?;
    let serial = facts::next_serial(tx, &h.brigade_id, i64::from(year)).await?;
    let f = fields::build(fields::Inputs {
        decision_no: fields::decision_no(&doc_code, year, serial),
        hearing_id: &h.id,
        issued_at,
        tz,
        authority: brigade.name,
        authority_address: brigade.address,
        review_body: bf.review_body,
        court: bf.court,
        pay_place: bf.pay_place,
        officer,
        party,
        phone: &h.phone,
        plate: &booking.plate,
        violations: &booking.violations,
        records: &notice.records,
        facts: notice.facts.into_string(),
        statement: match statement {
            content::Statement::Text { text } => text.into_string(),
            content::Statement::Waived => "当事人放弃陈述申辩".into(),
            content::Statement::Disputed { text } => text.into_string(),
        },
        legal_basis: ruling.legal_basis.into_string(),
        fine_yuan: ruling_fine,
        points: ruling_points,
        recordings,
        id_still_sha256: identity["still_sha256"].as_str().map(str::to_string),
        audit_head: head,
        participants: participants(issuer.identity_key, tx, &h.id).await?,
    })?;
    let article = html::article(&f);
    let sha256 = html::digest(article.as_bytes());
    let note = seal::seal_html(&signer, &sha256);
    let verifier = signer.verifier().to_string();
    let page = html::page(&article, &sha256, &note, &verifier);
    let (font_path, font_index) = (cfg.font_path.clone(), cfg.font_index);
    let (f2, sha2, note2, key2) = (f.clone(), sha256.clone(), note.clone(), verifier.clone());
    let started = std::time::Instant::now();
    let pdf_body = tokio::task::spawn_blocking(move || {
        let font = pdf::load_font(&font_path, font_index)
            .map_err(|m| Incomplete::new("decision.font_path", m))?;
        pdf::render(&f2, &sha2, &note2, &key2, font)
            .map_err(|m| HearingError::broken(format!("the decision PDF: {m}")))
    })
    .await
    .map_err(|e| HearingError::internal("the decision PDF renderer", e))??;
    metrics::histogram!("decision_pdf_render_seconds").record(started.elapsed().as_secs_f64());
    let pdf = seal::seal_pdf(&signer, pdf_body);
    let pdf_sha256 = html::digest(&pdf);
    let row = store::DecisionRow {
        hearing_id: h.id.clone(),
        decision_no: f.decision_no.clone(),
        year: i64::from(year),
        fields: serde_json::to_string(&f)
            .map_err(|e| HearingError::internal("the decision fields", e))?,
        html: page,
        sha256,
        issued_at: now,
        facts_source: booking.facts_source.clone(),
    };
    insert(tx, &row, &h.brigade_id, serial, &pdf, &pdf_sha256, &note).await?;
    if booking.facts_source == "records" {
        // The platform learns of it through the outbox, queued in this very transaction.
        let back = crate::records::model::Decision {
            decision_no: f.decision_no.clone(),
            record_nos: f.violations.iter().map(|v| v.record_no.clone()).collect(),
            fine_yuan: ruling_fine,
            points: ruling_points,
            officer: badge,
            decided_at: issued_at.with_timezone(&tz).fixed_offset(),
        };
        ports::records_enqueue(tx, &h.id, &back, now).await?;
    }
    Ok(Issued {
        row,
        pdf_sha256,
        seal_key: verifier,
    })
}

async fn insert(
    tx: &mut Tx,
    d: &store::DecisionRow,
    brigade_id: &str,
    serial: i64,
    pdf: &[u8],
    pdf_sha256: &str,
    seal_note: &str,
) -> Result<(), sqlx::Error> {
    use base64::Engine as _;
    sqlx::query(
        "INSERT INTO hearing_decisions (hearing_id, decision_no, year, fields, html, sha256, issued_at, \
         brigade_id, serial, pdf, pdf_sha256, seal, facts_source) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(&d.hearing_id)
    .bind(&d.decision_no)
    .bind(d.year)
    .bind(&d.fields)
    .bind(&d.html)
    .bind(&d.sha256)
    .bind(d.issued_at)
    .bind(brigade_id)
    .bind(serial)
    .bind(base64::engine::general_purpose::STANDARD.encode(pdf))
    .bind(pdf_sha256)
    .bind(seal_note)
    .bind(&d.facts_source)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The stored PDF of a hearing's decision (None: no decision, or one issued before PDFs).
pub async fn stored_pdf(
    pool: &sqlx::AnyPool,
    hearing_id: &str,
) -> Result<Option<Vec<u8>>, crate::error::AppError> {
    use base64::Engine as _;
    let b64: Option<(Option<String>,)> =
        sqlx::query_as("SELECT pdf FROM hearing_decisions WHERE hearing_id = $1")
            .bind(hearing_id)
            .fetch_optional(pool)
            .await?;
    match b64.and_then(|(p,)| p) {
        None => Ok(None),
        Some(p) => base64::engine::general_purpose::STANDARD
            .decode(p)
            .map(Some)
            .map_err(crate::error::AppError::internal),
    }
}

/// Everyone admitted to the hearing's call (issue 19 §2), named for the decision: the name
/// opened with the identity key.
async fn participants(
    key: &crate::identity::DataKey,
    tx: &mut Tx,
    hearing_id: &str,
) -> Result<Vec<fields::ParticipantRef>, HearingError> {
    let rows = crate::hearing::participants::store::of_hearing_tx(tx, hearing_id).await?;
    rows.into_iter()
        .filter(|p| p.admitted_at.is_some())
        .map(|p| {
            let name = key
                .open(&format!("hearing_participants.name:{}", p.id), &p.name_enc)
                .map_err(|e| HearingError::broken(format!("participant {}: {e}", p.id)))?;
            Ok(fields::ParticipantRef {
                role: p.role,
                kind: p.kind,
                language: p.language,
                name,
            })
        })
        .collect()
}
