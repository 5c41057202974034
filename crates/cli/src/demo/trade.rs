//! The demo's acts 4 to 7: the demand, the offers, the order, and delivery
//! and rating.

use super::market::{counts, find_request};
use super::*;

// ---- 4. the demand

pub(super) struct Asked {
    pub(super) demand_id: String,
    pub(super) contacted: Vec<api::Contacted>,
    pub(super) strict_refused: bool,
}

pub(super) const MIN_POSITIVE: f64 = 0.8;
pub(super) const MIN_RATINGS: u64 = 2;
pub(super) const FIELD: &str = "electronics/audio";
pub(super) const CATEGORY: &str = "electronics/audio/headphones";

pub(super) async fn demand_phase(cast: &Cast, requester: &Acct) -> Result<Asked> {
    header(4, "A requester sends a demand");
    let t = Instant::now();
    let address = api::Address {
        name: "Mei Lin".into(),
        line1: "88 Market Street".into(),
        line2: Some("Apt 12B".into()),
        city: "San Francisco".into(),
        postal_code: "94103".into(),
        country: "US".into(),
    };
    let profile = requester
        .client
        .set_requester_profile(&api::RequesterProfileUpdate {
            ship_to: Some(address),
            payment_method: Some(api::PaymentMethodInput {
                kind: "sandbox_card".into(),
                number: "4242424242424242".into(),
            }),
        })
        .await
        .context("saving the requester profile")?;
    let card = profile
        .payment_method
        .as_ref()
        .map(|m| format!("card •••• {}", m.last4))
        .unwrap_or_default();
    let ship = profile
        .ship_to
        .as_ref()
        .map(|a| format!("{}, {}", a.line1, a.city))
        .unwrap_or_default();
    done(
        &format!(
            "{} registered; profile saved (ship to {ship}; {card})",
            requester.name
        ),
        t,
    );

    let demand = api::CreateDemand {
        query: "降噪耳机".into(),
        category: Some(CATEGORY.into()),
        max_price: Some(usd("400.00")),
        holder: api::HolderCriteria {
            min_positive_rate: Some(MIN_POSITIVE),
            min_success_rate: None,
            min_ratings: Some(MIN_RATINGS),
            fields: Some(vec![FIELD.into()]),
        },
        min_holders: Some(2),
        max_holders: Some(5),
        ttl_seconds: Some(600),
        wait: None,
    };
    println!();
    kv("query", "降噪耳机 (noise-cancelling headphones)");
    kv("category", CATEGORY);
    kv("max price", "$400.00");
    kv(
        "holders",
        &format!("positive rate ≥ {}, at least {MIN_RATINGS} ratings, a field on {FIELD}; at least 2 of them", pct(MIN_POSITIVE)),
    );
    let t = Instant::now();
    let created = requester
        .client
        .create_demand(&demand)
        .await
        .context("sending the demand")?;
    ensure!(
        created.contacted.len() >= 2,
        "the exchange contacted {} holders, expected at least 2",
        created.contacted.len()
    );
    let d = requester
        .client
        .demand(&created.id)
        .await
        .context("reading the demand back")?;
    println!();
    done(
        &format!(
            "demand {} is {}: {} holders contacted, best match first",
            d.id,
            d.status,
            d.contacted.len()
        ),
        t,
    );
    note("score = 0.60·relevance + 0.25·Wilson(positive) + 0.15·Wilson(success)  (Wilson = 95% lower bound)");
    let mut publics = HashMap::new();
    for h in &cast.holders {
        let p = requester
            .client
            .holder(&h.acct.id)
            .await
            .with_context(|| format!("reading holder {}", h.acct.name))?;
        publics.insert(h.acct.id.clone(), p);
    }
    let mut table = new_table(&[
        "#",
        "Holder",
        "Score",
        "Relevance",
        "Wilson⁺",
        "Wilson✓",
        "Why: positive · ratings · field",
    ]);
    for c in &d.contacted {
        let p = publics
            .get(&c.holder_id)
            .ok_or_else(|| anyhow!("unknown contacted holder {}", c.holder_id))?;
        let why = format!(
            "{} ≥ {} · {} ≥ {MIN_RATINGS} · {}",
            p.positive_rate.map(pct).unwrap_or_else(|| "—".into()),
            pct(MIN_POSITIVE),
            p.ratings,
            c.why.matched_fields.join(", ")
        );
        table.add_row(vec![
            c.rank.to_string(),
            c.holder_name.clone(),
            format!("{:.3}", c.why.score),
            format!("{:.2}", c.why.relevance),
            format!("{:.3}", c.why.positive_lower_bound),
            format!("{:.3}", c.why.success_lower_bound),
            why,
        ]);
    }
    align_right(&mut table, &[0, 2, 3, 4, 5]);
    print_table(&table);
    note("Wilson bounds reward evidence: 3 of 3 counts less than 9 of 10; declining lowers the success bound.");

    println!();
    note("Left out:");
    let mut table = new_table(&[
        "Holder",
        "Not met (read from the public profile and catalog)",
    ]);
    for h in &cast.holders {
        if d.contacted.iter().any(|c| c.holder_id == h.acct.id) {
            continue;
        }
        let p = &publics[&h.acct.id];
        let mut unmet = Vec::new();
        let in_category = h.plan.grants.iter().any(|(key, _)| {
            cast.listed
                .get(key)
                .is_some_and(|l| under(&l.product.category, CATEGORY))
        });
        if !in_category {
            unmet.push("no pass in the category".to_string());
        }
        match p.positive_rate {
            None => unmet.push("no positive rate yet".to_string()),
            Some(r) if r < MIN_POSITIVE => {
                unmet.push(format!("{} < {} positive", pct(r), pct(MIN_POSITIVE)))
            }
            _ => {}
        }
        if p.ratings < MIN_RATINGS {
            unmet.push(format!("{} < {MIN_RATINGS} ratings", p.ratings));
        }
        if !p.fields.iter().any(|f| same_branch(f, FIELD)) {
            unmet.push(format!("fields: {}", p.fields.join(", ")));
        }
        if unmet.is_empty() {
            unmet.push("no listing matching the item".into());
        }
        table.add_row(vec![p.name.clone(), unmet.join(" · ")]);
    }
    print_table(&table);

    // The same demand, stricter: the exchange refuses it and says why.
    println!();
    note("What if Mei had been stricter? positive ≥ 90%, ≥ 5 ratings, success ≥ 90%:");
    let strict = api::CreateDemand {
        holder: api::HolderCriteria {
            min_positive_rate: Some(0.9),
            min_success_rate: Some(0.9),
            min_ratings: Some(5),
            fields: Some(vec![FIELD.into()]),
        },
        ..demand.clone()
    };
    let strict_refused = match requester.client.create_demand(&strict).await {
        Err(ClientError::Api {
            status,
            code,
            message,
            details,
        }) if code == "insufficient_holders" => {
            println!("  ✗ {status} {code}: {message}");
            let details = details.unwrap_or_default();
            println!("    details:");
            // Relaxed rates rounded down to 3 decimals, as the CLI shows them.
            let shown = crate::output::humane_details(&details);
            let pretty = serde_json::to_string_pretty(&shown).unwrap_or_else(|_| shown.to_string());
            for line in pretty.lines() {
                println!("      {line}");
            }
            let n = |k: &str| details.get(k).and_then(|v| v.as_u64()).unwrap_or(0);
            note(&format!(
                "Read: {} holders have usable passes → {} match the item → {} qualifies, {} needed.",
                n("holders_with_supply"),
                n("holders_matching_item"),
                n("qualified"),
                n("min_holders")
            ));
            note("Each criterion counts the holders it eliminates (holder criteria among those matching the item;");
            note("a holder failing several criteria counts under each).");
            note("Relaxations: the smallest change of one criterion that alone would be enough (rates rounded");
            note("down to 3 decimals, so each value shown still admits the holder it comes from).");
            true
        }
        Err(e) => return Err(anyhow!(e)).context("sending the stricter demand"),
        Ok(d) => bail!(
            "the stricter demand was expected to be refused, but {} holders were contacted",
            d.contacted.len()
        ),
    };
    Ok(Asked {
        demand_id: created.id,
        contacted: d.contacted,
        strict_refused,
    })
}

