//! The balance page `/balance`: an account's money per currency — pending
//! (orders not yet delivered or within their return window), available,
//! paid out — and, when a refund took back money already paid out, what the
//! account owes, said plainly.

use super::{html, redirect, AppState, Layout, Web};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use symbolon_api as api;

#[derive(Template, WebTemplate)]
#[template(path = "balance.html")]
struct BalanceTemplate {
    l: Layout,
    b: api::Balances,
}

impl BalanceTemplate {
    fn of<'a>(
        &'a self,
        column: &'a std::collections::BTreeMap<String, String>,
        currency: &str,
    ) -> &'a str {
        column.get(currency).map(String::as_str).unwrap_or("0")
    }
}

pub(super) async fn balance_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let w = Web::new(state, &headers);
    let Some((me, token)) = w.account().await else {
        return redirect("/login?next=/balance", vec![]);
    };
    let ex = &w.state.exchange;
    let b = match ex.balances(&me).await {
        Ok(b) => b,
        Err(e) => return w.exchange_error(&e),
    };
    let csrf = ex.csrf_token(&token);
    let t = BalanceTemplate {
        l: w.layout(w.t("balance-title"), Some(&me), &csrf, "/balance"),
        b,
    };
    html(StatusCode::OK, t, vec![])
}
