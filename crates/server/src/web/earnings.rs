//! The holder's earnings `/earnings`: its balances from the ledger (pending,
//! available, paid out — as `/balance` and `GET /v1/balance` show them), the
//! commission of every order it brought with where that order is in its
//! lifecycle (unpaid: nothing earned; paid, shipped or delivered within the
//! return window: pending; settled: available; cancelled or refunded: taken
//! back), the commission per month, and a chart of the commission over time:
//! per day when the paid orders span at most [`chart::MAX_BUCKETS`] days,
//! else per month. Commission is counted net of what refunds took back, on
//! the day the order was paid.

use super::chart::{self, Chart, ChartView, Kind, Series};
use super::wallet::{order_line, OrderLine};
use super::{format, html, AppState, Layout, Web};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use std::collections::{BTreeMap, HashMap};
use symbolon_api as api;
use symbolon_core::state::Role;
use symbolon_core::{Money, Timestamp};

const DAY_MS: i64 = 86_400_000;

/// Buckets of time for a chart: the days from the first moment to the last
/// when they are at most [`chart::MAX_BUCKETS`], else the months.
pub(super) struct Buckets {
    daily: bool,
    first: i64,
    pub labels: Vec<String>,
}

fn month_index(ms: i64) -> i64 {
    let s = Timestamp::from_millis(ms).to_rfc3339();
    let y: i64 = s.get(0..4).and_then(|v| v.parse().ok()).unwrap_or(1970);
    let m: i64 = s.get(5..7).and_then(|v| v.parse().ok()).unwrap_or(1);
    y * 12 + m - 1
}

impl Buckets {
    /// The buckets spanning `moments` (ms); none when there are none.
    pub(super) fn over(moments: impl IntoIterator<Item = i64>) -> Self {
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        for m in moments {
            lo = lo.min(m);
            hi = hi.max(m);
        }
        if lo > hi {
            return Self {
                daily: true,
                first: 0,
                labels: vec![],
            };
        }
        let (d0, d1) = (lo.div_euclid(DAY_MS), hi.div_euclid(DAY_MS));
        if d1 - d0 < chart::MAX_BUCKETS as i64 {
            let labels = (d0..=d1)
                .map(|d| Timestamp::from_millis(d * DAY_MS).to_rfc3339()[..10].to_string())
                .collect();
            return Self {
                daily: true,
                first: d0,
                labels,
            };
        }
        let (m0, m1) = (month_index(lo), month_index(hi));
        let labels = (m0..=m1)
            .map(|m| format!("{:04}-{:02}", m.div_euclid(12), m.rem_euclid(12) + 1))
            .collect();
        Self {
            daily: false,
            first: m0,
            labels,
        }
    }

    /// The bucket of a moment (ms) within the span.
    pub(super) fn of(&self, ms: i64) -> usize {
        let i = if self.daily {
            ms.div_euclid(DAY_MS) - self.first
        } else {
            month_index(ms) - self.first
        };
        (i.max(0) as usize).min(self.labels.len().saturating_sub(1))
    }

    pub(super) fn daily(&self) -> bool {
        self.daily
    }
}

/// Where an order's commission is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    Unpaid,
    Pending,
    Available,
    Reversed,
}

/// One order's commission.
struct Line {
    o: OrderLine,
    title: String,
    stage: String,
    net: String,
}

/// One month's commission in one currency.
struct Month {
    month: String,
    currency: String,
    pending: String,
    available: String,
    total: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "earnings.html")]
struct EarningsTemplate {
    l: Layout,
    b: api::Balances,
    lines: Vec<Line>,
    months: Vec<Month>,
    chart: ChartView,
}

impl EarningsTemplate {
    fn of<'a>(&'a self, column: &'a BTreeMap<String, String>, currency: &str) -> &'a str {
        column.get(currency).map(String::as_str).unwrap_or("0")
    }
}

fn minor(m: &api::Money) -> i64 {
    Money::parse(&m.amount, &m.currency).map_or(0, |v| v.minor)
}

fn stage_of(o: &api::Order, net: i64) -> Stage {
    match o.status.as_str() {
        "placed" | "expired" => Stage::Unpaid,
        _ if o.settled_at.is_some() => Stage::Available,
        "cancelled" | "refunded" if net == 0 => Stage::Reversed,
        _ => Stage::Pending,
    }
}

