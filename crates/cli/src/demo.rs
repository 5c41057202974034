//! `symbolon demo`: starts an embedded exchange in a temporary directory and
//! tells the whole story over the HTTP API (the typed client only; nothing is
//! written to the database behind the server's back).
//!
//! 1. a provider lists a bilingual catalog and issues a pass per product;
//! 2. six holders declare their fields of focus and receive passes;
//! 3. past requesters play earlier demands so that reputations come from real
//!    interactions (offers, declines, acceptances, ratings);
//! 4. a requester sends *the* demand and reads why each holder was contacted,
//!    then a stricter demand is refused with `insufficient_holders`;
//! 5. the contacted holders offer their passes, which the requester verifies
//!    against the provider's JWKS;
//! 6. the best offer is accepted, ordered and paid in one click, and the ledger
//!    is checked;
//! 7. the provider ships, the requester confirms delivery and rates the holder;
//! 8. after the sale: an order cancelled before shipping is refunded in full
//!    with its stock restored, and a 40% refund takes back the holder's
//!    commission in proportion.

#[path = "demo_after_sale.rs"]
mod after_sale;
#[path = "demo_catalog.rs"]
mod catalog;

use crate::embedded::Embedded;
use anyhow::{anyhow, bail, ensure, Context, Result};
use catalog::{HolderPlan, PassPlan, CATALOG, HISTORY, HOLDERS, PAST_REQUESTERS, PROVIDER_NAME};
use clap::Args;
use comfy_table::{modifiers, presets, CellAlignment, ContentArrangement, Table};
use std::collections::{BTreeMap, HashMap};
use std::time::Instant;
use symbolon_api as api;
use symbolon_client::{Client, ClientError};
use symbolon_core::reputation::wilson_lower_bound;
use symbolon_core::{Clock, Currency, SystemClock, TaxonomyPath};
use symbolon_server::ServerConfig;

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Leave the server running and print its URL and keys.
    #[arg(long)]
    pub keep: bool,
    /// Seed of the embedded server's ids (the same seed gives the same ids).
    #[arg(long, default_value_t = 2024)]
    pub seed: u64,
}

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    demo(&args).await.map(|_| ())
}

/// What the story produced, for the closing lines and for tests.
#[derive(Debug, Clone)]
pub struct DemoSummary {
    pub server_url: String,
    pub products: usize,
    pub past_demands: usize,
    /// Holders the exchange contacted for the requester's demand.
    pub contacted: usize,
    pub offers: usize,
    /// Whether the stricter demand was refused with `insufficient_holders`.
    pub strict_refused: bool,
    /// Order total and commission, in cents.
    pub total_minor: i64,
    pub commission_minor: i64,
    /// How the order moved each party's balance, in cents (earlier buyers'
    /// purchases moved the provider's and holders' balances before it).
    pub requester_balance_minor: i64,
    pub provider_balance_minor: i64,
    pub holder_balance_minor: i64,
    pub holder_before: api::HolderPublic,
    pub holder_after: api::HolderPublic,
    /// The cancellation and the partial refund.
    pub after_sale: after_sale::AfterSale,
    /// Every account: (role, name, id, API key).
    pub accounts: Vec<(String, String, String, String)>,
}

impl DemoSummary {
    /// The sum of the three balance changes: zero when the ledger balances.
    pub fn ledger_sum_minor(&self) -> i64 {
        self.requester_balance_minor + self.provider_balance_minor + self.holder_balance_minor
    }
}

