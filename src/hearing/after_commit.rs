//! The hearing's after-commit subscribers (see `subscribers`): the call's `hearing` frame, the
//! officers' event stream, at close the end of the call and the urgent lane, and after a
//! decision the records outbox's wake-up, and the apology to a citizen whose hearing the
//! server interrupted because the brigade never sent the join code. `startup`
//! registers [`standard`]; [`publish`] is how the hearing's services announce a commit.

use super::Hearing;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::json;

use super::{
    events, ports,
    subscribers::{Change, HearingEvent, Subscriber, Subscribers},
};

/// The hearing's own subscribers, in order.
pub fn standard() -> Subscribers<Hearing> {
    Subscribers::new(vec![
        Arc::new(CallFrame),
        Arc::new(OfficerStream),
        Arc::new(EndCall),
        Arc::new(UrgentLane),
        Arc::new(RecordsWriteBack),
        Arc::new(BrigadeApology),
    ])
}

/// Announces a committed change of `state`'s hearing to its subscribers.
pub async fn publish(state: &Hearing, event: HearingEvent) {
    state.subscribers.publish(state, event).await;
}

/// The call's `hearing {status, step}` frame to every participant.
#[derive(Debug)]
struct CallFrame;

#[async_trait]
impl Subscriber<Hearing> for CallFrame {
    fn name(&self) -> &'static str {
        "call_frame"
    }
    async fn on(&self, state: &Hearing, e: &HearingEvent) -> anyhow::Result<()> {
        let step = match &e.change {
            Change::Step(s) => Some(s.as_str()),
            Change::Lifecycle(_) | Change::Interrupted { .. } => None,
        };
        Ok(ports::push_hearing(state, &e.hearing.id, &e.hearing.status, step).await?)
    }
}

/// The officers' event stream (SSE) of the brigade.
#[derive(Debug)]
struct OfficerStream;

#[async_trait]
impl Subscriber<Hearing> for OfficerStream {
    fn name(&self) -> &'static str {
        "officer_stream"
    }
    async fn on(&self, state: &Hearing, e: &HearingEvent) -> anyhow::Result<()> {
        let h = &e.hearing;
        let (kind, extra) = match &e.change {
            Change::Step(s) => ("step", json!({"step": s, "status": h.status})),
            Change::Lifecycle(ev) => (ev.as_str(), json!({"status": h.status})),
            Change::Interrupted { reason } => {
                ("interrupted", json!({"status": h.status, "reason": reason}))
            }
        };
        Ok(events::try_publish(state, h, kind, extra).await?)
    }
}

/// At close: the call ends (in whichever process holds it), which seals its recordings.
#[derive(Debug)]
struct EndCall;

#[async_trait]
impl Subscriber<Hearing> for EndCall {
    fn name(&self) -> &'static str {
        "end_call"
    }
    async fn on(&self, state: &Hearing, e: &HearingEvent) -> anyhow::Result<()> {
        if !e.closed() {
            return Ok(());
        }
        Ok(ports::end_call(state, &e.hearing.id).await?)
    }
}

/// At close: an urgent booking leaves the urgent lane.
#[derive(Debug)]
struct UrgentLane;

#[async_trait]
impl Subscriber<Hearing> for UrgentLane {
    fn name(&self) -> &'static str {
        "urgent_lane"
    }
    async fn on(&self, state: &Hearing, e: &HearingEvent) -> anyhow::Result<()> {
        if !e.closed() {
            return Ok(());
        }
        ports::urgent_remove_if_urgent(state, &e.hearing.booking_id)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
    }
}

/// After the decision's commit (`service` step): the records outbox's worker sends the queued
/// write-back now rather than at its next poll. The row itself was written in the decision's
/// transaction, so a lost wake-up only delays it.
#[derive(Debug)]
struct RecordsWriteBack;

#[async_trait]
impl Subscriber<Hearing> for RecordsWriteBack {
    fn name(&self) -> &'static str {
        "records_write_back"
    }
    async fn on(&self, state: &Hearing, e: &HearingEvent) -> anyhow::Result<()> {
        if e.change == Change::Step("service".into()) {
            ports::records_wake(state);
        }
        Ok(())
    }
}

/// A hearing the server interrupted because its join code never went out (the brigade's
/// failing, like a booking it never opened): the citizen gets the same SMS apology with the
/// link to book again (queuing it is this subscriber's only write, so a retry follows only a
/// failed queuing).
#[derive(Debug)]
struct BrigadeApology;

#[async_trait]
impl Subscriber<Hearing> for BrigadeApology {
    fn name(&self) -> &'static str {
        "brigade_apology"
    }
    async fn on(&self, state: &Hearing, e: &HearingEvent) -> anyhow::Result<()> {
        match &e.change {
            Change::Interrupted { reason } if reason == super::fate::CODE_NOT_SENT => {
                ports::apologise_for_missed(state, &e.hearing.booking_id)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))
            }
            _ => Ok(()),
        }
    }
}