/// `GET /earnings`.
pub(super) async fn earnings_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let w = Web::new(state, &headers);
    let (me, _, csrf) = match w.signed_in_as("/earnings", Role::Holder).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let ex = &w.state.exchange;
    let (b, orders, wallet) = match (
        ex.balances(&me).await,
        ex.holder_orders(&me).await,
        ex.wallet(&me).await,
    ) {
        (Ok(b), Ok(o), Ok(wl)) => (b, o, wl),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return w.exchange_error(&e),
    };
    let titles: HashMap<&str, &str> = wallet
        .items
        .iter()
        .map(|h| (h.pass.id.as_str(), h.pass.title.as_str()))
        .collect();
    // Per order, newest first; the paid ones counted per month and per bucket.
    let mut lines = Vec::with_capacity(orders.len());
    // (month, currency) → (pending, available) in minor units.
    let mut months: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
    let mut paid: Vec<(i64, String, i64)> = Vec::new();
    for o in orders.iter().rev() {
        let net = minor(&o.commission) - minor(&o.commission_reversed);
        let stage = stage_of(o, net);
        let currency = o.commission.currency.clone();
        if let Some(at) = o.paid_at.as_deref().and_then(Timestamp::parse_rfc3339) {
            if stage != Stage::Unpaid {
                let m = months
                    .entry((at.to_rfc3339()[..7].to_string(), currency.clone()))
                    .or_default();
                match stage {
                    Stage::Available => m.1 += net,
                    _ => m.0 += net,
                }
                paid.push((at.millis(), currency.clone(), net));
            }
        }
        lines.push(Line {
            o: order_line(&w, o),
            title: titles
                .get(o.pass_id.as_str())
                .map_or_else(|| o.pass_id.clone(), |t| t.to_string()),
            stage: w.t(match stage {
                Stage::Unpaid => "earnings-stage-unpaid",
                Stage::Pending => "earnings-stage-pending",
                Stage::Available => "earnings-stage-available",
                Stage::Reversed => "earnings-stage-reversed",
            }),
            net: format::money_minor(
                w.lang,
                if stage == Stage::Unpaid { 0 } else { net },
                &currency,
            ),
        });
    }
    let months = months
        .into_iter()
        .rev()
        .map(|((month, currency), (pending, available))| Month {
            pending: format::money_minor(w.lang, pending, &currency),
            available: format::money_minor(w.lang, available, &currency),
            total: format::money_minor(w.lang, pending + available, &currency),
            month,
            currency,
        })
        .collect();
    let chart = ChartView::new(&commission_chart(&w, &paid));
    let t = EarningsTemplate {
        l: w.layout(w.t("earnings-title"), Some(&me), &csrf, "/earnings"),
        b,
        lines,
        months,
        chart,
    };
    html(StatusCode::OK, t, vec![])
}

/// The commission per bucket, one series (bars) per currency.
fn commission_chart(w: &Web, paid: &[(i64, String, i64)]) -> Chart {
    let buckets = Buckets::over(paid.iter().map(|(at, _, _)| *at));
    let mut per: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for (at, currency, net) in paid {
        let v = per
            .entry(currency.as_str())
            .or_insert_with(|| vec![0; buckets.labels.len()]);
        v[buckets.of(*at)] += net;
    }
    let series = per
        .into_iter()
        .take(chart::MAX_SERIES)
        .map(|(currency, v)| {
            let scale = symbolon_core::money::Currency::parse(currency)
                .map_or(100.0, |c| 10f64.powi(c.exponent() as i32));
            Series {
                name: w.lang.ta("earnings-series", currency),
                values: v.iter().map(|m| *m as f64 / scale).collect(),
                labels: v
                    .iter()
                    .map(|m| format::money_minor(w.lang, *m, currency))
                    .collect(),
            }
        })
        .collect();
    Chart {
        title: w.t(if buckets.daily() {
            "earnings-chart-daily"
        } else {
            "earnings-chart-monthly"
        }),
        y_label: w.t("earnings-chart-y"),
        kind: Kind::Bars,
        x: buckets.labels,
        series,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_histories_are_daily_and_long_ones_monthly() {
        let day0 = Timestamp::parse_rfc3339("2026-11-28T12:00:00Z")
            .unwrap()
            .millis();
        let b = Buckets::over([day0, day0 + 2 * DAY_MS]);
        assert!(b.daily());
        assert_eq!(b.labels, ["2026-11-28", "2026-11-29", "2026-11-30"]);
        assert_eq!(b.of(day0 + DAY_MS), 1);
        let b = Buckets::over([day0, day0 + 100 * DAY_MS]);
        assert!(!b.daily());
        assert_eq!(
            b.labels,
            ["2026-11", "2026-12", "2027-01", "2027-02", "2027-03"]
        );
        assert_eq!(b.of(day0 + 40 * DAY_MS), 2);
        assert!(Buckets::over([]).labels.is_empty());
    }
}