// ---- 5. offers

pub(super) async fn offers_phase(
    cast: &Cast,
    requester: &Acct,
    asked: &Asked,
) -> Result<Vec<api::Offer>> {
    header(5, "Holders offer their passes; the requester verifies them");
    let t = Instant::now();
    for c in &asked.contacted {
        let h = cast
            .holder_by_id(&c.holder_id)
            .ok_or_else(|| anyhow!("contacted an unknown holder {}", c.holder_id))?;
        let request = find_request(&h.acct, &asked.demand_id).await?;
        let pass_id = request
            .matched_pass_ids
            .first()
            .ok_or_else(|| anyhow!("{} has no matched pass for the request", h.acct.name))?;
        let offer = h
            .acct
            .client
            .offer(
                &request.id,
                &api::CreateOffer {
                    pass_id: pass_id.clone(),
                    note: Some(note_of(h.plan.key).into()),
                },
            )
            .await
            .with_context(|| format!("{} offers", h.acct.name))?;
        println!(
            "  ✓ {} (rank {}) finds the {} request in the inbox and offers “{}”",
            h.acct.name, request.rank, request.status, offer.pass.title
        );
        if let Some(text) = &offer.note {
            println!("      note: “{text}”");
        }
    }
    let d = requester
        .client
        .demand(&asked.demand_id)
        .await
        .context("reading the offers")?;
    done(&format!("{} offers received", d.offers.len()), t);
    let rank: HashMap<&str, i64> = d
        .contacted
        .iter()
        .map(|c| (c.interaction_id.as_str(), c.rank))
        .collect();
    let mut offers = d.offers.clone();
    offers.sort_by_key(|o| {
        rank.get(o.interaction_id.as_str())
            .copied()
            .unwrap_or(i64::MAX)
    });

    let mut table = new_table(&[
        "#",
        "Holder",
        "Positive (ratings)",
        "Success",
        "Pass",
        "Mode",
        "Price",
    ]);
    for o in &offers {
        table.add_row(vec![
            rank.get(o.interaction_id.as_str())
                .map(|r| r.to_string())
                .unwrap_or_default(),
            o.holder.name.clone(),
            format!(
                "{} ({})",
                o.holder
                    .positive_rate
                    .map(pct)
                    .unwrap_or_else(|| "—".into()),
                o.holder.ratings
            ),
            o.holder.success_rate.map(pct).unwrap_or_else(|| "—".into()),
            o.pass.title.clone(),
            mode(o.pass.mode).to_string(),
            money(&o.pass.price),
        ]);
    }
    align_right(&mut table, &[0, 2, 3, 6]);
    print_table(&table);
    note(&format!(
        "Success now counts {}'s request too: offering just added 1 to each holder's offered and decided.",
        requester.name
    ));

    println!();
    note("Each pass is checked against the provider's published keys (GET /v1/providers/{id}/jwks.json):");
    let now = SystemClock.now();
    let mut keys: HashMap<String, symbolon_pass::Jwks> = HashMap::new();
    for o in &offers {
        if !keys.contains_key(&o.pass.provider_id) {
            let json = requester
                .client
                .jwks(&o.pass.provider_id)
                .await
                .with_context(|| format!("fetching the JWKS of provider {}", o.pass.provider_id))?;
            let jwks: symbolon_pass::Jwks =
                serde_json::from_value(json).context("reading the provider's JWKS")?;
            keys.insert(o.pass.provider_id.clone(), jwks);
        }
        let jwks = &keys[&o.pass.provider_id];
        let list = requester
            .client
            .status_list(&o.pass.provider_id)
            .await
            .context("fetching the provider's revocation list")?;
        let v = symbolon_pass::verify_full(&o.pass.jws, jwks, Some(&list), now).map_err(|e| {
            anyhow!(
                "the pass {} offered by {} does not verify: {e}",
                o.pass.id,
                o.holder.name
            )
        })?;
        let subject = &v.claims["credentialSubject"];
        ensure!(
            subject["name"] == o.pass.title.as_str()
                && subject["price"]["amount"] == o.pass.price.amount.as_str(),
            "the signed pass {} does not say what the offer says (title or price)",
            o.pass.id
        );
        println!(
            "  ✓ {}'s pass: EdDSA signature valid (key …{}, “{}”), not revoked; title and price match",
            o.holder.name,
            tail(&v.kid, 8),
            v.claims["issuer"]["name"].as_str().unwrap_or("?"),
        );
        if let Some(page) = v.claims["credentialSubject"]["link"].as_str() {
            println!("    its page: {page}?via={}", o.holder.id);
        }
    }
    ensure!(
        offers.len() >= 2,
        "expected offers from at least 2 holders, got {}",
        offers.len()
    );
    Ok(offers)
}

