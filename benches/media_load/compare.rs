//! Ours beside Janus (`TARGET=ours,janus`): for each N measured against both servers, the
//! figures of issue 18 §1 side by side with the ratio ours/Janus, as a markdown table and as
//! `TABLE|what|ours|beside|ratio` lines for `benches/side_by_side.sh`.

use crate::support::percentile;
use crate::{Row, Target};

/// The compared figures of one run.
struct Figures {
    /// % of one core per Mbit/s delivered to the receivers.
    cpu_per_mbit: f64,
    forwarded_mbit: f64,
    cpu: f64,
    /// RSS growth from idle to the end of the window, per hearing (MB).
    rss_per_hearing: f64,
    rss_mb: f64,
    /// Audio and video packets lost, % of those sent.
    loss: f64,
    /// Video one-way latency p50, p99 (ms).
    p50: f64,
    p99: f64,
    /// Bytes recorded per hearing-minute of media (MB).
    rec_per_min: f64,
}

fn figures(r: &Row) -> Figures {
    let forwarded_mbit = r.forwarded_bytes as f64 * 8.0 / 1e6 / r.wall.max(1e-9);
    let (sent, got) = r
        .loss
        .iter()
        .fold((0, 0), |(s, g), (ls, lg)| (s + ls, g + lg));
    let ms = |us: u32| us as f64 / 1000.0;
    Figures {
        cpu_per_mbit: r.server_cpu / forwarded_mbit.max(1e-9),
        forwarded_mbit,
        cpu: r.server_cpu,
        rss_per_hearing: r.rss_kb.saturating_sub(r.rss0_kb) as f64 / 1024.0 / r.n as f64,
        rss_mb: r.rss_kb as f64 / 1024.0,
        loss: 100.0 * (1.0 - got as f64 / sent.max(1) as f64),
        p50: ms(percentile(&r.lat[1], 0.5)),
        p99: ms(percentile(&r.lat[1], 0.99)),
        rec_per_min: r.recorded_bytes as f64 / 1e6 / r.n as f64 / (r.media_secs / 60.0).max(1e-9),
    }
}

fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 {
        format!("{:.2}×", a / b)
    } else {
        "–".into()
    }
}

/// Prints the comparison of every N that has both an ours (two seats) and a Janus row.
pub fn print(rows: &[Row]) {
    let pairs: Vec<(&Row, &Row)> = rows
        .iter()
        .filter(|r| r.target == Target::Ours && r.seats == 2)
        .filter_map(|o| {
            rows.iter()
                .find(|j| j.target == Target::Janus && j.n == o.n)
                .map(|j| (o, j))
        })
        .collect();
    if pairs.is_empty() {
        return;
    }
    println!();
    println!("| hearings | figure | ours | Janus | ours / Janus |");
    println!("|---|---|---|---|---|");
    for (o, j) in pairs {
        let (a, b) = (figures(o), figures(j));
        let n = o.n;
        let lines = [
            (
                "CPU per forwarded Mbit/s (% of a core)",
                format!(
                    "{:.2} ({:.0} % for {:.1} Mbit/s)",
                    a.cpu_per_mbit, a.cpu, a.forwarded_mbit
                ),
                format!(
                    "{:.2} ({:.0} % for {:.1} Mbit/s)",
                    b.cpu_per_mbit, b.cpu, b.forwarded_mbit
                ),
                ratio(a.cpu_per_mbit, b.cpu_per_mbit),
            ),
            (
                "RSS per hearing (growth from idle; total)",
                format!("{:.2} MB ({:.0} MB)", a.rss_per_hearing, a.rss_mb),
                format!("{:.2} MB ({:.0} MB)", b.rss_per_hearing, b.rss_mb),
                ratio(a.rss_per_hearing, b.rss_per_hearing),
            ),
            (
                "loss, audio + video",
                format!("{:.2} %", a.loss),
                format!("{:.2} %", b.loss),
                ratio(a.loss, b.loss),
            ),
            (
                "video one-way latency p50 / p99",
                format!("{:.1} / {:.1} ms", a.p50, a.p99),
                format!("{:.1} / {:.1} ms", b.p50, b.p99),
                format!("{} / {}", ratio(a.p50, b.p50), ratio(a.p99, b.p99)),
            ),
            (
                "recorded per hearing-minute",
                format!("{:.2} MB (raw RTP + WebM)", a.rec_per_min),
                format!("{:.2} MB (.mjr)", b.rec_per_min),
                ratio(a.rec_per_min, b.rec_per_min),
            ),
        ];
        for (what, ours, theirs, r) in lines {
            println!("| {n} | {what} | {ours} | {theirs} | {r} |");
            println!("TABLE|media relay, {n} hearings: {what}|{ours}|Janus {theirs}|{r}");
        }
    }
}
