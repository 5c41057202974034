//! Trading commands: accepting an offer (and ordering it), demands, orders.

use super::catalog::side_note;
use super::print::*;
use super::*;

/// `accept OFFER [--order [--pay]]`: accepts, and with `--order` places the
/// order (and pays it) in the same command. Run again after a failed order,
/// it goes on from the accepted offer; the order's own checks decide.
pub(super) async fn accept(a: AcceptArgs, ctx: &Context) -> anyhow::Result<()> {
    let c = ctx.authed()?;
    let accepted = match c.accept(&a.offer).await {
        Ok(o) => Some(o),
        // Accepted by an earlier run: ordering tells whether it was this offer.
        Err(e) if a.order && e.code() == Some("offer_already_accepted") => None,
        Err(e) => return Err(e.into()),
    };
    if let Some(o) = &accepted {
        let step = crate::sealing::BuyerStep::Accepted { offer_id: &o.id };
        if let Some(note) = crate::sealing::buyer_note(&c, &o.pass.id, step).await {
            eprintln!("sealed secret: {note}");
        }
    }
    if !a.order {
        let o = accepted.expect("accepted");
        ctx.show(&o, |o| {
            print_offer(o);
            println!();
            println!("{}", next_after_accept(&o.id));
        });
        return Ok(());
    }
    let req = api::CreateOrder {
        offer_id: a.offer.clone(),
        quantity: a.quantity,
        pay: a.pay,
        ship_to: None,
    };
    let order = match c.create_order(&req).await {
        Ok(o) => o,
        Err(e) => {
            if accepted.is_some() {
                eprintln!(
                    "the offer {} is accepted, but the order was not placed; once fixed, run: {}",
                    a.offer,
                    order_command(&a.offer, a.pay)
                );
            }
            return Err(e.into());
        }
    };
    let both = serde_json::json!({"offer": accepted, "order": order});
    ctx.show(&both, |_| {
        if let Some(o) = &accepted {
            print_offer(o);
            println!();
        }
        print_order(&order);
        if order.status == "placed" {
            println!();
            println!("next: symbolon order pay {}", order.id);
        }
    });
    Ok(())
}

/// The command that orders an accepted offer (and pays it, with `pay`).
pub(super) fn order_command(offer: &str, pay: bool) -> String {
    format!(
        "symbolon order create --offer {offer}{}",
        if pay { " --pay" } else { "" }
    )
}

/// What `accept` prints after the offer: the command to order it.
pub(super) fn next_after_accept(offer: &str) -> String {
    format!(
        "next: {}   (order and pay in one click; without --pay, pay later with `symbolon order pay`)",
        order_command(offer, true)
    )
}

pub(super) async fn demand(cmd: DemandCommand, ctx: &Context) -> anyhow::Result<()> {
    let client = ctx.authed()?;
    match cmd {
        DemandCommand::Create(a) => {
            let req = api::CreateDemand {
                query: a.query,
                category: a.category,
                max_price: a
                    .max_price
                    .zip(a.currency)
                    .map(|(amount, currency)| api::Money::new(amount, currency)),
                holder: api::HolderCriteria {
                    min_positive_rate: a.min_positive_rate,
                    min_success_rate: a.min_success_rate,
                    min_ratings: a.min_ratings,
                    fields: (!a.fields.is_empty()).then_some(a.fields),
                },
                min_holders: a.min_holders,
                max_holders: a.max_holders,
                ttl_seconds: a.ttl_seconds,
                wait: a.wait.then_some(true),
            };
            let d = client.create_demand(&req).await?;
            ctx.show(&d, |d| {
                Fields::new()
                    .add("demand", &d.id)
                    .add("status", &d.status)
                    .add("deadline", &d.deadline)
                    .print();
                output::print_section(
                    &format!("Contacted holders ({})", d.contacted.len()),
                    &contacted_table(&d.contacted),
                );
            });
        }
        DemandCommand::Show { id } => {
            let d = client.demand(&id).await?;
            ctx.show(&d, print_demand);
        }
        DemandCommand::List(page) => {
            let list = client.demands(page.after.as_deref(), page.limit).await?;
            ctx.show(&list, |l| {
                output::print_table(&demands_table(l), "no demands yet");
                output::print_next(l.next.as_deref());
            });
        }
        DemandCommand::Cancel { demand } => {
            let d = client.cancel_demand(&demand).await?;
            ctx.show(&d, print_demand);
        }
    }
    Ok(())
}

pub(super) async fn order(cmd: OrderCommand, ctx: &Context) -> anyhow::Result<()> {
    let client = ctx.authed()?;
    let created = matches!(cmd, OrderCommand::Create(_));
    let o = match cmd {
        OrderCommand::Create(a) => match (a.offer, a.pass) {
            (Some(offer_id), _) => {
                let req = api::CreateOrder {
                    offer_id,
                    quantity: a.quantity,
                    pay: a.pay,
                    ship_to: a.ship_to.into_address(),
                };
                client.create_order(&req).await?
            }
            (None, Some(pass)) => {
                let req = api::CreatePassOrder {
                    quantity: Some(a.quantity),
                    pay: a.pay,
                    via: a.via,
                    ship_to: a.ship_to.into_address(),
                };
                client.pass_order(&pass, &req).await?
            }
            (None, None) => anyhow::bail!("give --offer OFFER or --pass PASS"),
        },
        OrderCommand::List { role, page } => {
            let role = role.map(|r| output::role(r.into()));
            // An account with several roles sees one side at a time: say which,
            // and how to see the others (the server picks provider, then
            // requester, then holder).
            if role.is_none() && !ctx.json {
                let me = client.whoami().await?;
                let sides: Vec<&str> = me
                    .roles
                    .iter()
                    .map(|r| output::role(*r))
                    .filter(|r| *r != "operator")
                    .collect();
                if let Some(note) = side_note(&sides) {
                    eprintln!("{note}");
                }
            }
            let list = client
                .orders(role, page.after.as_deref(), page.limit)
                .await?;
            ctx.show(&list, |list| {
                let mut t = output::table([
                    "Order",
                    "Status",
                    "Product",
                    "Qty",
                    "Total",
                    "Refunded",
                    "Commission",
                    "Requester",
                    "Holder",
                    "Created",
                ]);
                for o in &list.items {
                    t.add_row([
                        o.id.clone(),
                        o.status.clone(),
                        o.product_id.clone(),
                        o.quantity.to_string(),
                        output::money(&o.total),
                        if output::is_zero(&o.refunded_total) {
                            output::NONE.into()
                        } else {
                            output::money(&o.refunded_total)
                        },
                        output::money(&o.commission),
                        o.requester_id.clone(),
                        o.holder_id.clone().unwrap_or_else(|| "—".into()),
                        o.created_at.clone(),
                    ]);
                }
                output::print_table(&t, "no orders");
                output::print_next(list.next.as_deref());
            });
            return Ok(());
        }
        OrderCommand::Show { id } => client.order(&id).await?,
        OrderCommand::Pay { id } => client.pay_order(&id).await?,
        OrderCommand::Ship { id, tracking } => match tracking.as_deref() {
            Some(t) => client.ship_order_tracked(&id, t).await?,
            None => client.ship_order(&id).await?,
        },
        OrderCommand::Step(step) => return after_sale::order_step(step, &client, ctx).await,
    };
    if created {
        let step = crate::sealing::BuyerStep::Ordered(&o);
        if let Some(note) = crate::sealing::buyer_note(&client, &o.pass_id, step).await {
            eprintln!("sealed secret: {note}");
        }
    }
    ctx.show(&o, print_order);
    Ok(())
}
