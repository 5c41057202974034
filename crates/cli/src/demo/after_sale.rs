//! Step 8 of the demo: after the sale. The requester orders again through the
//! same holder and cancels before shipping (refunded in full, stock
//! restored); another paid order gets a 40% refund from the provider, which
//! takes back the holder's commission in proportion, out of pending money.

use super::trade::Deal;
use super::{
    align_right, cents, done, fmt_cents, header, kv, money, new_table, note, print_table, Acct,
    Cast,
};
use anyhow::{anyhow, ensure, Context, Result};
use std::time::Instant;
use symbolon_api as api;
use symbolon_core::Currency;

/// What the after-sale scene did, in cents.
#[derive(Debug, Clone)]
pub struct AfterSale {
    pub cancelled_total_minor: i64,
    /// Refunded by the cancellation: the whole total.
    pub cancel_refund_minor: i64,
    /// Product stock before the order, once paid, once cancelled.
    pub stock: [i64; 3],
    pub refunded_order_total_minor: i64,
    pub refund_minor: i64,
    pub commission_minor: i64,
    pub commission_reversed_minor: i64,
    /// How the refund moved the holder's pending and available money.
    pub holder_pending_change_minor: i64,
    pub holder_available_change_minor: i64,
}

/// The refund's share of the order total, in percent.
const REFUND_PERCENT: i64 = 40;

pub(super) async fn after_sale_phase(
    cast: &Cast,
    requester: &Acct,
    deal: &Deal,
) -> Result<AfterSale> {
    header(8, "After the sale: a cancellation and a partial refund");
    let holder = &cast
        .holder_by_id(&deal.holder_id)
        .ok_or_else(|| anyhow!("the deal names an unknown holder"))?
        .acct;
    let pass = shareable_pass(holder, deal).await?;
    let order_again = || async {
        requester
            .client
            .pass_order(
                &pass.id,
                &api::CreatePassOrder {
                    quantity: Some(1),
                    pay: true,
                    via: Some(holder.id.clone()),
                    ship_to: None,
                },
            )
            .await
            .context("ordering and paying through the holder's link")
    };
    let stock = || async {
        cast.provider
            .client
            .product(&pass.product_id)
            .await
            .map(|p| p.stock)
            .context("reading the product's stock")
    };

    // (a) Cancelled before shipping.
    let stock_before = stock().await?;
    let t = Instant::now();
    let order = order_again().await?;
    let stock_paid = stock().await?;
    done(
        &format!(
            "{} orders “{}” again via {}'s link and pays {}: {}",
            requester.name,
            pass.title,
            holder.name,
            money(&order.total),
            order.id
        ),
        t,
    );
    let t = Instant::now();
    let reason = "Ordered twice by mistake";
    let cancelled = requester
        .client
        .cancel_order(&order.id, reason)
        .await
        .context("cancelling the paid order")?;
    let stock_after = stock().await?;
    done(
        &format!(
            "{} cancels it before it ships: “{reason}” → {}",
            requester.name, cancelled.status
        ),
        t,
    );
    let total = cents(&cancelled.total.amount)?;
    let refunded = cents(&cancelled.refunded_total.amount)?;
    kv(
        "refunded",
        &format!(
            "{} of {}, in full, to the card",
            money(&cancelled.refunded_total),
            money(&cancelled.total)
        ),
    );
    kv(
        "commission",
        &format!(
            "{} to {}, {} reversed",
            money(&cancelled.commission),
            holder.name,
            money(&cancelled.commission_reversed)
        ),
    );
    kv(
        "stock",
        &format!("{stock_before} → {stock_paid} (paid) → {stock_after} (cancelled)"),
    );
    ensure!(
        cancelled.status == "cancelled",
        "the order is {}",
        cancelled.status
    );
    ensure!(
        refunded == total,
        "the cancellation refunded {} of {}",
        fmt_cents(refunded),
        fmt_cents(total)
    );
    ensure!(
        stock_paid == stock_before - 1 && stock_after == stock_before,
        "stock {stock_before} → {stock_paid} → {stock_after}: not restored"
    );

    // (b) A partial refund by the provider.
    let t = Instant::now();
    let order = order_again().await?;
    let before = holder_money(holder).await?;
    let order_total = cents(&order.total.amount)?;
    let amount = order_total * REFUND_PERCENT / 100;
    let reason = "Scuffed case: 40% back, agreed with the buyer";
    let refund = cast
        .provider
        .client
        .refund_order(&order.id, Some(&decimal(amount)?), reason)
        .await
        .context("refunding part of the order")?;
    let after = holder_money(holder).await?;
    done(
        &format!(
            "another paid order ({}); the provider refunds {REFUND_PERCENT}%, {}: “{reason}”",
            money(&order.total),
            money(&refund.amount)
        ),
        t,
    );
    let commission = cents(&order.commission.amount)?;
    let reversed = cents(&refund.commission_reversed.amount)?;
    kv(
        "commission",
        &format!(
            "{} to {}, {} reversed (⌊commission × refunded / total⌋)",
            money(&order.commission),
            holder.name,
            money(&refund.commission_reversed)
        ),
    );
    kv(
        "order",
        &format!(
            "{}, {} of {} refunded",
            refund.order.status,
            money(&refund.order.refunded_total),
            money(&refund.order.total)
        ),
    );
    println!();
    note(&format!(
        "{}'s USD balance around the refund (the commission is pending until the order settles):",
        holder.name
    ));
    let mut table = new_table(&["", "Before", "After", "Change"]);
    for (i, what) in ["pending", "available"].into_iter().enumerate() {
        table.add_row(vec![
            what.to_string(),
            fmt_cents(before[i]),
            fmt_cents(after[i]),
            fmt_cents(after[i] - before[i]),
        ]);
    }
    align_right(&mut table, &[1, 2, 3]);
    print_table(&table);
    ensure!(
        cents(&refund.amount.amount)? == amount,
        "refunded {} instead of {}",
        money(&refund.amount),
        fmt_cents(amount)
    );
    ensure!(
        reversed == commission * amount / order_total,
        "reversed {} of the {} commission for a {} refund of {}",
        fmt_cents(reversed),
        fmt_cents(commission),
        fmt_cents(amount),
        fmt_cents(order_total)
    );
    ensure!(
        after[0] - before[0] == -reversed && after[1] == before[1],
        "the holder's pending/available moved by {}/{}, not -{}/0",
        fmt_cents(after[0] - before[0]),
        fmt_cents(after[1] - before[1]),
        fmt_cents(reversed)
    );
    println!(
        "  ✓ {} of {}'s commission taken back from pending money; nothing paid out was touched",
        fmt_cents(reversed),
        holder.name
    );
    Ok(AfterSale {
        cancelled_total_minor: total,
        cancel_refund_minor: refunded,
        stock: [stock_before, stock_paid, stock_after],
        refunded_order_total_minor: order_total,
        refund_minor: amount,
        commission_minor: commission,
        commission_reversed_minor: reversed,
        holder_pending_change_minor: after[0] - before[0],
        holder_available_change_minor: after[1] - before[1],
    })
}

