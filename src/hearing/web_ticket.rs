//! One-time web tickets (issue 19): the WeChat mini program opens the H5 call page in a
//! `web-view` and must never put its session token in the URL. It asks for a ticket bound to
//! one hearing and its citizen, valid for [`TICKET_TTL_S`] seconds and redeemable once; the H5
//! page exchanges it for a session of its own. Tickets live in Redis under the hash of the
//! ticket (the ticket itself is never stored), with the expiry kept beside them so the server's
//! clock decides, and Redis' own TTL only sweeps.

use chrono::SecondsFormat;
use serde::Serialize;
use utoipa::ToSchema;

use super::{Hearing, access::Caller, machine::Party, store};
use crate::{
    clock,
    error::{ApiResult, AppError},
    ids,
};

/// How long a ticket may wait before it is redeemed.
pub const TICKET_TTL_S: i64 = 60;
/// A ticket is 64 hex characters ([`ids::random_token`]).
pub const TICKET_LEN: usize = 64;

/// A minted ticket: put it in the H5 page's URL (`/citizen/?ticket=…`), once.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebTicket {
    pub ticket: String,
    pub hearing_id: String,
    /// RFC 3339; the ticket is refused after this instant.
    pub expires_at: String,
}

/// What a redeemed ticket was bound to.
#[derive(Debug, PartialEq, Eq)]
pub struct Redeemed {
    pub citizen_id: String,
    pub hearing_id: String,
}

/// The stable refusal of an unknown, used or expired ticket (401 `ticket_invalid`).
pub fn invalid() -> AppError {
    AppError::new(
        axum::http::StatusCode::UNAUTHORIZED,
        "ticket_invalid",
        "this ticket is unknown, already used or expired: open the hearing again from the mini program",
    )
    .with_field("ticket")
}

/// Mints a ticket for the hearing's own citizen (another citizen's hearing is 404, staff 403).
pub async fn mint(h: &Hearing, caller: &Caller, hearing_id: &str) -> ApiResult<WebTicket> {
    let row = store::get(&h.db.read, hearing_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    if caller.party_for(&row)? != Party::Citizen {
        return Err(AppError::forbidden());
    }
    let ticket = ids::random_token().map_err(AppError::internal)?;
    let expires_ms = h.clock.now_ms() + TICKET_TTL_S * 1000;
    let value = format!("{} {} {}", row.citizen_id, row.id, expires_ms);
    let mut c = h.kv.conn();
    let _: () = redis::cmd("SET")
        .arg(key(h, &ticket))
        .arg(value)
        .arg("EX")
        .arg(TICKET_TTL_S + 5)
        .query_async(&mut c)
        .await?;
    Ok(WebTicket {
        ticket,
        hearing_id: row.id,
        expires_at: clock::from_ms(expires_ms).to_rfc3339_opts(SecondsFormat::Secs, true),
    })
}

/// Redeems a ticket: atomically taken out of Redis (a second use finds nothing), refused when
/// malformed, unknown or past its expiry.
pub async fn redeem(h: &Hearing, ticket: &str) -> ApiResult<Redeemed> {
    if ticket.len() != TICKET_LEN || !ticket.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid());
    }
    let mut c = h.kv.conn();
    let value: Option<String> = redis::cmd("GETDEL")
        .arg(key(h, ticket))
        .query_async(&mut c)
        .await?;
    let value = value.ok_or_else(invalid)?;
    let mut parts = value.split(' ');
    let (Some(citizen_id), Some(hearing_id), Some(expires)) =
        (parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid());
    };
    let expires_ms: i64 = expires.parse().map_err(|_| invalid())?;
    if h.clock.now_ms() > expires_ms {
        return Err(invalid());
    }
    Ok(Redeemed {
        citizen_id: citizen_id.to_string(),
        hearing_id: hearing_id.to_string(),
    })
}

fn key(h: &Hearing, ticket: &str) -> String {
    h.kv.key(&format!("webticket:{}", ids::token_hash(ticket)))
}
