//! The readable (non-`--json`) forms of the API's answers.

use super::*;

pub(super) fn print_holder(h: &api::HolderPublic) {
    let mut f = Fields::new();
    output::holder_fields(&mut f, h);
    f.print();
}

pub(super) fn print_pass(p: &api::Pass) {
    Fields::new()
        .add("id", &p.id)
        .add("title", &p.title)
        .add("product", &p.product_id)
        .add("provider", &p.provider_id)
        .add("price", output::money(&p.price))
        .add("mode", output::mode(p.mode))
        .opt("units", p.units)
        .add("commission", output::bps(p.commission_bps))
        .add("valid from", &p.valid_from)
        .opt("valid until", p.valid_until.as_deref())
        .add("status", &p.status)
        .add("url", &p.url)
        .add("page", &p.page)
        .add("created", &p.created_at)
        .add("jws", &p.jws)
        .print();
}

pub(super) fn print_offer(o: &api::Offer) {
    Fields::new()
        .add("offer", &o.id)
        .add("status", &o.status)
        .add("demand", &o.demand_id)
        .add("interaction", &o.interaction_id)
        .add("holder", format!("{} ({})", o.holder.name, o.holder.id))
        .add("holder positive rate", output::rate(o.holder.positive_rate))
        .add("pass", &o.pass.id)
        .add("title", &o.pass.title)
        .add("price", output::money(&o.pass.price))
        .add("mode", output::mode(o.pass.mode))
        .add("provider", &o.pass.provider_id)
        .opt("note", o.note.as_deref())
        .add("created", &o.created_at)
        .some("accepted", o.accepted_at.as_deref())
        .some("unit", o.unit.as_deref())
        .some("licence", o.licence.as_deref())
        .print();
}

pub(super) fn contacted_table(contacted: &[api::Contacted]) -> comfy_table::Table {
    let mut t = output::table([
        "Rank",
        "Holder",
        "Name",
        "Status",
        "Score",
        "Why",
        "Interaction",
    ]);
    for c in contacted {
        let w = &c.why;
        let mut why = vec![
            format!("relevance {}", output::score(w.relevance)),
            format!(
                "positive LB {}, success LB {}",
                output::score(w.positive_lower_bound),
                output::score(w.success_lower_bound)
            ),
        ];
        if !w.matched_fields.is_empty() {
            why.push(format!("fields: {}", w.matched_fields.join(", ")));
        }
        why.push(format!("passes: {}", output::list(&w.matched_pass_ids)));
        let status = match c.decline_reason.as_deref() {
            Some(why) => format!("{}: {why}", c.status),
            None => c.status.clone(),
        };
        t.add_row([
            c.rank.to_string(),
            c.holder_id.clone(),
            c.holder_name.clone(),
            status,
            output::score(w.score),
            why.join("\n"),
            c.interaction_id.clone(),
        ]);
    }
    t
}

pub(super) fn print_demand(d: &api::Demand) {
    let criteria = &d.holder;
    let mut crit = Vec::new();
    if let Some(r) = criteria.min_positive_rate {
        crit.push(format!("positive rate >= {}", output::rate(Some(r))));
    }
    if let Some(r) = criteria.min_success_rate {
        crit.push(format!("success rate >= {}", output::rate(Some(r))));
    }
    if let Some(n) = criteria.min_ratings {
        crit.push(format!("ratings >= {n}"));
    }
    if let Some(fields) = criteria.fields.as_ref().filter(|f| !f.is_empty()) {
        crit.push(format!("fields: {}", fields.join(", ")));
    }
    Fields::new()
        .add("demand", &d.id)
        .add("status", &d.status)
        .add("query", &d.item.query)
        .opt("category", d.item.category.as_deref())
        .add("max price", output::opt_money(d.item.max_price.as_ref()))
        .add("holder criteria", output::list(&crit))
        .add("holders", format!("{} to {}", d.min_holders, d.max_holders))
        .add("ttl", format!("{} s", d.ttl_seconds))
        .add("deadline", &d.deadline)
        .opt("accepted offer", d.accepted_offer_id.as_deref())
        .some("cancelled", d.cancelled_at.as_deref())
        .add("requester", &d.requester_id)
        .add("created", &d.created_at)
        .print();
    output::print_section(
        &format!("Contacted holders ({})", d.contacted.len()),
        &contacted_table(&d.contacted),
    );
    output::print_section(&format!("Offers ({})", d.offers.len()), &offers_table(d));
}