/// The deal's pass when it is shareable; else another shareable pass the
/// holder holds (a unique pass's units may all be sold).
async fn shareable_pass(holder: &Acct, deal: &Deal) -> Result<api::Pass> {
    let wallet = holder
        .client
        .wallet()
        .await
        .with_context(|| format!("reading {}'s wallet", holder.name))?;
    let shareable = |h: &&api::Holding| h.pass.mode == api::PassMode::Shareable;
    wallet
        .items
        .iter()
        .filter(shareable)
        .find(|h| h.pass.id == deal.pass_id)
        .or_else(|| wallet.items.iter().find(shareable))
        .map(|h| h.pass.clone())
        .ok_or_else(|| anyhow!("{} holds no shareable pass", holder.name))
}

/// The holder's USD pending and available money, in cents.
async fn holder_money(holder: &Acct) -> Result<[i64; 2]> {
    let b = holder
        .client
        .balance()
        .await
        .with_context(|| format!("reading the balance of {}", holder.name))?;
    let get = |m: &std::collections::BTreeMap<String, String>| match m.get("USD") {
        Some(a) => cents(a),
        None => Ok(0),
    };
    Ok([get(&b.pending)?, get(&b.available)?])
}

/// Cents as the API's decimal string (`160.00`).
fn decimal(minor: i64) -> Result<String> {
    let usd = Currency::parse("USD").map_err(|e| anyhow!("USD: {e}"))?;
    Ok(symbolon_core::Money::new(minor, usd).amount_string())
}
