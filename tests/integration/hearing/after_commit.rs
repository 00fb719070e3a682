//! Work after a step's commit is an event with subscribers; a failing subscriber is retried.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use remote_hearing::hearing::{
    Hearing,
    subscribers::{Change, HearingEvent, Subscriber},
};

use super::{body_of, world};

/// Fails its first `fails` calls, then records what it saw.
#[derive(Debug, Default)]
struct Flaky {
    fails: usize,
    calls: Mutex<usize>,
    seen: Mutex<Vec<Change>>,
}

#[async_trait::async_trait]
impl Subscriber<Hearing> for Flaky {
    fn name(&self) -> &'static str {
        "flaky_probe"
    }
    async fn on(&self, _: &Hearing, e: &HearingEvent) -> anyhow::Result<()> {
        let n = {
            let mut c = self.calls.lock().unwrap();
            *c += 1;
            *c
        };
        if n <= self.fails {
            anyhow::bail!("failure {n}");
        }
        self.seen.lock().unwrap().push(e.change.clone());
        Ok(())
    }
}

#[tokio::test]
async fn a_failing_subscriber_is_retried_until_it_succeeds() {
    let w = world().await;
    let subs = &w.app.state.hearing.subscribers;
    assert_eq!(
        subs.names(),
        [
            "call_frame",
            "officer_stream",
            "end_call",
            "urgent_lane",
            "records_write_back",
            "brigade_apology"
        ]
    );
    let probe = Arc::new(Flaky {
        fails: 2,
        ..Flaky::default()
    });
    subs.register(probe.clone());
    let h = w.open().await["id"].as_str().unwrap().to_string();
    assert_eq!(w.join_with_sms_code(&h).await.status(), 200);
    w.ok_step(&h, body_of("identity")).await;
    // The step answered before the retries ran; they deliver it within a few seconds.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while probe.seen.lock().unwrap().is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        *probe.seen.lock().unwrap(),
        vec![Change::Step("identity".into())]
    );
    assert_eq!(
        *probe.calls.lock().unwrap(),
        3,
        "two failures, then success"
    );
}
