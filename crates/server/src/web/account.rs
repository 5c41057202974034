//! The account page `/account`: who the account is (name, email, roles),
//! the requester's ship-to address and sandbox card (the requester profile
//! of `PUT /v1/requester/profile`), the language, the signed-in devices
//! (each can be signed out, or all but this one) and the API keys (made with
//! a label, shown once; listed by label and last characters; revoked) and
//! the passkeys (listed, removed; added by `passkey.js`, see `passkeys.rs`).
//!
//! Every form is a plain POST with the session's CSRF token, answered by a
//! redirect to the page (303) — except making an API key, whose answer is
//! the page showing the key this once (so the key never sits in a cookie or
//! the store); a mistake brings the page back with the message beside its
//! field (4xx) and the input kept.

use super::auth::Form;
use super::pass::profile_update_from;
use super::{html, redirect, AppState, FormPost, Layout, Web};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use std::collections::HashMap;
use symbolon_api as api;
use symbolon_core::limits::{MAX_API_KEY_LABEL_CHARS, MAX_PASSKEY_NAME_CHARS};
use symbolon_core::state::Role;
use symbolon_core::{ErrorCode, Timestamp};
use symbolon_exchange::notify::{MailSettings, MAIL_KINDS, MAIL_LANGS};
use symbolon_exchange::people::Device;
use symbolon_exchange::ExchangeError;
use symbolon_store::{Account, ApiKeyRecord, PasskeyRecord};

#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
struct AccountTemplate {
    l: Layout,
    me: Account,
    email: Option<String>,
    requester: bool,
    profile: Option<api::RequesterProfile>,
    devices: Vec<Device>,
    keys: Vec<ApiKeyRecord>,
    passkeys: Vec<PasskeyRecord>,
    /// A key just made: its label and the key, shown this once.
    new_key: Option<(String, String)>,
    /// The profile form's and the key form's input and messages.
    f: Form,
    max_label: usize,
    max_passkey_name: usize,
    /// The e-mail notification choices.
    mail: MailSettings,
}

impl AccountTemplate {
    fn role_key(&self, r: impl Shown<Role>) -> &'static str {
        match r.shown() {
            Role::Requester => "role-requester",
            Role::Holder => "role-holder",
            Role::Provider => "role-provider",
            Role::Operator => "role-operator",
        }
    }

    fn day(&self, t: impl Shown<Timestamp>) -> String {
        self.l.when(t.shown().to_rfc3339())
    }

    /// Every kind of message, with its label's key and whether it is on.
    fn mail_kinds(&self) -> Vec<(&'static str, &'static str, bool)> {
        MAIL_KINDS
            .iter()
            .map(|k| {
                (
                    *k,
                    super::notify::kind_key(k),
                    self.mail.on.iter().any(|o| o == k),
                )
            })
            .collect()
    }

    /// The languages messages can be written in: tag, name, chosen.
    fn mail_langs(&self) -> Vec<(&'static str, &'static str, bool)> {
        MAIL_LANGS
            .iter()
            .filter_map(|t| super::i18n::Lang::parse(t))
            .map(|l| (l.tag(), l.name(), l.tag() == self.mail.lang))
            .collect()
    }

    fn device(&self, user_agent: &str) -> String {
        device_label(user_agent)
    }

    /// A profile field: as typed after a mistake, else as saved.
    fn addr(&self, field: &str) -> String {
        if let Some(v) = self.f.values_of(field) {
            return v.to_string();
        }
        let Some(a) = self.profile.as_ref().and_then(|p| p.ship_to.as_ref()) else {
            return String::new();
        };
        match field {
            "name" => a.name.clone(),
            "line1" => a.line1.clone(),
            "city" => a.city.clone(),
            "postal_code" => a.postal_code.clone(),
            "country" => a.country.clone(),
            _ => String::new(),
        }
    }

    fn card_last4(&self) -> Option<&str> {
        self.profile
            .as_ref()
            .and_then(|p| p.payment_method.as_ref())
            .map(|m| m.last4.as_str())
    }
}

