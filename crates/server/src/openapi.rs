//! The OpenAPI 3.1 document, generated from the handlers' annotations.
//! `docs/openapi.json` is the committed copy; a test fails when they drift.

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
                    "Makes the POST safe to retry (Stripe semantics): the same key with the same request replays the first answer (`Idempotent-Replayed: true`); with another request, or while the first still runs → 409 `idempotency_error`. Keys are per account, 1–255 visible ASCII characters, kept 24 h.",
                ))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String).max_length(Some(255))))
                .build();
            op.parameters.get_or_insert_with(Vec::new).push(p);
        }
    }
}

/// Documents 408 `request_timeout` on every operation with a request body:
/// a body that does not arrive within `body_read_timeout` is cut off.
struct BodyTimeout;

impl Modify for BodyTimeout {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        for item in openapi.paths.paths.values_mut() {
            for op in [item.post.as_mut(), item.put.as_mut(), item.patch.as_mut()]
                .into_iter()
                .flatten()
            {
                if op.request_body.is_none() {
                    continue;
                }
                let response = ResponseBuilder::new()
                    .description(
                        "request_timeout: the body did not arrive within the server's body read timeout (30 s by default); the connection is closed",
                    )
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("ErrorBody")))
                            .build(),
                    )
                    .build();
                op.responses
                    .responses
                    .insert("408".to_string(), response.into());
            }
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Symbolon API", version = "1", description = "The Symbolon exchange: demands to at least two qualified holders, provider-signed passes, one-click order and payment, reputation.\n\nErrors are `{\"error\": {\"code\", \"message\", \"details\"?}}` with a stable code."),
    modifiers(&BearerAuth, &IdempotencyHeader, &BodyTimeout),
    paths(
        healthz, create_account, whoami, create_product, list_products, update_product, archive_product,
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
    components(schemas(ErrorBody, ErrorDetail, Money, Role, PassMode)),
    tags(
        (name = "accounts"), (name = "provider"), (name = "holder"), (name = "requester"),
        (name = "orders"), (name = "operator", description = "Operators resolve disputes. The role is never open to registration: `symbolon admin create-operator` makes an operator account."), (name = "public"), (name = "meta"),
        (name = "sealed secrets", description = "A pass may carry a secret sealed on the provider's machine: zstd, then an age v1 file to an X25519 identity split k-of-n (Shamir); the exchange stores the payload, the provider-signed header and shares wrapped (age) to their recipients, and can open nothing. The requester opens it with the holder's share (sent with the offer) and the provider's (released once the order is paid)."),
        (name = "events", description = "Every event is delivered at least once and carries one id (SSE `id`, `webhook-id`, dedupe key). Webhooks follow Standard Webhooks v1: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256(id.timestamp.body)>` with the `whsec_` secret. Retries: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, then every 10 h (±20 % jitter); 2xx succeeds, 410 disables the endpoint, 429/502/504 honour `Retry-After`; an endpoint failing for 5 days is disabled, its events kept until it is enabled again."),
        (name = "transparency", description = "Every demand's selection (holders contacted with their score parts, or the refusal) is an entry of an RFC 6962 Merkle-tree log whose checkpoints the exchange's Ed25519 key signs as C2SP signed notes. `symbolon audit verify --demand ID` checks an entry, its inclusion proof, the checkpoint's signature and the log's consistency with the last checkpoint it saw.")
    )
)]
pub struct ApiDoc;

/// The document as pretty JSON (what `/openapi.json` serves and `docs/openapi.json` holds).
pub fn openapi_json() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|_| "{}".into())
}
