//! Thin handlers: extract, call the exchange, answer.

use crate::error::ApiResult;
use crate::extract::{Caller, Json, OptionalJson, Path, Query};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use symbolon_api::*;

type Created<T> = (StatusCode, axum::Json<T>);

fn created<T>(v: T) -> Created<T> {
    (StatusCode::CREATED, axum::Json(v))
}

fn ok<T>(v: T) -> axum::Json<T> {
    axum::Json(v)
}

/// Pagination parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<u32>,
}

/// Order list parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OrderParams {
    /// Which side to list: `provider` (orders of my products), `requester` (my orders), `holder` (orders I brought). Defaults to the first role the account has in that order.
    pub role: Option<String>,
    pub after: Option<String>,
    pub limit: Option<u32>,
}

/// Inbox parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InboxParams {
    /// `true`: only the requests still awaiting an answer (pending, before their deadline).
    pub pending: Option<bool>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/healthz", tag = "meta", responses((status = 200, body = Health)))]
pub async fn healthz() -> axum::Json<Health> {
    ok(Health {
        status: "ok".into(),
    })
}

#[utoipa::path(post, path = "/v1/accounts", tag = "accounts", request_body = CreateAccount,
    responses((status = 201, body = AccountCreated), (status = 400, body = ErrorBody), (status = 403, description = "`registration_closed`: this exchange does not accept new accounts", body = ErrorBody),
              (status = 409, description = "email_taken: `login.email` already signs in another account (compared case-insensitively)", body = ErrorBody),
              (status = 429, description = "too_many_registrations: this address reached the server's `registrations_per_ip_per_hour`; `Retry-After` says when to retry", body = ErrorBody,
               headers(("Retry-After" = u64, description = "Seconds until this address may register again")))))]
pub async fn create_account(
    State(s): State<AppState>,
    Json(req): Json<CreateAccount>,
) -> ApiResult<Created<AccountCreated>> {
    Ok(created(s.exchange.create_account(&req).await?))
}

#[utoipa::path(get, path = "/v1/account", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = Account), (status = 401, body = ErrorBody)))]
pub async fn whoami(State(s): State<AppState>, Caller(me): Caller) -> axum::Json<Account> {
    ok(s.exchange.whoami(&me))
}

#[utoipa::path(post, path = "/v1/products", tag = "provider", security(("bearer" = [])), request_body = CreateProduct,
    responses((status = 201, body = Product), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_product(
    State(s): State<AppState>,
    Caller(me): Caller,
    Json(req): Json<CreateProduct>,
) -> ApiResult<Created<Product>> {
    Ok(created(s.exchange.create_product(&me, &req).await?))
}

#[utoipa::path(get, path = "/v1/products", tag = "provider", security(("bearer" = [])), params(PageParams),
    responses((status = 200, description = "Your own products, oldest first", body = ProductList), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_products(
    State(s): State<AppState>,
    Caller(me): Caller,
    Query(p): Query<PageParams>,
) -> ApiResult<axum::Json<ProductList>> {
    Ok(ok(s
        .exchange
        .products(&me, p.after.as_deref(), p.limit)
        .await?))
}

#[utoipa::path(patch, path = "/v1/products/{id}", tag = "provider", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = UpdateProduct,
    responses((status = 200, description = "The product as it is now", body = Product), (status = 400, body = ErrorBody),
        (status = 403, description = "another provider's product", body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "product_has_passes: only `stock` changes once a pass signed the rest (`details.field`); product_archived", body = ErrorBody)))]
pub async fn update_product(
    State(s): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
    Json(req): Json<UpdateProduct>,
) -> ApiResult<axum::Json<Product>> {
    Ok(ok(s.exchange.update_product(&me, &id, &req).await?))
}

#[utoipa::path(post, path = "/v1/products/{id}/archive", tag = "provider", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, description = "The product, archived: no longer sold, its passes off the market (not revoked); paid orders go on. Archiving again changes nothing.", body = Product),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn archive_product(
    State(s): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Product>> {
    Ok(ok(s.exchange.archive_product(&me, &id).await?))
}

