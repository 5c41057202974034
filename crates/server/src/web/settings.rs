//! Settings: `/settings/webhooks` and `/settings/keys`.
//!
//! Webhooks are any account's (the API lets every account register
//! endpoints for its own events): the endpoints with their status, each
//! one's recent delivery attempts, and the forms of `/v1/webhooks*` — add
//! (the signing secret is shown this once, in the answer to the POST, like
//! a new API key on `/account`), rotate the secret (shown once too),
//! disable and enable, replay (every kept event, or those after an event
//! id), delete. Every endpoint delivers every event of the account: the
//! API has no per-type subscription.
//!
//! Signing keys are a provider's: kid, created, retired and published (the
//! exchange's `GET /v1/provider/keys`), the public JWKS link, and rotation
//! (a form with a confirmation box). No private key material is ever read
//! here: the exchange's view has none.

use super::auth::Form;
use super::{html, redirect, AppState, FormPost, Layout, Web};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use std::collections::HashMap;
use symbolon_api as api;
use symbolon_core::limits::{MAX_WEBHOOKS_PER_ACCOUNT, MAX_WEBHOOK_URL_BYTES};
use symbolon_core::state::Role;
use symbolon_core::ErrorCode;
use symbolon_exchange::ExchangeError;
use symbolon_store::Account;

/// How many of an endpoint's latest attempts the page lists (the exchange
/// keeps and returns more).
pub(super) const ATTEMPTS_SHOWN: usize = 20;

/// The settings sub-navigation (`settings_nav.html`): which page is current
/// and whether the account has signing keys (providers).
pub(super) struct SubNav {
    pub here: &'static str,
    pub provider: bool,
}

/// An endpoint with its latest attempts.
struct Endpoint {
    hook: api::Webhook,
    attempts: Vec<api::WebhookAttempt>,
}

/// A secret just made (by adding or rotating an endpoint), shown this once.
struct NewSecret {
    webhook_id: String,
    url: String,
    secret: String,
    rotated: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "settings_webhooks.html")]
struct WebhooksTemplate {
    l: Layout,
    nav: SubNav,
    endpoints: Vec<Endpoint>,
    new_secret: Option<NewSecret>,
    /// Events queued by a replay just made.
    queued: Option<u64>,
    /// The add form's input and messages (`url`), and a replay's (`after`, by endpoint id).
    f: Form,
    replay_for: String,
    max_url: usize,
    max_webhooks: usize,
}

impl WebhooksTemplate {
    fn status(&self, s: &str) -> String {
        self.l.t(match s {
            "active" => "settings-webhook-status-active",
            "disabled" => "settings-webhook-status-disabled",
            _ => "settings-webhook-status-unknown",
        })
    }

    fn outcome(&self, s: &str) -> String {
        self.l.t(match s {
            "delivered" => "settings-webhook-outcome-delivered",
            "retry" => "settings-webhook-outcome-retry",
            "disabled" => "settings-webhook-outcome-disabled",
            _ => "settings-webhook-outcome-unknown",
        })
    }

    /// The replay form's message, if it is this endpoint's.
    fn replay_error(&self, id: &str) -> Option<&str> {
        (self.replay_for == id)
            .then(|| self.f.error("after"))
            .flatten()
    }

    fn replay_value(&self, id: &str) -> &str {
        if self.replay_for == id {
            self.f.value("after")
        } else {
            ""
        }
    }
}

/// What the webhooks page shows besides the endpoints.
#[derive(Default)]
struct Extra {
    new_secret: Option<NewSecret>,
    queued: Option<u64>,
    f: Form,
    replay_for: String,
}

async fn show_webhooks(
    w: &Web,
    me: &Account,
    csrf: &str,
    status: StatusCode,
    extra: Extra,
) -> Response {
    let ex = &w.state.exchange;
    let hooks = match ex.list_webhooks(me).await {
        Ok(l) => l.items,
        Err(e) => return w.exchange_error(&e),
    };
    let mut endpoints = Vec::with_capacity(hooks.len());
    for hook in hooks {
        let attempts = match ex.webhook_attempts(me, &hook.id).await {
            Ok(a) => a.items.into_iter().take(ATTEMPTS_SHOWN).collect(),
            Err(e) => return w.exchange_error(&e),
        };
        endpoints.push(Endpoint { hook, attempts });
    }
    let t = WebhooksTemplate {
        l: w.layout(
            w.t("settings-webhooks-title"),
            Some(me),
            csrf,
            "/settings/webhooks",
        ),
        nav: SubNav {
            here: "webhooks",
            provider: me.has_role(Role::Provider),
        },
        endpoints,
        new_secret: extra.new_secret,
        queued: extra.queued,
        f: extra.f,
        replay_for: extra.replay_for,
        max_url: MAX_WEBHOOK_URL_BYTES,
        max_webhooks: MAX_WEBHOOKS_PER_ACCOUNT,
    };
    html(status, t, vec![])
}