/// Runs the demo: embedded server, story, then (with `--keep`) keys and a wait for Ctrl-C.
pub async fn demo(args: &DemoArgs) -> Result<DemoSummary> {
    let started = Instant::now();
    let server = Embedded::start(
        "symbolon-demo-",
        ServerConfig {
            registration_open: true,
            seed: Some(args.seed),
            ..Default::default()
        },
    )
    .await
    .context("starting the embedded server")?;
    println!(
        "Symbolon demo — an embedded exchange at {} (data in a temp dir)",
        server.url
    );
    let outcome = tokio::select! {
        r = story(&server.url, args.seed) => r,
        _ = tokio::signal::ctrl_c() => Err(anyhow!("interrupted by Ctrl-C")),
    };
    let summary = match outcome {
        Ok(s) => s,
        Err(e) => {
            // The story failed: stop the server quietly, report the story's error.
            let _ = server.stop().await;
            return Err(e);
        }
    };
    closing(&summary, started);
    if args.keep {
        print_keys(&summary);
        let waited = tokio::signal::ctrl_c().await.context("waiting for Ctrl-C");
        println!("\nShutting down…");
        server.stop().await?;
        waited?;
    } else {
        server.stop().await?;
    }
    Ok(summary)
}

// ---------------------------------------------------------------- accounts

#[derive(Clone)]
pub(crate) struct Acct {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) key: String,
    pub(crate) client: Client,
}

/// Registers an account with one role, and a client holding its key.
pub(crate) async fn register(anon: &Client, name: &str, role: api::Role) -> Result<Acct> {
    let created = anon
        .create_account(&api::CreateAccount {
            name: name.to_string(),
            roles: vec![role],
        })
        .await
        .with_context(|| format!("registering {name}"))?;
    Ok(Acct {
        client: anon.with_key(&created.api_key),
        id: created.id,
        name: created.name,
        key: created.api_key,
    })
}

struct HolderAcct {
    plan: &'static HolderPlan,
    acct: Acct,
}

struct Listed {
    product: api::Product,
    pass: api::Pass,
}

struct Cast {
    provider: Acct,
    holders: Vec<HolderAcct>,
    listed: BTreeMap<&'static str, Listed>,
    past_requesters: Vec<Acct>,
    /// Each holder's requests decided (offered, declined or expired) as step 3 shows them.
    decided_in_history: HashMap<String, u64>,
}

impl Cast {
    fn holder_by_id(&self, id: &str) -> Option<&HolderAcct> {
        self.holders.iter().find(|h| h.acct.id == id)
    }
}

// ---------------------------------------------------------------- the story

async fn story(url: &str, seed: u64) -> Result<DemoSummary> {
    // The server draws its ids from the seed, or from a POST's idempotency
    // key: seeded keys make those the same on every run too.
    let anon = Client::new(url)?.with_seeded_idempotency_keys(seed);
    let mut cast = catalog_phase(&anon)
        .await
        .context("step 1 (provider lists the catalog and issues passes)")?;
    holders_phase(&anon, &mut cast)
        .await
        .context("step 2 (holders join and receive passes)")?;
    let past_demands = history_phase(&anon, &mut cast)
        .await
        .context("step 3 (earlier interactions build reputations)")?;
    let requester = register(&anon, "林美 Mei Lin", api::Role::Requester)
        .await
        .context("step 4 (the requester registers)")?;
    let asked = demand_phase(&cast, &requester)
        .await
        .context("step 4 (the requester sends the demand)")?;
    let offers = offers_phase(&cast, &requester, &asked)
        .await
        .context("step 5 (holders offer their passes)")?;
    let deal = order_phase(&cast, &requester, &offers)
        .await
        .context("step 6 (accept, order and pay)")?;
    let (before, after) = rating_phase(&cast, &requester, &deal)
        .await
        .context("step 7 (ship, deliver and rate)")?;
    let after_sale = after_sale::after_sale_phase(&cast, &requester, &deal)
        .await
        .context("step 8 (a cancellation and a partial refund)")?;

    let mut accounts = vec![(
        "provider".to_string(),
        cast.provider.name.clone(),
        cast.provider.id.clone(),
        cast.provider.key.clone(),
    )];
    for h in &cast.holders {
        accounts.push((
            format!("holder ({})", h.plan.persona),
            h.acct.name.clone(),
            h.acct.id.clone(),
            h.acct.key.clone(),
        ));
    }
    accounts.push((
        "requester".into(),
        requester.name.clone(),
        requester.id.clone(),
        requester.key.clone(),
    ));
    for r in &cast.past_requesters {
        accounts.push((
            "past requester".into(),
            r.name.clone(),
            r.id.clone(),
            r.key.clone(),
        ));
    }
    Ok(DemoSummary {
        server_url: url.to_string(),
        products: cast.listed.len(),
        past_demands,
        contacted: asked.contacted.len(),
        offers: offers.len(),
        strict_refused: asked.strict_refused,
        total_minor: deal.total_minor,
        commission_minor: deal.commission_minor,
        requester_balance_minor: deal.balances[0],
        provider_balance_minor: deal.balances[1],
        holder_balance_minor: deal.balances[2],
        holder_before: before,
        holder_after: after,
        after_sale,
        accounts,
    })
}

