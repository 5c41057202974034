//! The provider's sales `/sales`: revenue (paid less refunded) and the
//! commissions its holders earned, over time — per day while the history
//! is short (`SALES_DAILY_UNTIL_DAYS`), per month after — as a chart
//! (`chart.rs`, with its table) per currency; and its top products and
//! holders as tables. The figures come from the exchange's report over its
//! orders (`Exchange::sales_report`) in integer minor units; only the
//! chart's drawing coordinates are floats.

use super::chart::{Chart, ChartView, Kind, Series};
use super::{format, html, AppState, Layout, Web};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use symbolon_api as api;
use symbolon_core::money::{Currency, Money};
use symbolon_core::state::Role;
use symbolon_exchange::{SalesReport, SalesTop};

/// Minor units as the wire's money (a decimal string).
fn money(minor: i64, currency: &str) -> api::Money {
    match Currency::parse(currency) {
        Ok(c) => api::Money::new(Money::new(minor, c).amount_string(), c.as_str()),
        Err(_) => api::Money::new(minor.to_string(), currency),
    }
}

/// One currency's totals and chart.
struct CurrencyView {
    currency: String,
    revenue: api::Money,
    commission: api::Money,
    orders: i64,
    chart: ChartView,
}

/// A row of a top list.
struct TopRow {
    id: String,
    name: String,
    orders: i64,
    quantity: i64,
    amount: api::Money,
}

#[derive(Template, WebTemplate)]
#[template(path = "sales.html")]
struct SalesTemplate {
    l: Layout,
    currencies: Vec<CurrencyView>,
    top_products: Vec<TopRow>,
    top_holders: Vec<TopRow>,
    daily: bool,
    truncated: bool,
}

fn rows(top: Vec<SalesTop>) -> Vec<TopRow> {
    top.into_iter()
        .map(|t| TopRow {
            amount: money(t.amount_minor, &t.currency),
            id: t.id,
            name: t.name,
            orders: t.orders,
            quantity: t.quantity,
        })
        .collect()
}

fn views(w: &Web, r: &SalesReport) -> Vec<CurrencyView> {
    let l = w.lang;
    r.currencies
        .iter()
        .map(|c| {
            let series = |name: &str, pick: fn(&symbolon_exchange::SalesBucket) -> i64| {
                let minor: Vec<i64> = c.buckets.iter().map(pick).collect();
                let exp = Currency::parse(&c.currency).map_or(0, |x| x.exponent());
                let scale = 10f64.powi(exp as i32);
                Series {
                    name: w.t(name),
                    values: minor.iter().map(|m| *m as f64 / scale).collect(),
                    labels: minor
                        .iter()
                        .map(|m| format::money(l, &money(*m, &c.currency)))
                        .collect(),
                }
            };
            let chart = Chart {
                title: l.ta("sales-chart-title", &c.currency),
                y_label: c.currency.clone(),
                kind: Kind::Bars,
                x: c.buckets.iter().map(|b| b.label.clone()).collect(),
                series: vec![
                    series("sales-revenue", |b| b.revenue_minor),
                    series("sales-commission", |b| b.commission_minor),
                ],
            };
            CurrencyView {
                currency: c.currency.clone(),
                revenue: money(c.revenue_minor, &c.currency),
                commission: money(c.commission_minor, &c.currency),
                orders: c.orders,
                chart: ChartView::new(&chart),
            }
        })
        .collect()
}

/// `GET /sales`.
pub(super) async fn sales_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let w = Web::new(state, &headers);
    let (me, _, csrf) = match w.signed_in_as("/sales", Role::Provider).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let report = match w.state.exchange.sales_report(&me).await {
        Ok(r) => r,
        Err(e) => return w.exchange_error(&e),
    };
    let t = SalesTemplate {
        l: w.layout(w.t("sales-title"), Some(&me), &csrf, "/sales"),
        currencies: views(&w, &report),
        daily: report.daily,
        truncated: report.truncated,
        top_products: rows(report.top_products),
        top_holders: rows(report.top_holders),
    };
    html(StatusCode::OK, t, vec![])
}