/// `GET /settings/webhooks[?queued=N]`.
pub(super) async fn webhooks_page(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let w = Web::new(state, &headers);
    let (me, _, csrf) = match w.signed_in("/settings/webhooks").await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let extra = Extra {
        queued: q.get("queued").and_then(|n| n.parse().ok()),
        ..Extra::default()
    };
    show_webhooks(&w, &me, &csrf, StatusCode::OK, extra).await
}

/// The signed-in account of a settings form with the right CSRF token (and
/// the session's token for the page), or the answer to give instead.
pub(super) async fn signed_in_form(
    w: &Web,
    f: &HashMap<String, String>,
    here: &str,
    role: Option<Role>,
) -> Result<(Account, String), Response> {
    let (me, token, csrf) = match role {
        Some(role) => w.signed_in_as(here, role).await?,
        None => w.signed_in(here).await?,
    };
    if !w.csrf_ok(Some(&token), f.get("csrf")) {
        return Err(super::auth::error_page_for(
            w,
            &me,
            &csrf,
            StatusCode::FORBIDDEN,
            &w.t("error-form-expired"),
        ));
    }
    Ok((me, csrf))
}

/// The status of a refused form: 422 for a bad field, else the code's.
pub(super) fn form_status(w: &Web, e: &ExchangeError) -> StatusCode {
    match e.code {
        ErrorCode::InvalidField | ErrorCode::InvalidQuery => StatusCode::UNPROCESSABLE_ENTITY,
        _ => w.status_of(e),
    }
}

/// `POST /settings/webhooks`: adds an endpoint and shows its secret once.
pub(super) async fn add_webhook(FormPost { w, f }: FormPost) -> Response {
    let (me, csrf) = match signed_in_form(&w, &f, "/settings/webhooks", None).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let url = f.get("url").map_or("", |u| u.trim());
    if url.is_empty() {
        let extra = Extra {
            f: Form::of(&f, &["url"]).with_error("url", w.t("settings-webhook-err-url-missing")),
            ..Extra::default()
        };
        return show_webhooks(&w, &me, &csrf, StatusCode::UNPROCESSABLE_ENTITY, extra).await;
    }
    let req = api::CreateWebhook {
        url: url.to_string(),
    };
    match w.state.exchange.create_webhook(&me, req).await {
        Ok(hook) => {
            let extra = Extra {
                new_secret: hook.secret.clone().map(|secret| NewSecret {
                    webhook_id: hook.id.clone(),
                    url: hook.url.clone(),
                    secret,
                    rotated: false,
                }),
                ..Extra::default()
            };
            show_webhooks(&w, &me, &csrf, StatusCode::OK, extra).await
        }
        Err(e) => {
            let status = match e.code {
                ErrorCode::TooManyWebhooks => w.status_of(&e),
                _ => form_status(&w, &e),
            };
            let extra = Extra {
                f: Form::of(&f, &["url"]).with_error("url", w.public_message(&e)),
                ..Extra::default()
            };
            show_webhooks(&w, &me, &csrf, status, extra).await
        }
    }
}

