//! The home page `/`: what Symbolon is, in two sentences, and a box "What do
//! you need?" that GETs the demand form with the query filled in.

use super::{html, AppState, Layout, Web};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use symbolon_core::limits::MAX_QUERY_CHARS;

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct HomeTemplate {
    l: Layout,
    max_query: usize,
}

pub(super) async fn home_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let w = Web::new(state, &headers);
    let me = w.account().await;
    let csrf = me
        .as_ref()
        .map(|(_, t)| w.state.exchange.csrf_token(t))
        .unwrap_or_default();
    let t = HomeTemplate {
        l: w.layout(w.t("home-title"), me.as_ref().map(|(a, _)| a), &csrf, "/"),
        max_query: MAX_QUERY_CHARS,
    };
    html(StatusCode::OK, t, vec![])
}
