//! Every constraint the server enforces on input, stated in the schema:
//! lengths, patterns, ranges, enums and formats, with the numbers taken
//! from `symbolon_core::limits` (so the document cannot drift from the
//! validators). Applied to the generated document as JSON patches, by
//! schema and field; a rule the schema cannot state is said in the
//! field's description (and refused with 422 `invalid_value`, not 400).

use serde_json::{json, Value};
use symbolon_core::limits::*;
use symbolon_core::money::ISO_4217;

/// Control characters refused inside free text (Unicode `Cc` but tab, line
/// feed and carriage return) and the bidirectional overrides, embeddings
/// and isolates (Trojan Source).
const TEXT_REFUSED: &str =
    r"\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069";
/// Every control character (Unicode `Cc`).
const CONTROL: &str = r"\u0000-\u001F\u007F-\u009F";
/// Unicode `White_Space`: what trimming removes.
const SPACE: &str =
    r"\t\n\u000B\u000C\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";
/// Characters that render as nothing (a text of only these looks empty).
const INVISIBLE: &str = r"\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u2060-\u2064\u206A-\u206F\u2800\u3164\uFE00-\uFE0F\uFEFF\uFFA0";

/// Free text that must hold a visible character (`validate_text`, not empty).
fn text_pattern() -> String {
    format!("^[{SPACE}]*[^{TEXT_REFUSED}]*[^{TEXT_REFUSED}{SPACE}{INVISIBLE}][^{TEXT_REFUSED}]*[{SPACE}]*$")
}

/// Free text that may be empty or blank (`validate_text`, empty allowed).
fn optional_text_pattern() -> String {
    format!("^[{SPACE}]*(?:[^{TEXT_REFUSED}]*[^{TEXT_REFUSED}{SPACE}{INVISIBLE}][^{TEXT_REFUSED}]*[{SPACE}]*)?$")
}

/// A taxonomy path (`TaxonomyPath::parse`): 1–8 `/`-separated segments,
/// each 1–64 characters once trimmed, no control characters.
fn path_pattern() -> String {
    let inner = format!("[^/{CONTROL}]");
    let edge = format!("[^/{CONTROL}{SPACE}]");
    let seg = format!(
        "[{SPACE}]*{edge}(?:{inner}{{0,{}}}{edge})?[{SPACE}]*",
        MAX_PATH_SEGMENT_CHARS - 2
    );
    format!("^{seg}(?:/{seg}){{0,{}}}$", MAX_PATH_SEGMENTS - 1)
}

fn text(max: usize) -> Value {
    json!({"minLength": 1, "maxLength": max, "pattern": text_pattern(),
           "description": format!("1–{max} characters once trimmed; no control characters but tab and line breaks, no bidirectional controls, at least one visible character.")})
}

fn optional_text(max: usize) -> Value {
    json!({"maxLength": max, "pattern": optional_text_pattern(),
           "description": format!("At most {max} characters once trimmed (blank means none); no control characters but tab and line breaks, no bidirectional controls.")})
}

fn path() -> Value {
    json!({"maxLength": MAX_PATH_SEGMENTS * (MAX_PATH_SEGMENT_CHARS + 1), "pattern": path_pattern(),
           "description": format!("A taxonomy path such as `electronics/audio/headphones`: 1–{MAX_PATH_SEGMENTS} segments separated by `/`, each 1–{MAX_PATH_SEGMENT_CHARS} characters once trimmed, no control characters; compared lowercased.")})
}

fn paths() -> Value {
    json!({"maxItems": MAX_FIELDS, "items": path()})
}

fn specs() -> Value {
    let mut name = text(MAX_SPEC_NAME_CHARS);
    if let Some(o) = name.as_object_mut() {
        o.remove("description");
    }
    let mut value = optional_text(MAX_SPEC_VALUE_CHARS);
    value["type"] = json!("string");
    json!({"maxProperties": MAX_SPECS, "propertyNames": name, "additionalProperties": value,
           "description": format!("At most {MAX_SPECS} entries: names of 1–{MAX_SPEC_NAME_CHARS} characters, values of at most {MAX_SPEC_VALUE_CHARS}, as free text elsewhere.")})
}