/// `POST /settings/webhooks/{id}/{action}`: `rotate` (the new secret shown
/// once), `disable`, `enable`, `replay` (with `after`, optional) and `delete`.
pub(super) async fn webhook_action(
    Path((id, action)): Path<(String, String)>,
    FormPost { w, f }: FormPost,
) -> Response {
    let (me, csrf) = match signed_in_form(&w, &f, "/settings/webhooks", None).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let ex = &w.state.exchange;
    let back = format!("/settings/webhooks#webhook-{id}");
    let done = match action.as_str() {
        "rotate" => match ex.rotate_webhook(&me, &id).await {
            Ok(hook) => {
                let extra = Extra {
                    new_secret: hook.secret.clone().map(|secret| NewSecret {
                        webhook_id: hook.id.clone(),
                        url: hook.url.clone(),
                        secret,
                        rotated: true,
                    }),
                    ..Extra::default()
                };
                return show_webhooks(&w, &me, &csrf, StatusCode::OK, extra).await;
            }
            Err(e) => Err(e),
        },
        "disable" => ex.disable_webhook(&me, &id).await.map(|_| back),
        "enable" => ex.enable_webhook(&me, &id).await.map(|_| back),
        "delete" => ex
            .delete_webhook(&me, &id)
            .await
            .map(|()| "/settings/webhooks".to_string()),
        "replay" => {
            let after = f
                .get("after")
                .map(|a| a.trim())
                .filter(|a| !a.is_empty())
                .map(str::to_string);
            match ex
                .replay_webhook(&me, &id, api::ReplayWebhook { after })
                .await
            {
                Ok(r) => Ok(format!(
                    "/settings/webhooks?queued={}#webhook-{id}",
                    r.queued
                )),
                Err(e) if matches!(e.code, ErrorCode::InvalidQuery | ErrorCode::InvalidField) => {
                    let extra = Extra {
                        f: Form::of(&f, &["after"]).with_error("after", w.public_message(&e)),
                        replay_for: id.clone(),
                        ..Extra::default()
                    };
                    return show_webhooks(&w, &me, &csrf, StatusCode::UNPROCESSABLE_ENTITY, extra)
                        .await;
                }
                Err(e) => Err(e),
            }
        }
        _ => {
            return super::auth::error_page_for(
                &w,
                &me,
                &csrf,
                StatusCode::NOT_FOUND,
                &w.t("error-code-not_found"),
            )
        }
    };
    match done {
        Ok(to) => redirect(&to, vec![]),
        Err(e) => w.exchange_error(&e),
    }
}

// ---------------------------------------------------------------- signing keys

#[derive(Template, WebTemplate)]
#[template(path = "settings_keys.html")]
struct KeysTemplate {
    l: Layout,
    nav: SubNav,
    keys: Vec<api::SigningKey>,
    jwks_url: String,
    /// The rotation form's message (`confirm`).
    f: Form,
    rotated: bool,
}

async fn show_keys(
    w: &Web,
    me: &Account,
    csrf: &str,
    status: StatusCode,
    f: Form,
    rotated: bool,
) -> Response {
    let keys = match w.state.exchange.signing_keys(me).await {
        Ok(k) => k.keys,
        Err(e) => return w.exchange_error(&e),
    };
    let public = w.state.exchange.config().public_url.trim_end_matches('/');
    let t = KeysTemplate {
        l: w.layout(w.t("settings-keys-title"), Some(me), csrf, "/settings/keys"),
        nav: SubNav {
            here: "keys",
            provider: true,
        },
        keys,
        jwks_url: format!("{public}/v1/providers/{}/jwks.json", me.id),
        f,
        rotated,
    };
    html(status, t, vec![])
}

/// `GET /settings/keys[?rotated=1]` (providers).
pub(super) async fn keys_page(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let w = Web::new(state, &headers);
    let (me, _, csrf) = match w.signed_in_as("/settings/keys", Role::Provider).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let rotated = q.contains_key("rotated");
    show_keys(&w, &me, &csrf, StatusCode::OK, Form::default(), rotated).await
}

/// `POST /settings/keys/rotate` (providers): needs the confirmation box.
pub(super) async fn rotate_key(FormPost { w, f }: FormPost) -> Response {
    let (me, csrf) = match signed_in_form(&w, &f, "/settings/keys", Some(Role::Provider)).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if f.get("confirm").map(String::as_str) != Some("yes") {
        let form = Form::default().with_error("confirm", w.t("settings-keys-err-confirm"));
        return show_keys(
            &w,
            &me,
            &csrf,
            StatusCode::UNPROCESSABLE_ENTITY,
            form,
            false,
        )
        .await;
    }
    match w.state.exchange.rotate_key(&me).await {
        Ok(_) => redirect("/settings/keys?rotated=1", vec![]),
        Err(e) => {
            let form = Form::default().with_error("confirm", w.public_message(&e));
            show_keys(&w, &me, &csrf, w.status_of(&e), form, false).await
        }
    }
}
