//! `symbolon pass verify`: checks a pass with nothing but standard
//! cryptography — offline when the issuer's keys are pinned with `--jwks`.

use anyhow::Context as _;
use serde_json::{json, Value};
use symbolon_core::Timestamp;
use symbolon_pass::{Jwks, PassError};

/// Where the pass comes from.
pub enum Source {
    /// A compact JWS given on the command line.
    Jws(String),
    /// A file holding a compact JWS or the API's pass JSON.
    File(std::path::PathBuf),
    /// A URL: the pass API (`/v1/passes/{id}`) or its page (`/p/{id}`).
    Url(String),
}

impl Source {
    pub fn parse(arg: &str) -> Self {
        let a = arg.trim();
        if a.starts_with("http://") || a.starts_with("https://") {
            Source::Url(a.to_string())
        } else if a.starts_with("ey")
            && a.matches('.').count() == 2
            && !std::path::Path::new(a).exists()
        {
            Source::Jws(a.to_string())
        } else {
            Source::File(a.into())
        }
    }
}

/// The outcome, also printed as JSON with `--json`.
#[derive(Debug, serde::Serialize)]
pub struct Outcome {
    pub valid: bool,
    /// The failure's stable name (`bad_signature`, `unknown_key`, `expired`,
    /// `not_yet_valid`, `revoked`, `wrong_algorithm`, `malformed`, …).
    pub reason: Option<String>,
    pub message: Option<String>,
    /// `checked`, or `unchecked` with why.
    pub revocation: String,
    pub kid: Option<String>,
    pub claims: Option<Value>,
}

fn jws_of(text: &str) -> Result<String, PassError> {
    let t = text.trim();
    if t.starts_with('{') {
        let v: Value = serde_json::from_str(t)
            .map_err(|_| PassError::Malformed("the file is neither a JWS nor JSON".into()))?;
        return v
            .get("jws")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| PassError::Malformed("the JSON has no `jws` member".into()));
    }
    Ok(t.to_string())
}

async fn fetch(http: &reqwest::Client, url: &str) -> anyhow::Result<String> {
    let r = http
        .get(url)
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    let status = r.status();
    let body = r.text().await.with_context(|| format!("reading {url}"))?;
    if !status.is_success() {
        anyhow::bail!("{url} answered {status}");
    }
    Ok(body)
}

/// `scheme://host[:port]` of a URL.
pub fn origin(url: &str) -> &str {
    let after = url.find("://").map(|i| i + 3).unwrap_or(0);
    match url[after..].find(['/', '?', '#']) {
        Some(i) => &url[..after + i],
        None => url,
    }
}

/// `/p/{id}` (the page) → `/v1/passes/{id}` (the pass as JSON).
fn api_url(url: &str) -> String {
    match url.split_once("/p/") {
        Some((base, rest)) if !rest.contains('/') => {
            let id = rest.split(['?', '#']).next().unwrap_or(rest);
            format!("{base}/v1/passes/{id}")
        }
        _ => url.to_string(),
    }
}

pub struct Options {
    pub jwks_file: Option<std::path::PathBuf>,
    pub status_file: Option<std::path::PathBuf>,
    pub offline: bool,
    pub require_status: bool,
}

