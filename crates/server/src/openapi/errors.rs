//! The error answers every operation documents, added by rule: the answers
//! that come from the HTTP layer (authentication, body and query parsing,
//! idempotency, rate limits, size and time limits) rather than from an
//! operation's own logic. Each status names the error codes it can carry,
//! taken from the one error table ([`ErrorCode`]); a status an operation
//! already documents gets the generic codes appended to its description.

use symbolon_core::ErrorCode;
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{ContentBuilder, HeaderBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::Modify;

/// The per-API-key rate limit's code (429, with `Retry-After`).
pub const RATE_LIMITED: &str = "rate_limited";

/// Tags whose operations need a role, or act on an object that belongs to
/// someone: they answer 403 `forbidden` to an account without the role or
/// to a stranger.
const ROLE_TAGS: &[&str] = &[
    "provider",
    "holder",
    "requester",
    "orders",
    "operator",
    "sealed secrets",
];

/// Operations under those tags that need no role and own no object: any
/// account may call them.
const ANY_ACCOUNT: &[&str] = &[
    "get_product",
    "set_party_keys",
    "party_keys",
    "get_seal",
    "my_shares",
];

/// Operations whose body names other objects by id: an id of nothing is
/// 404 `not_found` naming the field.
const BODY_REFS: &[&str] = &[
    "create_order",
    "create_pass",
    "grant",
    "offer",
    "pass_order",
];

/// Every operation of a path item, with its method.
fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = (&'static str, &mut Operation)> {
    [
        ("get", item.get.as_mut()),
        ("put", item.put.as_mut()),
        ("post", item.post.as_mut()),
        ("delete", item.delete.as_mut()),
        ("patch", item.patch.as_mut()),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.map(|op| (m, op)))
}

/// What decides which generic answers an operation can give.
struct Facts {
    secured: bool,
    body: bool,
    query: bool,
    post: bool,
    object_in_path: bool,
    body_refs: bool,
    limited: bool,
    role: bool,
}

impl Facts {
    fn of(path: &str, method: &str, op: &Operation) -> Self {
        let params = op.parameters.as_deref().unwrap_or_default();
        Facts {
            secured: op.security.is_some(),
            body: op.request_body.is_some(),
            query: params.iter().any(|p| p.parameter_in == ParameterIn::Query),
            post: method == "post",
            object_in_path: path.contains('{'),
            body_refs: op
                .operation_id
                .as_deref()
                .is_some_and(|id| BODY_REFS.contains(&id)),
            // Per key or session on /v1; per address (when configured) on the
            // well-known documents too. /healthz and /openapi.json are never limited.
            limited: path.starts_with("/v1/") || path.starts_with("/.well-known/"),
            role: op
                .tags
                .iter()
                .flatten()
                .any(|t| ROLE_TAGS.contains(&t.as_str()))
                && !op
                    .operation_id
                    .as_deref()
                    .is_some_and(|id| ANY_ACCOUNT.contains(&id)),
        }
    }

    /// The generic answers, by status: the codes each can carry.
    fn answers(&self) -> Vec<(u16, Vec<Code>)> {
        use ErrorCode as E;
        let mut out: Vec<(u16, Vec<Code>)> = Vec::new();
        let mut add = |status: u16, code: Code| match out.iter_mut().find(|(s, _)| *s == status) {
            Some((_, codes)) => codes.push(code),
            None => out.push((status, vec![code])),
        };
        // A secured POST reads its body in the idempotency layer, whether
        // or not the operation takes one.
        let idempotent = self.secured && self.post;
        if self.body {
            add(400, Code::Table(E::MalformedJson));
            add(400, Code::Table(E::InvalidField));
        }
        if self.query {
            add(400, Code::Table(E::InvalidQuery));
        }
        if idempotent {
            add(400, Code::Text("invalid_field", "An `Idempotency-Key` that is not 1–255 visible ASCII characters (`details.field` is `Idempotency-Key`)."));
        }
        if self.secured {
            add(401, Code::Table(E::Unauthorized));
        }
        if self.secured && self.role {
            add(403, Code::Table(E::Forbidden));
        }
        if self.object_in_path {
            add(404, Code::Table(E::NotFound));
        }
        if self.body_refs {
            add(
                404,
                Code::Text(
                    "not_found",
                    "An id in the body names nothing; `details.field` names the field.",
                ),
            );
        }
        if self.body {
            add(408, Code::Table(E::RequestTimeout));
        }
        if idempotent {
            add(409, Code::Table(E::IdempotencyError));
        }
        if self.body || idempotent {
            add(413, Code::Table(E::PayloadTooLarge));
        }
        if self.body {
            add(415, Code::Table(E::UnsupportedMediaType));
            add(422, Code::Table(E::InvalidValue));
        }
        if self.limited {
            add(429, Code::Table(E::RateLimited));
        }
        add(500, Code::Table(E::Internal));
        if idempotent {
            add(503, Code::Table(E::Unavailable));
        }
        out
    }
}

/// An error code and what it means.
#[derive(Clone, Copy)]
enum Code {
    Table(ErrorCode),
    /// A code described here, not by its row in the table.
    Text(&'static str, &'static str),
}

impl Code {
    fn name(self) -> &'static str {
        match self {
            Code::Table(c) => c.as_str(),
            Code::Text(name, _) => name,
        }
    }
    fn line(self) -> String {
        match self {
            Code::Table(c) => format!("`{}`: {}", c.as_str(), c.description()),
            Code::Text(name, text) => format!("`{name}`: {text}"),
        }
    }
}

