//! Catalogue commands: products and passes.

use super::print::*;
use super::*;

pub(super) async fn product(cmd: ProductCommand, ctx: &Context) -> anyhow::Result<()> {
    let client = ctx.authed()?;
    let p = match cmd {
        ProductCommand::Create(a) => {
            let req = api::CreateProduct {
                title: a.title,
                description: a.description,
                category: a.category,
                specs: a.specs.into_iter().collect::<BTreeMap<_, _>>(),
                price: api::Money::new(a.price, a.currency),
                stock: a.stock,
                gtin: None,
            };
            client.create_product(&req).await?
        }
        ProductCommand::Show { id } => client.product(&id).await?,
        ProductCommand::List(page) => {
            let list = client.products(page.after.as_deref(), page.limit).await?;
            ctx.show(&list, |l| {
                output::print_table(&products_table(l), "no products yet");
                output::print_next(l.next.as_deref());
            });
            return Ok(());
        }
        ProductCommand::Update(a) => {
            // A new price keeps the product's currency unless one is given.
            let price = match (a.price, a.currency) {
                (None, _) => None,
                (Some(amount), Some(currency)) => Some(api::Money::new(amount, currency)),
                (Some(amount), None) => Some(api::Money::new(
                    amount,
                    client.product(&a.product).await?.price.currency,
                )),
            };
            let req = api::UpdateProduct {
                title: a.title,
                description: a.description,
                category: a.category,
                specs: (!a.specs.is_empty()).then(|| a.specs.into_iter().collect()),
                price,
                stock: a.stock,
                gtin: a.gtin,
            };
            client.update_product(&a.product, &req).await?
        }
        ProductCommand::Archive { product } => client.archive_product(&product).await?,
    };
    ctx.show(&p, |p| {
        let mut f = Fields::new();
        f.add("id", &p.id)
            .add("provider", &p.provider_id)
            .add("title", &p.title)
            .add(
                "description",
                if p.description.is_empty() {
                    output::NONE
                } else {
                    p.description.as_str()
                },
            )
            .add("category", &p.category)
            .add("price", output::money(&p.price))
            .add("stock", p.stock);
        for (k, v) in &p.specs {
            f.add(format!("spec {k}"), v);
        }
        f.some("gtin", p.gtin.as_deref())
            .add("created", &p.created_at)
            .some(
                "archived",
                p.archived_at
                    .as_deref()
                    .map(|t| format!("{t} (no longer sold)")),
            )
            .print();
    });
    Ok(())
}