/// Verifies; `Err` only for what is not the pass's fault (an unreadable file,
/// an unreachable issuer when its keys are needed).
pub async fn verify(source: Source, opts: &Options, now: Timestamp) -> anyhow::Result<Outcome> {
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(15))
        .build()?;
    let raw = match &source {
        Source::Jws(j) => j.clone(),
        Source::File(p) => {
            std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?
        }
        Source::Url(u) => {
            anyhow::ensure!(
                !opts.offline,
                "--offline: give the pass as a JWS or a file, not a URL"
            );
            fetch(&http, &api_url(u)).await?
        }
    };
    let fail = |e: PassError, claims: Option<Value>| Outcome {
        valid: false,
        reason: Some(e.reason().to_string()),
        message: Some(e.to_string()),
        revocation: "unchecked".into(),
        kid: None,
        claims,
    };
    let jws = match jws_of(&raw) {
        Ok(j) => j,
        Err(e) => return Ok(fail(e, None)),
    };
    let peeked = match symbolon_pass::peek_claims(&jws) {
        Ok(c) => c,
        Err(e) => return Ok(fail(e, None)),
    };
    let jwks: Jwks = match &opts.jwks_file {
        Some(p) => serde_json::from_str(
            &std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?,
        )
        .with_context(|| format!("{} is not a JWK Set", p.display()))?,
        None => {
            anyhow::ensure!(
                !opts.offline,
                "--offline needs the issuer's keys: --jwks FILE"
            );
            let iss = peeked.get("iss").and_then(Value::as_str).ok_or_else(|| {
                anyhow::anyhow!("the pass names no issuer (`iss`); pin its keys with --jwks")
            })?;
            // Keys come from the issuer the pass names; a pass fetched from an
            // exchange must name an issuer on that exchange, so a pass served
            // there cannot bring keys from elsewhere.
            if let Source::Url(u) = &source {
                if origin(iss) != origin(u) {
                    return Ok(fail(
                        PassError::UnknownKey(format!(
                            "the pass names issuer {iss}, not on {}; pin its keys with --jwks",
                            origin(u)
                        )),
                        Some(peeked),
                    ));
                }
            }
            let text = fetch(&http, &format!("{iss}/jwks.json")).await?;
            serde_json::from_str(&text).context("the issuer's JWKS is not a JWK Set")?
        }
    };
    // The signature, type and validity first: only a genuine pass's status URL is followed.
    let verified = match symbolon_pass::verify_product_pass(&jws, &jwks, now) {
        Ok(v) => v,
        Err(e) => return Ok(fail(e, Some(peeked))),
    };
    let entry = symbolon_pass::StatusEntry::of(&verified.claims);
    let list = match (&opts.status_file, &entry) {
        (_, Err(e)) => return Ok(fail(e.clone(), Some(verified.claims))),
        (_, Ok(None)) => Err("the pass has no status entry".to_string()),
        (Some(p), Ok(Some(_))) => std::fs::read_to_string(p)
            .map(|s| s.trim().to_string())
            .map_err(|e| format!("cannot read {}: {e}", p.display())),
        (None, Ok(Some(_))) if opts.offline => Err("offline".to_string()),
        (None, Ok(Some(entry))) => fetch(&http, &entry.list_url)
            .await
            .map_err(|e| format!("{e:#}")),
    };
    let revocation = match &list {
        Ok(list) => match symbolon_pass::check_status(&verified.claims, list, &jwks, now) {
            Ok(()) => "checked".to_string(),
            Err(e) => return Ok(fail(e, Some(verified.claims))),
        },
        Err(why) if opts.require_status => {
            return Ok(fail(
                PassError::StatusUnavailable(why.clone()),
                Some(verified.claims),
            ))
        }
        Err(why) => format!("unchecked ({why})"),
    };
    Ok(Outcome {
        valid: true,
        reason: None,
        message: None,
        revocation,
        kid: Some(verified.kid),
        claims: Some(verified.claims),
    })
}