/// A value a template hands over, by value or behind references.
trait Shown<T> {
    fn shown(&self) -> T;
}

impl Shown<Role> for Role {
    fn shown(&self) -> Role {
        *self
    }
}

impl Shown<Timestamp> for Timestamp {
    fn shown(&self) -> Timestamp {
        *self
    }
}

impl<T, S: Shown<T> + ?Sized> Shown<T> for &S {
    fn shown(&self) -> T {
        (**self).shown()
    }
}

/// The page, for `me` signed in with `token`.
pub(super) async fn show(
    w: &Web,
    me: Account,
    token: &str,
    status: StatusCode,
    f: Form,
    new_key: Option<(String, String)>,
) -> Response {
    let ex = &w.state.exchange;
    let requester = me.has_role(Role::Requester);
    let loaded = async {
        let email = ex.login_email(&me).await?;
        // A requester who saved nothing yet has no profile.
        let profile = match ex.requester_profile(&me).await {
            Ok(p) => Some(p),
            Err(e) if e.code == ErrorCode::NotFound || !requester => None,
            Err(e) => return Err(e),
        };
        let devices = ex.devices(&me, token).await?;
        let keys = ex.api_keys(&me).await?;
        let passkeys = ex.passkeys(&me).await?;
        let mail = ex.mail_settings(&me).await?;
        Ok::<_, ExchangeError>((email, profile, devices, keys, passkeys, mail))
    }
    .await;
    let (email, profile, devices, keys, passkeys, mail) = match loaded {
        Ok(v) => v,
        Err(e) => return w.exchange_error(&e),
    };
    let csrf = ex.csrf_token(token);
    let t = AccountTemplate {
        l: w.layout(w.t("account-title"), Some(&me), &csrf, "/account"),
        me,
        email,
        requester,
        profile,
        devices,
        keys,
        passkeys,
        new_key,
        f,
        max_label: MAX_API_KEY_LABEL_CHARS,
        max_passkey_name: MAX_PASSKEY_NAME_CHARS,
        mail,
    };
    html(status, t, vec![])
}

pub(super) async fn account_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let w = Web::new(state, &headers);
    let Some((me, token)) = w.account().await else {
        return redirect("/login?next=/account", vec![]);
    };
    show(&w, me, &token, StatusCode::OK, Form::default(), None).await
}

/// The signed-in account of a form post with the right CSRF token, or the
/// answer to give instead.
pub(super) async fn signed_in_post(
    w: &Web,
    f: &HashMap<String, String>,
) -> Result<(Account, String), Response> {
    let Some((me, token)) = w.account().await else {
        return Err(redirect("/login?next=/account", vec![]));
    };
    if !w.csrf_ok(Some(&token), f.get("csrf")) {
        return Err(super::auth::error_page(
            w,
            StatusCode::FORBIDDEN,
            &w.t("error-form-expired"),
        ));
    }
    Ok((me, token))
}

/// The status of a refused form: 422 for a bad field, else the code's.
pub(super) fn form_status(w: &Web, e: &ExchangeError) -> StatusCode {
    match e.code {
        ErrorCode::InvalidField => StatusCode::UNPROCESSABLE_ENTITY,
        _ => w.status_of(e),
    }
}

/// The input a field error of the exchange belongs to.
fn input_of(e: &ExchangeError) -> String {
    let field = e
        .details
        .as_ref()
        .and_then(|d| d["field"].as_str())
        .unwrap_or("");
    match field {
        f if f.starts_with("ship_to.") => f.trim_start_matches("ship_to.").to_string(),
        f if f.starts_with("payment_method") => "card_number".into(),
        "label" => "label".into(),
        _ => String::new(),
    }
}

pub(super) async fn save_profile(FormPost { w, f }: FormPost) -> Response {
    let (me, token) = match signed_in_post(&w, &f).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let update = profile_update_from(&f);
    match w.state.exchange.set_requester_profile(&me, &update).await {
        Ok(_) => redirect("/account#profile", vec![]),
        Err(e) => {
            let form = Form::of(&f, &["name", "line1", "city", "postal_code", "country"])
                .with_error(&input_of(&e), w.public_message(&e));
            show(&w, me, &token, form_status(&w, &e), form, None).await
        }
    }
}

