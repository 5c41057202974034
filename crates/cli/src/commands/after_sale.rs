//! The commands after the sale: cancel, refund, confirm delivery, returns,
//! disputes, payouts, and the balances they move. A child of `commands`
//! (`symbolon order cancel …`, `symbolon dispute …`, `symbolon payout`).

use super::print::print_order;
use super::{Context, PageArgs};
use crate::output::{self, Fields};
use clap::{Args, Subcommand, ValueEnum};
use std::collections::{BTreeMap, BTreeSet};
use symbolon_api as api;
use symbolon_client::Client;

/// The order steps after the sale, flattened into `symbolon order`.
#[derive(Subcommand, Debug)]
pub enum OrderStep {
    /// Requester or provider: cancel a placed or paid (unshipped) order; paid
    /// money is refunded in full, stock and unit are restored.
    Cancel {
        /// The order id.
        id: String,
        /// Why (1–2000 characters; shown to both parties).
        #[arg(long)]
        reason: String,
    },
    /// Provider: refund part (`--amount`) or all that is left of a paid,
    /// shipped or delivered order; the holder's commission is reversed in proportion.
    Refund {
        /// The order id.
        id: String,
        /// Decimal amount in the order's currency, e.g. `12.50` [default: all not yet refunded].
        #[arg(long)]
        amount: Option<String>,
        /// Why (1–2000 characters).
        #[arg(long)]
        reason: String,
    },
    /// Requester: confirm a shipped order arrived.
    Delivered {
        /// The order id.
        id: String,
    },
    /// Requester: ask to return a delivered order (within its return window).
    Return {
        /// The order id.
        id: String,
        /// Why (1–2000 characters).
        #[arg(long)]
        reason: String,
    },
    /// Provider: accept a requested return (then refund it with `order refund`).
    ReturnAccept {
        /// The order id.
        id: String,
    },
    /// Provider: refuse a requested return.
    ReturnRefuse {
        /// The order id.
        id: String,
    },
    /// Requester: open the order's dispute (one per order); an operator resolves it.
    Dispute {
        /// The order id.
        id: String,
        /// What went wrong.
        #[arg(long, value_enum)]
        kind: DisputeKindArg,
        /// What happened (1–2000 characters).
        #[arg(long)]
        reason: String,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
#[value(rename_all = "snake_case")]
pub enum DisputeKindArg {
    /// The order never arrived.
    NotReceived,
    /// What arrived is not what was described.
    NotAsDescribed,
}

impl DisputeKindArg {
    fn as_str(self) -> &'static str {
        match self {
            Self::NotReceived => "not_received",
            Self::NotAsDescribed => "not_as_described",
        }
    }
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
#[value(rename_all = "snake_case")]
pub enum DisputeStatusArg {
    Open,
    Resolved,
    Rejected,
}

impl DisputeStatusArg {
    fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Resolved => "resolved",
            Self::Rejected => "rejected",
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum DisputeCommand {
    /// Show a dispute and its messages (its parties and operators).
    Show {
        /// The dispute id.
        id: String,
    },
    /// Operators: list disputes, oldest first.
    List {
        /// Only disputes in this state (all without it).
        #[arg(long, value_enum)]
        status: Option<DisputeStatusArg>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Add a message to a dispute (its parties and operators).
    Message {
        /// The dispute id.
        id: String,
        /// The message (1–2000 characters).
        #[arg(long)]
        body: String,
    },
    /// Operators: resolve with a refund (`--refund AMOUNT`), or reject (no `--refund`).
    Resolve {
        /// The dispute id.
        id: String,
        /// Decimal amount refunded to the requester, e.g. `10.00`; leave out to reject.
        #[arg(long)]
        refund: Option<String>,
        /// Why (1–2000 characters; shown to both parties).
        #[arg(long)]
        reason: String,
    },
}

#[derive(Args, Debug)]
pub struct PayoutArgs {
    /// ISO 4217 currency, e.g. `USD`.
    #[arg(long)]
    currency: String,
    /// Decimal amount, e.g. `5.00` [default: all that is available].
    #[arg(long)]
    amount: Option<String>,
}

/// Runs one of `symbolon order`'s after-sale steps.
pub(super) async fn order_step(
    step: OrderStep,
    client: &Client,
    ctx: &Context,
) -> anyhow::Result<()> {
    let o = match step {
        OrderStep::Cancel { id, reason } => client.cancel_order(&id, &reason).await?,
        OrderStep::Refund { id, amount, reason } => {
            let r = client.refund_order(&id, amount.as_deref(), &reason).await?;
            ctx.show(&r, print_refund);
            return Ok(());
        }
        OrderStep::Delivered { id } => client.confirm_delivery(&id).await?,
        OrderStep::Return { id, reason } => client.request_return(&id, &reason).await?,
        OrderStep::ReturnAccept { id } => client.accept_return(&id).await?,
        OrderStep::ReturnRefuse { id } => client.refuse_return(&id).await?,
        OrderStep::Dispute { id, kind, reason } => {
            let d = client.open_dispute(&id, kind.as_str(), &reason).await?;
            ctx.show(&d, print_dispute);
            return Ok(());
        }
    };
    ctx.show(&o, print_order);
    Ok(())
}

/// Runs `symbolon dispute …`.
pub(super) async fn dispute(cmd: DisputeCommand, ctx: &Context) -> anyhow::Result<()> {
    let client = ctx.authed()?;
    match cmd {
        DisputeCommand::Show { id } => ctx.show(&client.dispute(&id).await?, print_dispute),
        DisputeCommand::List { status, page } => {
            let list = client
                .disputes(
                    status.map(DisputeStatusArg::as_str),
                    page.after.as_deref(),
                    page.limit,
                )
                .await?;
            ctx.show(&list, |list| {
                let mut t = output::table([
                    "Dispute",
                    "Order",
                    "Status",
                    "Kind",
                    "Requester",
                    "Provider",
                    "Refund",
                    "Created",
                ]);
                for d in &list.items {
                    t.add_row([
                        d.id.clone(),
                        d.order_id.clone(),
                        d.status.clone(),
                        d.kind.clone(),
                        d.requester_id.clone(),
                        d.provider_id.clone(),
                        output::opt_money(d.refund.as_ref()),
                        d.created_at.clone(),
                    ]);
                }
                output::print_table(&t, "no disputes");
                output::print_next(list.next.as_deref());
            });
        }
        DisputeCommand::Message { id, body } => {
            let m = client.dispute_message(&id, &body).await?;
            ctx.show(&m, |m| {
                Fields::new()
                    .add("message", &m.id)
                    .add("author", format!("{} ({})", m.author_id, m.role))
                    .add("body", &m.body)
                    .add("created", &m.created_at)
                    .print();
            });
        }
        DisputeCommand::Resolve { id, refund, reason } => {
            let d = client
                .resolve_dispute(&id, refund.as_deref(), &reason)
                .await?;
            ctx.show(&d, print_dispute);
        }
    }
    Ok(())
}

/// Runs `symbolon payout`.
pub(super) async fn payout(a: PayoutArgs, ctx: &Context) -> anyhow::Result<()> {
    let p = ctx
        .authed()?
        .payout(&a.currency, a.amount.as_deref())
        .await?;
    ctx.show(&p, |p| {
        println!("paid out {}", output::money(&p.amount));
        println!();
        print_balances(&p.balances);
    });
    Ok(())
}

// ---------------------------------------------------------------- printers

/// Balances per currency: the ledger, pending, available and paid out, and a
/// warning per currency the account owes the exchange.
pub(super) fn print_balances(b: &api::Balances) {
    let currencies: BTreeSet<&str> = [&b.balances, &b.pending, &b.available, &b.paid_out, &b.owes]
        .into_iter()
        .flat_map(|m| m.keys().map(String::as_str))
        .collect();
    let cell = |m: &BTreeMap<String, String>, c: &str| {
        m.get(c).cloned().unwrap_or_else(|| output::NONE.into())
    };
    let mut t = output::table(["Currency", "Balance", "Pending", "Available", "Paid out"]);
    for c in currencies {
        t.add_row([
            c.to_string(),
            cell(&b.balances, c),
            cell(&b.pending, c),
            cell(&b.available, c),
            cell(&b.paid_out, c),
        ]);
    }
    output::print_table(&t, "no balance yet (nothing paid or received)");
    for w in owes_warnings(b) {
        println!("{w}");
    }
}

/// One line per currency owed to the exchange.
fn owes_warnings(b: &api::Balances) -> Vec<String> {
    b.owes
        .iter()
        .map(|(currency, amount)| {
            format!(
                "warning: you owe the exchange {amount} {currency}: \
                 a refund reversed money already paid out"
            )
        })
        .collect()
}

fn print_refund(r: &api::Refund) {
    let o = &r.order;
    Fields::new()
        .add("refund", &r.id)
        .add("order", &r.order_id)
        .add("kind", &r.kind)
        .add("amount", output::money(&r.amount))
        .add("commission reversed", output::money(&r.commission_reversed))
        .add("reason", &r.reason)
        .add("status", &r.status)
        .add("created", &r.created_at)
        .add("order status", &o.status)
        .add(
            "refunded",
            format!(
                "{} of {}",
                output::money(&o.refunded_total),
                output::money(&o.total)
            ),
        )
        .print();
}

fn print_dispute(d: &api::Dispute) {
    Fields::new()
        .add("dispute", &d.id)
        .add("order", &d.order_id)
        .add("status", &d.status)
        .add("kind", &d.kind)
        .add("reason", &d.reason)
        .add("requester", &d.requester_id)
        .add("provider", &d.provider_id)
        .some("resolution", d.resolution.as_deref())
        .some("refund", d.refund.as_ref().map(output::money))
        .add("created", &d.created_at)
        .some("resolved", d.resolved_at.as_deref())
        .print();
    let mut t = output::table(["At", "Role", "Author", "Message"]);
    for m in &d.messages {
        t.add_row([
            m.created_at.clone(),
            m.role.clone(),
            m.author_id.clone(),
            m.body.clone(),
        ]);
    }
    output::print_section(&format!("Messages ({})", d.messages.len()), &t);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owing_money_is_a_warning_per_currency() {
        let mut b = api::Balances {
            balances: BTreeMap::from([("USD".into(), "-2.00".into())]),
            pending: BTreeMap::from([("USD".into(), "0.00".into())]),
            available: BTreeMap::from([("USD".into(), "-2.00".into())]),
            paid_out: BTreeMap::from([("USD".into(), "5.00".into())]),
            owes: BTreeMap::new(),
        };
        assert!(owes_warnings(&b).is_empty());
        b.owes.insert("USD".into(), "2.00".into());
        assert_eq!(
            owes_warnings(&b),
            vec![
                "warning: you owe the exchange 2.00 USD: a refund reversed money already paid out"
            ]
        );
    }

    #[test]
    fn value_names_are_the_api_words() {
        use clap::ValueEnum;
        for k in DisputeKindArg::value_variants() {
            assert_eq!(k.to_possible_value().unwrap().get_name(), k.as_str());
        }
        for s in DisputeStatusArg::value_variants() {
            assert_eq!(s.to_possible_value().unwrap().get_name(), s.as_str());
        }
    }
}