/// The human rendering: the verdict first, then what the pass says — as
/// verified contents, or, when verification failed, as what it only claims.
/// A failed pass never gets a line that contradicts its verdict (no
/// "revocation unchecked" above "✗ revoked").
pub fn render(o: &Outcome) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    if o.valid {
        let _ = writeln!(out, "✓ valid pass (revocation {})", o.revocation);
    } else {
        let _ = writeln!(
            out,
            "✗ {}: {}",
            o.reason.as_deref().unwrap_or("invalid"),
            o.message.as_deref().unwrap_or("")
        );
    }
    let c = o.claims.clone().unwrap_or(json!({}));
    let s = |v: &Value| v.as_str().unwrap_or("—").to_string();
    let subject = &c["credentialSubject"];
    if subject.is_null() {
        return out;
    }
    let pad = if o.valid {
        ""
    } else {
        let _ = writeln!(out, "claimed (unverified):");
        "  "
    };
    let mut line = |label: &str, value: String| {
        let _ = writeln!(out, "{pad}  {label:<10} {value}");
    };
    line("name", s(&subject["name"]));
    let price = &subject["price"];
    line(
        "price",
        format!("{} {}", s(&price["amount"]), s(&price["currency"])),
    );
    line("category", s(&subject["category"]));
    line(
        "issuer",
        format!("{} ({})", s(&c["issuer"]["name"]), s(&c["iss"])),
    );
    line(
        "valid",
        format!("{} → {}", s(&c["validFrom"]), s(&c["validUntil"])),
    );
    if let Some(terms) = c["termsOfUse"].get(0) {
        line(
            "terms",
            format!(
                "{} · commission {} bp{}",
                s(&terms["mode"]),
                terms["commission"]["basisPoints"],
                terms
                    .get("units")
                    .map(|u| format!(" · {u} units"))
                    .unwrap_or_default()
            ),
        );
    }
    if let Some(specs) = subject["specs"].as_array() {
        for sp in specs {
            line("spec", format!("{}: {}", s(&sp["name"]), s(&sp["value"])));
        }
    }
    if let Some(actions) = subject["actions"].as_array() {
        for a in actions {
            line(
                "action",
                format!("{} {} {}", s(&a["type"]), s(&a["method"]), s(&a["target"])),
            );
        }
    }
    line("page", s(&subject["link"]));
    if o.valid {
        if let Some(kid) = &o.kid {
            line("key", kid.clone());
        }
        line("revocation", o.revocation.clone());
    }
    out
}

/// Prints [`render`]: to stdout for a valid pass, to stderr for a failed one.
pub fn print(o: &Outcome) {
    if o.valid {
        print!("{}", render(o));
    } else {
        eprint!("{}", render(o));
    }
}

// ---------------------------------------------------------------- signing passes yourself

/// Writes a new Ed25519 private key as a JWK (mode 0600); returns it and its public JWK.
pub fn generate_key_file(
    out: &std::path::Path,
) -> anyhow::Result<(symbolon_pass::ProviderKey, Value)> {
    use base64::Engine;
    let mut seed = [0u8; 32];
    // A CSPRNG seeded from the OS (as the server draws custodial keys).
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut seed);
    let key = symbolon_pass::ProviderKey::from_secret_bytes(seed);
    let public = serde_json::to_value(key.jwk())?;
    let mut private = public.clone();
    private["d"] = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(seed)
        .into();
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    use std::io::Write;
    let mut f = opts
        .open(out)
        .with_context(|| format!("cannot create {} (it must not exist yet)", out.display()))?;
    f.write_all(serde_json::to_string_pretty(&private)?.as_bytes())?;
    Ok((key, public))
}

/// Reads a private key written by [`generate_key_file`].
pub fn read_key_file(path: &std::path::Path) -> anyhow::Result<symbolon_pass::ProviderKey> {
    use base64::Engine;
    let v: Value = serde_json::from_str(
        &std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?,
    )
    .with_context(|| format!("{} is not a JWK", path.display()))?;
    anyhow::ensure!(
        v["kty"] == "OKP" && v["crv"] == "Ed25519",
        "{}: not an Ed25519 key",
        path.display()
    );
    let d = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(v["d"].as_str().unwrap_or_default())
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| anyhow::anyhow!("{}: no private key `d`", path.display()))?;
    Ok(symbolon_pass::ProviderKey::from_secret_bytes(d))
}

/// What a self-signed pass says.
pub struct PassDraft<'a> {
    pub public_url: &'a str,
    pub issuer: &'a str,
    pub issuer_name: &'a str,
    pub product: &'a symbolon_api::Product,
    pub mode: symbolon_api::PassMode,
    pub units: Option<i64>,
    pub commission_bps: i64,
    pub valid_until: Option<Timestamp>,
}

