//! Evidence of a hearing: the still of the ID card the officer's page takes from the citizen's
//! video (`id_still`, uploaded by the hearing's officer) and the citizen's handwritten
//! signatures (`signature`, by the hearing's citizen). An upload is a JPEG or PNG of at most
//! [`MAX_IMAGE_BYTES`] whose declared type, magic bytes, dimensions and end marker agree
//! ([`check_image`]); it is stored in one transaction with the hearing row locked (the only
//! writer of `hearing_evidence`), at most [`MAX_PER_HEARING`] per hearing, and read back by the
//! hearing's officer, its citizen and auditors. A step that uses one seals its id and SHA-256
//! ([`still_sha256`]).

pub(crate) mod api;
pub mod photos;

pub use api::router;

use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Hearing;
use super::{
    access::Caller,
    error::HearingError,
    machine::{Party, Status},
    store,
    values::field,
};
use crate::{
    error::AppError,
    identity::Role,
    store::{Db, Tx},
};

/// Largest image accepted (2 MiB); more is 413.
pub const MAX_IMAGE_BYTES: usize = 2 * 1024 * 1024;
/// Largest width or height accepted, pixels.
pub const MAX_DIMENSION: usize = 8192;
/// Evidence items per hearing, at most (retakes included); more is 409 `evidence_limit`.
pub const MAX_PER_HEARING: i64 = 40;
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    /// The ID card as shown to the camera (the hearing's officer uploads it).
    IdStill,
    /// A handwritten signature (the hearing's citizen uploads it).
    Signature,
}

impl EvidenceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceKind::IdStill => "id_still",
            EvidenceKind::Signature => "signature",
        }
    }
    /// Who uploads this kind.
    fn uploader(self) -> Party {
        match self {
            EvidenceKind::IdStill => Party::Officer,
            EvidenceKind::Signature => Party::Citizen,
        }
    }
}

/// A stored evidence item (the image itself is `GET …/evidence/{evidence_id}`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EvidenceView {
    pub id: String,
    pub kind: EvidenceKind,
    /// Lower-case hex SHA-256 of the image bytes as uploaded.
    pub sha256: String,
    pub bytes: i64,
    /// `image/jpeg` or `image/png`.
    pub content_type: String,
    pub width: i64,
    pub height: i64,
}

/// A checked image: its type and dimensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Image {
    pub content_type: &'static str,
    pub width: usize,
    pub height: usize,
}

fn not_an_image(message: &str) -> AppError {
    AppError::new(
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        "not_an_image",
        message.to_string(),
    )
    .with_field("body")
}

/// Checks an upload: `Content-Type` `image/jpeg` or `image/png` (else 415
/// `unsupported_media_type`); the bytes of that type by their magic number, with dimensions
/// 1..=[`MAX_DIMENSION`] and the format's end marker (JPEG `FF D9`, PNG `IEND`), else 422
/// `not_an_image`; at most [`MAX_IMAGE_BYTES`] (413 `body_too_large`).
pub fn check_image(content_type: Option<&str>, data: &[u8]) -> Result<Image, AppError> {
    let declared = content_type
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    let (declared, wanted) = match declared.as_deref() {
        Some("image/jpeg") => ("image/jpeg", imagesize::ImageType::Jpeg),
        Some("image/png") => ("image/png", imagesize::ImageType::Png),
        _ => {
            return Err(AppError::new(
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the image as the body with Content-Type: image/jpeg or image/png",
            ));
        }
    };
    if data.len() > MAX_IMAGE_BYTES {
        return Err(AppError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            "an image may be at most 2 MiB",
        ));
    }
    let found = imagesize::image_type(data).map_err(|_| not_an_image("not a JPEG or PNG image"))?;
    if found != wanted {
        return Err(not_an_image("the body is not of the declared Content-Type"));
    }
    let size =
        imagesize::blob_size(data).map_err(|_| not_an_image("the image has no readable size"))?;
    if size.width == 0
        || size.height == 0
        || size.width > MAX_DIMENSION
        || size.height > MAX_DIMENSION
    {
        return Err(not_an_image(
            "the image must be 1 to 8192 pixels wide and high",
        ));
    }
    let complete = match wanted {
        imagesize::ImageType::Png => {
            data.len() >= 12 && data[data.len() - 8..data.len() - 4] == *b"IEND"
        }
        _ => data.ends_with(&[0xFF, 0xD9]),
    };
    if !complete {
        return Err(not_an_image("the image is cut short"));
    }
    Ok(Image {
        content_type: declared,
        width: size.width,
        height: size.height,
    })
}

