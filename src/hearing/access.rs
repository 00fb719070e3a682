//! Who may see or act on a hearing: the [`Caller`] of a hearing endpoint and its rules
//! (reading, acting as a party, officer-only actions), and [`readable`], a hearing read for a
//! caller.

use super::{
    error::HearingError,
    machine::Party,
    store::{self, HearingRow},
};
use crate::{
    error::{ApiResult, AppError},
    identity::{AnyAuth, OfficerAuth, Role},
    store::Db,
};

/// The caller of a hearing endpoint.
#[derive(Debug, Clone)]
pub struct Caller {
    pub role: Role,
    pub id: String,
    pub brigade_id: Option<String>,
}

impl From<AnyAuth> for Caller {
    fn from(a: AnyAuth) -> Self {
        Caller {
            role: a.role,
            id: a.subject_id,
            brigade_id: a.brigade_id,
        }
    }
}

impl From<&OfficerAuth> for Caller {
    fn from(o: &OfficerAuth) -> Self {
        Caller {
            role: Role::Officer,
            id: o.user_id.clone(),
            brigade_id: o.brigade_id.clone(),
        }
    }
}

impl Caller {
    /// Reading: the citizen owner, officers of the brigade, auditors. Another citizen's or
    /// another brigade's hearing is 404; an admin is 403.
    pub fn can_read(&self, h: &HearingRow) -> Result<(), HearingError> {
        match self.role {
            Role::Citizen if self.id == h.citizen_id => Ok(()),
            Role::Officer if self.brigade_id.as_deref() == Some(h.brigade_id.as_str()) => Ok(()),
            Role::Auditor => Ok(()),
            Role::Admin => Err(HearingError::Forbidden),
            _ => Err(HearingError::NotFound),
        }
    }

    /// Acting as a party: the hearing's citizen or its officer. Another officer of the same
    /// brigade is 403; others 404 (auditors and admins 403).
    pub fn party_for(&self, h: &HearingRow) -> Result<Party, HearingError> {
        match self.role {
            Role::Citizen if self.id == h.citizen_id => Ok(Party::Citizen),
            Role::Officer if self.brigade_id.as_deref() == Some(h.brigade_id.as_str()) => {
                if self.id == h.officer_id {
                    Ok(Party::Officer)
                } else {
                    Err(HearingError::NotYourHearing)
                }
            }
            Role::Auditor | Role::Admin => Err(HearingError::Forbidden),
            _ => Err(HearingError::NotFound),
        }
    }

    /// The hearing's officer (for officer-only actions).
    pub fn officer_of(&self, h: &HearingRow) -> Result<(), HearingError> {
        match self.party_for(h)? {
            Party::Officer => Ok(()),
            Party::Citizen => Err(HearingError::Forbidden),
        }
    }
}

/// The hearing `id` if `caller` may read it (404 when unknown, then as [`Caller::can_read`]).
pub async fn readable(db: &Db, caller: &Caller, id: &str) -> ApiResult<HearingRow> {
    let h = store::get(&db.read, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    caller.can_read(&h)?;
    Ok(h)
}
