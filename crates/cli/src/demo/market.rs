//! The demo's first three acts: the catalogue, the holders, and the history
//! that gives them reputations.

use super::*;

// ---- 1. catalog

pub(super) async fn catalog_phase(anon: &Client) -> Result<Cast> {
    header(1, "A provider lists its catalog and issues passes");
    let t = Instant::now();
    let provider = register(anon, PROVIDER_NAME, api::Role::Provider).await?;
    let mut listed = BTreeMap::new();
    let (mut shareable, mut unique) = (0, 0);
    for item in CATALOG {
        let product = provider
            .client
            .create_product(&api::CreateProduct {
                title: item.title.to_string(),
                description: item.description.to_string(),
                category: item.category.to_string(),
                specs: item
                    .specs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                price: usd(item.price),
                stock: item.stock,
                gtin: None,
            })
            .await
            .with_context(|| format!("listing product `{}`", item.key))?;
        let (mode, units, commission_bps) = match item.pass {
            PassPlan::Shareable { commission_bps } => {
                shareable += 1;
                (api::PassMode::Shareable, None, commission_bps)
            }
            PassPlan::Unique {
                units,
                commission_bps,
            } => {
                unique += 1;
                (api::PassMode::Unique, Some(units), commission_bps)
            }
        };
        let pass = provider
            .client
            .create_pass(&api::CreatePass {
                product_id: product.id.clone(),
                mode,
                units,
                commission_bps,
                valid_until: None,
            })
            .await
            .with_context(|| format!("issuing the pass of `{}`", item.key))?;
        listed.insert(item.key, Listed { product, pass });
    }
    println!("  ✓ {} registered as provider", provider.name);
    done(
        &format!(
            "{} products listed, {} passes issued ({shareable} shareable, {unique} unique)",
            listed.len(),
            listed.len()
        ),
        t,
    );
    let mut table = new_table(&["Product", "Category", "Price", "Stock", "Pass · commission"]);
    for item in CATALOG {
        let l = &listed[item.key];
        let commission = format!("{}%", l.pass.commission_bps as f64 / 100.0);
        let pass = match l.pass.units {
            Some(u) => format!("unique ×{u} · {commission}"),
            None => format!("shareable · {commission}"),
        };
        table.add_row(vec![
            l.product.title.clone(),
            l.product.category.clone(),
            money(&l.pass.price),
            l.product.stock.to_string(),
            pass,
        ]);
    }
    align_right(&mut table, &[2, 3]);
    print_table(&table);
    note("Each pass is a W3C Verifiable Credential signed by the provider (compact JWS, EdDSA).");
    Ok(Cast {
        provider,
        holders: Vec::new(),
        listed,
        past_requesters: Vec::new(),
        decided_in_history: HashMap::new(),
    })
}

// ---- 2. holders

pub(super) async fn holders_phase(anon: &Client, cast: &mut Cast) -> Result<()> {
    header(
        2,
        "Six holders declare their fields of focus and receive passes",
    );
    let t = Instant::now();
    let mut grants = 0;
    for plan in HOLDERS {
        let acct = register(anon, plan.name, api::Role::Holder).await?;
        acct.client
            .set_holder_profile(&api::HolderProfileUpdate {
                fields: plan.fields.iter().map(|f| f.to_string()).collect(),
            })
            .await
            .with_context(|| format!("declaring the fields of {}", plan.name))?;
        let holder = HolderAcct { plan, acct };
        if !plan.newcomer {
            grants += grant_all(cast, &holder).await?;
        }
        cast.holders.push(holder);
    }
    done(
        &format!(
            "{} holders registered with their fields; {grants} passes granted",
            cast.holders.len()
        ),
        t,
    );
    let mut table = new_table(&["Holder", "Focus", "Fields", "Passes"]);
    for h in &cast.holders {
        let passes = if h.plan.newcomer {
            "later (newcomer)".to_string()
        } else {
            h.plan.grants.len().to_string()
        };
        table.add_row(vec![
            h.acct.name.clone(),
            h.plan.persona.to_string(),
            h.plan.fields.join(", "),
            passes,
        ]);
    }
    print_table(&table);
    Ok(())
}

