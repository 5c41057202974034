//! The holder's inbox `/inbox`: its interaction requests, newest first, each
//! with the demand (query, category, price cap), the criteria the requester
//! set beside the holder's own figures, and the time left before the
//! deadline (rendered by the server; `countdown.js` ticks it down). A
//! pending request is answered with a pass from the wallet — the passes the
//! matcher found for the demand are suggested first — and a note, or
//! declined; both through the same exchange services as
//! `POST /v1/interactions/{id}/offer` and `/decline`. Once the deadline
//! passed the page says so and offers no form; a POST anyway shows the
//! exchange's refusal on the page. The list (`/inbox/list`) is swapped in by
//! `live.js` when the holder's events stream (`/inbox/live`) says something changed.

use super::{format, html, redirect, AppState, FormPost, Layout, Web};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use std::collections::HashMap;
use symbolon_api as api;
use symbolon_core::limits::{MAX_DECLINE_REASON_CHARS, MAX_NOTE_CHARS};
use symbolon_core::state::Role;
use symbolon_exchange::{ExchangeError, InboxRequest};
use symbolon_store::Account;

/// How many requests the inbox lists (the newest).
const INBOX_SHOWN: usize = 50;

/// One pass the answer form offers.
struct PassChoice {
    id: String,
    label: String,
}

/// One criterion of a request: what the requester asked, the holder's
/// figure, and whether it meets it now.
struct Criterion {
    name: String,
    asked: String,
    yours: String,
    met: bool,
}

/// One request as the list shows it.
struct Req {
    id: String,
    demand: api::DemandItem,
    status: String,
    status_text: String,
    open: bool,
    deadline: String,
    remaining_s: i64,
    remaining: String,
    criteria: Vec<Criterion>,
    suggested: Vec<PassChoice>,
    others: Vec<PassChoice>,
    decline_reason: Option<String>,
    /// The form's error, beside its field (`pass`, `note`, `reason`) or for the whole request (``).
    errors: HashMap<String, String>,
    note: String,
}

impl Req {
    fn err(&self, k: &str) -> &str {
        self.errors.get(k).map(String::as_str).unwrap_or("")
    }

    fn invalid(&self, k: &str) -> bool {
        self.errors.contains_key(k)
    }

    fn has_passes(&self) -> bool {
        !(self.suggested.is_empty() && self.others.is_empty())
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "inbox.html")]
struct InboxTemplate {
    l: Layout,
    /// A refusal about a request the list does not show.
    error: Option<String>,
    reqs: Vec<Req>,
    max_note: usize,
    max_reason: usize,
}

#[derive(Template, WebTemplate)]
#[template(path = "inbox_list.html")]
struct ListTemplate {
    l: Layout,
    reqs: Vec<Req>,
    max_note: usize,
    max_reason: usize,
}

