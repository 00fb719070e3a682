//! Work after a hearing's transaction committed, as events with subscribers: a committed step
//! or lifecycle change is published once as a [`HearingEvent`]; the subscribers that `startup`
//! registers (`after_commit::standard`: the call frame, the officers' event stream, ending the
//! call at close, the urgent lane) each handle it. Generic over the context `S` the subscribers
//! get, so this core knows nothing of the application state. A subscriber that fails is retried in the background with backoff
//! (0.5 s doubling, 5 tries) and counted in `hearing_event_failures_total{subscriber}`; the
//! first try runs before the request answers, so a client sees the effects as before.
//! (Retries live in memory: a process that dies meanwhile loses them; the presence watcher and
//! the urgent lane's reconcile repair the call and the lane.)

use std::{
    sync::{Arc, RwLock},
    time::Duration,
};

use async_trait::async_trait;

use super::store::HearingRow;

/// What committed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// A legal step (`identity`, `inquiry`, …).
    Step(String),
    /// A lifecycle event (`no_show`, `resumed`, `call_gap`, …).
    Lifecycle(String),
    /// The hearing was interrupted, by an officer or the server, for `reason`.
    Interrupted { reason: String },
}

/// A hearing as it stands after a committed change.
#[derive(Clone, Debug)]
pub struct HearingEvent {
    pub hearing: HearingRow,
    pub change: Change,
}

impl HearingEvent {
    pub fn closed(&self) -> bool {
        self.hearing.closed_at.is_some()
    }
}

/// One piece of after-commit work.
#[async_trait]
pub trait Subscriber<S>: Send + Sync + std::fmt::Debug {
    fn name(&self) -> &'static str;
    async fn on(&self, ctx: &S, event: &HearingEvent) -> anyhow::Result<()>;
}

/// The subscribers, in the order they run.
#[derive(Debug)]
pub struct Subscribers<S>(Arc<RwLock<Vec<Arc<dyn Subscriber<S>>>>>);

impl<S> Clone for Subscribers<S> {
    fn clone(&self) -> Self {
        Subscribers(self.0.clone())
    }
}

impl<S: Clone + Send + Sync + 'static> Subscribers<S> {
    pub fn new(list: Vec<Arc<dyn Subscriber<S>>>) -> Subscribers<S> {
        Subscribers(Arc::new(RwLock::new(list)))
    }

    /// Adds one (at startup, or a test's probe) after the others.
    pub fn register(&self, sub: Arc<dyn Subscriber<S>>) {
        if let Ok(mut list) = self.0.write() {
            list.push(sub);
        }
    }

    fn list(&self) -> Vec<Arc<dyn Subscriber<S>>> {
        self.0.read().map(|l| l.clone()).unwrap_or_default()
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.list().iter().map(|s| s.name()).collect()
    }

    /// Publishes `event` to every subscriber: a first try each, in order; failures retried
    /// in the background.
    pub async fn publish(&self, ctx: &S, event: HearingEvent) {
        let event = Arc::new(event);
        for sub in self.list() {
            if let Err(e) = sub.on(ctx, &event).await {
                tracing::warn!(subscriber = sub.name(), hearing = %event.hearing.id, error = %format!("{e:#}"), "after-commit work failed; retrying");
                tokio::spawn(retry(ctx.clone(), sub.clone(), event.clone()));
            }
        }
    }
}

async fn retry<S>(state: S, sub: Arc<dyn Subscriber<S>>, event: Arc<HearingEvent>) {
    let mut wait = Duration::from_millis(500);
    for _ in 0..5 {
        tokio::time::sleep(wait).await;
        match sub.on(&state, &event).await {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(subscriber = sub.name(), error = %format!("{e:#}"), "retry failed")
            }
        }
        wait *= 2;
    }
    metrics::counter!("hearing_event_failures_total", "subscriber" => sub.name()).increment(1);
    tracing::error!(subscriber = sub.name(), hearing = %event.hearing.id, "after-commit work given up");
}