pub(super) fn note_of(holder_key: &str) -> &'static str {
    match holder_key {
        "aiko" => "In stock, ships today. 现货，今天发货。",
        "dana" => "Can bundle a USB-C cable.",
        "eli" => "Happy to help with setup.",
        "fern" => "New here — glad to help!",
        _ => "Available now.",
    }
}

// ---- 6. order

pub(super) struct Deal {
    pub(super) offer_id: String,
    pub(super) order_id: String,
    pub(super) pass_id: String,
    pub(super) holder_id: String,
    pub(super) total_minor: i64,
    pub(super) commission_minor: i64,
    /// Requester, provider, holder (cents).
    pub(super) balances: [i64; 3],
}

pub(super) async fn order_phase(
    cast: &Cast,
    requester: &Acct,
    offers: &[api::Offer],
) -> Result<Deal> {
    header(6, "Accept the best offer, order and pay in one click");
    let t = Instant::now();
    // Offers are sorted by the exchange's rank: the first is the best match.
    let best = offers
        .first()
        .ok_or_else(|| anyhow!("no offer to accept"))?;
    let accepted = requester
        .client
        .accept(&best.id)
        .await
        .context("accepting the best offer")?;
    done(
        &format!(
            "accepted the offer of {} (the best-ranked holder)",
            accepted.holder.name
        ),
        t,
    );
    if let Some(licence) = &accepted.licence {
        let jwks: symbolon_pass::Jwks = serde_json::from_value(
            requester
                .client
                .jwks(&accepted.pass.provider_id)
                .await
                .context("fetching the provider's JWKS")?,
        )
        .context("reading the provider's JWKS")?;
        let v = symbolon_pass::verify_compact(licence, &jwks, symbolon_pass::LICENCE_TYP)
            .map_err(|e| anyhow!("the licence does not verify: {e}"))?;
        ensure!(
            v.claims["sub"] == requester.id.as_str(),
            "the licence is not made out to the requester"
        );
        ensure!(
            v.claims["holder"] == accepted.holder.id.as_str(),
            "the licence names another holder"
        );
        println!(
            "  ✓ provider-signed licence ({}) verified: made out to {}, brought by {}",
            symbolon_pass::LICENCE_TYP,
            requester.name,
            accepted.holder.name
        );
    }
    // Earlier buyers' purchases moved the provider's and holders' balances:
    // what this order does is the change from here.
    let holder_before_order = cast
        .holder_by_id(&accepted.holder.id)
        .ok_or_else(|| anyhow!("the offer names an unknown holder"))?;
    let mut before = [0i64; 3];
    for (i, acct) in [requester, &cast.provider, &holder_before_order.acct]
        .into_iter()
        .enumerate()
    {
        before[i] = usd_balance(acct).await?;
    }
    let t = Instant::now();
    let order = requester
        .client
        .create_order(&api::CreateOrder {
            offer_id: accepted.id.clone(),
            quantity: 1,
            pay: true,
            ship_to: None,
        })
        .await
        .context("ordering and paying in one click")?;
    done(
        &format!(
            "order {} is {} (one click: saved address and card)",
            order.id, order.status
        ),
        t,
    );
    let product = cast
        .provider
        .client
        .product(&order.product_id)
        .await
        .context("reading the ordered product")?;
    let total = cents(&order.total.amount)?;
    let commission = cents(&order.commission.amount)?;
    println!();
    kv("product", &product.title);
    kv(
        "quantity",
        &format!("{} × {}", order.quantity, money(&order.unit_price)),
    );
    kv("total", &money(&order.total));
    kv(
        "commission",
        &format!(
            "{} to {} (paid by the provider)",
            money(&order.commission),
            accepted.holder.name
        ),
    );
    if let Some(a) = &order.ship_to {
        kv(
            "ship to",
            &format!(
                "{}, {}, {} {} {}",
                a.name, a.line1, a.city, a.postal_code, a.country
            ),
        );
    }
    kv("payment", order.payment_ref.as_deref().unwrap_or("—"));
    if let Some(unit) = order.unit_no {
        kv(
            "unit",
            &format!("unit {unit} of the unique pass changed hands with the payment"),
        );
    }

    let holder_id = order.holder_id.clone().unwrap_or_default();
    let holder = cast
        .holder_by_id(&holder_id)
        .ok_or_else(|| anyhow!("the order names an unknown holder {holder_id}"))?;
    let parties: [(&str, &Acct); 3] = [
        ("requester", requester),
        ("provider", &cast.provider),
        ("holder", &holder.acct),
    ];
    let expected = [-total, total - commission, commission];
    let mut balances = [0i64; 3];
    println!();
    note("What the payment moved (the total requester → provider, the commission provider → holder):");
    let mut table = new_table(&["Account", "Role", "Change", "Expected", ""]);
    for (i, (role, acct)) in parties.iter().enumerate() {
        balances[i] = usd_balance(acct).await? - before[i];
        table.add_row(vec![
            acct.name.clone(),
            role.to_string(),
            fmt_cents(balances[i]),
            fmt_cents(expected[i]),
            if balances[i] == expected[i] {
                "✓".into()
            } else {
                "✗".into()
            },
        ]);
    }
    let sum: i64 = balances.iter().sum();
    table.add_row(vec![
        "Σ".to_string(),
        String::new(),
        fmt_cents(sum),
        fmt_cents(0),
        if sum == 0 { "✓".into() } else { "✗".into() },
    ]);
    align_right(&mut table, &[2, 3]);
    print_table(&table);
    ensure!(
        balances == expected,
        "balances {balances:?} differ from the expected {expected:?}"
    );
    ensure!(
        sum == 0,
        "the ledger does not balance: the three balances sum to {}",
        fmt_cents(sum)
    );
    println!(
        "  ✓ the ledger balances: {} + {} + {} = 0.00",
        fmt_cents(balances[0]),
        fmt_cents(balances[1]),
        fmt_cents(balances[2])
    );
    Ok(Deal {
        offer_id: accepted.id,
        order_id: order.id,
        pass_id: order.pass_id,
        holder_id,
        total_minor: total,
        commission_minor: commission,
        balances,
    })
}