/// `h:mm:ss` (or `m:ss` under an hour): the same text `countdown.js` writes.
fn clock(secs: i64) -> String {
    let s = secs.max(0);
    let (h, m, s) = (s / 3600, (s % 3600) / 60, s % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

fn status_key(s: &str) -> &'static str {
    match s {
        "pending" => "inbox-status-pending",
        "offered" => "inbox-status-offered",
        "declined" => "inbox-status-declined",
        "expired" => "inbox-status-expired",
        "withdrawn" => "inbox-status-withdrawn",
        _ => "inbox-status-unknown",
    }
}

/// The request's criteria beside the holder's figures.
fn criteria(w: &Web, r: &InboxRequest, me: &api::HolderPublic) -> Vec<Criterion> {
    let c = &r.criteria;
    let mut out = Vec::new();
    let pct = |v: f64| format::percent(w.lang, v);
    if let Some(min) = c.min_positive_rate {
        out.push(Criterion {
            name: w.t("inbox-crit-positive"),
            asked: w.lang.ta("inbox-at-least", &pct(min)),
            yours: me
                .positive_rate
                .map_or_else(|| w.t("inbox-no-ratings"), pct),
            met: me.positive_rate.is_some_and(|p| p >= min),
        });
    }
    if let Some(min) = c.min_success_rate {
        out.push(Criterion {
            name: w.t("inbox-crit-success"),
            asked: w.lang.ta("inbox-at-least", &pct(min)),
            yours: me
                .success_rate
                .map_or_else(|| w.t("inbox-no-requests"), pct),
            met: me.success_rate.is_some_and(|p| p >= min),
        });
    }
    if let Some(min) = c.min_ratings {
        out.push(Criterion {
            name: w.t("inbox-crit-ratings"),
            asked: w
                .lang
                .ta("inbox-at-least", &format::number(w.lang, min as i64)),
            yours: format::number(w.lang, me.ratings as i64),
            met: me.ratings >= min,
        });
    }
    if let Some(fields) = c.fields.as_ref().filter(|f| !f.is_empty()) {
        let matched = r
            .why
            .as_ref()
            .map(|y| y.matched_fields.clone())
            .unwrap_or_default();
        out.push(Criterion {
            name: w.t("inbox-crit-fields"),
            asked: fields.join(", "),
            yours: if matched.is_empty() {
                w.t("inbox-no-fields")
            } else {
                matched.join(", ")
            },
            met: !matched.is_empty(),
        });
    }
    out
}

/// The requests as the list shows them (`errors`: one request's form errors).
async fn requests(
    w: &Web,
    me: &Account,
    errors: Option<(&str, HashMap<String, String>, String)>,
) -> Result<Vec<Req>, ExchangeError> {
    let ex = &w.state.exchange;
    let items = ex.inbox_newest(me, INBOX_SHOWN).await?;
    let wallet = ex.wallet(me).await?;
    let public = ex.holder_public(&me.id).await?;
    let usable: Vec<&api::Holding> = wallet
        .items
        .iter()
        .filter(|h| h.pass.status == "active" && h.units_left.is_none_or(|u| u > 0))
        .collect();
    let choice = |h: &api::Holding| PassChoice {
        id: h.pass.id.clone(),
        label: format!(
            "{} · {}",
            h.pass.title,
            format::money(w.lang, &h.pass.price)
        ),
    };
    let mut out = Vec::with_capacity(items.len());
    for r in items {
        let secs = r.remaining_ms / 1000;
        let (suggested, others): (Vec<&&api::Holding>, Vec<&&api::Holding>) = usable
            .iter()
            .partition(|h| r.item.matched_pass_ids.contains(&h.pass.id));
        let (errs, note) = match &errors {
            Some((id, e, note)) if *id == r.item.id => (e.clone(), note.clone()),
            _ => (HashMap::new(), String::new()),
        };
        out.push(Req {
            id: r.item.id.clone(),
            criteria: criteria(w, &r, &public),
            status_text: w.t(status_key(&r.item.status)),
            open: r.item.status == "pending",
            deadline: format::datetime(w.lang, &r.item.deadline),
            remaining_s: secs,
            remaining: clock(secs),
            suggested: suggested.into_iter().map(|h| choice(h)).collect(),
            others: others.into_iter().map(|h| choice(h)).collect(),
            decline_reason: r.decline_reason.clone(),
            demand: r.item.item,
            status: r.item.status,
            errors: errs,
            note,
        });
    }
    Ok(out)
}

/// The inbox page with `status` (one request's form errors, if any).
async fn show(
    w: &Web,
    me: &Account,
    csrf: &str,
    status: StatusCode,
    errors: Option<(&str, HashMap<String, String>, String)>,
) -> Response {
    let error = errors
        .as_ref()
        .and_then(|(_, e, _)| e.values().next().cloned());
    let about = errors.as_ref().map(|(id, _, _)| id.to_string());
    let reqs = match requests(w, me, errors).await {
        Ok(r) => r,
        Err(e) => return w.exchange_error(&e),
    };
    let shown = about.is_none_or(|id| reqs.iter().any(|r| r.id == id));
    let t = InboxTemplate {
        l: w.layout(w.t("inbox-title"), Some(me), csrf, "/inbox"),
        error: error.filter(|_| !shown),
        reqs,
        max_note: MAX_NOTE_CHARS,
        max_reason: MAX_DECLINE_REASON_CHARS,
    };
    html(status, t, vec![])
}

/// `GET /inbox`.
pub(super) async fn inbox_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let w = Web::new(state, &headers);
    let (me, _, csrf) = match w.signed_in_as("/inbox", Role::Holder).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    show(&w, &me, &csrf, StatusCode::OK, None).await
}