pub(super) async fn pass(cmd: PassCommand, ctx: &Context) -> anyhow::Result<()> {
    match cmd {
        PassCommand::Create(a) => {
            let req = api::CreatePass {
                product_id: a.product,
                mode: a.mode.into(),
                units: a.units,
                commission_bps: a.commission_bps,
                valid_until: a.valid_until,
            };
            let p = ctx.authed()?.create_pass(&req).await?;
            ctx.show(&p, print_pass);
        }
        PassCommand::Show { id } => {
            let p = ctx.anon()?.pass(&id).await?;
            ctx.show(&p, print_pass);
        }
        PassCommand::Grant {
            pass,
            holder,
            units,
            without_share,
        } => {
            // A sealed pass's holder gets its share with the grant, or the
            // grant is refused unless --without-share says otherwise.
            let req = api::CreateGrant {
                holder_id: holder,
                units,
            };
            let h = crate::sealing::grant(&ctx.authed()?, &pass, &req, without_share).await?;
            ctx.show(&h, |h| {
                Fields::new()
                    .add("grant", &h.grant_id)
                    .add("holder", &h.holder_id)
                    .add("pass", &h.pass.id)
                    .add("title", &h.pass.title)
                    .add("mode", output::mode(h.pass.mode))
                    .opt("units granted", h.units_granted)
                    .opt("units left", h.units_left)
                    .add("granted", &h.granted_at)
                    .print();
            });
        }
        PassCommand::Verify(a) => {
            let opts = crate::verify::Options {
                jwks_file: a.jwks,
                status_file: a.status_list,
                offline: a.offline,
                require_status: a.require_status,
            };
            let now = symbolon_core::Clock::now(&symbolon_core::SystemClock);
            let outcome =
                crate::verify::verify(crate::verify::Source::parse(&a.pass), &opts, now).await?;
            if ctx.json {
                output::print_json(&outcome);
            } else {
                crate::verify::print(&outcome);
            }
            if !outcome.valid {
                std::process::exit(1);
            }
        }
        PassCommand::Keygen { out } => {
            let c = ctx.authed()?;
            let (key, jwk) = crate::verify::generate_key_file(&out)?;
            let keys = c.register_key(&api::RegisterSigningKey { jwk }).await?;
            ctx.show(&keys, |_| {
                println!("wrote {} (keep it secret; mode 0600)", out.display());
                println!("registered and published key {}", key.kid());
            });
        }
        PassCommand::Sign(a) => {
            let c = ctx.authed()?;
            let key = crate::verify::read_key_file(&a.key_file)?;
            let me = c.whoami().await?;
            let meta = c.issuer_metadata(&me.id).await?;
            let issuer = meta["issuer"]
                .as_str()
                .ok_or_else(|| anyhow!("the server sent no issuer"))?
                .to_string();
            let public_url = issuer
                .strip_suffix(&format!("/v1/providers/{}", me.id))
                .ok_or_else(|| anyhow!("unexpected issuer id {issuer}"))?
                .to_string();
            let product = c.product(&a.product).await?;
            let valid_until = a
                .valid_until
                .as_deref()
                .map(|s| {
                    symbolon_core::Timestamp::parse_rfc3339(s)
                        .ok_or_else(|| anyhow!("--valid-until: not an RFC 3339 time"))
                })
                .transpose()?;
            let jws = crate::verify::sign_pass(
                &key,
                &crate::verify::PassDraft {
                    public_url: &public_url,
                    issuer: &issuer,
                    issuer_name: &me.name,
                    product: &product,
                    mode: a.mode.into(),
                    units: a.units,
                    commission_bps: a.commission_bps,
                    valid_until,
                },
            )?;
            if let Some(out) = &a.out {
                std::fs::write(out, &jws)?;
            }
            if a.no_upload {
                println!("{jws}");
            } else {
                let p = c.upload_pass(&api::UploadPass { jws }).await?;
                ctx.show(&p, print_pass);
            }
        }
        PassCommand::Revoke { pass } => {
            let p = ctx.authed()?.revoke_pass(&pass).await?;
            ctx.show(&p, print_pass);
        }
        PassCommand::Keys { rotate } => {
            let c = ctx.authed()?;
            let keys = if rotate {
                c.rotate_key().await?
            } else {
                c.signing_keys().await?
            };
            ctx.show(&keys, |k| {
                let mut t = output::table(["kid", "active", "published", "created", "retired"]);
                for key in &k.keys {
                    t.add_row([
                        key.kid.clone(),
                        key.active.to_string(),
                        key.published.to_string(),
                        key.created_at.clone(),
                        key.retired_at
                            .clone()
                            .unwrap_or_else(|| output::NONE.into()),
                    ]);
                }
                output::print_table(&t, "no keys");
            });
        }
        PassCommand::History {
            pass,
            unit: None,
            jwks: _,
        } => {
            let units = ctx.anon()?.pass_units(&pass, None, None).await?;
            ctx.show(&units, |u| {
                let mut t = output::table(["unit", "owner", "transfers", "last changed hands"]);
                for item in &u.items {
                    t.add_row([
                        item.unit_no.to_string(),
                        item.owner.clone().unwrap_or_else(|| output::NONE.into()),
                        item.transfers.to_string(),
                        item.last_at.clone(),
                    ]);
                }
                output::print_table(&t, "no unit of this pass has changed hands yet");
                println!("{} unit(s) left to buy", u.unsold);
                if let Some(first) = u.items.first() {
                    println!(
                        "next: symbolon pass history {} {}   # one unit's signed chain, verified",
                        u.pass_id, first.unit_no
                    );
                }
                if u.next.is_some() {
                    println!("(first page only; `--json` and the API page on with `?after=`)");
                }
            });
        }
        PassCommand::History {
            pass,
            unit: Some(unit),
            jwks,
        } => {
            let h = ctx.anon()?.unit_history(&pass, unit).await?;
            let keys: symbolon_pass::Jwks = match jwks {
                Some(p) => serde_json::from_str(&std::fs::read_to_string(&p)?)?,
                None => {
                    let iss = h.jwks_url.clone();
                    reqwest::get(&iss).await?.error_for_status()?.json().await?
                }
            };
            let statements: Vec<String> = h.transfers.iter().map(|t| t.jws.clone()).collect();
            let chain =
                symbolon_pass::verify_chain(&h.pass_jws, &statements, &keys).and_then(|c| {
                    // The chain must be about the unit asked for, of the pass asked for.
                    let want = format!("/v1/passes/{pass}/units/{unit}");
                    if !statements.is_empty() && !c.unit_id.ends_with(&want) {
                        return Err(symbolon_pass::PassError::BrokenChain(format!(
                            "the history is about {}, not {want}",
                            c.unit_id
                        )));
                    }
                    let claims = symbolon_pass::peek_claims(&h.pass_jws)?;
                    let pass_id = claims["id"].as_str().unwrap_or_default();
                    if !pass_id.ends_with(&format!("/v1/passes/{pass}")) {
                        return Err(symbolon_pass::PassError::BrokenChain(format!(
                            "the history is about pass {pass_id}"
                        )));
                    }
                    Ok(c)
                });
            ctx.show(&h, |h| {
                let mut t = output::table(["#", "from", "to", "at"]);
                for tr in &h.transfers {
                    t.add_row([
                        tr.seq.to_string(),
                        tr.from.clone(),
                        tr.to.clone(),
                        tr.created_at.clone(),
                    ]);
                }
                output::print_table(&t, "never sold");
                match &chain {
                    Ok(c) => println!(
                        "✓ chain of {} signed transfer(s) verifies; owner {}",
                        c.hops.len(),
                        c.owner.as_deref().unwrap_or("— (unsold)")
                    ),
                    Err(e) => eprintln!("✗ {}: {e}", e.reason()),
                }
            });
            if let Err(e) = chain {
                anyhow::bail!("the unit's history does not verify: {e}");
            }
        }
        PassCommand::Transfer { pass, unit, to } => {
            let h = ctx
                .authed()?
                .transfer_unit(&pass, unit, &api::TransferUnit { to })
                .await?;
            ctx.show(&h, |h| {
                Fields::new()
                    .add("pass", &h.pass_id)
                    .add("unit", h.unit_no)
                    .add("owner", h.owner.as_deref().unwrap_or(output::NONE))
                    .add("transfers", h.transfers.len())
                    .print();
            });
        }
        PassCommand::Jwks { provider } => {
            let jwks = ctx.anon()?.jwks(&provider).await?;
            // `pass jwks X > jwks.json` must make a valid JWK Set file (for
            // `pass verify --jwks`): JSON whenever stdout is not a terminal.
            if !std::io::IsTerminal::is_terminal(&std::io::stdout()) {
                output::print_json(&jwks);
                return Ok(());
            }
            ctx.show(&jwks, |jwks| {
                let keys = jwks
                    .get("keys")
                    .and_then(|k| k.as_array())
                    .cloned()
                    .unwrap_or_default();
                let s = |k: &serde_json::Value, f: &str| {
                    k.get(f)
                        .and_then(|v| v.as_str())
                        .unwrap_or(output::NONE)
                        .to_string()
                };
                let mut t = output::table(["kid", "kty", "crv", "alg", "x"]);
                for k in &keys {
                    t.add_row([
                        s(k, "kid"),
                        s(k, "kty"),
                        s(k, "crv"),
                        s(k, "alg"),
                        s(k, "x"),
                    ]);
                }
                output::print_table(&t, "no keys published");
            });
        }
    }
    Ok(())
}

/// For an account with several sides (provider, requester, holder): which
/// one `order list` shows without `--role`, and how to switch.
pub(super) fn side_note(sides: &[&str]) -> Option<String> {
    let shown = ["provider", "requester", "holder"]
        .into_iter()
        .find(|r| sides.contains(r))?;
    let others: Vec<String> = sides
        .iter()
        .filter(|r| **r != shown)
        .map(|r| format!("--role {r}"))
        .collect();
    (!others.is_empty()).then(|| {
        format!(
            "showing your orders as {shown}; this account has other sides too: {}",
            others.join(", ")
        )
    })
}