/// Builds the credential exactly as the exchange issues it and signs it.
pub fn sign_pass(key: &symbolon_pass::ProviderKey, d: &PassDraft<'_>) -> anyhow::Result<String> {
    use symbolon_core::ids::IdGen;
    let ids = IdGen::from_entropy();
    let id = ids.next(symbolon_core::ids::prefix::PASS);
    let url = format!("{}/v1/passes/{id}", d.public_url);
    let page = format!("{}/p/{id}", d.public_url);
    let unique = d.mode == symbolon_api::PassMode::Unique;
    let actions = symbolon_pass::standard_actions(&url, &page, unique);
    let status = symbolon_pass::StatusEntry {
        index: ids.below(symbolon_pass::status::STATUS_LIST_BITS),
        list_url: format!("{}/status/revocation", d.issuer),
    };
    let specs: Vec<(String, String)> = d
        .product
        .specs
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let price = symbolon_core::Money::parse(&d.product.price.amount, &d.product.price.currency)
        .map_err(|e| anyhow::anyhow!("the product's price: {e}"))?;
    let claims = symbolon_pass::credential(
        &url,
        d.issuer,
        d.issuer_name,
        &symbolon_pass::PassSubject {
            product_id: &d.product.id,
            name: &d.product.title,
            description: &d.product.description,
            category: &d.product.category,
            specs: &specs,
            price,
            link: &page,
            order_endpoint: &format!("{url}/orders"),
            gtin: d.product.gtin.as_deref(),
            actions: &actions,
            status: Some(&status),
        },
        &symbolon_pass::PassTerms {
            mode: if unique { "unique" } else { "shareable" },
            units: d.units,
            commission_bps: d.commission_bps,
        },
        symbolon_core::Clock::now(&symbolon_core::SystemClock),
        d.valid_until,
    );
    Ok(symbolon_pass::sign_compact(
        &claims,
        key,
        symbolon_pass::PASS_TYP,
        Some("vc"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Value {
        json!({
            "iss": "https://x.example/v1/providers/acc_p",
            "issuer": {"name": "Acme"},
            "validFrom": "2027-01-01T00:00:00Z",
            "credentialSubject": {
                "name": "Kettle", "category": "home/kitchen",
                "price": {"amount": "1.00", "currency": "USD"},
                "link": "https://x.example/p/pas_1"
            }
        })
    }

    #[test]
    fn the_verdict_comes_first_and_failed_contents_are_only_claimed() {
        let bad = Outcome {
            valid: false,
            reason: Some("revoked".into()),
            message: Some("the provider revoked the pass".into()),
            revocation: "unchecked (offline)".into(),
            kid: Some("kid_1".into()),
            claims: Some(claims()),
        };
        let text = render(&bad);
        assert!(text.starts_with("✗ revoked:"), "{text}");
        assert!(
            text.contains("claimed (unverified):\n    name       Kettle"),
            "{text}"
        );
        assert!(
            !text.contains("revocation"),
            "no line contradicts the verdict: {text}"
        );
        insta::assert_snapshot!("verify_revoked", text);
        let good = Outcome {
            valid: true,
            reason: None,
            message: None,
            revocation: "checked".into(),
            ..bad
        };
        let text = render(&good);
        assert!(
            text.starts_with("✓ valid pass (revocation checked)\n"),
            "{text}"
        );
        assert!(!text.contains("unverified"), "{text}");
        insta::assert_snapshot!("verify_valid", text);
    }

    #[test]
    fn sources_and_urls() {
        assert!(matches!(Source::parse("https://x/p/pas_1"), Source::Url(_)));
        assert!(matches!(Source::parse("eyJh.eyJ.sig"), Source::Jws(_)));
        assert!(matches!(Source::parse("pass.jws"), Source::File(_)));
        assert_eq!(
            api_url("https://x/p/pas_1?via=acc_h"),
            "https://x/v1/passes/pas_1"
        );
        assert_eq!(
            api_url("https://x/v1/passes/pas_1"),
            "https://x/v1/passes/pas_1"
        );
        assert_eq!(jws_of("{\"jws\":\"a.b.c\"}").unwrap(), "a.b.c");
        assert!(jws_of("{\"x\":1}").is_err());
        assert_eq!(
            origin("https://x.example:8443/v1/providers/a"),
            "https://x.example:8443"
        );
        assert_eq!(origin("http://x"), "http://x");
        assert_ne!(
            origin("https://evil.example/x"),
            origin("https://x.example/p/1")
        );
    }
}
