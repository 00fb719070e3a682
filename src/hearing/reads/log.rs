//! Recording a staff read: the `access` audit entry (chain [`CHAIN`]) and its `access_log` row
//! in one transaction, so the signed log covers every row of the access log.

use serde_json::json;

use super::store::{self, Access};
use crate::{error::ApiResult, hearing::ports, store::Db};

/// The audit chain every read is sealed in (the `hearing_id` field of the leaf). Reads are not
/// entries of the hearing's own chain: that chain ends with the hearing's terminal entry.
pub const CHAIN: &str = "access-log";

/// Appends the read to the audit log and the access log; nothing is kept when either fails.
pub async fn record(db: &Db, a: &Access) -> ApiResult<()> {
    let mut tx = db.begin().await?;
    let payload = json!({
        "action": a.action,
        "object": a.object,
        "hearing_id": a.hearing_id,
        "ip": a.ip,
    });
    let seq = ports::audit_append(
        &mut tx,
        CHAIN,
        "access",
        &a.actor_role,
        &a.actor_id,
        a.at_ms,
        payload,
        &[],
    )
    .await?
    .unwrap_or_default();
    store::insert(&mut tx, a, seq).await?;
    tx.commit().await?;
    Ok(())
}