#[utoipa::path(get, path = "/v1/products/{id}", tag = "provider", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Product), (status = 404, body = ErrorBody)))]
pub async fn get_product(
    State(s): State<AppState>,
    Caller(_me): Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Product>> {
    Ok(ok(s.exchange.product(&id).await?))
}

#[utoipa::path(post, path = "/v1/passes", tag = "provider", security(("bearer" = [])), request_body = CreatePass,
    responses((status = 201, body = Pass), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "`product_archived`: the product is no longer sold; `product_changed`: the product changed while the pass was being signed (retry)", body = ErrorBody)))]
pub async fn create_pass(
    State(s): State<AppState>,
    Caller(me): Caller,
    Json(req): Json<CreatePass>,
) -> ApiResult<Created<Pass>> {
    Ok(created(s.exchange.create_pass(&me, &req).await?))
}

#[utoipa::path(get, path = "/v1/passes/{id}", tag = "public", params(("id" = String, Path)),
    responses((status = 200, body = Pass), (status = 404, body = ErrorBody)))]
pub async fn get_pass(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Pass>> {
    Ok(ok(s.exchange.pass(&id).await?))
}

#[utoipa::path(post, path = "/v1/passes/{id}/grants", tag = "provider", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = CreateGrant,
    responses((status = 201, body = Holding), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, description = "`units_exhausted`: the pass has no unit left to grant; `pass_revoked`, `pass_expired`: the pass cannot be granted; `product_archived`", body = ErrorBody)))]
pub async fn grant(
    State(s): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
    Json(req): Json<CreateGrant>,
) -> ApiResult<Created<Holding>> {
    Ok(created(s.exchange.grant(&me, &id, &req).await?))
}

#[utoipa::path(get, path = "/v1/providers/{id}/jwks.json", tag = "public", params(("id" = String, Path)),
    responses((status = 200, description = "The provider's JWK Set (RFC 7517) of Ed25519 keys", body = Object), (status = 404, body = ErrorBody)))]
pub async fn jwks(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<symbolon_pass::Jwks>> {
    Ok(ok(s.exchange.jwks(&id).await?))
}

#[utoipa::path(put, path = "/v1/holder/profile", tag = "holder", security(("bearer" = [])), request_body = HolderProfileUpdate,
    responses((status = 200, body = HolderPublic), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn holder_profile(
    State(s): State<AppState>,
    Caller(me): Caller,
    Json(req): Json<HolderProfileUpdate>,
) -> ApiResult<axum::Json<HolderPublic>> {
    Ok(ok(s.exchange.set_holder_profile(&me, &req).await?))
}

#[utoipa::path(get, path = "/v1/wallet", tag = "holder", security(("bearer" = [])),
    responses((status = 200, body = Wallet), (status = 403, body = ErrorBody)))]
pub async fn wallet(
    State(s): State<AppState>,
    Caller(me): Caller,
) -> ApiResult<axum::Json<Wallet>> {
    Ok(ok(s.exchange.wallet(&me).await?))
}

#[utoipa::path(get, path = "/v1/inbox", tag = "holder", security(("bearer" = [])), params(InboxParams),
    responses((status = 200, body = Inbox), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn inbox(
    State(s): State<AppState>,
    Caller(me): Caller,
    Query(p): Query<InboxParams>,
) -> ApiResult<axum::Json<Inbox>> {
    Ok(ok(s
        .exchange
        .inbox(&me, p.pending.unwrap_or(false), p.after.as_deref(), p.limit)
        .await?))
}

#[utoipa::path(post, path = "/v1/interactions/{id}/offer", tag = "holder", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = CreateOffer,
    responses((status = 201, body = Offer), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, description = "`interaction_closed`: the request was answered, declined or has expired; `pass_revoked`, `pass_expired`, `units_exhausted`, `product_archived`: the pass cannot be offered", body = ErrorBody),
        (status = 422, description = "`pass_signature_invalid`: the pass does not verify against its provider's published keys", body = ErrorBody)))]
