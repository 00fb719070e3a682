//! `AppState`: the one shared state the server is composed of, built in `startup`. It holds
//! each area's sub-state (`Sms`, `Identity`, `Booking`, `Call`, `Hearing`) and implements axum's
//! `FromRef` for each, so a handler takes only its area's (`State<Booking>`), and an area's
//! services never name `AppState`: dependencies point down.

use std::{ops::Deref, sync::Arc};

use axum::extract::FromRef;

use crate::{
    booking::Booking,
    call::{Call, JoinGate},
    clock::SharedClock,
    config::Config,
    hearing::Hearing,
    identity::Identity,
    kv::Kv,
    records::Records,
    sms::Sms,
    store::Db,
};

#[derive(Clone, Debug)]
pub struct AppState(pub Arc<Inner>);

#[derive(Debug)]
pub struct Inner {
    pub config: Arc<Config>,
    pub db: Db,
    pub kv: Kv,
    pub clock: SharedClock,
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    pub sms: Sms,
    pub identity: Identity,
    /// The bounded argon2 password hasher (the one of `identity`).
    pub passwords: crate::identity::passwords::Hasher,
    pub booking: Booking,
    /// The key of the citizens' identity data at rest.
    pub identity_key: Arc<crate::identity::DataKey>,
    pub audit: crate::audit::Audit,
    /// The call: signalling rooms, media engine, recordings (see `crate::call`).
    pub call: Call,
    /// The hearing: its services, config and after-commit subscribers (see `crate::hearing`).
    pub hearing: Hearing,
    /// The system of record (see `crate::records`).
    pub records: Records,
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl FromRef<AppState> for Sms {
    fn from_ref(state: &AppState) -> Sms {
        state.sms.clone()
    }
}

impl FromRef<AppState> for Identity {
    fn from_ref(state: &AppState) -> Identity {
        state.identity.clone()
    }
}

impl FromRef<AppState> for Booking {
    fn from_ref(state: &AppState) -> Booking {
        state.booking.clone()
    }
}

impl FromRef<AppState> for Call {
    fn from_ref(state: &AppState) -> Call {
        state.call.clone()
    }
}

impl FromRef<AppState> for Hearing {
    fn from_ref(state: &AppState) -> Hearing {
        state.hearing.clone()
    }
}

impl FromRef<AppState> for Records {
    fn from_ref(state: &AppState) -> Records {
        state.records.clone()
    }
}

/// The call's join check asks the hearing area whether the hearing is closed.
struct HearingJoins(Hearing);

#[async_trait::async_trait]
impl crate::call::HearingGate for HearingJoins {
    async fn refuses_joins(&self, hearing_id: &str) -> crate::error::ApiResult<bool> {
        crate::hearing::refuses_joins(&self.0, hearing_id).await
    }
}

impl FromRef<AppState> for JoinGate {
    fn from_ref(state: &AppState) -> JoinGate {
        JoinGate(Arc::new(HearingJoins(state.hearing.clone())))
    }
}
