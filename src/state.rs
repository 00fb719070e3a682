//! `AppState`: the one shared state every handler and job receives. Modules add their
//! shared services here (as fields of `Inner`), constructed in `startup`.

use std::{ops::Deref, sync::Arc};

use crate::{clock::SharedClock, config::Config, kv::Kv, store::Db};

#[derive(Clone, Debug)]
pub struct AppState(pub Arc<Inner>);

#[derive(Debug)]
pub struct Inner {
    pub config: Arc<Config>,
    pub db: Db,
    pub kv: Kv,
    pub clock: SharedClock,
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    pub sms: crate::sms::Sms,
    /// The bounded argon2 password hasher.
    pub passwords: crate::identity::passwords::Hasher,
    /// The key of the citizens' identity data at rest.
    pub identity_key: crate::identity::DataKey,
    pub audit: crate::audit::Audit,
    /// The call: signalling rooms, media engine, recordings (see `crate::call`).
    pub call: crate::call::Call,
    /// The after-commit work of hearings (registered in `startup`).
    pub hearing_subscribers: crate::hearing::subscribers::Subscribers<AppState>,
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
