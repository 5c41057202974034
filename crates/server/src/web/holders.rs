//! A holder's public page `/h/{id}`: name, fields of focus, reputation with
//! its counts (positive ratings of all ratings; requests answered of those
//! decided) and its recent ratings, without the raters. Anyone may read it;
//! offers link their holder's name here.

use super::{html, AppState, Layout, Web};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use symbolon_api as api;
use symbolon_store::HolderReview;

/// How many ratings the page lists.
const RECENT_RATINGS: u32 = 20;

#[derive(Template, WebTemplate)]
#[template(path = "holder.html")]
struct HolderTemplate {
    l: Layout,
    h: api::HolderPublic,
    reviews: Vec<(HolderReview, String)>,
    positive: u64,
    answered: u64,
}

pub(super) async fn holder_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let w = Web::new(state, &headers);
    let (h, reviews) = match w.state.exchange.holder_page(&id, RECENT_RATINGS).await {
        Ok(x) => x,
        Err(e) => return w.exchange_error(&e),
    };
    let me = w.account().await;
    let csrf = me
        .as_ref()
        .map(|(_, t)| w.state.exchange.csrf_token(t))
        .unwrap_or_default();
    let count =
        |rate: Option<f64>, of: u64| rate.map(|r| (r * of as f64).round() as u64).unwrap_or(0);
    let reviews = reviews
        .into_iter()
        .map(|r| {
            let day = super::format::day_of(w.lang, r.created_at);
            (r, day)
        })
        .collect();
    let t = HolderTemplate {
        l: w.layout(
            h.name.clone(),
            me.as_ref().map(|(a, _)| a),
            &csrf,
            &format!("/h/{id}"),
        ),
        positive: count(h.positive_rate, h.ratings),
        answered: count(h.success_rate, h.interactions),
        h,
        reviews,
    };
    html(StatusCode::OK, t, vec![])
}
