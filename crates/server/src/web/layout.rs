//! What every page shares: the base template's data (`templates/base.html`:
//! header with the account menu, navigation and the language switch, flash
//! area, the stylesheet, manifest and icons), the per-language formatting
//! templates call, and the caching headers of every HTML response.

use super::assets;
use super::format;
use super::i18n::{Count, Lang};
use axum::http::header::{CACHE_CONTROL, SET_COOKIE, VARY};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use symbolon_api as api;
use symbolon_core::state::Role;

/// The base layout's data; every page template has one as `l`.
pub struct Layout {
    pub lang: Lang,
    pub title: String,
    /// The signed-in account's name.
    pub me: Option<String>,
    /// The session's CSRF token (for the sign-out form).
    pub csrf: String,
    /// This page's local path, where the language switch returns.
    pub here: String,
    /// The signed-in account's roles: which consoles the navigation offers.
    pub roles: Vec<Role>,
}

impl Layout {
    pub fn t(&self, key: &str) -> String {
        self.lang.t(key)
    }

    pub fn tn(&self, key: &str, n: impl Count) -> String {
        self.lang.tn(key, n)
    }

    pub fn ta(&self, key: &str, arg: &str) -> String {
        self.lang.ta(key, arg)
    }

    pub fn is_requester(&self) -> bool {
        self.roles.contains(&Role::Requester)
    }

    pub fn is_holder(&self) -> bool {
        self.roles.contains(&Role::Holder)
    }

    pub fn is_provider(&self) -> bool {
        self.roles.contains(&Role::Provider)
    }

    pub fn is_operator(&self) -> bool {
        self.roles.contains(&Role::Operator)
    }

    /// The languages the switch offers (all but the current one).
    pub fn other_langs(&self) -> Vec<Lang> {
        Lang::ALL.into_iter().filter(|l| *l != self.lang).collect()
    }

    /// The URL of an embedded asset under its hashed name.
    pub fn asset(&self, name: &str) -> String {
        assets::url(name)
    }

    pub fn money(&self, m: impl AsMoney) -> String {
        format::money(self.lang, m.money())
    }

    /// A decimal amount from the wire in `currency` (balances).
    pub fn amount(&self, amount: impl AsRef<str>, currency: impl AsRef<str>) -> String {
        let m = api::Money {
            amount: amount.as_ref().to_string(),
            currency: currency.as_ref().to_string(),
        };
        format::money(self.lang, &m)
    }

    pub fn num(&self, n: impl Count) -> String {
        format::number(self.lang, n.count())
    }

    pub fn pct(&self, rate: impl Rate) -> String {
        format::percent(self.lang, rate.rate())
    }

    /// An RFC 3339 moment as the language writes it (in UTC).
    pub fn when(&self, at: impl AsRef<str>) -> String {
        format::datetime(self.lang, at.as_ref())
    }
}

/// Money as templates hand it over (a value or a reference to one).
pub trait AsMoney {
    fn money(&self) -> &api::Money;
}

impl AsMoney for api::Money {
    fn money(&self) -> &api::Money {
        self
    }
}

impl<T: AsMoney + ?Sized> AsMoney for &T {
    fn money(&self) -> &api::Money {
        (**self).money()
    }
}

/// A rate in 0–1 as templates hand it over.
pub trait Rate {
    fn rate(&self) -> f64;
}

impl Rate for f64 {
    fn rate(&self) -> f64 {
        *self
    }
}

impl<T: Rate + ?Sized> Rate for &T {
    fn rate(&self) -> f64 {
        (**self).rate()
    }
}

/// An HTML page with the headers every page carries: no caching, `Vary` on
/// what picks the language. (The security headers — CSP, `nosniff`,
/// `Referrer-Policy`, HSTS — are set on every response by [`crate::headers`].)
pub(super) fn html(
    status: StatusCode,
    page: impl IntoResponse,
    set_cookies: Vec<HeaderValue>,
) -> Response {
    let mut r = page.into_response();
    if r.status().is_success() {
        *r.status_mut() = status;
    }
    let h = r.headers_mut();
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(VARY, HeaderValue::from_static("Accept-Language, Cookie"));
    for c in set_cookies {
        h.append(SET_COOKIE, c);
    }
    r
}