pub async fn offer(
    State(s): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
    Json(req): Json<CreateOffer>,
) -> ApiResult<Created<Offer>> {
    Ok(created(s.exchange.offer(&me, &id, &req).await?))
}

#[utoipa::path(post, path = "/v1/interactions/{id}/decline", tag = "holder", security(("bearer" = [])), params(("id" = String, Path)),
    request_body(content = Option<DeclineInteraction>, description = "Optional: a reason the requester sees with the demand"),
    responses((status = 200, body = InteractionState), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, description = "`interaction_closed`: the request was already answered, declined or has expired", body = ErrorBody)))]
pub async fn decline(
    State(s): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
    OptionalJson(req): OptionalJson<DeclineInteraction>,
) -> ApiResult<axum::Json<InteractionState>> {
    Ok(ok(s
        .exchange
        .decline(&me, &id, req.reason.as_deref())
        .await?))
}

#[utoipa::path(post, path = "/v1/demands", tag = "requester", security(("bearer" = [])), request_body = CreateDemand,
    responses((status = 201, body = DemandCreated), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 422, description = "`insufficient_holders`: fewer holders qualify than `min_holders`; `details` counts the eliminations per criterion. Nobody was contacted.", body = ErrorBody),
        (status = 429, description = "`too_many_waiting_demands`, `too_many_open_demands`: the requester's limits on standing and open demands", body = ErrorBody)))]
pub async fn create_demand(
    State(s): State<AppState>,
    Caller(me): Caller,
    Json(req): Json<CreateDemand>,
) -> ApiResult<Created<DemandCreated>> {
    Ok(created(s.exchange.create_demand(&me, &req).await?))
}

#[utoipa::path(get, path = "/v1/demands", tag = "requester", security(("bearer" = [])), params(PageParams),
    responses((status = 200, description = "Your own demands, newest first, with their state", body = DemandList), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_demands(
    State(s): State<AppState>,
    Caller(me): Caller,
    Query(p): Query<PageParams>,
) -> ApiResult<axum::Json<DemandList>> {
    Ok(ok(s
        .exchange
        .demands(&me, p.after.as_deref(), p.limit)
        .await?))
}

#[utoipa::path(post, path = "/v1/demands/{id}/cancel", tag = "requester", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, description = "The demand, `cancelled`: no more requests go out, the pending ones are withdrawn, and none of its offers can be accepted; accepted offers and orders are unaffected", body = Demand),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "demand_cancelled (cancelled before) or demand_not_cancellable (accepted or expired; `details.status`)", body = ErrorBody)))]
pub async fn cancel_demand(
    State(s): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Demand>> {
    Ok(ok(s.exchange.cancel_demand(&me, &id).await?))
}

#[utoipa::path(get, path = "/v1/demands/{id}", tag = "requester", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Demand), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_demand(
    State(s): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Demand>> {
    Ok(ok(s.exchange.demand(&me, &id).await?))
}

#[utoipa::path(post, path = "/v1/offers/{id}/accept", tag = "requester", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Offer), (status = 403, body = ErrorBody), (status = 409, description = "`offer_already_accepted`: this or another offer of the demand was accepted; `demand_cancelled`; `interaction_closed`; `pass_revoked`, `pass_expired`, `product_archived`: the pass can no longer be sold", body = ErrorBody)))]
pub async fn accept(
    State(s): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Offer>> {
    Ok(ok(s.exchange.accept_offer(&me, &id).await?))
}

#[utoipa::path(post, path = "/v1/offers/{id}/rating", tag = "requester", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = CreateRating,
    responses((status = 201, body = Rating), (status = 403, body = ErrorBody), (status = 409, description = "`already_rated`: the offer was rated before; `rating_not_allowed`: only the requester of the accepted offer, once its order is delivered or its dispute closed", body = ErrorBody)))]
pub async fn rate(
    State(s): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
    Json(req): Json<CreateRating>,
) -> ApiResult<Created<Rating>> {
    Ok(created(s.exchange.rate(&me, &id, &req).await?))
}

#[utoipa::path(put, path = "/v1/requester/profile", tag = "requester", security(("bearer" = [])), request_body = RequesterProfileUpdate,
    responses((status = 200, body = RequesterProfile), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn set_requester_profile(
    State(s): State<AppState>,
    Caller(me): Caller,
    Json(req): Json<RequesterProfileUpdate>,
) -> ApiResult<axum::Json<RequesterProfile>> {
    Ok(ok(s.exchange.set_requester_profile(&me, &req).await?))
}

#[utoipa::path(get, path = "/v1/requester/profile", tag = "requester", security(("bearer" = [])),
    responses((status = 200, body = RequesterProfile), (status = 404, description = "`not_found`: no requester profile saved yet", body = ErrorBody)))]
