//! Records → wire types.

use symbolon_api as api;
use symbolon_core::state::{OrderStatus, PassMode, Role};
use symbolon_core::{Currency, Money, Timestamp};
use symbolon_store as store;

pub fn money(minor: i64, currency: &str) -> api::Money {
    match Currency::parse(currency) {
        Ok(c) => {
            let m = Money::new(minor, c);
            api::Money::new(m.amount_string(), c.as_str())
        }
        Err(_) => api::Money::new(minor.to_string(), currency),
    }
}

pub fn ts(t: Timestamp) -> String {
    t.to_rfc3339()
}

pub fn role(r: Role) -> api::Role {
    match r {
        Role::Provider => api::Role::Provider,
        Role::Holder => api::Role::Holder,
        Role::Requester => api::Role::Requester,
        Role::Operator => api::Role::Operator,
    }
}

pub fn role_in(r: api::Role) -> Role {
    match r {
        api::Role::Provider => Role::Provider,
        api::Role::Holder => Role::Holder,
        api::Role::Requester => Role::Requester,
        api::Role::Operator => Role::Operator,
    }
}

pub fn mode(m: PassMode) -> api::PassMode {
    match m {
        PassMode::Shareable => api::PassMode::Shareable,
        PassMode::Unique => api::PassMode::Unique,
    }
}

pub fn account(a: &store::Account) -> api::Account {
    api::Account {
        id: a.id.clone(),
        name: a.name.clone(),
        roles: a.roles.iter().copied().map(role).collect(),
        created_at: ts(a.created_at),
    }
}

pub fn product(p: &store::Product) -> api::Product {
    api::Product {
        id: p.id.clone(),
        provider_id: p.provider_id.clone(),
        title: p.title.clone(),
        description: p.description.clone(),
        category: p.category.clone(),
        specs: p.specs.iter().cloned().collect(),
        price: money(p.price_minor, &p.currency),
        stock: p.stock,
        created_at: ts(p.created_at),
        gtin: p.gtin.clone(),
        archived_at: p.archived_at.map(ts),
    }
}

pub fn pass_url(public_url: &str, pass_id: &str) -> String {
    format!("{public_url}/v1/passes/{pass_id}")
}

/// The pass's web page (its credential's `link`).
pub fn page_url(public_url: &str, pass_id: &str) -> String {
    format!("{public_url}/p/{pass_id}")
}

/// `active`, `revoked`, `expired` or `not_yet_valid` at `now`.
pub fn pass_status(p: &store::Pass, now: symbolon_core::Timestamp) -> &'static str {
    if p.revoked_at.is_some() {
        "revoked"
    } else if now < p.valid_from {
        "not_yet_valid"
    } else if p.valid_until.is_some_and(|u| now >= u) {
        "expired"
    } else {
        "active"
    }
}

pub fn pass(
    public_url: &str,
    p: &store::Pass,
    product: &store::Product,
    now: symbolon_core::Timestamp,
) -> api::Pass {
    api::Pass {
        id: p.id.clone(),
        product_id: p.product_id.clone(),
        provider_id: p.provider_id.clone(),
        title: product.title.clone(),
        price: money(product.price_minor, &product.currency),
        mode: mode(p.mode),
        units: p.units,
        commission_bps: p.commission_bps,
        valid_from: ts(p.valid_from),
        valid_until: p.valid_until.map(ts),
        jws: p.jws.clone(),
        url: pass_url(public_url, &p.id),
        page: page_url(public_url, &p.id),
        status: pass_status(p, now).to_string(),
        revoked_at: p.revoked_at.map(ts),
        created_at: ts(p.created_at),
    }
}

pub fn pass_summary(
    public_url: &str,
    p: &store::Pass,
    product: &store::Product,
) -> api::PassSummary {
    api::PassSummary {
        id: p.id.clone(),
        jws: p.jws.clone(),
        url: pass_url(public_url, &p.id),
        title: product.title.clone(),
        price: money(product.price_minor, &product.currency),
        mode: mode(p.mode),
        provider_id: p.provider_id.clone(),
    }
}