/// A GTIN's form; its check digit is checked apart (422 `invalid_value`).
fn gtin(blank_removes: bool) -> Value {
    let digits = "(?:[0-9]{8}|[0-9]{12,14})";
    let pattern = if blank_removes {
        format!("^[{SPACE}]*(?:{digits}[{SPACE}]*)?$")
    } else {
        format!("^[{SPACE}]*{digits}[{SPACE}]*$")
    };
    json!({"pattern": pattern})
}

/// The bech32 alphabet.
const BECH32: &str = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
/// A compact JWS: three base64url parts.
const JWS: &str = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$";

/// An Ed25519 public JWK (RFC 8037): `x` is 32 bytes in base64url (43
/// characters, the last carrying 2 bits); a value that is not a curve point
/// is refused with 422 `invalid_value`.
fn jwk(kid_required: bool) -> Value {
    let mut required = vec!["kty", "crv", "x"];
    if kid_required {
        required.push("kid");
    }
    let mut v = json!({
        "required": required,
        "properties": {
            "kty": {"type": "string", "enum": ["OKP"]},
            "crv": {"type": "string", "enum": ["Ed25519"]},
            "x": {"type": "string", "pattern": "^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$"},
            "kid": {"type": "string"},
            "use": {"type": "string"},
            "alg": {"type": "string"}
        },
        "description": "An OKP/Ed25519 public JWK: `x` is 32 bytes in base64url; a value that is not a point of the curve is refused with 422 `invalid_value`."
    });
    if !kid_required {
        v["not"] = json!({"required": ["d"]});
        v["description"] = json!("An OKP/Ed25519 public JWK (a private `d` is refused): `x` is 32 bytes in base64url; a value that is not a point of the curve is refused with 422 `invalid_value`.");
    }
    v
}

fn range(min: i64, max: i64) -> Value {
    json!({"minimum": min, "maximum": max})
}

fn currencies() -> Vec<&'static str> {
    ISO_4217.iter().map(|(c, _)| *c).collect()
}

/// A decimal amount of at most `exp` fraction digits below 10^15 minor
/// units; `positive`: more than zero.
fn amount_pattern(exp: u32, positive: bool) -> String {
    let int_digits = 15 - exp as usize;
    let frac = |n: u32| {
        if n == 0 {
            String::new()
        } else {
            format!(r"(?:\.[0-9]{{1,{n}}})?")
        }
    };
    if !positive {
        return format!("^[0-9]{{1,{int_digits}}}{}$", frac(exp));
    }
    // A nonzero integer part, or a zero one with a nonzero fraction.
    let nonzero_int = format!("0{{0,3}}[1-9][0-9]{{0,{}}}{}", int_digits - 1, frac(exp));
    if exp == 0 {
        return format!("^{nonzero_int}$");
    }
    let nonzero_frac: Vec<String> = (0..exp)
        .map(|k| format!("{}[1-9][0-9]{{0,{}}}", "0".repeat(k as usize), exp - 1 - k))
        .collect();
    format!(
        r"^(?:{nonzero_int}|0{{1,4}}\.(?:{}))$",
        nonzero_frac.join("|")
    )
}

