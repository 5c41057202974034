//! The operator's disputes: `/operator/disputes` (the queue, open ones by
//! default, each with its message trail and resolution form; `?status=`
//! resolved or rejected lists the closed ones) and `/operator/disputes/{id}`
//! (one dispute). Operators only (accounts made by `symbolon admin
//! create-operator`).
//!
//! Resolving goes through the exchange's `resolve_dispute`, as
//! `POST /v1/disputes/{id}/resolve` does: a full refund (what is left to
//! refund of the order), a partial one (an amount, validated by the
//! exchange: a decimal in the order's currency, at most what is left), or a
//! rejection — each with a reason. A mistake brings the dispute's page back
//! with 422 and the message beside its field. Operators may also add a
//! message to an open dispute's trail.

use super::auth::Form;
use super::settings::form_status;
use super::{html, redirect, AppState, FormPost, Layout, Web};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use std::collections::HashMap;
use symbolon_api as api;
use symbolon_core::limits::MAX_REASON_CHARS;
use symbolon_core::money::Money;
use symbolon_core::state::Role;
use symbolon_exchange::ExchangeError;
use symbolon_store::Account;

/// How many disputes one page of the queue shows (each with its messages).
pub(super) const DISPUTES_PER_PAGE: u32 = 20;

/// The statuses the queue lists by.
const STATUSES: [&str; 3] = ["open", "resolved", "rejected"];

/// A dispute with its messages and what its order allows to refund.
struct Item {
    d: api::Dispute,
    total: Option<api::Money>,
    refunded: Option<api::Money>,
    /// What is left to refund (a full refund's amount), as a decimal string.
    refundable: Option<String>,
    currency: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "operator_disputes.html")]
struct QueueTemplate {
    l: Layout,
    status: String,
    statuses: [&'static str; 3],
    items: Vec<Item>,
    next: Option<String>,
    /// The dispute whose form `f` is (after a mistake; on the detail page).
    form_for: String,
    f: Form,
    max_reason: usize,
    detail: bool,
    resolved: Option<String>,
}

impl QueueTemplate {
    fn status_text(&self, s: &str) -> String {
        self.l.t(match s {
            "open" => "operator-dispute-status-open",
            "resolved" => "operator-dispute-status-resolved",
            "rejected" => "operator-dispute-status-rejected",
            _ => "operator-dispute-status-unknown",
        })
    }

    fn kind(&self, k: &str) -> String {
        self.l.t(match k {
            "not_received" => "operator-dispute-kind-not_received",
            "not_as_described" => "operator-dispute-kind-not_as_described",
            _ => "operator-dispute-kind-other",
        })
    }

    fn author(&self, role: &str) -> String {
        self.l.t(match role {
            "requester" => "operator-dispute-requester",
            "provider" => "operator-dispute-provider",
            "operator" => "operator-dispute-operator",
            _ => "operator-dispute-author-other",
        })
    }

    fn err(&self, id: &str, field: &str) -> Option<&str> {
        (self.form_for == id).then(|| self.f.error(field)).flatten()
    }

    fn val(&self, id: &str, field: &str) -> &str {
        if self.form_for == id {
            self.f.value(field)
        } else {
            ""
        }
    }

    /// Whether `outcome` is the chosen one (a full refund when none was).
    fn chosen(&self, id: &str, outcome: &str) -> bool {
        match self.val(id, "outcome") {
            "" => outcome == "full",
            v => v == outcome,
        }
    }
}

/// The dispute with its order's amounts (operators read the order).
async fn item(w: &Web, me: &Account, d: api::Dispute) -> Item {
    let order = w.state.exchange.order(me, &d.order_id).await.ok();
    let (total, refunded, refundable, currency) = match order {
        Some(o) => {
            let left = Money::parse(&o.total.amount, &o.total.currency)
                .ok()
                .zip(Money::parse(&o.refunded_total.amount, &o.refunded_total.currency).ok())
                .map(|(t, r)| Money::new((t.minor - r.minor).max(0), t.currency).amount_string());
            let currency = o.total.currency.clone();
            (Some(o.total), Some(o.refunded_total), left, currency)
        }
        None => (None, None, None, String::new()),
    };
    Item {
        d,
        total,
        refunded,
        refundable,
        currency,
    }
}

struct Shown {
    status: StatusCode,
    form_for: String,
    f: Form,
}

impl Shown {
    fn ok() -> Self {
        Self {
            status: StatusCode::OK,
            form_for: String::new(),
            f: Form::default(),
        }
    }
}

/// `GET /operator/disputes[?status=…&after=…&resolved=…]`.
pub(super) async fn queue_page(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let w = Web::new(state, &headers);
    let status = q
        .get("status")
        .filter(|s| STATUSES.contains(&s.as_str()))
        .map_or("open", String::as_str)
        .to_string();
    let here = if status == "open" {
        "/operator/disputes".to_string()
    } else {
        format!("/operator/disputes?status={status}")
    };
    let (me, _, csrf) = match w.signed_in_as(&here, Role::Operator).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let ex = &w.state.exchange;
    let list = match ex
        .disputes(
            &me,
            Some(&status),
            q.get("after").map(String::as_str),
            Some(DISPUTES_PER_PAGE),
        )
        .await
    {
        Ok(l) => l,
        Err(e) => return w.exchange_error(&e),
    };
    let mut items = Vec::with_capacity(list.items.len());
    for summary in list.items {
        // The list has no messages: each dispute's own view has its trail.
        let d = match ex.dispute(&me, &summary.id).await {
            Ok(d) => d,
            Err(e) => return w.exchange_error(&e),
        };
        items.push(item(&w, &me, d).await);
    }
    let t = QueueTemplate {
        l: w.layout(w.t("operator-disputes-title"), Some(&me), &csrf, &here),
        status,
        statuses: STATUSES,
        items,
        next: list.next,
        form_for: String::new(),
        f: Form::default(),
        max_reason: MAX_REASON_CHARS,
        detail: false,
        resolved: q
            .get("resolved")
            .filter(|id| {
                id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            })
            .cloned(),
    };
    html(StatusCode::OK, t, vec![])
}

/// One dispute's page, for `me`.
async fn show_one(w: &Web, me: &Account, csrf: &str, id: &str, s: Shown) -> Response {
    let d = match w.state.exchange.dispute(me, id).await {
        Ok(d) => d,
        Err(e) => return w.exchange_error(&e),
    };
    let status = d.status.clone();
    let here = format!("/operator/disputes/{id}");
    let t = QueueTemplate {
        l: w.layout(w.t("operator-dispute-title"), Some(me), csrf, &here),
        status,
        statuses: STATUSES,
        items: vec![item(w, me, d).await],
        next: None,
        form_for: s.form_for,
        f: s.f,
        max_reason: MAX_REASON_CHARS,
        detail: true,
        resolved: None,
    };
    html(s.status, t, vec![])
}

/// `GET /operator/disputes/{id}`.
pub(super) async fn dispute_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let w = Web::new(state, &headers);
    let here = format!("/operator/disputes/{id}");
    let (me, _, csrf) = match w.signed_in_as(&here, Role::Operator).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    show_one(&w, &me, &csrf, &id, Shown::ok()).await
}

