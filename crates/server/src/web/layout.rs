//! What every page shares: the base template's data (`templates/base.html`:
//! header with the account menu and the language switch, flash area) and
//! the headers of every HTML response.

use super::i18n::{Count, Lang};
use axum::http::header::{CACHE_CONTROL, SET_COOKIE, VARY};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

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

    /// The languages the switch offers (all but the current one).
    pub fn other_langs(&self) -> Vec<Lang> {
        Lang::ALL.into_iter().filter(|l| *l != self.lang).collect()
    }

    pub fn style(&self) -> &'static str {
        STYLE
    }
}

/// An HTML page with the headers every page carries: no caching, a CSP that
/// allows no script, `Vary` on what picks the language.
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
    h.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    for c in set_cookies {
        h.append(SET_COOKIE, c);
    }
    r
}

/// The pages' CSS (inline: the CSP allows no other source yet). The font
/// stack lists Latin fonts first, then Simplified Chinese ones.
const STYLE: &str = "
*{box-sizing:border-box}body{margin:0;font:16px/1.5 -apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Arial,'PingFang SC','Hiragino Sans GB','Microsoft YaHei','Noto Sans CJK SC',sans-serif;color:#1b1f24;background:#f6f7f9}
main{max-width:44rem;margin:0 auto;padding:1rem}header.top{display:flex;justify-content:space-between;align-items:center;gap:.5rem;flex-wrap:wrap;font-size:.9rem;color:#555}
header.top .menu{display:flex;gap:.6rem;align-items:center;flex-wrap:wrap}form.inline{display:inline}
section{background:#fff;border-radius:12px;padding:1rem 1.1rem;margin:0 0 1rem;box-shadow:0 1px 2px rgba(0,0,0,.06)}
h1{font-size:1.5rem;line-height:1.25;margin:.2rem 0 .5rem}h2{font-size:1.1rem;margin:0 0 .6rem}
.price{font-size:1.6rem;font-weight:700}.muted{color:#667}.badge{display:inline-block;padding:.1rem .5rem;border-radius:99px;background:#e8f3ec;color:#17653a;font-size:.8rem}
.badge.bad{background:#fdecec;color:#9b1c1c}table{width:100%;border-collapse:collapse}td,th{text-align:left;padding:.35rem .25rem;border-bottom:1px solid #eee;vertical-align:top}
ul.plain{list-style:none;padding:0;margin:0}ul.plain li{padding:.35rem 0;border-bottom:1px solid #f0f0f0}
label{display:block;font-size:.85rem;color:#444;margin:.5rem 0 .15rem}input{width:100%;font:inherit;padding:.55rem .6rem;border:1px solid #ccd;border-radius:8px}
.buttons{display:flex;gap:.6rem;margin-top:1rem;flex-wrap:wrap}button{flex:1 1 10rem;font:inherit;font-weight:600;padding:.8rem 1rem;border-radius:10px;border:0;cursor:pointer}
button.primary{background:#1f6feb;color:#fff}button.secondary{background:#e7eefc;color:#174ea6}button.small{padding:.2rem .6rem;flex:none}
button.link{background:none;color:#174ea6;padding:.2rem .3rem;flex:none;font-weight:400;text-decoration:underline}
.error{background:#fdecec;color:#9b1c1c;border-radius:8px;padding:.6rem .8rem;margin-bottom:1rem}
fieldset.plain{border:0;padding:0;margin:0}.field-error{color:#9b1c1c;font-size:.85rem;margin:.2rem 0 0}
label.check{display:flex;gap:.5rem;align-items:center;font-size:1rem;color:inherit}label.check input{width:auto}
[aria-invalid=true]{border-color:#9b1c1c}.secret{font-size:1rem;background:#fff8e1;padding:.5rem;display:block}
.qr svg{width:10rem;height:10rem}#link{word-break:break-all}summary{color:#174ea6;margin-top:.6rem}.row{display:flex;gap:1rem;align-items:center;flex-wrap:wrap}
code{font-size:.8rem;word-break:break-all}details summary{cursor:pointer}";
