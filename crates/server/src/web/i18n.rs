//! The two languages of the web pages. Every user-visible string of a page
//! comes from a fluent catalogue (`crates/server/locales/{en-US,zh-CN}/*.ftl`, one file per area,
//! compiled into the binary); the language is the `lang` cookie's (set by the
//! layout's switch), else the best of `Accept-Language`, else en-US.

use super::{redirect, safe_next, FormPost};
use axum::http::header::ACCEPT_LANGUAGE;
use axum::http::HeaderMap;
use axum::response::Response;
use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{langid, LanguageIdentifier, Loader};
use std::borrow::Cow;
use std::collections::HashMap;

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en-US",
        // No bidi isolation marks around arguments: both languages are LTR.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

static EN_US: LanguageIdentifier = langid!("en-US");
static ZH_CN: LanguageIdentifier = langid!("zh-CN");

/// A number a message counts (templates hand over references to it).
pub trait Count {
    fn count(&self) -> i64;
}

impl Count for i64 {
    fn count(&self) -> i64 {
        *self
    }
}

impl Count for u64 {
    fn count(&self) -> i64 {
        i64::try_from(*self).unwrap_or(i64::MAX)
    }
}

impl Count for u32 {
    fn count(&self) -> i64 {
        i64::from(*self)
    }
}

impl Count for usize {
    fn count(&self) -> i64 {
        i64::try_from(*self).unwrap_or(i64::MAX)
    }
}

impl<T: Count + ?Sized> Count for &T {
    fn count(&self) -> i64 {
        (**self).count()
    }
}

/// The cookie that keeps a visitor's choice of language.
pub(super) const LANG_COOKIE: &str = "lang";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    EnUs,
    ZhCn,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::EnUs, Lang::ZhCn];

    /// The BCP 47 tag (`<html lang>`, the cookie's value).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::EnUs => "en-US",
            Lang::ZhCn => "zh-CN",
        }
    }

    /// The language's name in itself (the switch's label).
    pub fn name(self) -> &'static str {
        match self {
            Lang::EnUs => "English",
            Lang::ZhCn => "简体中文",
        }
    }

    fn id(self) -> &'static LanguageIdentifier {
        match self {
            Lang::EnUs => &EN_US,
            Lang::ZhCn => &ZH_CN,
        }
    }

    /// A language tag we serve (`zh`, `zh-Hans`, `zh-CN` → Chinese; `en*` → English).
    pub fn parse(tag: &str) -> Option<Lang> {
        let tag = tag.trim().to_ascii_lowercase();
        let primary = tag.split(['-', '_']).next().unwrap_or("");
        match primary {
            "en" => Some(Lang::EnUs),
            "zh" => Some(Lang::ZhCn),
            _ => None,
        }
    }

    /// The best language we serve of an `Accept-Language` value.
    pub fn negotiate(accept: &str) -> Option<Lang> {
        let mut best: Option<(f32, Lang)> = None;
        for part in accept.split(',') {
            let mut it = part.split(';');
            let Some(lang) = it.next().and_then(Lang::parse) else {
                continue;
            };
            let q = it
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l)
    }

    /// The language of a request: the cookie, else `Accept-Language`, else en-US.
    pub fn of_request(cookies: &HashMap<String, String>, headers: &HeaderMap) -> Lang {
        cookies
            .get(LANG_COOKIE)
            .and_then(|c| Lang::parse(c))
            .or_else(|| {
                headers
                    .get(ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(Lang::negotiate)
            })
            .unwrap_or(Lang::EnUs)
    }

    /// The message `key`.
    pub fn t(self, key: &str) -> String {
        LOCALES.lookup(self.id(), key)
    }

    /// The message `key` with a number `$n` (plural forms select on it).
    pub fn tn(self, key: &str, n: impl Count) -> String {
        let args = HashMap::from([(Cow::Borrowed("n"), FluentValue::from(n.count()))]);
        LOCALES.lookup_with_args(self.id(), key, &args)
    }

    /// The message `key` with a text `$arg`.
    pub fn ta(self, key: &str, arg: &str) -> String {
        let args = HashMap::from([(Cow::Borrowed("arg"), FluentValue::from(arg.to_string()))]);
        LOCALES.lookup_with_args(self.id(), key, &args)
    }
}