/// Money: one branch per number of fraction digits, so that an amount
/// has exactly as many as its currency allows.
fn money(positive: bool) -> Value {
    let mut by_exp: Vec<(u32, Vec<&str>)> = Vec::new();
    for (code, exp) in ISO_4217 {
        match by_exp.iter_mut().find(|(e, _)| e == exp) {
            Some((_, codes)) => codes.push(code),
            None => by_exp.push((*exp, vec![code])),
        }
    }
    by_exp.sort_by_key(|(e, _)| *e);
    let branches: Vec<Value> = by_exp
        .into_iter()
        .map(|(exp, codes)| {
            json!({"properties": {
                "currency": {"enum": codes},
                "amount": {"pattern": amount_pattern(exp, positive)}}})
        })
        .collect();
    let what = if positive {
        "more than zero"
    } else {
        "zero or more"
    };
    json!({
        "type": "object",
        "required": ["amount", "currency"],
        "additionalProperties": false,
        "description": format!("Money: a decimal string amount, {what}, with at most as many fraction digits as the currency has (ISO 4217: 0 for JPY, 2 for USD, 3 for KWD, 4 for CLF) and below 10^15 minor units, and an ISO 4217 currency code (any letter case is accepted)."),
        "properties": {
            "amount": {"type": "string", "example": "12.34"},
            "currency": {"type": "string", "enum": currencies(), "example": "USD"}
        },
        "oneOf": branches
    })
}

/// A decimal amount in a currency the request does not name (the order's).
fn bare_amount() -> Value {
    json!({"pattern": amount_pattern(4, true),
           "description": "A decimal amount, more than zero, with at most as many fraction digits as the order's currency has (a finer one is refused with 422 `invalid_value`)."})
}

