//! Percentiles by sorting, and the process's resident memory.

use serde::Serialize;
use std::time::Duration;

/// Latency percentiles of a set of timed calls, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Latency {
    pub count: usize,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub mean_ms: f64,
    pub max_ms: f64,
}

/// The nearest-rank `q`-quantile of sorted values (`q` in [0, 1]).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

impl Latency {
    pub fn of(samples: &[Duration]) -> Self {
        let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        ms.sort_by(f64::total_cmp);
        let mean = if ms.is_empty() {
            0.0
        } else {
            ms.iter().sum::<f64>() / ms.len() as f64
        };
        Self {
            count: ms.len(),
            p50_ms: quantile(&ms, 0.50),
            p90_ms: quantile(&ms, 0.90),
            p99_ms: quantile(&ms, 0.99),
            p999_ms: quantile(&ms, 0.999),
            mean_ms: mean,
            max_ms: ms.last().copied().unwrap_or(0.0),
        }
    }
}

/// Resident memory of this process, from `/proc/self/status` (Linux), in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Rss {
    /// `VmRSS`: everything resident.
    pub total: u64,
    /// `RssAnon`: heap and other anonymous pages.
    pub anon: u64,
    /// `RssFile`: resident pages of mapped files (an mmapped index, the binary).
    pub file: u64,
}

impl Rss {
    /// `None` where `/proc/self/status` is unavailable.
    pub fn now() -> Option<Self> {
        let s = std::fs::read_to_string("/proc/self/status").ok()?;
        Some(Self::parse(&s))
    }

    fn parse(status: &str) -> Self {
        let kb = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .map_or(0, |k| k * 1024)
        };
        Self {
            total: kb("VmRSS:"),
            anon: kb("RssAnon:"),
            file: kb("RssFile:"),
        }
    }
}

/// Formats milliseconds readably (µs below 1 ms).
pub fn fmt_ms(ms: f64) -> String {
    if ms < 1.0 {
        format!("{:.0} µs", ms * 1e3)
    } else if ms < 100.0 {
        format!("{ms:.2} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

/// Formats a rate (per second) with a thousands separator.
pub fn fmt_rate(x: f64) -> String {
    let n = x.round() as u64;
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let v: Vec<f64> = (1..=1000).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.5), 500.0);
        assert_eq!(quantile(&v, 0.99), 990.0);
        assert_eq!(quantile(&v, 0.999), 999.0);
        assert_eq!(quantile(&v, 1.0), 1000.0);
        assert_eq!(quantile(&[7.0], 0.999), 7.0);
        assert_eq!(quantile(&[], 0.5), 0.0);
    }

    #[test]
    fn parses_status() {
        let s = "Name:\tx\nVmRSS:\t  2048 kB\nRssAnon:\t    1024 kB\nRssFile:\t 512 kB\n";
        assert_eq!(
            Rss::parse(s),
            Rss {
                total: 2048 * 1024,
                anon: 1024 * 1024,
                file: 512 * 1024
            }
        );
    }

    #[test]
    fn rates() {
        assert_eq!(fmt_rate(1234567.4), "1 234 567");
        assert_eq!(fmt_rate(12.0), "12");
    }
}