pub async fn get_requester_profile(
    State(s): State<AppState>,
    Caller(me): Caller,
) -> ApiResult<axum::Json<RequesterProfile>> {
    Ok(ok(s.exchange.requester_profile(&me).await?))
}

#[utoipa::path(post, path = "/v1/orders", tag = "requester", security(("bearer" = [])), request_body = CreateOrder,
    responses((status = 201, body = Order), (status = 400, body = ErrorBody), (status = 402, description = "`payment_declined`: the card was declined; nothing was ordered", body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 409, description = "`offer_not_accepted`, `already_ordered`; `pass_revoked`, `pass_expired`, `product_archived`; `insufficient_stock`, `units_exhausted`, `unit_already_sold` (when paying at once)", body = ErrorBody), (status = 422, description = "`payment_method_missing`: `pay: true` without a saved payment method; `shipping_address_missing`: no `ship_to` given or saved", body = ErrorBody),
        (status = 429, description = "`too_many_unpaid_orders`: the requester's unpaid orders or their quantities reached the limit", body = ErrorBody)))]
pub async fn create_order(
    State(s): State<AppState>,
    Caller(me): Caller,
    Json(req): Json<CreateOrder>,
) -> ApiResult<Created<Order>> {
    Ok(created(s.exchange.create_order(&me, &req).await?))
}

#[utoipa::path(get, path = "/v1/orders", tag = "orders", security(("bearer" = [])), params(OrderParams),
    responses((status = 200, body = OrderList), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_orders(
    State(s): State<AppState>,
    Caller(me): Caller,
    Query(p): Query<OrderParams>,
) -> ApiResult<axum::Json<OrderList>> {
    Ok(ok(s
        .exchange
        .orders(&me, p.role.as_deref(), p.after.as_deref(), p.limit)
        .await?))
}

#[utoipa::path(get, path = "/v1/orders/{id}", tag = "orders", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Order), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_order(
    State(s): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Order>> {
    Ok(ok(s.exchange.order(&me, &id).await?))
}

#[utoipa::path(post, path = "/v1/orders/{id}/pay", tag = "requester", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Order), (status = 402, description = "`payment_declined`: the card was declined; the order stays unpaid", body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, description = "`invalid_transition`: the order is not unpaid (`details.status`); `order_expired`: it passed `pay_by`; `insufficient_stock`, `units_exhausted`, `unit_already_sold`; `product_archived`", body = ErrorBody),
        (status = 422, description = "`payment_method_missing`: no saved payment method", body = ErrorBody)))]
pub async fn pay_order(
    State(s): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Order>> {
    Ok(ok(s.exchange.pay_order(&me, &id).await?))
}

#[utoipa::path(post, path = "/v1/orders/{id}/ship", tag = "provider", security(("bearer" = [])), params(("id" = String, Path)),
    request_body(content = Option<ShipOrder>, description = "Optional: the carrier and tracking number, shown to the requester on the order"),
    responses((status = 200, body = Order), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, description = "`invalid_transition`: the order is not paid (`details.status`)", body = ErrorBody)))]