/// `POST /lang` (`lang`, `back`): keeps the choice in a cookie for a year and
/// returns to the page. Works without JavaScript.
pub(super) async fn switch_language(FormPost { w, f }: FormPost) -> Response {
    let back = match f.get("back").map(String::as_str) {
        Some(b) if !b.is_empty() => safe_next(Some(b)),
        _ => "/login".to_string(),
    };
    let lang = f.get("lang").and_then(|l| Lang::parse(l)).unwrap_or(w.lang);
    redirect(
        &back,
        vec![w.cookie(LANG_COOKIE, lang.tag(), 365 * 24 * 3600)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};

    fn keys(ftl: &str) -> BTreeSet<String> {
        ftl.lines()
            .filter(|l| l.starts_with(|c: char| c.is_ascii_lowercase()))
            .filter_map(|l| l.split_once('=').map(|(k, _)| k.trim().to_string()))
            .collect()
    }

    /// The files under `dir` (recursively) whose name ends with one of `exts`.
    fn files(dir: &Path, exts: &[&str]) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files(&p, exts));
            } else if exts.iter().any(|x| p.to_string_lossy().ends_with(x)) {
                out.push(p);
            }
        }
        out.sort();
        out
    }

    fn crate_dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    }

    /// Every key of a language's catalogue (all its `.ftl` files), with the
    /// file each comes from; a key defined twice fails.
    fn catalogue(lang: &str) -> BTreeSet<String> {
        let mut all = BTreeSet::new();
        let ftls = files(&crate_dir().join("locales").join(lang), &[".ftl"]);
        assert!(!ftls.is_empty(), "no catalogue for {lang}");
        for f in ftls {
            for k in keys(&std::fs::read_to_string(&f).unwrap()) {
                assert!(all.insert(k.clone()), "{k} defined twice ({lang}, {f:?})");
            }
        }
        all
    }

    /// A message in one language and not the other fails the build's tests.
    #[test]
    fn every_key_exists_in_both_languages() {
        let en = catalogue("en-US");
        let zh = catalogue("zh-CN");
        assert!(en.len() > 50, "{} keys", en.len());
        let only_en: Vec<_> = en.difference(&zh).collect();
        let only_zh: Vec<_> = zh.difference(&en).collect();
        assert!(
            only_en.is_empty() && only_zh.is_empty(),
            "only in en-US: {only_en:?}; only in zh-CN: {only_zh:?}"
        );
        for k in &en {
            for lang in Lang::ALL {
                let args =
                    HashMap::from([("n", FluentValue::from(2)), ("arg", FluentValue::from("x"))]);
                let s = LOCALES.lookup_single_language(lang.id(), k, Some(&args));
                assert!(s.is_ok_and(|s| !s.is_empty()), "{k} in {lang:?}");
            }
        }
    }

    /// Every key the web code and the templates use is in the catalogue
    /// (every `.rs` file of `src/web*` and every template).
    #[test]
    fn every_used_key_is_in_the_catalogue() {
        let en = catalogue("en-US");
        let dir = crate_dir();
        let mut sources = files(&dir.join("src/web"), &[".rs"]);
        sources.push(dir.join("src/web.rs"));
        sources.extend(files(&dir.join("templates"), &[".html", ".txt", ".svg"]));
        assert!(sources.len() > 10, "{sources:?}");
        for path in sources {
            let src = std::fs::read_to_string(&path).unwrap();
            for call in [".t(\"", ".tn(\"", ".ta(\""] {
                for (i, _) in src.match_indices(call) {
                    let rest = &src[i + call.len()..];
                    let key = &rest[..rest.find('"').unwrap_or(0)];
                    assert!(en.contains(key), "missing key {key:?} (used in {path:?})");
                }
            }
        }
    }

    #[test]
    fn the_language_comes_from_cookie_then_accept_language() {
        assert_eq!(Lang::negotiate("zh-CN,zh;q=0.9,en;q=0.8"), Some(Lang::ZhCn));
        assert_eq!(Lang::negotiate("fr, en;q=0.5, zh;q=0.7"), Some(Lang::ZhCn));
        assert_eq!(Lang::negotiate("de-DE"), None);
        assert_eq!(Lang::negotiate("zh-Hans;q=0, en-GB"), Some(Lang::EnUs));
        let mut h = HeaderMap::new();
        h.insert(ACCEPT_LANGUAGE, "zh-CN".parse().unwrap());
        assert_eq!(Lang::of_request(&HashMap::new(), &h), Lang::ZhCn);
        let c = HashMap::from([(LANG_COOKIE.to_string(), "en-US".to_string())]);
        assert_eq!(Lang::of_request(&c, &h), Lang::EnUs);
        assert_eq!(
            Lang::of_request(&HashMap::new(), &HeaderMap::new()),
            Lang::EnUs
        );
        assert_eq!(Lang::ZhCn.tn("pass-units-left-after", 2i64), "件可售");
    }
}