/// (schema, property, patch merged into the property's schema).
fn rules() -> Vec<(&'static str, &'static str, Value)> {
    let mut r = vec![
        ("CreateAccount", "name", text(MAX_NAME_CHARS)),
        (
            "CreateAccount",
            "roles",
            json!({"minItems": 1, "items": {"enum": ["provider", "holder", "requester"]},
            "description": "At least one; `operator` is never open to registration."}),
        ),
        (
            "WebLogin",
            "email",
            json!({"minLength": 1, "maxLength": MAX_EMAIL_CHARS,
            "pattern": format!("^[{SPACE}]*[^@{CONTROL}{SPACE}]+@[^@{CONTROL}{SPACE}]+[{SPACE}]*$")}),
        ),
        (
            "WebLogin",
            "password",
            json!({"minLength": MIN_PASSWORD_CHARS, "maxLength": MAX_PASSWORD_CHARS}),
        ),
        ("CreateProduct", "title", text(MAX_TITLE_CHARS)),
        (
            "CreateProduct",
            "description",
            optional_text(MAX_DESCRIPTION_CHARS),
        ),
        ("CreateProduct", "category", path()),
        ("CreateProduct", "stock", range(0, MAX_STOCK)),
        ("CreateProduct", "specs", specs()),
        ("CreateProduct", "gtin", gtin(false)),
        ("UpdateProduct", "title", text(MAX_TITLE_CHARS)),
        (
            "UpdateProduct",
            "description",
            optional_text(MAX_DESCRIPTION_CHARS),
        ),
        ("UpdateProduct", "category", path()),
        ("UpdateProduct", "stock", range(0, MAX_STOCK)),
        ("UpdateProduct", "specs", specs()),
        ("UpdateProduct", "gtin", gtin(true)),
        ("CreatePass", "commission_bps", range(0, MAX_COMMISSION_BPS)),
        ("CreatePass", "units", range(1, MAX_UNITS)),
        ("CreatePass", "valid_until", json!({"format": "date-time"})),
        ("CreateGrant", "units", range(1, MAX_UNITS)),
        ("HolderProfileUpdate", "fields", paths()),
        ("CreateOffer", "note", optional_text(MAX_NOTE_CHARS)),
        (
            "DeclineInteraction",
            "reason",
            optional_text(MAX_DECLINE_REASON_CHARS),
        ),
        ("HolderCriteria", "min_positive_rate", range(0, 1)),
        ("HolderCriteria", "min_success_rate", range(0, 1)),
        ("HolderCriteria", "min_ratings", range(0, 1_000_000_000)),
        ("HolderCriteria", "fields", paths()),
        ("CreateDemand", "query", text(MAX_QUERY_CHARS)),
        ("CreateDemand", "category", path()),
        (
            "CreateDemand",
            "min_holders",
            range(MIN_MIN_HOLDERS.into(), MAX_MAX_HOLDERS.into()),
        ),
        (
            "CreateDemand",
            "max_holders",
            range(MIN_MIN_HOLDERS.into(), MAX_MAX_HOLDERS.into()),
        ),
        (
            "CreateDemand",
            "ttl_seconds",
            range(MIN_TTL_SECONDS.into(), MAX_TTL_SECONDS.into()),
        ),
        ("Address", "name", text(MAX_ADDRESS_CHARS)),
        ("Address", "line1", text(MAX_ADDRESS_CHARS)),
        ("Address", "line2", optional_text(MAX_ADDRESS_CHARS)),
        ("Address", "city", text(MAX_ADDRESS_CHARS)),
        ("Address", "postal_code", text(MAX_POSTAL_CODE_CHARS)),
        (
            "Address",
            "country",
            json!({"pattern": format!("^[{SPACE}]*[A-Za-z]{{2}}[{SPACE}]*$")}),
        ),
        (
            "PaymentMethodInput",
            "type",
            json!({"enum": ["sandbox_card"]}),
        ),
        (
            "PaymentMethodInput",
            "number",
            json!({"pattern": "^[ -]*(?:[0-9][ -]*){12,19}$",
            "description": "12–19 digits (spaces and dashes ignored) with a valid Luhn check digit (a wrong one is refused with 422 `invalid_value`)."}),
        ),
        ("CreateOrder", "quantity", range(1, MAX_ORDER_QUANTITY)),
        ("CreatePassOrder", "quantity", range(1, MAX_ORDER_QUANTITY)),
        ("ShipOrder", "tracking", optional_text(MAX_TRACKING_CHARS)),
        ("CreateRating", "comment", optional_text(MAX_NOTE_CHARS)),
        (
            "CreatePayout",
            "currency",
            json!({"enum": currencies(), "description": "ISO 4217 code (any letter case is accepted)."}),
        ),
        ("CreatePayout", "amount", bare_amount()),
        ("Reason", "reason", text(MAX_REASON_CHARS)),
        ("CreateRefund", "reason", text(MAX_REASON_CHARS)),
        ("CreateRefund", "amount", bare_amount()),
        (
            "OpenDispute",
            "kind",
            json!({"enum": ["not_received", "not_as_described"]}),
        ),
        ("OpenDispute", "reason", text(MAX_REASON_CHARS)),
        ("CreateDisputeMessage", "body", text(MAX_REASON_CHARS)),
        ("ResolveDispute", "reason", text(MAX_REASON_CHARS)),
        ("ResolveDispute", "refund", bare_amount()),
        (
            "CreateWebhook",
            "url",
            json!({"maxLength": MAX_WEBHOOK_URL_BYTES,
            "pattern": symbolon_exchange::events::WEBHOOK_URL_PATTERN,
            "description": "A URL the URL parser still refuses (a dotted host that is no IPv4 address, a bracketed host that is no IPv6 address) is refused with 422 `invalid_value`; so is a loopback or private address unless the exchange allows them."}),
        ),
        (
            "ReplayWebhook",
            "after",
            json!({"pattern": format!("^[{SPACE}]*(?:evt_)?[0-9]{{0,18}}[{SPACE}]*$")}),
        ),
        (
            "WrappedShares",
            "wrapped",
            json!({"minItems": 1, "maxItems": 16}),
        ),
        (
            "UploadPass",
            "jws",
            json!({"maxLength": MAX_PASS_JWS_BYTES, "pattern": JWS,
            "description": "Its signature is checked against your published keys: one that does not verify is refused with 422 `pass_signature_invalid`."}),
        ),
        (
            "SetPartyKeys",
            "age_recipient",
            json!({"pattern": format!("^[{SPACE}]*age1[{BECH32}]{{58}}[{SPACE}]*$"),
            "description": "A malformed recipient is refused with 400; one whose Bech32 checksum fails with 422 `invalid_value`."}),
        ),
        ("SetPartyKeys", "signing_jwk", jwk(true)),
        ("RegisterSigningKey", "jwk", jwk(false)),
    ];
    r.retain(|(_, _, v)| !v.is_null());
    r
}

