//! The commit barrier's fsyncs during a phase, read from the server's own histogram
//! (`db_durable_flush_seconds`, `store/durable.rs`) in this process: how many, their mean, and
//! how many took longer than 10, 25 and 50 ms. A booking answered 2xx waited for one of them,
//! so a slow disk shows here beside the booking's p99 (issue 18 §2: the disk against the
//! writer).

#![allow(dead_code)]

/// Cumulative counts per bucket bound (seconds), the sum (seconds) and the count.
#[derive(Default, Clone)]
pub struct Flushes {
    buckets: Vec<(f64, u64)>,
    sum: f64,
    count: u64,
}

/// The histogram now (empty when no recorder is installed or no flush happened yet).
pub fn now() -> Flushes {
    let text = remote_hearing::telemetry::metrics_handle()
        .map(|h| h.render())
        .unwrap_or_default();
    let mut f = Flushes::default();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("db_durable_flush_seconds") else {
            continue;
        };
        let Some((name, value)) = rest.rsplit_once(' ') else {
            continue;
        };
        let v: f64 = value.parse().unwrap_or(0.0);
        if let Some(le) = name
            .strip_prefix("_bucket{le=\"")
            .and_then(|r| r.strip_suffix("\"}"))
        {
            f.buckets
                .push((le.parse().unwrap_or(f64::INFINITY), v as u64));
        } else if name == "_sum" {
            f.sum = v;
        } else if name == "_count" {
            f.count = v as u64;
        }
    }
    f
}

impl Flushes {
    /// Flushes at or below `le` seconds (a bucket bound).
    fn at_most(&self, le: f64) -> u64 {
        self.buckets
            .iter()
            .find(|(b, _)| (*b - le).abs() < 1e-9)
            .map_or(0, |(_, n)| *n)
    }

    /// What happened between `before` and `self`, as one line.
    pub fn since(&self, before: &Flushes) -> String {
        let n = self.count.saturating_sub(before.count);
        if n == 0 {
            return "no fsync of the commit barrier (PostgreSQL: its own WAL flush)".into();
        }
        let mean_ms = 1000.0 * (self.sum - before.sum) / n as f64;
        let over = |le: f64| n.saturating_sub(self.at_most(le).saturating_sub(before.at_most(le)));
        format!(
            "{n} fsyncs of the commit barrier, mean {mean_ms:.2} ms; over 10 ms: {}, over 25 ms: {}, over 50 ms: {}",
            over(0.01),
            over(0.025),
            over(0.05)
        )
    }
}
