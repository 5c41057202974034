//! The one match from a parsed command to the client call that runs it
//! (the longer commands live in their area's module).

use super::catalog::{pass, product};
use super::print::*;
use super::trade::{accept, demand, order};
use super::*;

pub(super) async fn dispatch(cmd: ApiCommand, ctx: &Context) -> anyhow::Result<()> {
    match cmd {
        ApiCommand::Audit(cmd) => super::audit::run(cmd, ctx).await?,
        ApiCommand::Account(AccountCommand::Create { name, roles, email }) => {
            let client = ctx.anon()?;
            let roles = roles.into_iter().map(api::Role::from).collect();
            let login = match email {
                Some(email) => Some(api::WebLogin {
                    email,
                    password: read_password()?,
                }),
                None => None,
            };
            let created = client
                .create_account(&api::CreateAccount { name, roles, login })
                .await?;
            ctx.show(&created, |a| {
                let mut f = Fields::new();
                f.add("id", &a.id)
                    .add("name", &a.name)
                    .add("roles", output::roles(&a.roles))
                    .add("api_key", &a.api_key);
                f.print();
                println!();
                println!("The key is shown only once. Use it with:");
                println!("  export SYMBOLON_KEY={}", a.api_key);
            });
        }
        ApiCommand::Account(AccountCommand::Show) => {
            let a = ctx.authed()?.whoami().await?;
            ctx.show(&a, |a| {
                Fields::new()
                    .add("id", &a.id)
                    .add("name", &a.name)
                    .add("roles", output::roles(&a.roles))
                    .add("created", &a.created_at)
                    .print();
            });
        }
        ApiCommand::Balance => {
            let b = ctx.authed()?.balance().await?;
            ctx.show(&b, after_sale::print_balances);
        }
        ApiCommand::Events(args) => {
            let c = ctx.authed()?;
            if !args.follow {
                let page = c.events(args.after.as_deref(), args.limit).await?;
                ctx.show(&page, |p| {
                    let mut t = output::table(["Event", "Type", "At", "Data"]);
                    for e in &p.events {
                        t.add_row([
                            e.id.clone(),
                            e.kind.clone(),
                            e.timestamp.clone(),
                            e.data.to_string(),
                        ]);
                    }
                    output::print_table(&t, "no events");
                    output::print_next(Some(&p.next_after));
                });
                return Ok(());
            }
            // Resumes after the last event printed whenever the stream drops.
            let mut follower = crate::follower::Follower::new(&c, args.after.clone());
            loop {
                let e = follower.next().await?;
                if ctx.json {
                    println!("{}", serde_json::to_string(&e)?);
                } else {
                    println!("{}  {:<22} {}  {}", e.id, e.kind, e.timestamp, e.data);
                }
            }
        }
        ApiCommand::Webhook(cmd) => {
            let c = ctx.authed()?;
            let show_one = |w: &symbolon_client::api::Webhook| {
                Fields::new()
                    .add("id", &w.id)
                    .add("url", &w.url)
                    .add("status", &w.status)
                    .some("secret", w.secret.as_deref())
                    .some("disabled", w.disabled_reason.as_deref())
                    .some("failing since", w.failing_since.as_deref())
                    .add("pending", w.pending)
                    .add("created", &w.created_at)
                    .print()
            };
            match cmd {
                WebhookCommand::Add { url } => ctx.show(&c.create_webhook(&url).await?, show_one),
                WebhookCommand::Show { id } => ctx.show(&c.webhook(&id).await?, show_one),
                WebhookCommand::Rotate { id } => ctx.show(&c.rotate_webhook(&id).await?, show_one),
                WebhookCommand::Enable { id } => ctx.show(&c.enable_webhook(&id).await?, show_one),
                WebhookCommand::Disable { id } => {
                    ctx.show(&c.disable_webhook(&id).await?, show_one)
                }
                WebhookCommand::Rm { id } => {
                    c.delete_webhook(&id).await?;
                    ctx.show(&serde_json::json!({"deleted": id}), |_| {
                        println!("deleted {id}")
                    });
                }
                WebhookCommand::List => {
                    let l = c.webhooks().await?;
                    ctx.show(&l, |l| {
                        let mut t =
                            output::table(["Webhook", "URL", "Status", "Pending", "Created"]);
                        for w in &l.items {
                            t.add_row([
                                w.id.clone(),
                                w.url.clone(),
                                w.status.clone(),
                                w.pending.to_string(),
                                w.created_at.clone(),
                            ]);
                        }
                        output::print_table(&t, "no webhook endpoints");
                    });
                }
                WebhookCommand::Replay { id, after } => {
                    let r = c.replay_webhook(&id, after.as_deref()).await?;
                    ctx.show(&r, |r| println!("{} events queued", r.queued));
                }
                WebhookCommand::Attempts { id } => {
                    let a = c.webhook_attempts(&id).await?;
                    ctx.show(&a, |a| {
                        let mut t =
                            output::table(["Event", "Attempt", "At", "Status", "Outcome", "Error"]);
                        for x in &a.items {
                            t.add_row([
                                x.event_id.clone(),
                                x.attempt.to_string(),
                                x.at.clone(),
                                output::opt_num(x.status),
                                x.outcome.clone(),
                                output::opt_str(x.error.as_deref()),
                            ]);
                        }
                        output::print_table(&t, "no attempts yet");
                    });
                }
            }
        }
        ApiCommand::Keys(cmd) => {
            let c = ctx.authed()?;
            match cmd {
                KeysCommand::Init { force } => {
                    let done = crate::keystore::keys_init(&c, force).await?;
                    if let Some(old) = &done.replaced {
                        eprintln!(
                            "warning: {}",
                            crate::keystore::replaced_note(&done.keys.account_id, old)
                        );
                    }
                    ctx.show(&done.keys, |k| {
                        Fields::new()
                            .add("account", &k.account_id)
                            .add("recipient", &k.age_recipient)
                            .add("fingerprint", &k.fingerprint)
                            .add(
                                "keystore",
                                crate::keystore::home()
                                    .map(|h| h.display().to_string())
                                    .unwrap_or_default(),
                            )
                            .print()
                    });
                }
                KeysCommand::Trust { account } => {
                    let k = crate::keystore::trust(&c, &account).await?;
                    ctx.show(&k, |k| {
                        Fields::new()
                            .add("account", &k.account_id)
                            .add("recipient", &k.age_recipient)
                            .add("fingerprint", &k.fingerprint)
                            .add("trusted", "yes")
                            .print()
                    });
                }
                KeysCommand::Show => {
                    let (recipient, fingerprint, registered) =
                        crate::keystore::keys_show(&c).await?;
                    let v = serde_json::json!({"recipient": recipient, "fingerprint": fingerprint, "registered": registered});
                    ctx.show(&v, |_| {
                        Fields::new()
                            .add("recipient", &recipient)
                            .add("fingerprint", &fingerprint)
                            .add(
                                "registered",
                                if registered {
                                    "yes, the exchange has these keys"
                                } else {
                                    "NO — run `symbolon keys init`"
                                },
                            )
                            .print()
                    });
                }
            }
        }
        ApiCommand::Share(cmd) => {
            let c = ctx.authed()?;
            match cmd {
                ShareCommand::Send { pass, holder } => {
                    match crate::sealing::give_holder_share(&c, &pass, &holder).await? {
                        Some(s) => println!("sent share {} to {holder}", s.id),
                        None => bail!("{pass} carries no sealed secret: there is no share to send"),
                    }
                }
                ShareCommand::Offer { offer, pass } => {
                    match crate::sealing::share_with_offer(&c, &offer, &pass).await? {
                        Some(fp) => {
                            println!("sent your share to the requester (key fingerprint {fp})")
                        }
                        None => bail!("the pass is not sealed"),
                    }
                }
            }
        }
        ApiCommand::Seal(a) => {
            let c = ctx.authed()?;
            let h = crate::sealing::seal_pass(&c, &a.pass, &a.secret_file, a.threshold, a.shares)
                .await?;
            let v = serde_json::json!({"pass": h.pass, "seal": h.seal, "k": h.k, "n": h.n, "recipient": h.recipient, "payload_bytes": h.payload_bytes});
            ctx.show(&v, |_| {
                Fields::new()
                    .add("pass", &h.pass)
                    .add("seal", &h.seal)
                    .add("threshold", format!("{} of {}", h.k, h.n))
                    .add(
                        "payload",
                        format!("{} bytes (age, zstd inside)", h.payload_bytes),
                    )
                    .print()
            });
        }
        ApiCommand::Open(a) => {
            let c = ctx.authed()?;
            let secret = crate::sealing::open(
                &c,
                &a.order,
                &crate::sealing::OpenTargets {
                    out: a.out.as_deref(),
                    export_identity: a.export_identity.as_deref(),
                    save_payload: a.save_payload.as_deref(),
                },
            )
            .await?;
            if a.out.is_none() {
                use std::io::Write;
                std::io::stdout().write_all(&secret)?;
            }
        }
        ApiCommand::Provider(cmd) => {
            let c = ctx.authed()?;
            match cmd {
                ProviderCommand::Agent {
                    once,
                    retry_first,
                    retry_attempts,
                } => {
                    let d = crate::agent::RetryPolicy::default();
                    let policy = crate::agent::RetryPolicy {
                        first: retry_first.unwrap_or(d.first),
                        attempts: retry_attempts.unwrap_or(d.attempts),
                        ..d
                    };
                    crate::agent::run(&c, once, policy).await?
                }
                ProviderCommand::Release { order } => {
                    use crate::sealing::Released;
                    match crate::sealing::release(&c, &order).await? {
                        Some(Released::Now(n)) => println!("released {n} share(s) for {order}"),
                        Some(Released::Before) => {
                            println!("the shares of {order} were already released")
                        }
                        None => {
                            bail!("you sealed nothing into the pass of {order} on this machine")
                        }
                    }
                }
            }
        }
        ApiCommand::Health => {
            let h = ctx.anon()?.health().await?;
            ctx.show(&h, |h| Fields::new().add("status", &h.status).print());
        }
        ApiCommand::Product(cmd) => product(cmd, ctx).await?,
        ApiCommand::Pass(cmd) => pass(cmd, ctx).await?,
        ApiCommand::Holder(HolderCommand::Profile { fields }) => {
            let h = ctx
                .authed()?
                .set_holder_profile(&api::HolderProfileUpdate { fields })
                .await?;
            ctx.show(&h, print_holder);
        }
        ApiCommand::Holder(HolderCommand::Show { id }) => {
            let h = ctx.anon()?.holder(&id).await?;
            ctx.show(&h, print_holder);
        }
        ApiCommand::Wallet => {
            let w = ctx.authed()?.wallet().await?;
            ctx.show(&w, |w| {
                let mut t = output::table([
                    "Pass",
                    "Title",
                    "Price",
                    "Mode",
                    "Commission",
                    "Units left",
                    "Valid until",
                    "Granted",
                ]);
                for h in &w.items {
                    t.add_row([
                        h.pass.id.clone(),
                        h.pass.title.clone(),
                        output::money(&h.pass.price),
                        output::mode(h.pass.mode).to_string(),
                        output::bps(h.pass.commission_bps),
                        output::opt_num(h.units_left),
                        output::opt_str(h.pass.valid_until.as_deref()),
                        h.granted_at.clone(),
                    ]);
                }
                output::print_table(&t, "the wallet is empty (no pass granted yet)");
            });
        }
        ApiCommand::Inbox(InboxArgs { pending, page }) => {
            let c = ctx.authed()?;
            let inbox = if pending {
                c.inbox_pending(page.after.as_deref(), page.limit).await?
            } else {
                c.inbox(page.after.as_deref(), page.limit).await?
            };
            let empty = if pending {
                "nothing awaits your answer"
            } else {
                "the inbox is empty"
            };
            ctx.show(&inbox, |inbox| {
                let mut t = output::table([
                    "Interaction",
                    "Status",
                    "Rank",
                    "Query",
                    "Category",
                    "Max price",
                    "Matched passes",
                    "Deadline",
                ]);
                for i in &inbox.items {
                    t.add_row([
                        i.id.clone(),
                        i.status.clone(),
                        i.rank.to_string(),
                        i.item.query.clone(),
                        output::opt_str(i.item.category.as_deref()),
                        output::opt_money(i.item.max_price.as_ref()),
                        output::list(&i.matched_pass_ids),
                        i.deadline.clone(),
                    ]);
                }
                output::print_table(&t, empty);
                output::print_next(inbox.next.as_deref());
            });
        }
        ApiCommand::Offer(a) => {
            let req = api::CreateOffer {
                pass_id: a.pass,
                note: a.note,
            };
            let c = ctx.authed()?;
            let o = c.offer(&a.interaction, &req).await?;
            match crate::sealing::share_with_offer(&c, &o.id, &o.pass.id).await {
                Ok(Some(fingerprint)) => eprintln!(
                    "sealed pass: your share went to the requester (key fingerprint {fingerprint})"
                ),
                Ok(None) => {}
                Err(e) => eprintln!(
                    "warning: the offer is made, but your share of the sealed pass was not sent: {e:#}\n\
                     send it later with `symbolon share offer {} --pass {}`",
                    o.id, o.pass.id
                ),
            }
            ctx.show(&o, print_offer);
        }
        ApiCommand::Decline {
            interaction,
            reason,
        } => {
            let c = ctx.authed()?;
            let s = match reason.as_deref() {
                Some(r) => c.decline_with_reason(&interaction, r).await?,
                None => c.decline(&interaction).await?,
            };
            ctx.show(&s, |s| {
                Fields::new()
                    .add("interaction", &s.id)
                    .add("demand", &s.demand_id)
                    .add("status", &s.status)
                    .print();
            });
        }
        ApiCommand::Demand(cmd) => demand(cmd, ctx).await?,
        ApiCommand::Accept(a) => accept(a, ctx).await?,
        ApiCommand::Rate(a) => {
            let req = api::CreateRating {
                positive: a.positive,
                comment: a.comment,
            };
            let r = ctx.authed()?.rate(&a.offer, &req).await?;
            ctx.show(&r, |r| {
                Fields::new()
                    .add("rating", &r.id)
                    .add("offer", &r.offer_id)
                    .add("holder", &r.holder_id)
                    .add("verdict", if r.positive { "positive" } else { "negative" })
                    .opt("comment", r.comment.as_deref())
                    .add("created", &r.created_at)
                    .print();
            });
        }
        ApiCommand::Requester(RequesterCommand::Profile(a)) => {
            let req = api::RequesterProfileUpdate {
                ship_to: a.address.into_address(),
                payment_method: a.card.map(|number| api::PaymentMethodInput {
                    kind: "sandbox_card".into(),
                    number,
                }),
            };
            let p = ctx.authed()?.set_requester_profile(&req).await?;
            ctx.show(&p, print_requester_profile);
        }
        ApiCommand::Requester(RequesterCommand::Show) => {
            let p = ctx.authed()?.requester_profile().await?;
            ctx.show(&p, print_requester_profile);
        }
        ApiCommand::Order(cmd) => order(cmd, ctx).await?,
        ApiCommand::Dispute(cmd) => after_sale::dispute(cmd, ctx).await?,
        ApiCommand::Payout(a) => after_sale::payout(a, ctx).await?,
    }
    Ok(())
}

/// The web password for `account create --email`: the first line of
/// standard input (a prompt says so when it is a terminal).
fn read_password() -> anyhow::Result<String> {
    use std::io::{BufRead, IsTerminal};
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Password for the web (8 to 128 characters; shown as typed): ");
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    if password.is_empty() {
        bail!("--email needs a password on standard input, e.g. `echo \"$PASSWORD\" | symbolon account create ... --email you@example.org`");
    }
    Ok(password)
}