/// The offers side by side, as a buyer compares them: the holder's rank and
/// why (from the contacted list), its reputation with the counts behind the
/// rates, the pass, its price and until when it is valid (as the pass claims;
/// `pass verify` checks it). The offer id — what `accept` needs — is the one
/// id column; holders' ids are in the contacted table, passes' in `--json`.
pub(super) fn offers_table(d: &api::Demand) -> comfy_table::Table {
    let mut t = output::table([
        "Offer",
        "Status",
        "Rank",
        "Holder",
        "Reputation",
        "Pass",
        "Price",
        "Valid until",
        "Why",
        "Note",
    ]);
    for o in &d.offers {
        let contacted = d.contacted.iter().find(|c| c.holder_id == o.holder.id);
        let h = &o.holder;
        let count = |n: u64, what: &str, rate: Option<f64>, label: &str| match n {
            0 => format!("no {what}s yet"),
            n => format!(
                "{label} {} of {n} {what}{}",
                output::rate(rate),
                if n == 1 { "" } else { "s" }
            ),
        };
        let reputation = format!(
            "{}\n{}",
            count(h.ratings, "rating", h.positive_rate, "positive"),
            count(h.interactions, "request", h.success_rate, "success"),
        );
        let valid_until = symbolon_pass::peek_claims(&o.pass.jws)
            .ok()
            .and_then(|c| {
                c.get("validUntil")
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            })
            .unwrap_or_else(|| "no expiry".into());
        t.add_row([
            o.id.clone(),
            o.status.clone(),
            contacted.map_or(output::NONE.into(), |c| c.rank.to_string()),
            h.name.clone(),
            reputation,
            o.pass.title.clone(),
            output::money(&o.pass.price),
            valid_until,
            contacted.map_or(output::NONE.into(), |c| {
                format!(
                    "score {}: relevance {}, positive LB {}, success LB {}",
                    output::score(c.why.score),
                    output::score(c.why.relevance),
                    output::score(c.why.positive_lower_bound),
                    output::score(c.why.success_lower_bound)
                )
            }),
            output::opt_str(o.note.as_deref()),
        ]);
    }
    t
}

/// A provider's products: the id `product update`/`archive` need, and whether
/// each is still sold.
pub(super) fn products_table(l: &api::ProductList) -> comfy_table::Table {
    let mut t = output::table(["Product", "Title", "Price", "Stock", "Status", "Created"]);
    for p in &l.items {
        t.add_row([
            p.id.clone(),
            p.title.clone(),
            output::money(&p.price),
            p.stock.to_string(),
            match &p.archived_at {
                Some(_) => "archived".to_string(),
                None if p.stock == 0 => "sold out".to_string(),
                None => "on sale".to_string(),
            },
            p.created_at.clone(),
        ]);
    }
    t
}

/// A requester's demands, newest first: state and how far each got (offers
/// of holders contacted). The accepted offer is in `demand show`.
pub(super) fn demands_table(l: &api::DemandList) -> comfy_table::Table {
    let mut t = output::table(["Demand", "Status", "Query", "Offers", "Created"]);
    for d in &l.items {
        t.add_row([
            d.id.clone(),
            d.status.clone(),
            d.item.query.clone(),
            format!("{} of {}", d.offers, d.contacted),
            d.created_at.clone(),
        ]);
    }
    t
}

pub(super) fn print_requester_profile(p: &api::RequesterProfile) {
    Fields::new()
        .add(
            "ship to",
            p.ship_to
                .as_ref()
                .map(output::address)
                .unwrap_or_else(|| output::NONE.into()),
        )
        .add(
            "payment method",
            p.payment_method
                .as_ref()
                .map(|m| format!("{} ending {}", m.kind, m.last4))
                .unwrap_or_else(|| output::NONE.into()),
        )
        .add("updated", &p.updated_at)
        .print();
}

pub(super) fn print_order(o: &api::Order) {
    let mut f = Fields::new();
    f.add("order", &o.id)
        .add("status", &o.status)
        .add(
            "offer",
            o.offer_id.as_deref().unwrap_or("— (ordered on the pass)"),
        )
        .add("product", &o.product_id)
        .add("pass", &o.pass_id)
        .add("quantity", o.quantity)
        .some(
            "unit",
            o.unit_no
                .map(|n| format!("{n}  (symbolon pass history {} {n})", o.pass_id))
                .as_deref(),
        )
        .add("unit price", output::money(&o.unit_price))
        .add("total", output::money(&o.total));
    if !output::is_zero(&o.refunded_total) {
        f.add("refunded", output::money(&o.refunded_total));
    }
    f.add("commission", output::money(&o.commission));
    if !output::is_zero(&o.commission_reversed) {
        f.add("commission reversed", output::money(&o.commission_reversed));
    }
    f.add("requester", &o.requester_id)
        .add("provider", &o.provider_id)
        .add("holder", o.holder_id.as_deref().unwrap_or("—"))
        .opt(
            "ship to",
            o.ship_to.as_ref().map(output::address).as_deref(),
        )
        .opt("payment", o.payment_ref.as_deref())
        .add("created", &o.created_at)
        .some("pay by", o.pay_by.as_deref())
        .opt("paid", o.paid_at.as_deref())
        .opt("shipped", o.shipped_at.as_deref())
        .some("tracking", o.tracking.as_deref())
        .some("delivered", o.delivered_at.as_deref())
        .some("return by", o.return_by.as_deref())
        .some("return", o.return_status.as_deref())
        .some("cancelled", o.cancelled_at.as_deref())
        .some("cancel reason", o.cancel_reason.as_deref())
        .some("dispute", o.dispute_id.as_deref())
        .some("settled", o.settled_at.as_deref())
        .print();
}