pub(super) async fn grant_all(cast: &Cast, holder: &HolderAcct) -> Result<usize> {
    for (key, units) in holder.plan.grants {
        let l = cast
            .listed
            .get(key)
            .ok_or_else(|| anyhow!("no product `{key}` in the catalog"))?;
        cast.provider
            .client
            .grant(
                &l.pass.id,
                &api::CreateGrant {
                    holder_id: holder.acct.id.clone(),
                    units: *units,
                },
            )
            .await
            .with_context(|| format!("granting `{key}` to {}", holder.acct.name))?;
    }
    Ok(holder.plan.grants.len())
}

// ---- 3. history

pub(super) async fn history_phase(anon: &Client, cast: &mut Cast) -> Result<usize> {
    header(3, "Earlier demands build the holders' reputations");
    let t = Instant::now();
    for name in PAST_REQUESTERS {
        let past = register(anon, name, api::Role::Requester).await?;
        // Only buyers rate: each earlier requester saves a card and an address.
        past.client
            .set_requester_profile(&api::RequesterProfileUpdate {
                ship_to: Some(api::Address {
                    name: name.to_string(),
                    line1: "1 Harbour Road".into(),
                    line2: None,
                    city: "Singapore".into(),
                    postal_code: "018956".into(),
                    country: "SG".into(),
                }),
                payment_method: Some(api::PaymentMethodInput {
                    kind: "sandbox_card".into(),
                    number: "4242424242424242".into(),
                }),
            })
            .await
            .with_context(|| format!("{name} saves a profile"))?;
        cast.past_requesters.push(past);
    }
    let (mut requests, mut offered, mut declined, mut positive) = (0, 0, 0, 0);
    for (n, past) in HISTORY.iter().enumerate() {
        let n = n + 1;
        let requester = cast
            .past_requesters
            .get(past.requester)
            .ok_or_else(|| anyhow!("past demand #{n}: no requester {}", past.requester))?;
        let created = requester
            .client
            .create_demand(&api::CreateDemand {
                query: past.query.to_string(),
                category: past.category.map(str::to_string),
                max_price: past.max_price.map(usd),
                holder: api::HolderCriteria {
                    fields: (!past.fields.is_empty())
                        .then(|| past.fields.iter().map(|f| f.to_string()).collect()),
                    ..Default::default()
                },
                min_holders: None,
                max_holders: None,
                ttl_seconds: None,
                wait: None,
            })
            .await
            .with_context(|| format!("past demand #{n} `{}` by {}", past.query, requester.name))?;
        let mut accepted_offer = None;
        for c in &created.contacted {
            requests += 1;
            let holder = cast.holder_by_id(&c.holder_id).ok_or_else(|| {
                anyhow!(
                    "past demand #{n}: contacted an unknown holder {}",
                    c.holder_id
                )
            })?;
            let request = find_request(&holder.acct, &created.id).await?;
            if past.decline.contains(&holder.plan.key) {
                holder
                    .acct
                    .client
                    .decline(&request.id)
                    .await
                    .with_context(|| format!("past demand #{n}: {} declines", holder.acct.name))?;
                declined += 1;
                continue;
            }
            let pass_id = request.matched_pass_ids.first().ok_or_else(|| {
                anyhow!("past demand #{n}: no matched pass for {}", holder.acct.name)
            })?;
            let offer = holder
                .acct
                .client
                .offer(
                    &request.id,
                    &api::CreateOffer {
                        pass_id: pass_id.clone(),
                        note: None,
                    },
                )
                .await
                .with_context(|| format!("past demand #{n}: {} offers", holder.acct.name))?;
            offered += 1;
            if holder.plan.key == past.accept {
                accepted_offer = Some(offer.id);
            }
        }
        let offer_id = accepted_offer.ok_or_else(|| {
            anyhow!(
                "past demand #{n} `{}`: `{}` made no offer to accept",
                past.query,
                past.accept
            )
        })?;
        requester
            .client
            .accept(&offer_id)
            .await
            .with_context(|| format!("past demand #{n}: {} accepts", requester.name))?;
        let order = requester
            .client
            .create_order(&api::CreateOrder {
                offer_id: offer_id.clone(),
                quantity: 1,
                pay: true,
                ship_to: None,
            })
            .await
            .with_context(|| format!("past demand #{n}: {} orders and pays", requester.name))?;
        // A buyer rates once the order arrived.
        cast.provider
            .client
            .ship_order(&order.id)
            .await
            .with_context(|| format!("past demand #{n}: the provider ships"))?;
        requester
            .client
            .confirm_delivery(&order.id)
            .await
            .with_context(|| format!("past demand #{n}: {} confirms delivery", requester.name))?;
        requester
            .client
            .rate(
                &offer_id,
                &api::CreateRating {
                    positive: past.positive,
                    comment: Some(past.comment.to_string()),
                },
            )
            .await
            .with_context(|| format!("past demand #{n}: {} rates", requester.name))?;
        if past.positive {
            positive += 1;
        }
    }
    println!(
        "  ✓ {} past demands by {} requesters: {requests} interaction requests → {offered} offers, {declined} declines",
        HISTORY.len(),
        PAST_REQUESTERS.len()
    );
    done(
        &format!(
            "{} offers accepted, bought, delivered and rated by their buyers: {positive} positive, {} negative",
            HISTORY.len(),
            HISTORY.len() - positive
        ),
        t,
    );

    let t = Instant::now();
    let newcomers: Vec<&HolderAcct> = cast.holders.iter().filter(|h| h.plan.newcomer).collect();
    for h in &newcomers {
        let n = grant_all(cast, h).await?;
        done(
            &format!(
                "{} joins today as a newcomer: {n} passes granted, no track record yet",
                h.acct.name
            ),
            t,
        );
    }

    println!();
    note("Public reputations, computed by the exchange from those interactions:");
    let mut table = new_table(&[
        "Holder",
        "Ratings",
        "Positive",
        "Success (offered/decided)",
        "Wilson⁺",
        "Reading",
    ]);
    let mut decided = HashMap::new();
    for h in &cast.holders {
        let p = cast
            .provider
            .client
            .holder(&h.acct.id)
            .await
            .with_context(|| format!("reading the reputation of {}", h.acct.name))?;
        let (pos, offered) = counts(&p);
        decided.insert(h.acct.id.clone(), p.interactions);
        table.add_row(vec![
            p.name.clone(),
            p.ratings.to_string(),
            match p.positive_rate {
                Some(r) => format!("{} ({pos}/{})", pct(r), p.ratings),
                None => "—".into(),
            },
            match p.success_rate {
                Some(r) => format!("{} ({offered}/{})", pct(r), p.interactions),
                None => "—".into(),
            },
            format!("{:.3}", wilson_lower_bound(pos, p.ratings)),
            reading(&p).to_string(),
        ]);
    }
    align_right(&mut table, &[1, 2, 3, 4]);
    print_table(&table);
    cast.decided_in_history = decided;
    note("decided = requests answered with an offer, declined or left to expire; a pending one counts");
    note("nowhere yet, so the counts move each time a holder answers (as in step 5).");
    Ok(HISTORY.len())
}

