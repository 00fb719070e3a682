//! The areas' sub-states (SMS, identity, booking, call, hearing), built from the configuration and the shared connections, and the
//! adapters that let a lower area use a higher one through a trait the lower area owns.

use std::sync::Arc;

use async_trait::async_trait;

use crate::{
    booking::{Booking, OpenHearings},
    call::{Call, nodes::Node},
    clock::SharedClock,
    config::Config,
    error::ApiResult,
    hearing::Hearing,
    identity::{DataKey, Identity},
    kv::Kv,
    sms::Sms,
    store::Db,
};

/// The sub-states of the SMS, identity, booking and call areas.
pub struct Areas {
    pub sms: Sms,
    pub identity: Identity,
    pub booking: Booking,
    pub call: Call,
}

/// Builds every area's sub-state (each with its own config section and only what it uses).
pub fn areas(
    config: &Config,
    db: &Db,
    kv: &Kv,
    clock: &SharedClock,
    records: &crate::records::Records,
    identity_key: Arc<DataKey>,
) -> anyhow::Result<Areas> {
    let base = || (db.clone(), kv.clone(), clock.clone());
    let server = &config.server;
    let site = crate::sms::Site {
        data_dir: &server.data_dir,
        production: config.is_production(),
    };
    let sms = Sms::new(base(), &config.sms, &config.wechat, site)?;
    let identity = Identity::new(base(), &config.auth, identity_key, config.is_production())?;
    let booking = Booking {
        db: db.clone(),
        kv: kv.clone(),
        clock: clock.clone(),
        config: Arc::new(crate::booking::with_rebook_url(
            &config.booking,
            &server.public_url,
        )),
        sms: sms.clone(),
        hearings: Arc::new(HearingsOfBookings(db.clone())),
        records: records.clone(),
        full_slots: Default::default(),
    };
    let node = Node::new(
        &server.node_id,
        &server.node_url,
        &server.public_url,
        config.call.node_ttl_ms,
    );
    let site = crate::call::Site {
        data_dir: server.data_dir.clone(),
        production: config.is_production(),
        public_url: server.public_url.clone(),
        redis_url: config.redis.url.clone(),
        vault: Arc::new(crate::store::vault::Vault::from_config(
            &config.storage,
            config.is_production(),
            &server.data_dir,
        )?),
    };
    let call = Call::new(base(), &config.call, site, node)?;
    Ok(Areas {
        sms,
        identity,
        booking,
        call,
    })
}

/// The hearing's sub-state over the lower areas' (its subscribers: `after_commit::standard`).
pub fn hearing(
    config: &Config,
    (db, kv, clock): (&Db, &Kv, &SharedClock),
    areas: &Areas,
    identity_key: Arc<DataKey>,
) -> Hearing {
    Hearing::new(crate::hearing::Inner {
        db: db.clone(),
        kv: kv.clone(),
        clock: clock.clone(),
        config: config.hearing.clone(),
        decision: config.decision.clone(),
        identity_key,
        data_dir: config.server.data_dir.clone(),
        production: config.is_production(),
        redis_url: config.redis.url.clone(),
        sms: areas.sms.clone(),
        booking: areas.booking.clone(),
        call: areas.call.clone(),
        records: areas.booking.records.clone(),
        retention: config.retention.clone(),
        subscribers: crate::hearing::after_commit::standard(),
    })
}

/// The records area's sub-state: the adapter `[records]` names, the `[booking]` limits.
pub fn records(
    config: &Config,
    db: &Db,
    clock: &SharedClock,
    identity_key: Arc<DataKey>,
) -> anyhow::Result<crate::records::Records> {
    let b = &config.booking;
    Ok(crate::records::Records {
        adapter: crate::records::adapter(&config.records, config.is_production())?,
        limits: crate::records::eligibility::Limits {
            max_fine_per_violation: b.max_fine_per_violation,
            max_unhandled: b.max_unhandled,
            points_ceiling: b.points_ceiling,
        },
        db: db.clone(),
        identity_key,
        clock: clock.clone(),
        wake: Arc::new(tokio::sync::Notify::new()),
    })
}

/// The hearing area's open hearings, for the urgent lane's rebuild.
#[derive(Debug)]
struct HearingsOfBookings(Db);

#[async_trait]
impl OpenHearings for HearingsOfBookings {
    async fn urgent_officers(&self) -> ApiResult<Vec<(String, String)>> {
        Ok(crate::hearing::store::live_urgent_officers(&self.0.read).await?)
    }
}