/// Whether `description` names `code` (as a word: `invalid_field` is not named by `invalid_field_x`).
pub fn names_code(description: &str, code: &str) -> bool {
    description.match_indices(code).any(|(i, _)| {
        let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
        let before = description[..i].chars().next_back();
        let after = description[i + code.len()..].chars().next();
        !before.is_some_and(word) && !after.is_some_and(word)
    })
}

fn error_body() -> utoipa::openapi::Content {
    ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("ErrorBody")))
        .build()
}

/// Documents `codes` under `status`: a new response with the `ErrorBody`
/// body, or the codes not yet named appended to the one documented.
fn document(op: &mut Operation, status: u16, codes: &[Code]) {
    let key = status.to_string();
    match op.responses.responses.get_mut(&key) {
        Some(RefOr::T(resp)) => {
            for code in codes {
                if !names_code(&resp.description, code.name()) {
                    if !resp.description.trim().is_empty() {
                        resp.description.push_str("\n\n");
                    }
                    resp.description.push_str(&code.line());
                }
            }
            if resp.content.is_empty() {
                resp.content.insert("application/json".into(), error_body());
            }
            if status == 429 && !resp.headers.contains_key("Retry-After") {
                resp.headers.insert("Retry-After".into(), retry_after());
            }
        }
        Some(RefOr::Ref(_)) => {}
        None => {
            let text = codes
                .iter()
                .map(|c| c.line())
                .collect::<Vec<_>>()
                .join("\n\n");
            let mut resp = ResponseBuilder::new()
                .description(text)
                .content("application/json", error_body());
            if status == 429 {
                resp = resp.header("Retry-After", retry_after());
            }
            op.responses.responses.insert(key, resp.build().into());
        }
    }
}

fn retry_after() -> utoipa::openapi::Header {
    HeaderBuilder::new()
        .schema(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0)),
        )
        .description(Some("Seconds to wait before retrying"))
        .build()
}

/// Adds the generic error answers to every operation.
pub struct ErrorResponses;

impl Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            for (method, op) in operations_mut(item) {
                for (status, codes) in Facts::of(path, method, op).answers() {
                    document(op, status, &codes);
                }
            }
        }
    }
}