/// The form field an exchange error of a resolution belongs to.
fn field_of(e: &ExchangeError) -> &'static str {
    match e
        .details
        .as_ref()
        .and_then(|d| d.get("field"))
        .and_then(|f| f.as_str())
    {
        Some("refund") => "amount",
        Some("reason") => "reason",
        _ => "",
    }
}

/// `POST /operator/disputes/{id}`: resolve with a full or partial refund,
/// or reject; a reason always.
pub(super) async fn resolve(Path(id): Path<String>, FormPost { w, f }: FormPost) -> Response {
    let here = format!("/operator/disputes/{id}");
    let (me, csrf) =
        match super::settings::signed_in_form(&w, &f, &here, Some(Role::Operator)).await {
            Ok(v) => v,
            Err(r) => return r,
        };
    let keep = |field: &str, msg: String, status: StatusCode| Shown {
        status,
        form_for: id.clone(),
        f: Form::of(&f, &["outcome", "amount", "reason"]).with_error(field, msg),
    };
    let get = |k: &str| f.get(k).map_or("", |v| v.trim());
    let reason = get("reason");
    if reason.is_empty() {
        let s = keep(
            "reason",
            w.t("operator-dispute-err-reason"),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
        return show_one(&w, &me, &csrf, &id, s).await;
    }
    let refund = match get("outcome") {
        "reject" => None,
        "partial" => match get("amount") {
            "" => {
                let s = keep(
                    "amount",
                    w.t("operator-dispute-err-amount"),
                    StatusCode::UNPROCESSABLE_ENTITY,
                );
                return show_one(&w, &me, &csrf, &id, s).await;
            }
            a => Some(a.to_string()),
        },
        "full" => {
            // What is left to refund of the order, as the exchange counts it.
            let left = match w.state.exchange.dispute(&me, &id).await {
                Ok(d) => item(&w, &me, d).await.refundable,
                Err(e) => return w.exchange_error(&e),
            };
            match left {
                Some(a) => Some(a),
                None => {
                    return super::auth::error_page_for(
                        &w,
                        &me,
                        &csrf,
                        StatusCode::INTERNAL_SERVER_ERROR,
                        &w.t("error-internal"),
                    )
                }
            }
        }
        _ => {
            let s = keep(
                "outcome",
                w.t("operator-dispute-err-outcome"),
                StatusCode::UNPROCESSABLE_ENTITY,
            );
            return show_one(&w, &me, &csrf, &id, s).await;
        }
    };
    let req = api::ResolveDispute {
        refund,
        reason: reason.to_string(),
    };
    match w.state.exchange.resolve_dispute(&me, &id, &req).await {
        Ok(_) => redirect(&format!("/operator/disputes?resolved={id}"), vec![]),
        Err(e) => {
            let field = field_of(&e);
            // A bad amount or reason is the form's mistake (422); anything
            // else (a closed dispute, the gateway) keeps the exchange's status.
            let status = if field.is_empty() {
                w.status_of(&e)
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let s = keep(field, w.public_message(&e), status);
            show_one(&w, &me, &csrf, &id, s).await
        }
    }
}

/// `POST /operator/disputes/{id}/messages`: the operator adds a message.
pub(super) async fn message(Path(id): Path<String>, FormPost { w, f }: FormPost) -> Response {
    let here = format!("/operator/disputes/{id}");
    let (me, csrf) =
        match super::settings::signed_in_form(&w, &f, &here, Some(Role::Operator)).await {
            Ok(v) => v,
            Err(r) => return r,
        };
    let body = f.get("body").map_or("", |v| v.trim()).to_string();
    let err = |msg: String, status: StatusCode| Shown {
        status,
        form_for: id.clone(),
        f: Form::of(&f, &["body"]).with_error("body", msg),
    };
    if body.is_empty() {
        let s = err(
            w.t("operator-dispute-err-body"),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
        return show_one(&w, &me, &csrf, &id, s).await;
    }
    let req = api::CreateDisputeMessage { body };
    match w.state.exchange.dispute_message(&me, &id, &req).await {
        Ok(m) => redirect(&format!("{here}#{}", m.id), vec![]),
        Err(e) => {
            let s = err(w.public_message(&e), form_status(&w, &e));
            show_one(&w, &me, &csrf, &id, s).await
        }
    }
}
