//! The brigade facts a decision names beyond the brigade row (name, address, time zone): the
//! document-number prefix (文号), the review body (复议机关), the court (管辖法院) and where to
//! pay. Set by an administrator (`remote-hearing admin decision-facts`); never defaulted.

use serde::{Deserialize, Serialize};
use sqlx::{AnyPool, Row};

use crate::store::Tx;

/// Longest value of a fact.
pub const MAX_FACT: usize = 200;

/// A brigade's decision facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BrigadeFacts {
    /// Prefix of the decision number, e.g. 济公交三决字 (unique among brigades).
    pub doc_code: String,
    /// 复议机关, e.g. 济南市公安局.
    pub review_body: String,
    /// 管辖法院, e.g. 济南市历下区人民法院.
    pub court: String,
    /// Where to pay, e.g. 交管12123 App 或济南市内工商银行各网点.
    pub pay_place: String,
}

/// The brigade row's own facts and the decision facts (None: never set).
pub struct Brigade {
    pub name: String,
    pub address: String,
    pub timezone: String,
    pub facts: Option<BrigadeFacts>,
}

impl BrigadeFacts {
    /// Each value 1..=[`MAX_FACT`] characters, no control characters; `Err((field, message))`.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        for (name, v) in [
            ("doc_code", &self.doc_code),
            ("review_body", &self.review_body),
            ("court", &self.court),
            ("pay_place", &self.pay_place),
        ] {
            let n = v.trim().chars().count();
            if n == 0 || n > MAX_FACT || v.chars().any(char::is_control) {
                return Err((
                    name,
                    format!("1 to {MAX_FACT} characters, no control characters"),
                ));
            }
        }
        if self
            .doc_code
            .chars()
            .any(|c| c.is_whitespace() || "〔〕".contains(c))
        {
            return Err(("doc_code", "no spaces or 〔〕 in the doc code".into()));
        }
        Ok(())
    }
}

/// Sets (inserts or replaces) a brigade's decision facts.
pub async fn set(
    pool: &AnyPool,
    brigade_id: &str,
    f: &BrigadeFacts,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO brigade_decision_facts (brigade_id, doc_code, review_body, court, pay_place, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (brigade_id) DO UPDATE SET doc_code = $2, \
         review_body = $3, court = $4, pay_place = $5, updated_at = $6",
    )
    .bind(brigade_id)
    .bind(f.doc_code.trim())
    .bind(f.review_body.trim())
    .bind(f.court.trim())
    .bind(f.pay_place.trim())
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

/// The brigade and its decision facts (None: no such brigade).
pub async fn brigade(tx: &mut Tx, brigade_id: &str) -> Result<Option<Brigade>, sqlx::Error> {
    let Some(b) = sqlx::query("SELECT name, address, timezone FROM brigades WHERE id = $1")
        .bind(brigade_id)
        .fetch_optional(&mut **tx)
        .await?
    else {
        return Ok(None);
    };
    let f = sqlx::query(
        "SELECT doc_code, review_body, court, pay_place FROM brigade_decision_facts WHERE brigade_id = $1",
    )
    .bind(brigade_id)
    .fetch_optional(&mut **tx)
    .await?;
    let facts = match f {
        Some(r) => Some(BrigadeFacts {
            doc_code: r.try_get("doc_code")?,
            review_body: r.try_get("review_body")?,
            court: r.try_get("court")?,
            pay_place: r.try_get("pay_place")?,
        }),
        None => None,
    };
    Ok(Some(Brigade {
        name: b.try_get("name")?,
        address: b.try_get("address")?,
        timezone: b.try_get("timezone")?,
        facts,
    }))
}

/// The next serial of the brigade's decisions in `year`: one counter row per (brigade, year),
/// incremented in the issuing transaction (its row lock orders concurrent issues).
pub async fn next_serial(tx: &mut Tx, brigade_id: &str, year: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO decision_counters (brigade_id, year, last_serial) VALUES ($1, $2, 1) \
         ON CONFLICT (brigade_id, year) DO UPDATE SET last_serial = decision_counters.last_serial + 1 \
         RETURNING last_serial",
    )
    .bind(brigade_id)
    .bind(year)
    .fetch_one(&mut **tx)
    .await
}
