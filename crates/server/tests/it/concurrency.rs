//! Concurrent requests never oversell, on every backend.

use crate::harness::*;
use crate::on_both_backends;
use std::collections::HashMap;
use symbolon_client::api::*;
use symbolon_client::Client;

/// A balance in cents (0 when the account has none).
async fn cents(c: &Client) -> i64 {
    let s = balance_of(c).await.unwrap_or_else(|| "0.00".into());
    let digits: String = s.chars().filter(|c| c.is_ascii_digit()).collect();
    let v: i64 = digits.parse().unwrap();
    if s.starts_with('-') {
        -v
    } else {
        v
    }
}

/// 50 requesters race to accept and order-and-pay in one click; the unique pass
/// has 10 units: exactly 10 orders are paid, the others get `units_exhausted`,
/// and the ledger sums to zero.
async fn fifty_parallel_one_click_orders_sell_exactly_ten_units(backend: Backend) {
    let srv = TestServer::on(backend).await;
    let (_, provider) = srv.account("Maker", &[Role::Provider]).await;
    let (a_id, a) = srv.account("A", &[Role::Holder]).await;
    let (b_id, b) = srv.account("B", &[Role::Holder]).await;
    let prod = provider
        .create_product(&product(
            "Limited edition print",
            "art/prints",
            "25.00",
            1000,
        ))
        .await
        .unwrap();
    let pass = provider
        .create_pass(&unique(&prod.id, 10, 1000))
        .await
        .unwrap();
    for h in [&a_id, &b_id] {
        provider
            .grant(
                &pass.id,
                &CreateGrant {
                    holder_id: h.clone(),
                    units: Some(5),
                },
            )
            .await
            .unwrap();
    }

    // 50 buyers, one demand each; A answers the first 25, B the last 25.
    let mut buyer_of: HashMap<String, Client> = HashMap::new();
    let mut order_of_demands = Vec::new();
    for i in 0..50 {
        let (_, r) = srv.account(&format!("Buyer {i}"), &[Role::Requester]).await;
        r.set_requester_profile(&profile("4242424242424242"))
            .await
            .unwrap();
        let d = r
            .create_demand(&demand("limited edition print"))
            .await
            .unwrap();
        assert_eq!(d.contacted.len(), 2);
        order_of_demands.push(d.id.clone());
        buyer_of.insert(d.id, r);
    }
    let mut offers: Vec<(Client, String)> = Vec::new();
    for (holder, range) in [(&a, 0..25), (&b, 25..50)] {
        let inbox = holder.inbox(None, Some(200)).await.unwrap().items;
        assert_eq!(inbox.len(), 50);
        for item in inbox.iter().filter(|i| {
            range.contains(
                &order_of_demands
                    .iter()
                    .position(|d| *d == i.demand_id)
                    .unwrap(),
            )
        }) {
            let o = holder
                .offer(
                    &item.id,
                    &CreateOffer {
                        pass_id: pass.id.clone(),
                        note: None,
                    },
                )
                .await
                .unwrap();
            offers.push((buyer_of[&item.demand_id].clone(), o.id));
        }
    }
    assert_eq!(offers.len(), 50);

    let tasks: Vec<_> = offers
        .into_iter()
        .map(|(buyer, offer)| {
            tokio::spawn(async move {
                buyer.accept(&offer).await?;
                buyer.create_order(&order(&offer, 1, true)).await
            })
        })
        .collect();
    let mut sold = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(o) => {
                assert_eq!(o.status, "paid");
                sold += 1;
            }
            Err(e) => assert_eq!(e.code(), Some("units_exhausted"), "{e}"),
        }
    }
    assert_eq!(sold, 10, "exactly the 10 units are sold");
    assert_eq!(provider.product(&prod.id).await.unwrap().stock, 990);
    assert_eq!(
        provider
            .orders(None, None, Some(200))
            .await
            .unwrap()
            .items
            .len(),
        10
    );
    let mut total = cents(&provider).await + cents(&a).await + cents(&b).await;
    assert_eq!(cents(&provider).await, 10 * (2500 - 250));
    for buyer in buyer_of.values() {
        total += cents(buyer).await;
    }
    assert_eq!(total, 0, "the ledger sums to zero");
    srv.stop().await;
}

on_both_backends!(fifty_parallel_one_click_orders_sell_exactly_ten_units);