pub async fn ship_order(
    State(s): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
    OptionalJson(req): OptionalJson<ShipOrder>,
) -> ApiResult<axum::Json<Order>> {
    Ok(ok(s
        .exchange
        .ship_order(&me, &id, req.tracking.as_deref())
        .await?))
}

#[utoipa::path(get, path = "/v1/balance", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = Balances), (status = 401, body = ErrorBody)))]
pub async fn balance(
    State(s): State<AppState>,
    Caller(me): Caller,
) -> ApiResult<axum::Json<Balances>> {
    Ok(ok(s.exchange.balances(&me).await?))
}

#[utoipa::path(get, path = "/v1/holders/{id}", tag = "public", params(("id" = String, Path)),
    responses((status = 200, body = HolderPublic), (status = 404, body = ErrorBody)))]
pub async fn get_holder(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<HolderPublic>> {
    Ok(ok(s.exchange.holder_public(&id).await?))
}

// ---------------------------------------------------------------- verifiable passes

#[utoipa::path(post, path = "/v1/passes/{id}/revoke", tag = "provider", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, description = "The pass, now `revoked`; its bit is set in the provider's status list. Revoking again changes nothing.", body = Pass),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_pass(
    State(s): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Pass>> {
    Ok(ok(s.exchange.revoke_pass(&me, &id).await?))
}

#[utoipa::path(get, path = "/v1/providers/{id}/status/revocation", tag = "public", params(("id" = String, Path)),
    responses((status = 200, description = "The provider's revocation list: a Bitstring Status List credential as a compact JWS (`application/vc+jwt`), valid for 10 minutes", content_type = "application/vc+jwt", body = String),
        (status = 404, body = ErrorBody)))]
pub async fn status_list(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<impl axum::response::IntoResponse> {
    let jws = s.exchange.status_list(&id).await?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "application/vc+jwt"),
            (axum::http::header::CACHE_CONTROL, "max-age=60"),
        ],
        jws,
    ))
}

#[utoipa::path(get, path = "/.well-known/jwt-vc-issuer/v1/providers/{id}", tag = "public", params(("id" = String, Path)),
    responses((status = 200, description = "SD-JWT VC issuer metadata: `{issuer, jwks_uri}`", body = Object), (status = 404, body = ErrorBody)))]
pub async fn issuer_metadata(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    Ok(ok(s.exchange.issuer_metadata(&id).await?))
}

#[utoipa::path(get, path = "/v1/provider/keys", tag = "provider", security(("bearer" = [])),
    responses((status = 200, body = SigningKeys), (status = 403, body = ErrorBody)))]
pub async fn signing_keys(
    State(s): State<AppState>,
    Caller(me): Caller,
) -> ApiResult<axum::Json<SigningKeys>> {
    Ok(ok(s.exchange.signing_keys(&me).await?))
}

#[utoipa::path(post, path = "/v1/provider/keys/rotate", tag = "provider", security(("bearer" = [])),
    responses((status = 200, description = "A new key signs from now on; retired keys stay published until their passes expire", body = SigningKeys), (status = 403, body = ErrorBody),
        (status = 409, description = "`invalid_state`: the provider has reached its number of signing keys", body = ErrorBody)))]
pub async fn rotate_key(
    State(s): State<AppState>,
    Caller(me): Caller,
) -> ApiResult<axum::Json<SigningKeys>> {
    Ok(ok(s.exchange.rotate_key(&me).await?))
}

#[utoipa::path(get, path = "/v1/passes/{id}/units/{unit}/history", tag = "public",
    params(("id" = String, Path), ("unit" = i64, Path, description = "Unit number, 1…units")),
    responses((status = 200, body = UnitHistory), (status = 404, body = ErrorBody)))]