/// Query parameters, by name: the same rule wherever the name appears.
fn query_rules(path: &str) -> Vec<(&'static str, Value)> {
    let max = if path == "/v1/events" {
        EVENT_PAGE_MAX
    } else {
        MAX_PAGE_LIMIT
    };
    let cursor = if path == "/v1/events" {
        json!({"pattern": format!("^[{SPACE}]*(?:evt_)?[0-9]{{0,18}}[{SPACE}]*$")})
    } else {
        json!({"pattern": "^[0-9]{0,18}$"})
    };
    vec![
        ("limit", json!({"minimum": 1, "maximum": max})),
        ("after", cursor),
        ("role", json!({"enum": ["provider", "requester", "holder"]})),
        ("status", json!({"enum": ["open", "resolved", "rejected"]})),
    ]
}

/// The longest postal code (characters).
const MAX_POSTAL_CODE_CHARS: usize = 32;

fn merge(target: &mut Value, patch: &Value) {
    let (Some(t), Some(p)) = (target.as_object_mut(), patch.as_object()) else {
        return;
    };
    for (k, v) in p {
        if k == "description" {
            let joined = match t.get("description").and_then(Value::as_str) {
                Some(old) if !old.is_empty() => format!("{old}\n\n{}", v.as_str().unwrap_or("")),
                _ => v.as_str().unwrap_or("").to_string(),
            };
            t.insert(k.clone(), Value::String(joined));
        } else if let (Some(Value::Object(_)), Value::Object(_)) = (t.get(k), v) {
            merge(t.get_mut(k).unwrap_or(&mut Value::Null), v);
        } else {
            t.insert(k.clone(), v.clone());
        }
    }
}

/// The (schema, property) pairs [`rules`] constrains, for tests.
pub fn constrained() -> Vec<(&'static str, &'static str)> {
    rules().into_iter().map(|(s, f, _)| (s, f)).collect()
}

/// Applies every rule to the document.
pub fn apply(doc: &mut Value) {
    let schemas = &mut doc["components"]["schemas"];
    if let Some(s) = schemas.as_object_mut() {
        s.insert("Money".into(), money(false));
        s.insert("Price".into(), money(true));
    }
    for (schema, field, patch) in rules() {
        let prop = &mut schemas[schema]["properties"][field];
        if prop.is_object() {
            merge(prop, &patch);
        }
    }
    // Prices must be more than zero.
    for schema in ["CreateProduct", "UpdateProduct"] {
        retarget(
            &mut schemas[schema]["properties"]["price"],
            "Money",
            "Price",
        );
    }
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(ops) = item.as_object_mut() else {
            continue;
        };
        for op in ops.values_mut() {
            let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
                continue;
            };
            for p in params.iter_mut() {
                if p["in"] == "header" && p["name"] == "Last-Event-ID" {
                    // An absent header is none; a header sent is a string.
                    p["schema"] = json!({"type": "string", "pattern": format!("^[{SPACE}]*(?:evt_)?[0-9]{{0,18}}[{SPACE}]*$")});
                }
                if p["in"] != "query" {
                    continue;
                }
                for (name, patch) in query_rules(path) {
                    if p["name"] == name {
                        merge(&mut p["schema"], &patch);
                    }
                }
            }
        }
    }
}

/// Points every `$ref` to schema `from` inside `v` at schema `to`.
fn retarget(v: &mut Value, from: &str, to: &str) {
    match v {
        Value::Object(m) => {
            let want = format!("#/components/schemas/{from}");
            if m.get("$ref").and_then(Value::as_str) == Some(want.as_str()) {
                m.insert(
                    "$ref".into(),
                    Value::String(format!("#/components/schemas/{to}")),
                );
            }
            for x in m.values_mut() {
                retarget(x, from, to);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| retarget(x, from, to)),
        _ => {}
    }
}