/// Positive ratings and offered requests, from the public rates.
pub(super) fn counts(p: &api::HolderPublic) -> (u64, u64) {
    let pos = p
        .positive_rate
        .map(|r| (r * p.ratings as f64).round() as u64)
        .unwrap_or(0);
    let offered = p
        .success_rate
        .map(|r| (r * p.interactions as f64).round() as u64)
        .unwrap_or(0);
    (pos, offered)
}

pub(super) fn reading(p: &api::HolderPublic) -> &'static str {
    match (p.positive_rate, p.success_rate) {
        _ if p.ratings == 0 && p.interactions == 0 => "newcomer: no track record",
        (_, Some(s)) if s < 0.5 => "declines often",
        (Some(r), _) if r < 0.5 => "poor ratings",
        _ if p.ratings == 1 => "1 of 1: little evidence",
        (Some(r), _) if p.ratings >= 8 && r >= 0.85 => "excellent, many ratings",
        _ => "solid",
    }
}

/// Finds the interaction request of `demand_id` in a holder's inbox.
pub(super) async fn find_request(holder: &Acct, demand_id: &str) -> Result<api::InboxItem> {
    let mut after: Option<String> = None;
    loop {
        let page = holder
            .client
            .inbox(after.as_deref(), Some(200))
            .await
            .with_context(|| format!("reading the inbox of {}", holder.name))?;
        if let Some(item) = page.items.into_iter().find(|i| i.demand_id == demand_id) {
            return Ok(item);
        }
        match page.next {
            Some(next) => after = Some(next),
            None => bail!(
                "{} has no request for demand {demand_id} in the inbox",
                holder.name
            ),
        }
    }
}