pub fn holding(
    public_url: &str,
    h: &store::Holding,
    now: symbolon_core::Timestamp,
) -> api::Holding {
    api::Holding {
        grant_id: h.grant_id.clone(),
        holder_id: h.holder_id.clone(),
        pass: pass(public_url, &h.pass, &h.product, now),
        units_granted: h.units_granted,
        units_left: h.units_left,
        granted_at: ts(h.granted_at),
    }
}

pub fn holder_public(h: &store::HolderState) -> api::HolderPublic {
    api::HolderPublic {
        id: h.id.clone(),
        name: h.name.clone(),
        fields: h.fields.clone(),
        positive_rate: h.reputation.positive_rate(),
        ratings: h.reputation.ratings,
        success_rate: h.reputation.success_rate(),
        interactions: h.reputation.interactions,
    }
}

pub fn demand_item(d: &store::DemandRecord) -> api::DemandItem {
    api::DemandItem {
        query: d.query.clone(),
        category: d.category.clone(),
        max_price: match (d.max_price_minor, &d.currency) {
            (Some(m), Some(c)) => Some(money(m, c)),
            _ => None,
        },
    }
}

pub fn address(a: &store::Address) -> api::Address {
    api::Address {
        name: a.name.clone(),
        line1: a.line1.clone(),
        line2: a.line2.clone(),
        city: a.city.clone(),
        postal_code: a.postal_code.clone(),
        country: a.country.clone(),
    }
}

/// An order as its requester and provider see it; `return_window` dates `return_by`.
pub fn order(o: &store::Order, return_window: std::time::Duration) -> api::Order {
    let a = &o.after_sale;
    api::Order {
        id: o.id.clone(),
        status: o.status.as_str().to_string(),
        offer_id: o.offer_id.clone(),
        product_id: o.product_id.clone(),
        pass_id: o.pass_id.clone(),
        requester_id: o.requester_id.clone(),
        provider_id: o.provider_id.clone(),
        holder_id: o.holder_id.clone(),
        unit_no: o.unit_no,
        quantity: o.quantity,
        unit_price: money(o.unit_price_minor, &o.currency),
        total: money(o.total_minor, &o.currency),
        commission: money(o.commission_minor, &o.currency),
        ship_to: Some(address(&o.ship_to)),
        payment_ref: o.payment_ref.clone(),
        created_at: ts(o.created_at),
        paid_at: o.paid_at.map(ts),
        shipped_at: o.shipped_at.map(ts),
        tracking: a.tracking.clone(),
        pay_by: o.pay_by.filter(|_| o.status == OrderStatus::Placed).map(ts),
        refunded_total: money(a.refunded_minor, &o.currency),
        commission_reversed: money(a.commission_reversed_minor, &o.currency),
        delivered_at: a.delivered_at.map(ts),
        cancelled_at: a.cancelled_at.map(ts),
        cancel_reason: a.cancel_reason.clone(),
        return_status: a.return_status.map(|r| r.as_str().to_string()),
        return_by: a
            .delivered_at
            .filter(|_| o.status == OrderStatus::Delivered && a.settled_at.is_none())
            .map(|t| ts(t.plus_millis(return_window.as_millis() as i64))),
        dispute_id: a.dispute_id.clone(),
        settled_at: a.settled_at.map(ts),
    }
}

/// An order as the holder that brought it sees it: without the buyer's
/// address, payment reference, shipment tracking or reason for cancelling.
pub fn order_for_holder(o: &store::Order, return_window: std::time::Duration) -> api::Order {
    api::Order {
        ship_to: None,
        payment_ref: None,
        tracking: None,
        cancel_reason: None,
        ..order(o, return_window)
    }
}

pub fn interaction_state(i: &store::Interaction, now: Timestamp) -> api::InteractionState {
    api::InteractionState {
        id: i.id.clone(),
        demand_id: i.demand_id.clone(),
        status: i.status_at(now).as_str().to_string(),
    }
}