/// An account's USD balance, in cents.
pub(super) async fn usd_balance(acct: &Acct) -> Result<i64> {
    let b = acct
        .client
        .balance()
        .await
        .with_context(|| format!("reading the balance of {}", acct.name))?;
    match b.balances.get("USD") {
        Some(a) => cents(a),
        None => Ok(0),
    }
}

// ---- 7. ship, deliver and rate

pub(super) async fn rating_phase(
    cast: &Cast,
    requester: &Acct,
    deal: &Deal,
) -> Result<(api::HolderPublic, api::HolderPublic)> {
    header(
        7,
        "The provider ships; the requester confirms delivery and rates",
    );
    let t = Instant::now();
    let shipped = cast
        .provider
        .client
        .ship_order(&deal.order_id)
        .await
        .context("shipping the order")?;
    done(
        &format!(
            "order {} is {} ({})",
            shipped.id,
            shipped.status,
            shipped.shipped_at.as_deref().unwrap_or("")
        ),
        t,
    );
    let t = Instant::now();
    let delivered = requester
        .client
        .confirm_delivery(&deal.order_id)
        .await
        .context("confirming delivery")?;
    done(
        &format!(
            "{} confirms it arrived: {} (returns open until {})",
            requester.name,
            delivered.status,
            delivered.return_by.as_deref().unwrap_or("—")
        ),
        t,
    );
    let before = requester
        .client
        .holder(&deal.holder_id)
        .await
        .context("reading the holder's reputation")?;
    let t = Instant::now();
    let rating = requester
        .client
        .rate(
            &deal.offer_id,
            &api::CreateRating {
                positive: true,
                comment: Some("耳机很棒，发货很快！ Great advice, fast delivery.".into()),
            },
        )
        .await
        .context("rating the holder")?;
    done(
        &format!(
            "{} rated {} 👍 “{}”",
            requester.name,
            before.name,
            rating.comment.as_deref().unwrap_or("")
        ),
        t,
    );
    let after = requester
        .client
        .holder(&deal.holder_id)
        .await
        .context("reading the updated reputation")?;
    println!();
    note(&format!("{}'s public reputation:", after.name));
    let mut table = new_table(&["", "Before", "After"]);
    let rate = |r: Option<f64>| r.map(pct).unwrap_or_else(|| "—".into());
    table.add_row(vec![
        "ratings".to_string(),
        before.ratings.to_string(),
        after.ratings.to_string(),
    ]);
    table.add_row(vec![
        "positive rate".to_string(),
        rate(before.positive_rate),
        rate(after.positive_rate),
    ]);
    table.add_row(vec![
        "success rate".to_string(),
        rate(before.success_rate),
        rate(after.success_rate),
    ]);
    table.add_row(vec![
        "requests decided".to_string(),
        before.interactions.to_string(),
        after.interactions.to_string(),
    ]);
    let (bp, _) = counts(&before);
    let (ap, _) = counts(&after);
    table.add_row(vec![
        "Wilson⁺ (ranking)".to_string(),
        format!("{:.3}", wilson_lower_bound(bp, before.ratings)),
        format!("{:.3}", wilson_lower_bound(ap, after.ratings)),
    ]);
    align_right(&mut table, &[1, 2]);
    print_table(&table);
    if let Some(&then) = cast.decided_in_history.get(&deal.holder_id) {
        note(&decided_note(then, after.interactions, &requester.name));
    }
    ensure!(
        after.ratings == before.ratings + 1,
        "the rating was not counted"
    );
    Ok((before, after))
}

/// Why the holder's "requests decided" differs from step 3's: it counts
/// requests answered (offer or decline) or expired, so the offer of step 5
/// added one; a rating never moves it.
pub(super) fn decided_note(in_history: u64, now: u64, requester: &str) -> String {
    match now.checked_sub(in_history).filter(|n| *n > 0) {
        Some(n) => format!(
            "requests decided: {in_history} in step 3, {now} now — answering {requester}'s request in step 5 \
             decided {n} more (a rating never moves it)."
        ),
        None => format!("requests decided: {now}, as in step 3 (a rating never moves it)."),
    }
}
