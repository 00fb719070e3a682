//! The citizen reads and signs (issue 12 §4): the citizen's handwritten signatures sealed into
//! the steps that take one (`transcript_ack`, `confirmation`, `receipt`), the versions of the
//! inquiry transcript (a correction request sends the procedure back to the officer for a new
//! version, [`crate::hearing::machine::REDO_TABLE`]), and the proof of service issued with the
//! receipt ([`proof`]). Owns `hearing_evidence.sealed_in` and `hearing_proofs_of_service`
//! (migration `20261204100001_signatures`). Functions take the transaction and the rows they
//! use, never the application state.

mod api;
pub mod png;
pub mod proof;

pub use api::router;

use axum::http::StatusCode;
use serde_json::Value;

use super::{
    content::StepInput,
    error::HearingError,
    evidence::Image,
    machine::Step,
    store::{self, HearingRow},
};
use crate::{error::AppError, store::Tx};

/// Most versions of the inquiry transcript per hearing: after that, a correction request is
/// refused (409 `correction_limit`) and the officer decides (interrupt or refer at the window).
pub const MAX_INQUIRY_VERSIONS: i64 = 5;

/// A signature sealed into a step: its evidence id and the SHA-256 of its image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub id: String,
    pub sha256: String,
}

fn signature_error(code: &'static str, message: impl Into<String>) -> HearingError {
    AppError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
        .with_field("signature_id")
        .into()
}

/// A signature upload must be a PNG the proof of service can draw (415
/// `unsupported_media_type` for a JPEG, 422 `not_an_image` for one it cannot read).
pub fn check_signature_image(image: &Image, data: &[u8]) -> Result<(), AppError> {
    if image.content_type != "image/png" {
        return Err(AppError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "a signature is sent as image/png (the page's canvas)",
        ));
    }
    png::decode(data).map(|_| ()).map_err(|m| {
        AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_an_image",
            format!("the signature cannot be read: {m}"),
        )
        .with_field("body")
    })
}

/// Seals `signature_id` into `step` of hearing `h` (in the step's transaction): it must be a
/// `signature` evidence of this hearing uploaded by its citizen (else 422 `signature_invalid`)
/// that no other step sealed (else 422 `signature_reused`).
pub async fn seal(
    tx: &mut Tx,
    h: &HearingRow,
    signature_id: &str,
    step: Step,
    agent: Option<&str>,
) -> Result<Sealed, HearingError> {
    let row: Option<(String, String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT kind, by_role, by_id, sha256, sealed_in FROM hearing_evidence \
         WHERE id = $1 AND hearing_id = $2",
    )
    .bind(signature_id)
    .bind(&h.id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some((kind, by_role, by_id, sha256, sealed_in)) = row else {
        return Err(signature_error(
            "signature_invalid",
            "no signature of this hearing has this id",
        ));
    };
    // The signer is the citizen, or the agent taking the step in the citizen's place.
    let (signer_role, signer_id) = match agent {
        Some(a) => ("agent", a),
        None => ("citizen", h.citizen_id.as_str()),
    };
    if kind != "signature" || by_role != signer_role || by_id != signer_id {
        return Err(signature_error(
            "signature_invalid",
            "this evidence is not a signature of the hearing's citizen",
        ));
    }
    if let Some(other) = sealed_in {
        return Err(signature_error(
            "signature_reused",
            format!("this signature already signs the {other} step; sign again"),
        ));
    }
    sqlx::query("UPDATE hearing_evidence SET sealed_in = $1 WHERE id = $2")
        .bind(step.as_str())
        .bind(signature_id)
        .execute(&mut **tx)
        .await?;
    Ok(Sealed {
        id: signature_id.to_string(),
        sha256,
    })
}

/// How many versions of the inquiry the hearing has.
pub async fn inquiry_versions(tx: &mut Tx, hearing_id: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM hearing_steps WHERE hearing_id = $1 AND kind = 'step' AND step = 'inquiry'",
    )
    .bind(hearing_id)
    .fetch_one(&mut **tx)
    .await
}

fn insert(payload: &mut Value, key: &str, v: impl Into<Value>) {
    if let Value::Object(m) = payload {
        m.insert(key.into(), v.into());
    }
}

/// What this module adds to a step's entry: the inquiry's version, the version a
/// `transcript_ack` answers, and the SHA-256 of a signature (sealed here). A correction request
/// beyond [`MAX_INQUIRY_VERSIONS`] is 409 `correction_limit`.
pub async fn step_entry(
    tx: &mut Tx,
    h: &HearingRow,
    input: &StepInput,
    step: Step,
    mut payload: Value,
    agent: Option<&str>,
) -> Result<(Value, Option<Sealed>), HearingError> {
    match input {
        StepInput::Inquiry { .. } => {
            let version = inquiry_versions(tx, &h.id).await? + 1;
            insert(&mut payload, "version", version);
        }
        StepInput::TranscriptAck(a) => {
            let version = inquiry_versions(tx, &h.id).await?;
            if !a.accept && version >= MAX_INQUIRY_VERSIONS {
                return Err(AppError::conflict(
                    "correction_limit",
                    format!(
                        "the transcript was already corrected {} times; ask the officer",
                        MAX_INQUIRY_VERSIONS - 1
                    ),
                )
                .with_params(serde_json::json!({ "max_versions": MAX_INQUIRY_VERSIONS }))
                .into());
            }
            insert(&mut payload, "inquiry_version", version);
        }
        _ => {}
    }
    let sealed = match input.signature_id() {
        Some(id) => {
            let s = seal(tx, h, id, step, agent).await?;
            insert(&mut payload, "signature_sha256", s.sha256.clone());
            Some(s)
        }
        None => None,
    };
    Ok((payload, sealed))
}

/// The latest version of the transcript, the corrections asked for, and whether the citizen
/// accepted the latest one.
pub async fn transcript(
    pool: &sqlx::AnyPool,
    hearing_id: &str,
) -> Result<api::TranscriptView, HearingError> {
    let rows = store::steps(pool, hearing_id).await?;
    let mut view = api::TranscriptView::default();
    for r in rows.iter().filter(|r| r.kind == "step") {
        let p: Value = serde_json::from_str(&r.payload)
            .map_err(|e| HearingError::internal(format!("the stored {} step", r.step), e))?;
        match r.step.as_str() {
            "inquiry" => {
                view.version = p["version"].as_i64().unwrap_or(1);
                view.transcript = p["transcript"].clone();
                view.accepted = false;
            }
            "transcript_ack" if p["accept"] == Value::Bool(true) => view.accepted = true,
            "transcript_ack" => view.corrections.push(api::Correction {
                version: p["inquiry_version"].as_i64().unwrap_or(view.version),
                correction: p["correction"].as_str().unwrap_or_default().to_string(),
                at: crate::clock::from_ms(r.at).to_rfc3339(),
            }),
            _ => {}
        }
    }
    Ok(view)
}