/// Stores an upload of `kind` for hearing `id` (its officer: `id_still`; its citizen:
/// `signature`; while the hearing is not closed).
pub async fn upload(
    state: &Hearing,
    caller: &Caller,
    id: &str,
    kind: EvidenceKind,
    content_type: Option<&str>,
    data: &[u8],
) -> Result<EvidenceView, AppError> {
    let mut tx = state.db.begin().await?;
    let h = store::lock(&mut tx, id)
        .await?
        .ok_or(HearingError::NotFound)?;
    // An admitted agent signs the steps it takes for the citizen (docs/hearing.md "Agents").
    let agent = match caller.role {
        crate::identity::Role::Participant if kind == EvidenceKind::Signature => {
            Some(super::participants::agent::admitted_agent(&mut tx, &h, &caller.id).await?)
        }
        _ => {
            if caller.party_for(&h)? != kind.uploader() {
                return Err(HearingError::Forbidden.into());
            }
            None
        }
    };
    let status = Status::parse(&h.status)
        .ok_or_else(|| HearingError::broken(format!("bad hearing status {:?}", h.status)))?;
    if status.is_closed() {
        return Err(HearingError::Closed(status).into());
    }
    let image = check_image(content_type, data)?;
    if kind == EvidenceKind::Signature {
        // Drawn into the proof of service: a PNG the signing module can read.
        super::signing::check_signature_image(&image, data)?;
    }
    let count: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM hearing_evidence WHERE hearing_id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
    if count >= MAX_PER_HEARING {
        return Err(AppError::conflict(
            "evidence_limit",
            format!("a hearing keeps at most {MAX_PER_HEARING} images"),
        )
        .with_params(serde_json::json!({ "max": MAX_PER_HEARING })));
    }
    let view = EvidenceView {
        id: crate::ids::new_id(),
        kind,
        sha256: hex::encode(ring::digest::digest(&ring::digest::SHA256, data)),
        bytes: i64::try_from(data.len()).map_err(AppError::internal)?,
        content_type: image.content_type.to_string(),
        width: i64::try_from(image.width).map_err(AppError::internal)?,
        height: i64::try_from(image.height).map_err(AppError::internal)?,
    };
    let (by_role, by_id) = match (kind.uploader(), &agent) {
        (_, Some(a)) => ("agent", &a.id),
        (Party::Officer, None) => ("officer", &h.officer_id),
        (Party::Citizen, None) => ("citizen", &h.citizen_id),
    };
    // sealed at rest with the hearing's personal-data key; the digest is of the image itself
    let stored = state
        .call
        .vault
        .seal_blob(
            &mut tx,
            id,
            crate::store::vault::PERSONAL_DATA,
            state.clock.now_ms(),
            data,
        )
        .await?;
    sqlx::query(
        "INSERT INTO hearing_evidence (id, hearing_id, kind, content_type, sha256, bytes, width, \
         height, data, by_role, by_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&view.id)
    .bind(id)
    .bind(kind.as_str())
    .bind(&view.content_type)
    .bind(&view.sha256)
    .bind(view.bytes)
    .bind(view.width)
    .bind(view.height)
    .bind(B64.encode(&stored))
    .bind(by_role)
    .bind(by_id)
    .bind(state.clock.now_ms())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(hearing = id, evidence = %view.id, kind = kind.as_str(), bytes = view.bytes, "evidence stored");
    Ok(view)
}

/// An evidence image: (content type, bytes, sha256), decrypted (an image stored before
/// encryption passes through). The hearing's officer, its citizen and auditors; another
/// citizen or brigade 404, another officer of the brigade 403.
pub async fn read(
    db: &Db,
    vault: &crate::store::vault::Vault,
    caller: &Caller,
    id: &str,
    evidence_id: &str,
) -> Result<(String, Vec<u8>, String), AppError> {
    let h = store::get(&db.read, id)
        .await?
        .ok_or(HearingError::NotFound)?;
    if caller.role != Role::Auditor {
        caller.party_for(&h)?;
    }
    let row: Option<(String, String, String)> = sqlx::query_as(
        "SELECT content_type, data, sha256 FROM hearing_evidence WHERE id = $1 AND hearing_id = $2",
    )
    .bind(evidence_id)
    .bind(id)
    .fetch_optional(&db.read)
    .await?;
    let (content_type, data, sha256) = row.ok_or(HearingError::NotFound)?;
    let stored = B64.decode(data).map_err(AppError::internal)?;
    let bytes = vault.open_blob(&db.read, id, stored).await?;
    Ok((content_type, bytes, sha256))
}

/// The SHA-256 of the `id_still` `still_id` of hearing `id` (inside the step's transaction);
/// 422 on `still_id` when the hearing has no such still.
pub async fn still_sha256(tx: &mut Tx, id: &str, still_id: &str) -> Result<String, HearingError> {
    let sha: Option<String> = sqlx::query_scalar(
        "SELECT sha256 FROM hearing_evidence WHERE id = $1 AND hearing_id = $2 AND kind = 'id_still'",
    )
    .bind(still_id)
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    sha.ok_or_else(|| field("still_id", "no ID-card still of this hearing has this id").into())
}

/// The citizen has not given a name and ID number (`PUT /api/v1/citizens/me/identity`): 409.
pub fn identity_missing() -> AppError {
    AppError::conflict(
        "identity_missing",
        "the citizen has not given a name and ID number yet",
    )
}

/// The stored `identity` entry: what the officer checked, plus the still's SHA-256 (or, with
/// no still, the citizen's video state that explains it) and the party's masked ID number (the
/// citizen must have given one: 409 `identity_missing`).
pub async fn identity_entry(
    state: &Hearing,
    tx: &mut Tx,
    h: &store::HearingRow,
    i: &crate::hearing::content::Identity,
    mut payload: serde_json::Value,
) -> Result<serde_json::Value, HearingError> {
    let (key, value) = match &i.still_id {
        Some(still) => ("still_sha256", still_sha256(tx, &h.id, still).await?),
        None => ("citizen_video_off", citizen_video_off(tx, &h.id).await?),
    };
    let party = crate::identity::citizens::identity_on(tx, &state.identity_key, &h.citizen_id)
        .await?
        .ok_or_else(identity_missing)?;
    if let serde_json::Value::Object(m) = &mut payload {
        m.insert(key.into(), value.into());
        m.insert("id_number_masked".into(), party.id_number_masked.into());
    }
    Ok(payload)
}

/// `no_still: citizen_video_off` holds only when the hearing's record shows the citizen's video
/// off: its newest `video_off`/`video_on` entry is a `video_off`, whose reason is returned
/// (`no_camera`, `camera_denied`, `by_hand`, `weak_link`); else 409 `citizen_video_on`.
async fn citizen_video_off(tx: &mut Tx, id: &str) -> Result<String, HearingError> {
    let last: Option<(String, String)> = sqlx::query_as(
        "SELECT step, payload FROM hearing_steps WHERE hearing_id = $1 AND kind = 'event' \
         AND step IN ('video_off', 'video_on') AND by_role = 'citizen' ORDER BY idx DESC LIMIT 1",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    match last {
        Some((step, payload)) if step == "video_off" => {
            let p: serde_json::Value = serde_json::from_str(&payload).unwrap_or_default();
            Ok(p["reason"].as_str().unwrap_or("unknown").to_string())
        }
        _ => Err(AppError::conflict(
            "citizen_video_on",
            "the citizen's video is on in this call: take the still of the ID card",
        )
        .into()),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A 4×3 white PNG.
    pub const PNG: [u8; 71] = [
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x03, 0x08, 0x02, 0x00, 0x00, 0x00, 0x3b,
        0x96, 0x39, 0x91, 0x00, 0x00, 0x00, 0x0e, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8,
        0x8f, 0x04, 0x18, 0x70, 0x72, 0x00, 0xbb, 0x87, 0x23, 0xdd, 0x93, 0xf9, 0xe4, 0x3c, 0x00,
        0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
    ];
    /// SOI, JFIF APP0, SOF0 of 8×6, EOI.
    pub const JPEG: [u8; 37] = [
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00, 0x00,
        0x01, 0x00, 0x01, 0x00, 0x00, 0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x06, 0x00, 0x08, 0x01,
        0x01, 0x11, 0x00, 0xFF, 0xD9, 0x00, 0x00,
    ];

    fn code(r: Result<Image, AppError>) -> &'static str {
        r.map(|_| "ok").unwrap_or_else(|e| e.code)
    }

    #[test]
    fn images_are_checked() {
        let png = check_image(Some("image/png"), &PNG).unwrap();
        assert_eq!((png.width, png.height), (4, 3));
        let jpeg = &JPEG[..35];
        let j = check_image(Some("image/jpeg; charset=binary"), jpeg).unwrap();
        assert_eq!((j.content_type, j.width, j.height), ("image/jpeg", 8, 6));
        assert_eq!(
            code(check_image(Some("image/gif"), &PNG)),
            "unsupported_media_type"
        );
        assert_eq!(code(check_image(None, &PNG)), "unsupported_media_type");
        assert_eq!(code(check_image(Some("image/jpeg"), &PNG)), "not_an_image");
        assert_eq!(
            code(check_image(Some("image/png"), b"hello")),
            "not_an_image"
        );
        assert_eq!(
            code(check_image(Some("image/png"), &PNG[..60])),
            "not_an_image"
        );
        assert_eq!(
            code(check_image(Some("image/jpeg"), &JPEG)),
            "not_an_image",
            "no EOI at the end"
        );
        let mut zero = PNG;
        zero[19] = 0; // width 0
        assert_eq!(code(check_image(Some("image/png"), &zero)), "not_an_image");
        let big = vec![0u8; MAX_IMAGE_BYTES + 1];
        assert_eq!(code(check_image(Some("image/png"), &big)), "body_too_large");
    }
}