pub(super) async fn revoke_device(FormPost { w, f }: FormPost) -> Response {
    let (me, _) = match signed_in_post(&w, &f).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let id = f.get("id").map_or("", String::as_str);
    match w.state.exchange.revoke_device(&me, id).await {
        Ok(()) => redirect("/account#devices", vec![]),
        Err(e) => w.exchange_error(&e),
    }
}

pub(super) async fn revoke_other_devices(FormPost { w, f }: FormPost) -> Response {
    let (me, token) = match signed_in_post(&w, &f).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    match w.state.exchange.revoke_other_devices(&me, &token).await {
        Ok(_) => redirect("/account#devices", vec![]),
        Err(e) => w.exchange_error(&e),
    }
}

pub(super) async fn create_key(FormPost { w, f }: FormPost) -> Response {
    let (me, token) = match signed_in_post(&w, &f).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let label = f.get("label").map_or("", String::as_str);
    match w.state.exchange.create_api_key(&me, label).await {
        Ok((record, key)) => {
            show(
                &w,
                me,
                &token,
                StatusCode::OK,
                Form::default(),
                Some((record.label, key)),
            )
            .await
        }
        Err(e) => {
            let form = Form::of(&f, &["label"]).with_error("label", w.public_message(&e));
            show(&w, me, &token, form_status(&w, &e), form, None).await
        }
    }
}

pub(super) async fn revoke_key(FormPost { w, f }: FormPost) -> Response {
    let (me, _) = match signed_in_post(&w, &f).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let id = f.get("id").map_or("", String::as_str);
    match w.state.exchange.revoke_api_key(&me, id).await {
        Ok(()) => redirect("/account#keys", vec![]),
        Err(e) => w.exchange_error(&e),
    }
}

/// A signed-in device in words, from its user agent: "Chrome on Linux",
/// "Safari on iOS"; a client that is no browser by its first word
/// ("curl"); empty when there is nothing to go on.
fn device_label(ua: &str) -> String {
    let has = |s: &str| ua.contains(s);
    let browser = if has("Edg/") {
        "Edge"
    } else if has("OPR/") {
        "Opera"
    } else if has("Firefox/") {
        "Firefox"
    } else if has("Chrome/") || has("Chromium/") || has("CriOS/") {
        "Chrome"
    } else if has("Safari/") && has("Version/") {
        "Safari"
    } else {
        ""
    };
    let os = if has("Android") {
        "Android"
    } else if has("iPhone") {
        "iOS"
    } else if has("iPad") {
        "iPadOS"
    } else if has("Windows") {
        "Windows"
    } else if has("Mac OS X") || has("Macintosh") {
        "macOS"
    } else if has("CrOS") {
        "ChromeOS"
    } else if has("Linux") {
        "Linux"
    } else {
        ""
    };
    match (browser, os) {
        ("", "") => ua
            .split(['/', ' '])
            .next()
            .unwrap_or("")
            .chars()
            .take(40)
            .collect(),
        ("", os) => os.to_string(),
        (b, "") => b.to_string(),
        (b, os) => format!("{b} · {os}"),
    }
}

#[cfg(test)]
mod tests {
    use super::device_label;

    #[test]
    fn devices_are_named_by_browser_and_system() {
        for (ua, label) in [
            ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36", "Chrome · Linux"),
            ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1", "Safari · iOS"),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36 Edg/130.0", "Edge · Windows"),
            ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:131.0) Gecko/20100101 Firefox/131.0", "Firefox · macOS"),
            ("Mozilla/5.0 (Linux; Android 15) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Mobile Safari/537.36", "Chrome · Android"),
            ("curl/8.10.1", "curl"),
            ("reqwest", "reqwest"),
            ("", ""),
        ] {
            assert_eq!(device_label(ua), label, "{ua}");
        }
    }
}
