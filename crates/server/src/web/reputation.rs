//! The holder's reputation `/reputation`, as requesters see it: the same
//! figures as its public page `/h/{id}` and `GET /v1/holders/{id}`
//! (positive ratings of all ratings, requests answered of those decided),
//! their history as a chart (the rates as they stood at the end of each day,
//! or month for a long history, with the counts in the table), the recent
//! ratings with their comments, and the fields of focus, edited by a form
//! that saves through the same service as `PUT /v1/holder/profile` (same
//! rules; a refusal answers 422 with the message beside the field).
//!
//! The history counts a request answered with an offer at its answer, a
//! declined one at its decline and an expired one at its deadline; the
//! figures at the top are the exchange's (which counts a holder's expiries
//! for one requester once a day), so the history's last point may differ
//! from them slightly.

use super::chart::{Chart, ChartView, Kind, Series};
use super::earnings::Buckets;
use super::{format, html, redirect, AppState, FormPost, Layout, Web};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use std::collections::HashMap;
use symbolon_api as api;
use symbolon_core::limits::MAX_FIELDS;
use symbolon_core::state::Role;
use symbolon_exchange::ReputationHistory;
use symbolon_store::{Account, HolderReview};

/// How many ratings the page lists.
const RECENT_RATINGS: u32 = 20;

#[derive(Template, WebTemplate)]
#[template(path = "reputation.html")]
struct ReputationTemplate {
    l: Layout,
    h: api::HolderPublic,
    positive: u64,
    answered: u64,
    reviews: Vec<(HolderReview, String)>,
    chart: ChartView,
    /// The fields form's value and its error.
    fields: String,
    fields_error: Option<String>,
    saved: bool,
    max_fields: usize,
}

/// What the page shows besides the figures: the form's value, its error,
/// whether it was just saved.
struct FormState {
    status: StatusCode,
    fields: Option<String>,
    error: Option<String>,
    saved: bool,
}

async fn show(w: &Web, me: &Account, csrf: &str, s: FormState) -> Response {
    let ex = &w.state.exchange;
    let (h, reviews) = match ex.holder_page(&me.id, RECENT_RATINGS).await {
        Ok(x) => x,
        Err(e) => return w.exchange_error(&e),
    };
    let history = match ex.reputation_history(me).await {
        Ok(x) => x,
        Err(e) => return w.exchange_error(&e),
    };
    let count =
        |rate: Option<f64>, of: u64| rate.map(|r| (r * of as f64).round() as u64).unwrap_or(0);
    let t = ReputationTemplate {
        l: w.layout(w.t("reputation-title"), Some(me), csrf, "/reputation"),
        positive: count(h.positive_rate, h.ratings),
        answered: count(h.success_rate, h.interactions),
        reviews: reviews
            .into_iter()
            .map(|r| {
                let day = format::day_of(w.lang, r.created_at);
                (r, day)
            })
            .collect(),
        chart: ChartView::new(&history_chart(w, &history)),
        fields: s.fields.unwrap_or_else(|| h.fields.join(", ")),
        fields_error: s.error,
        saved: s.saved,
        max_fields: MAX_FIELDS,
        h,
    };
    html(s.status, t, vec![])
}

/// The rates as they stood at the end of each bucket, with their counts.
fn history_chart(w: &Web, h: &ReputationHistory) -> Chart {
    let buckets = Buckets::over(
        h.ratings
            .iter()
            .chain(h.outcomes.iter())
            .map(|(at, _)| at.millis()),
    );
    let n = buckets.labels.len();
    // Per bucket: (good, all) of that bucket, then running totals.
    let per = |events: &[(symbolon_core::Timestamp, bool)]| {
        let mut v = vec![(0u64, 0u64); n];
        for (at, good) in events {
            let b = &mut v[buckets.of(at.millis())];
            b.1 += 1;
            if *good {
                b.0 += 1;
            }
        }
        let mut run = (0u64, 0u64);
        v.into_iter()
            .map(|(g, a)| {
                run = (run.0 + g, run.1 + a);
                run
            })
            .collect::<Vec<_>>()
    };
    let series = |name: String, runs: Vec<(u64, u64)>, of_key: &str| Series {
        name,
        values: runs
            .iter()
            .map(|(g, a)| {
                if *a == 0 {
                    0.0
                } else {
                    *g as f64 * 100.0 / *a as f64
                }
            })
            .collect(),
        labels: runs
            .iter()
            .map(|(g, a)| {
                if *a == 0 {
                    "—".to_string()
                } else {
                    format!(
                        "{} ({} / {})",
                        format::percent(w.lang, *g as f64 / *a as f64),
                        format::number(w.lang, *g as i64),
                        w.lang.tn(of_key, *a as i64)
                    )
                }
            })
            .collect(),
    };
    Chart {
        title: w.t(if buckets.daily() {
            "reputation-chart-daily"
        } else {
            "reputation-chart-monthly"
        }),
        y_label: w.t("reputation-chart-y"),
        kind: Kind::Line,
        series: vec![
            series(
                w.t("reputation-series-positive"),
                per(&h.ratings),
                "reputation-of-ratings",
            ),
            series(
                w.t("reputation-series-success"),
                per(&h.outcomes),
                "reputation-of-requests",
            ),
        ],
        x: buckets.labels,
    }
}

/// `GET /reputation[?saved=1]`.
pub(super) async fn reputation_page(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let w = Web::new(state, &headers);
    let (me, _, csrf) = match w.signed_in_as("/reputation", Role::Holder).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let s = FormState {
        status: StatusCode::OK,
        fields: None,
        error: None,
        saved: q.contains_key("saved"),
    };
    show(&w, &me, &csrf, s).await
}

/// The form's fields of focus: separated by commas (either width), spaces or new lines.
fn split_fields(raw: &str) -> Vec<String> {
    raw.split([',', '，', ' ', '\n', '\r', '\t'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// `POST /reputation` (`fields`): saves the fields of focus.
pub(super) async fn save_fields(FormPost { w, f }: FormPost) -> Response {
    let (me, token, csrf) = match w.signed_in_as("/reputation", Role::Holder).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let raw = f.get("fields").cloned().unwrap_or_default();
    let failed = |status, error| FormState {
        status,
        fields: Some(raw.clone()),
        error: Some(error),
        saved: false,
    };
    if !w.csrf_ok(Some(&token), f.get("csrf")) {
        let s = failed(StatusCode::FORBIDDEN, w.t("error-form-foreign"));
        return show(&w, &me, &csrf, s).await;
    }
    let req = api::HolderProfileUpdate {
        fields: split_fields(&raw),
    };
    match w.state.exchange.set_holder_profile(&me, &req).await {
        Ok(_) => redirect("/reputation?saved=1#fields-form", vec![]),
        Err(e) => {
            let msg = format!(
                "{} {}",
                w.t("reputation-fields-invalid"),
                w.public_message(&e)
            );
            // A refused field is the form's input error (422), as on the other forms.
            let names_field = e.details.as_ref().is_some_and(|d| d.get("field").is_some());
            let status = if names_field {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                w.status_of(&e)
            };
            let s = failed(status, msg);
            show(&w, &me, &csrf, s).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::split_fields;

    #[test]
    fn fields_split_on_commas_spaces_and_lines() {
        assert_eq!(
            split_fields(" electronics/cameras，outdoor/hiking\nbooks  "),
            ["electronics/cameras", "outdoor/hiking", "books"]
        );
        assert!(split_fields(" , ").is_empty());
    }
}