// ---- 1. catalog

async fn catalog_phase(anon: &Client) -> Result<Cast> {
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

async fn holders_phase(anon: &Client, cast: &mut Cast) -> Result<()> {
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

async fn grant_all(cast: &Cast, holder: &HolderAcct) -> Result<usize> {
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

async fn history_phase(anon: &Client, cast: &mut Cast) -> Result<usize> {
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
fn counts(p: &api::HolderPublic) -> (u64, u64) {
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

fn reading(p: &api::HolderPublic) -> &'static str {
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
async fn find_request(holder: &Acct, demand_id: &str) -> Result<api::InboxItem> {
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

// ---- 4. the demand

struct Asked {
    demand_id: String,
    contacted: Vec<api::Contacted>,
    strict_refused: bool,
}

const MIN_POSITIVE: f64 = 0.8;
const MIN_RATINGS: u64 = 2;
const FIELD: &str = "electronics/audio";
const CATEGORY: &str = "electronics/audio/headphones";

async fn demand_phase(cast: &Cast, requester: &Acct) -> Result<Asked> {
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

async fn offers_phase(cast: &Cast, requester: &Acct, asked: &Asked) -> Result<Vec<api::Offer>> {
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

fn note_of(holder_key: &str) -> &'static str {
    match holder_key {
        "aiko" => "In stock, ships today. 现货，今天发货。",
        "dana" => "Can bundle a USB-C cable.",
        "eli" => "Happy to help with setup.",
        "fern" => "New here — glad to help!",
        _ => "Available now.",
    }
}

// ---- 6. order

struct Deal {
    offer_id: String,
    order_id: String,
    pass_id: String,
    holder_id: String,
    total_minor: i64,
    commission_minor: i64,
    /// Requester, provider, holder (cents).
    balances: [i64; 3],
}

async fn order_phase(cast: &Cast, requester: &Acct, offers: &[api::Offer]) -> Result<Deal> {
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
async fn usd_balance(acct: &Acct) -> Result<i64> {
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

async fn rating_phase(
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
fn decided_note(in_history: u64, now: u64, requester: &str) -> String {
    match now.checked_sub(in_history).filter(|n| *n > 0) {
        Some(n) => format!(
            "requests decided: {in_history} in step 3, {now} now — answering {requester}'s request in step 5 \
             decided {n} more (a rating never moves it)."
        ),
        None => format!("requests decided: {now}, as in step 3 (a rating never moves it)."),
    }
}

// ---------------------------------------------------------------- closing and --keep

fn closing(s: &DemoSummary, started: Instant) {
    println!();
    println!("━━ The end {}", "━".repeat(62));
    println!(
        "  {} products, {} past demands; the demand reached {} holders and got {} offers{}",
        s.products,
        s.past_demands,
        s.contacted,
        s.offers,
        if s.strict_refused {
            " (the stricter one was refused)"
        } else {
            ""
        }
    );
    println!(
        "  1 order: {} paid, {} commission, ledger sum {} ✓",
        fmt_cents(s.total_minor),
        fmt_cents(s.commission_minor),
        fmt_cents(s.ledger_sum_minor())
    );
    println!(
        "  {}: {} → {} ratings, positive rate {} → {}",
        s.holder_after.name,
        s.holder_before.ratings,
        s.holder_after.ratings,
        s.holder_before
            .positive_rate
            .map(pct)
            .unwrap_or_else(|| "—".into()),
        s.holder_after
            .positive_rate
            .map(pct)
            .unwrap_or_else(|| "—".into())
    );
    let a = &s.after_sale;
    println!(
        "  after the sale: a {} order cancelled, {} refunded, stock {} → {} → {};",
        fmt_cents(a.cancelled_total_minor),
        fmt_cents(a.cancel_refund_minor),
        a.stock[0],
        a.stock[1],
        a.stock[2]
    );
    println!(
        "  a {} refund of a {} order took back {} of {} commission (holder: pending {}, available {})",
        fmt_cents(a.refund_minor),
        fmt_cents(a.refunded_order_total_minor),
        fmt_cents(a.commission_reversed_minor),
        fmt_cents(a.commission_minor),
        fmt_cents(a.holder_pending_change_minor),
        fmt_cents(a.holder_available_change_minor)
    );
    println!("  Told in {:.2} s.", started.elapsed().as_secs_f64());
}

fn print_keys(s: &DemoSummary) {
    println!();
    println!("━━ The server keeps running {}", "━".repeat(45));
    kv("server", &s.server_url);
    let mut table = new_table(&["Role", "Account", "Id", "API key"]);
    // Keys are copied from here: never wrap them.
    table.set_content_arrangement(ContentArrangement::Disabled);
    for (role, name, id, key) in &s.accounts {
        table.add_row(vec![role.clone(), name.clone(), id.clone(), key.clone()]);
    }
    print_table(&table);
    let key_of = |role: &str| {
        s.accounts
            .iter()
            .find(|a| a.0.starts_with(role))
            .map(|a| a.3.clone())
            .unwrap_or_default()
    };
    note("Try, for example:");
    println!(
        "    symbolon --server {} --key {} inbox",
        s.server_url,
        key_of("holder")
    );
    println!(
        "    symbolon --server {} --key {} balance",
        s.server_url,
        key_of("requester")
    );
    println!(
        "    symbolon --server {} --key {} balance",
        s.server_url,
        key_of("provider")
    );
    println!("    curl {}/v1/holders/{}", s.server_url, s.holder_after.id);
    println!();
    println!("  Press Ctrl-C to stop the server (its temp dir is then removed).");
}

// ---------------------------------------------------------------- helpers

fn header(n: usize, title: &str) {
    let line = format!("━━ {n}. {title} ");
    println!();
    println!(
        "{line}{}",
        "━".repeat(74usize.saturating_sub(line.chars().count()))
    );
}

fn done(what: &str, since: Instant) {
    println!("  ✓ {what}  ({} ms)", since.elapsed().as_millis());
}

fn note(what: &str) {
    println!("  {what}");
}

fn kv(k: &str, v: &str) {
    println!("    {k:<11} {v}");
}

/// Widest table, in terminal columns (long cells wrap).
const TABLE_WIDTH: u16 = 116;

fn new_table(headers: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .apply_modifier(modifiers::UTF8_ROUND_CORNERS)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(TABLE_WIDTH);
    t.set_header(headers.to_vec());
    t
}

fn align_right(t: &mut Table, columns: &[usize]) {
    for &c in columns {
        if let Some(col) = t.column_mut(c) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
}

fn print_table(t: &Table) {
    for line in t.to_string().lines() {
        println!("  {line}");
    }
}

fn usd(amount: &str) -> api::Money {
    api::Money::new(amount, "USD")
}

fn money(m: &api::Money) -> String {
    if m.currency == "USD" {
        format!("${}", m.amount)
    } else {
        format!("{} {}", m.amount, m.currency)
    }
}

fn cents(amount: &str) -> Result<i64> {
    symbolon_core::Money::parse(amount, "USD")
        .map(|m| m.minor)
        .map_err(|e| anyhow!("the server sent an amount that is not USD: {e}"))
}

fn fmt_cents(minor: i64) -> String {
    match Currency::parse("USD") {
        Ok(c) => {
            let s = symbolon_core::Money::new(minor, c).amount_string();
            if minor < 0 {
                format!("-${}", &s[1..])
            } else {
                format!("${s}")
            }
        }
        Err(_) => minor.to_string(),
    }
}

fn pct(r: f64) -> String {
    format!("{:.0}%", r * 100.0)
}

fn mode(m: api::PassMode) -> &'static str {
    match m {
        api::PassMode::Shareable => "shareable",
        api::PassMode::Unique => "unique",
    }
}

fn tail(s: &str, n: usize) -> &str {
    let start = s
        .char_indices()
        .rev()
        .nth(n.saturating_sub(1))
        .map(|(i, _)| i)
        .unwrap_or(0);
    &s[start..]
}

fn path(s: &str) -> Option<TaxonomyPath> {
    TaxonomyPath::parse(s, "path").ok()
}

fn under(category: &str, ancestor: &str) -> bool {
    matches!((path(category), path(ancestor)), (Some(c), Some(a)) if c.is_under(&a))
}

fn same_branch(a: &str, b: &str) -> bool {
    matches!((path(a), path(b)), (Some(a), Some(b)) if a.same_branch(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_whole_demo_runs_against_its_embedded_server() {
        let summary = demo(&DemoArgs {
            keep: false,
            seed: 7,
        })
        .await
        .expect("the demo runs to the end");
        assert!(summary.contacted >= 2, "contacted {}", summary.contacted);
        assert!(summary.offers >= 2);
        assert!(summary.strict_refused);
        assert!(summary.products >= 20);
        assert_eq!(summary.ledger_sum_minor(), 0);
        assert_eq!(summary.requester_balance_minor, -summary.total_minor);
        assert_eq!(
            summary.provider_balance_minor,
            summary.total_minor - summary.commission_minor
        );
        assert_eq!(summary.holder_balance_minor, summary.commission_minor);
        assert!(summary.commission_minor > 0);
        assert_eq!(
            summary.holder_after.ratings,
            summary.holder_before.ratings + 1
        );
        let a = &summary.after_sale;
        assert!(a.cancelled_total_minor > 0);
        assert_eq!(a.cancel_refund_minor, a.cancelled_total_minor);
        assert_eq!(a.stock[0], a.stock[2]);
        assert_eq!(a.stock[1], a.stock[0] - 1);
        assert_eq!(a.refund_minor, a.refunded_order_total_minor * 40 / 100);
        assert!(a.commission_reversed_minor > 0);
        assert_eq!(
            a.commission_reversed_minor,
            a.commission_minor * a.refund_minor / a.refunded_order_total_minor
        );
        assert_eq!(a.holder_pending_change_minor, -a.commission_reversed_minor);
        assert_eq!(a.holder_available_change_minor, 0);
        assert_eq!(
            summary.accounts.len(),
            1 + HOLDERS.len() + 1 + PAST_REQUESTERS.len()
        );
    }

    #[test]
    fn the_decided_count_is_explained() {
        let moved = decided_note(13, 14, "Mei");
        assert!(
            moved.contains("13 in step 3, 14 now")
                && moved.contains("Mei's request in step 5 decided 1 more"),
            "{moved}"
        );
        assert!(decided_note(14, 14, "Mei").contains("as in step 3"));
    }

    #[test]
    fn helpers() {
        assert_eq!(fmt_cents(-39999), "-$399.99");
        assert_eq!(fmt_cents(3199), "$31.99");
        assert_eq!(cents("-399.99").unwrap(), -39999);
        assert_eq!(tail("abcdef", 3), "def");
        assert_eq!(tail("ab", 3), "ab");
        assert!(under("electronics/audio/headphones", "electronics/audio"));
        assert!(!under(
            "electronics/audio/earbuds",
            "electronics/audio/headphones"
        ));
        assert!(same_branch("electronics", "electronics/audio"));
        assert!(CATALOG.len() >= 20);
    }
}
