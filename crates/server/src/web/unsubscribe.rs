//! `/unsubscribe?token=…`: the link every notification ends with (and its
//! `List-Unsubscribe` header). It works without signing in — the token is
//! the account and kind under a MAC of the master key
//! (`Exchange::unsubscribe_token`), so it can neither be guessed nor bent to
//! another account or kind. GET shows a confirmation (a link opened by a
//! mail scanner changes nothing); POST turns the kind off, either from that
//! page's form or as RFC 8058's one-click POST (`List-Unsubscribe=One-Click`)
//! sent by the mail client. The token stands in for the CSRF token: a
//! cross-site form cannot know it.

use super::auth::error_page;
use super::notify::kind_key;
use super::{html, AppState, FormPost, Layout, Web};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use std::collections::HashMap;

#[derive(Template, WebTemplate)]
#[template(path = "unsubscribe.html")]
struct UnsubscribeTemplate {
    l: Layout,
    token: String,
    /// The kind's description, in the page's language.
    what: String,
    done: bool,
}

/// `GET /unsubscribe?token=…`: asks to confirm.
pub(super) async fn confirm_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let w = Web::new(state, &headers);
    let token = q.get("token").map_or("", String::as_str);
    let Some((_, kind)) = w.state.exchange.unsubscribe_target(token) else {
        return error_page(&w, StatusCode::NOT_FOUND, &w.t("unsub-bad"));
    };
    let t = UnsubscribeTemplate {
        l: w.layout(w.t("unsub-title"), None, "", "/unsubscribe"),
        token: token.to_string(),
        what: w.t(kind_key(&kind)),
        done: false,
    };
    html(StatusCode::OK, t, vec![])
}

/// `POST /unsubscribe` (`token`, from the page's form or the query string of
/// a one-click POST): turns the kind off and says so.
pub(super) async fn unsubscribe(
    Query(q): Query<HashMap<String, String>>,
    FormPost { w, f }: FormPost,
) -> Response {
    let token = f
        .get("token")
        .or_else(|| q.get("token"))
        .map_or("", String::as_str);
    match w.state.exchange.unsubscribe(token).await {
        Ok(kind) => {
            let t = UnsubscribeTemplate {
                l: w.layout(w.t("unsub-done-title"), None, "", "/unsubscribe"),
                token: String::new(),
                what: w.t(kind_key(&kind)),
                done: true,
            };
            html(StatusCode::OK, t, vec![])
        }
        Err(e) if e.code == symbolon_core::ErrorCode::NotFound => {
            error_page(&w, StatusCode::NOT_FOUND, &w.t("unsub-bad"))
        }
        Err(e) => w.exchange_error(&e),
    }
}
