//! The OpenAPI 3.1 document, generated from the handlers' annotations.
//! `docs/openapi.json` is the committed copy; a test fails when they drift.

mod constraints;
mod errors;
mod links;

pub use constraints::constrained;
use errors::ErrorResponses;
pub use errors::{names_code, RATE_LIMITED};
pub use links::LINKS;

use crate::routes::*;
use symbolon_api::*;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The API key returned by POST /v1/accounts"))
                    .build(),
            ),
        );
    }
}

/// Documents the `Idempotency-Key` header on every POST.
struct IdempotencyHeader;

impl Modify for IdempotencyHeader {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        use utoipa::openapi::Required;
        for item in openapi.paths.paths.values_mut() {
            let Some(op) = item.post.as_mut() else {
                continue;
            };
            if op.security.is_none() {
                continue; // anonymous POSTs (registration) are not stored
            }
            let p = ParameterBuilder::new()
                .name("Idempotency-Key")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "Makes the POST safe to retry (Stripe semantics): the same key with the same request replays the first answer (`Idempotent-Replayed: true`), even if what it made has changed since; with another request, or while the first still runs → 409 `idempotency_error`. One exception: a replay of `POST /v1/webhooks` whose endpoint was deleted since answers 409 `idempotency_error` rather than a 201 naming an endpoint that no longer exists (use a new key to create another). Keys are per account, 1–255 visible ASCII characters (a bad one → 400 `invalid_field`), kept 24 h; an answer of 5xx is not kept.",
                ))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .min_length(Some(1))
                        .max_length(Some(symbolon_core::limits::MAX_IDEMPOTENCY_KEY_CHARS))
                        .pattern(Some("^[!-~]+$")),
                ))
                .build();
            op.parameters.get_or_insert_with(Vec::new).push(p);
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Symbolon API", version = "1", description = "The Symbolon exchange: demands to at least two qualified holders, provider-signed passes, one-click order and payment, reputation.\n\nErrors are `{\"error\": {\"code\", \"message\", \"details\"?}}` with a stable code."),
    modifiers(&BearerAuth, &IdempotencyHeader, &ErrorResponses),
    paths(
        healthz, crate::probes::livez, crate::probes::readyz, crate::metrics::scrape, create_account, whoami, create_product, list_products, update_product, archive_product,
        get_product, create_pass, get_pass, grant, jwks,
        holder_profile, wallet, inbox, offer, decline, create_demand, list_demands, cancel_demand,
        get_demand, accept, rate,
        set_requester_profile, get_requester_profile, create_order, list_orders, get_order, pay_order,
        ship_order, balance, get_holder, revoke_pass, status_list, issuer_metadata, signing_keys, rotate_key,
        pass_units, unit_history, transfer_unit, pass_order, register_key, upload_pass,
        crate::events::events, crate::events::create_webhook, crate::events::list_webhooks,
        crate::events::get_webhook, crate::events::delete_webhook, crate::events::rotate_webhook,
        crate::events::enable_webhook, crate::events::disable_webhook, crate::events::replay_webhook, crate::events::webhook_attempts,
        crate::events::set_party_keys, crate::events::party_keys, crate::events::put_seal,
        crate::events::get_seal, crate::events::share_to_holder, crate::events::my_shares,
        crate::events::share_with_offer, crate::events::offer_requester_keys, crate::events::release_shares,
        crate::after_sale::cancel_order, crate::after_sale::refund_order, crate::after_sale::confirm_delivery,
        crate::after_sale::request_return, crate::after_sale::accept_return, crate::after_sale::refuse_return,
        crate::after_sale::open_dispute, crate::after_sale::list_disputes, crate::after_sale::get_dispute,
        crate::after_sale::dispute_message, crate::after_sale::resolve_dispute, crate::after_sale::payout,
        crate::transparency::demand_proof, crate::transparency::holder_selections, crate::transparency::consistency, crate::transparency::checkpoint, crate::transparency::log_key
    ),
    components(schemas(ErrorBody, ErrorDetail, Money, Role, PassMode, Readiness, ReadinessCheck)),
    tags(
        (name = "accounts"), (name = "provider"), (name = "holder"), (name = "requester"),
        (name = "orders"), (name = "operator", description = "Operators resolve disputes. The role is never open to registration: `symbolon admin create-operator` makes an operator account."), (name = "public"), (name = "meta"),
        (name = "sealed secrets", description = "A pass may carry a secret sealed on the provider's machine: zstd, then an age v1 file to an X25519 identity split k-of-n (Shamir); the exchange stores the payload, the provider-signed header and shares wrapped (age) to their recipients, and can open nothing. The requester opens it with the holder's share (sent with the offer) and the provider's (released once the order is paid)."),
        (name = "events", description = "Every event is delivered at least once and carries one id (SSE `id`, `webhook-id`, dedupe key). Webhooks follow Standard Webhooks v1: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256(id.timestamp.body)>` with the `whsec_` secret. Retries: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, then every 10 h (±20 % jitter); 2xx succeeds, 410 disables the endpoint, 429/502/504 honour `Retry-After`; an endpoint failing for 5 days is disabled, its events kept until it is enabled again."),
        (name = "transparency", description = "Every demand's selection (holders contacted with their score parts, or the refusal) is an entry of an RFC 6962 Merkle-tree log whose checkpoints the exchange's Ed25519 key signs as C2SP signed notes. `symbolon audit verify --demand ID` checks an entry, its inclusion proof, the checkpoint's signature and the log's consistency with the last checkpoint it saw.")
    )
)]
pub struct ApiDoc;

/// The document: the annotations, the generic error answers and links,
/// and the input constraints ([`constraints`]).
pub fn document() -> serde_json::Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    constraints::apply(&mut doc);
    links::apply(&mut doc);
    doc
}

/// The document as pretty JSON (what `/openapi.json` serves and `docs/openapi.json` holds).
pub fn openapi_json() -> String {
    serde_json::to_string_pretty(&document()).unwrap_or_else(|_| "{}".into())
}
