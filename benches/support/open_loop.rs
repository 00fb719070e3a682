//! An open-loop HTTP load generator: request `i` starts at `t0 + i / rate` whatever the answers
//! do (each request its own task; the schedule never waits for a completion), and its latency
//! is measured from that *scheduled* start, so a server that falls behind shows its queue in the
//! latencies instead of slowing the generator (no coordinated omission). Starts the scheduler
//! could not make within 5 ms are counted (`late`). At most [`MAX_IN_FLIGHT`] requests are on the
//! wire at once (each its own connection; the client and the server in one process hold two
//! descriptors per connection): the ones over it wait in the generator, and that wait counts in
//! their latency. Runs on its own runtime thread, apart from the server's.

#![allow(dead_code)]

use std::{
    collections::BTreeMap,
    sync::Arc,
    time::{Duration, Instant},
};

use super::setup::pct_ms;

/// Requests on the wire at once (`OPEN_LOOP_MAX_IN_FLIGHT`, default 4,096).
pub static MAX_IN_FLIGHT: std::sync::LazyLock<usize> = std::sync::LazyLock::new(|| {
    std::env::var("OPEN_LOOP_MAX_IN_FLIGHT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4096)
});

/// A start later than this behind its schedule counts as late (tokio's timer has a 1 ms tick).
const LATE: Duration = Duration::from_millis(5);

/// One answer: HTTP status (0: no answer), the `code` of a JSON error body, the latency from
/// the scheduled start.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub code: Option<String>,
    pub latency: Duration,
}

/// What a run gives.
#[derive(Debug, Default)]
pub struct Outcome {
    pub offered_rate: f64,
    pub sent: usize,
    /// 2xx answers per second, from the first scheduled start to the last answer.
    pub achieved_rate: f64,
    pub ok: usize,
    /// Answers by status and error code (`409 slot_full`, `500`, `0 no answer`).
    pub by_code: BTreeMap<String, usize>,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    /// Starts more than [`LATE`] behind their schedule, and the worst lag.
    pub late: usize,
    pub max_late_ms: f64,
    pub answers: Vec<Answer>,
}

impl Outcome {
    /// Neither 2xx nor 409 (a refusal by the rules): transport failures, 4xx other than 409, 5xx.
    pub fn errors(&self) -> usize {
        self.answers
            .iter()
            .filter(|a| !(200..300).contains(&a.status) && a.status != 409)
            .count()
    }

    pub fn server_errors(&self) -> usize {
        self.answers
            .iter()
            .filter(|a| a.status >= 500 || a.status == 0)
            .count()
    }

    /// The `p` quantile (ms) of the answers that satisfy `keep`.
    pub fn pct_of(&self, keep: impl Fn(&Answer) -> bool, p: f64) -> f64 {
        let mut l: Vec<Duration> = self
            .answers
            .iter()
            .filter(|a| keep(a))
            .map(|a| a.latency)
            .collect();
        l.sort();
        pct_ms(&l, p)
    }
}

/// One request of the run: URL, bearer token, JSON body.
pub struct Request {
    pub url: String,
    pub token: String,
    pub body: serde_json::Value,
}

/// Sends `requests` at `rate` per second on a runtime of its own (one worker thread).
pub async fn run(requests: Vec<Request>, rate: f64) -> anyhow::Result<Outcome> {
    tokio::task::spawn_blocking(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("load-gen")
            .enable_all()
            .build()?;
        rt.block_on(schedule(requests, rate))
    })
    .await?
}

async fn schedule(requests: Vec<Request>, rate: f64) -> anyhow::Result<Outcome> {
    let n = requests.len();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(4096)
        .timeout(Duration::from_secs(60))
        .build()?;
    let period = Duration::from_secs_f64(1.0 / rate.max(0.001));
    let t0 = Instant::now() + Duration::from_millis(20);
    let mut handles = Vec::with_capacity(n);
    let (mut late, mut max_late) = (0usize, Duration::ZERO);
    let http = Arc::new(http);
    let wire = Arc::new(tokio::sync::Semaphore::new(*MAX_IN_FLIGHT));
    for (i, r) in requests.into_iter().enumerate() {
        let at = t0 + period.mul_f64(i as f64);
        tokio::time::sleep_until(at.into()).await;
        let lag = Instant::now().saturating_duration_since(at);
        if lag > LATE {
            late += 1;
            max_late = max_late.max(lag);
        }
        let (http, wire) = (http.clone(), wire.clone());
        handles.push(tokio::spawn(async move {
            let _permit = wire.acquire_owned().await;
            let res = http
                .post(&r.url)
                .bearer_auth(&r.token)
                .json(&r.body)
                .send()
                .await;
            let (status, code) = match res {
                Ok(res) => {
                    let status = res.status().as_u16();
                    let code = if status >= 400 {
                        res.json::<serde_json::Value>()
                            .await
                            .ok()
                            .and_then(|v| v["error"]["code"].as_str().map(str::to_string))
                    } else {
                        // read the body so that the connection goes back to the pool
                        let _ = res.bytes().await;
                        None
                    };
                    (status, code)
                }
                Err(_) => (0, None),
            };
            (
                Answer {
                    status,
                    code,
                    latency: at.elapsed(),
                },
                Instant::now(),
            )
        }));
    }
    let mut out = Outcome {
        offered_rate: rate,
        sent: n,
        late,
        max_late_ms: max_late.as_secs_f64() * 1000.0,
        ..Default::default()
    };
    let mut last = t0;
    for h in handles {
        let (a, done) = h.await?;
        last = last.max(done);
        let key = match (&a.status, &a.code) {
            (0, _) => "no answer".to_string(),
            (s, Some(c)) => format!("{s} {c}"),
            (s, None) => s.to_string(),
        };
        *out.by_code.entry(key).or_default() += 1;
        if (200..300).contains(&a.status) {
            out.ok += 1;
        }
        out.answers.push(a);
    }
    let mut l: Vec<Duration> = out.answers.iter().map(|a| a.latency).collect();
    l.sort();
    out.p50_ms = pct_ms(&l, 0.50);
    out.p99_ms = pct_ms(&l, 0.99);
    out.p999_ms = pct_ms(&l, 0.999);
    out.max_ms = pct_ms(&l, 1.0);
    out.achieved_rate = out.ok as f64 / last.duration_since(t0).as_secs_f64().max(1e-9);
    Ok(out)
}