pub async fn unit_history(
    State(s): State<AppState>,
    Path((id, unit)): Path<(String, i64)>,
) -> ApiResult<axum::Json<UnitHistory>> {
    Ok(ok(s.exchange.unit_history(&id, unit).await?))
}

#[utoipa::path(get, path = "/v1/passes/{id}/units", tag = "public",
    params(("id" = String, Path), PageParams),
    responses((status = 200, description = "The units that have changed hands, by number, and how many are left to buy", body = PassUnits),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn pass_units(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(p): Query<PageParams>,
) -> ApiResult<axum::Json<PassUnits>> {
    Ok(ok(s
        .exchange
        .pass_units(&id, p.after.as_deref(), p.limit)
        .await?))
}

#[utoipa::path(post, path = "/v1/passes/{id}/units/{unit}/transfer", tag = "requester", security(("bearer" = [])),
    params(("id" = String, Path), ("unit" = i64, Path)), request_body = TransferUnit,
    responses((status = 200, body = UnitHistory), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "`invalid_state`: the unit is not yours to hand on, or has changed hands too often", body = ErrorBody)))]
pub async fn transfer_unit(
    State(s): State<AppState>,
    Caller(me): Caller,
    Path((id, unit)): Path<(String, i64)>,
    Json(req): Json<TransferUnit>,
) -> ApiResult<axum::Json<UnitHistory>> {
    Ok(ok(s.exchange.transfer_unit(&me, &id, unit, &req).await?))
}

#[utoipa::path(post, path = "/v1/passes/{id}/orders", tag = "orders", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = CreatePassOrder,
    responses((status = 201, body = Order), (status = 400, body = ErrorBody), (status = 402, description = "`payment_declined`: the card was declined; nothing was ordered", body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "`pass_revoked`, `pass_expired`, `product_archived`; `insufficient_stock`, `units_exhausted`, `unit_already_sold` (when paying at once)", body = ErrorBody), (status = 422, description = "`payment_method_missing`: `pay: true` without a saved payment method; `shipping_address_missing`: no `ship_to` given or saved", body = ErrorBody),
        (status = 429, description = "`too_many_unpaid_orders`: the requester's unpaid orders or their quantities reached the limit", body = ErrorBody)))]
pub async fn pass_order(
    State(s): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
    Json(req): Json<CreatePassOrder>,
) -> ApiResult<Created<Order>> {
    Ok(created(s.exchange.pass_order(&me, &id, &req).await?))
}

#[utoipa::path(post, path = "/v1/provider/keys", tag = "provider", security(("bearer" = [])), request_body = RegisterSigningKey,
    responses((status = 200, description = "The key is published at once and may sign passes you upload", body = SigningKeys),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, description = "`invalid_state`: the key is registered already, or the provider has reached its number of signing keys", body = ErrorBody)))]
pub async fn register_key(
    State(s): State<AppState>,
    Caller(me): Caller,
    Json(req): Json<RegisterSigningKey>,
) -> ApiResult<axum::Json<SigningKeys>> {
    Ok(ok(s.exchange.register_key(&me, &req).await?))
}

#[utoipa::path(post, path = "/v1/passes/upload", tag = "provider", security(("bearer" = [])), request_body = UploadPass,
    responses((status = 201, description = "A pass you signed yourself (`symbolon pass sign`), verified and issued", body = Pass),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, description = "`invalid_state`: the signing key is not one of yours, or retired; `product_archived`", body = ErrorBody), (status = 422, description = "`pass_signature_invalid`: the pass does not verify against your published keys", body = ErrorBody)))]
pub async fn upload_pass(
    State(s): State<AppState>,
    Caller(me): Caller,
    Json(req): Json<UploadPass>,
) -> ApiResult<Created<Pass>> {
    Ok(created(s.exchange.upload_pass(&me, &req).await?))
}