/// `GET /inbox/list`: the list alone (what `live.js` swaps in).
pub(super) async fn list_fragment(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let w = Web::new(state, &headers);
    let (me, _, csrf) = match w.signed_in_as("/inbox", Role::Holder).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let reqs = match requests(&w, &me, None).await {
        Ok(r) => r,
        Err(e) => return w.exchange_error(&e),
    };
    let t = ListTemplate {
        l: w.layout(String::new(), Some(&me), &csrf, "/inbox"),
        reqs,
        max_note: MAX_NOTE_CHARS,
        max_reason: MAX_DECLINE_REASON_CHARS,
    };
    html(StatusCode::OK, t, vec![])
}

/// The form field an exchange error names (`pass_id` → `pass`), else the request's own.
fn field_of(e: &ExchangeError) -> String {
    let field = e
        .details
        .as_ref()
        .and_then(|d| d.get("field"))
        .and_then(|f| f.as_str())
        .unwrap_or("");
    match field {
        "pass_id" => "pass",
        "note" => "note",
        "reason" => "reason",
        _ => "",
    }
    .to_string()
}

/// `POST /inbox/{id}` (`do` = `answer` with `pass` and `note`, or `decline`
/// with an optional `reason`): back to the inbox, or the inbox with the
/// refusal beside the request.
pub(super) async fn act(Path(id): Path<String>, FormPost { w, f }: FormPost) -> Response {
    let (me, token, csrf) = match w.signed_in_as("/inbox", Role::Holder).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let note = f.get("note").cloned().unwrap_or_default();
    let fail = |field: &str, msg: String| {
        Some((
            id.as_str(),
            HashMap::from([(field.to_string(), msg)]),
            note.clone(),
        ))
    };
    if !w.csrf_ok(Some(&token), f.get("csrf")) {
        let errors = fail("", w.t("error-form-foreign"));
        return show(&w, &me, &csrf, StatusCode::FORBIDDEN, errors).await;
    }
    let ex = &w.state.exchange;
    let done = match f.get("do").map(String::as_str) {
        Some("answer") => {
            let Some(pass) = f.get("pass").map(|p| p.trim()).filter(|p| !p.is_empty()) else {
                let errors = fail("pass", w.t("inbox-err-pass"));
                return show(&w, &me, &csrf, StatusCode::UNPROCESSABLE_ENTITY, errors).await;
            };
            let req = api::CreateOffer {
                pass_id: pass.to_string(),
                note: Some(note.clone()).filter(|n| !n.trim().is_empty()),
            };
            ex.offer(&me, &id, &req).await.map(|_| ())
        }
        Some("decline") => ex
            .decline(&me, &id, f.get("reason").map(String::as_str))
            .await
            .map(|_| ()),
        _ => {
            let errors = fail("", w.t("inbox-err-action"));
            return show(&w, &me, &csrf, StatusCode::UNPROCESSABLE_ENTITY, errors).await;
        }
    };
    match done {
        Ok(()) => redirect(&format!("/inbox#req-{id}"), vec![]),
        Err(e) => {
            let msg = w.public_message(&e);
            let field = field_of(&e);
            // A refused field is the form's input error (422), beside it.
            let status = if field.is_empty() {
                w.status_of(&e)
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let errors = fail(&field, msg);
            show(&w, &me, &csrf, status, errors).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::clock;

    #[test]
    fn the_countdown_reads_like_a_clock() {
        assert_eq!(clock(0), "0:00");
        assert_eq!(clock(-5), "0:00");
        assert_eq!(clock(65), "1:05");
        assert_eq!(clock(3723), "1:02:03");
    }
}
