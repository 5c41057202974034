//! Two `symbolon serve` processes on one PostgreSQL database behave as one exchange.

use super::spawn_serve;
use std::process::Child;
use std::time::{Duration, Instant};
use symbolon_client::api::*;
use symbolon_client::Client;

struct Replica {
    child: Child,
    url: String,
}

impl Replica {
    fn start(database_url: &str, dir: &std::path::Path) -> Self {
        let (child, url) = spawn_serve(dir, &["--database-url", database_url]);
        Self { child, url }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let host_start = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[host_start..].find('/') {
        Some(i) => &base[..host_start + i],
        None => base,
    };
    format!("{base}/{db}{query}")
}

pub(crate) async fn admin_exec(admin: &str, sql: &str) {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(admin)
        .await
        .expect("connect to PostgreSQL");
    sqlx::query(sql).execute(&mut conn).await.expect(sql);
    let _ = conn.close().await;
}

async fn account(c: &Client, name: &str, role: Role) -> (String, Client) {
    let a = c
        .create_account(&CreateAccount {
            name: name.into(),
            roles: vec![role],
            login: None,
        })
        .await
        .expect("account");
    (a.id, c.with_key(&a.api_key))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_on_one_postgres_database_are_one_exchange() {
    let Some(admin) = std::env::var("SYMBOLON_TEST_POSTGRES_URL")
        .ok()
        .filter(|s| !s.is_empty())
    else {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "PostgreSQL replica test skipped: SYMBOLON_TEST_POSTGRES_URL is unset"
        );
        return;
    };
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let name = format!("symbolon_test_{secs}_replicas{}", std::process::id());
    admin_exec(
        &admin,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    )
    .await;
    admin_exec(&admin, &format!("CREATE DATABASE {name}")).await;
    let db = with_database(&admin, &name);
    let dir = tempfile::tempdir().expect("temp dir");
    let ra = Replica::start(&db, dir.path());
    let rb = Replica::start(&db, dir.path());
    let a = Client::new(&ra.url).unwrap();
    let b = Client::new(&rb.url).unwrap();

    // Provider and holders on replica A.
    let (_, provider) = account(&a, "Maker", Role::Provider).await;
    let (h1_id, h1) = account(&a, "H1", Role::Holder).await;
    let (h2_id, h2) = account(&a, "H2", Role::Holder).await;
    // The requester registers on B; its key works on A at once, and vice versa.
    let (_, req_b) = account(&b, "Requester", Role::Requester).await;
    let req_a = a.with_key(req_b.api_key().unwrap());
    assert_eq!(req_a.whoami().await.unwrap().name, "Requester");
    req_b
        .set_requester_profile(&RequesterProfileUpdate {
            ship_to: Some(Address {
                name: "R".into(),
                line1: "1 Main St".into(),
                line2: None,
                city: "Springfield".into(),
                postal_code: "12345".into(),
                country: "US".into(),
            }),
            payment_method: Some(PaymentMethodInput {
                kind: "sandbox_card".into(),
                number: "4242424242424242".into(),
            }),
        })
        .await
        .unwrap();

    let prod = provider
        .create_product(&CreateProduct {
            title: "Mesh Wi-Fi router".into(),
            description: "Tri-band".into(),
            category: "electronics/networking".into(),
            specs: Default::default(),
            price: Money::new("150.00", "USD"),
            stock: 10,
            gtin: None,
        })
        .await
        .unwrap();
    let pass = provider
        .create_pass(&CreatePass {
            product_id: prod.id.clone(),
            mode: PassMode::Shareable,
            units: None,
            commission_bps: 1000,
            valid_until: None,
        })
        .await
        .unwrap();
    // The pass made through A is readable through B at once.
    assert_eq!(b.pass(&pass.id).await.unwrap().jws, pass.jws);
    provider
        .grant(
            &pass.id,
            &CreateGrant {
                holder_id: h1_id.clone(),
                units: None,
            },
        )
        .await
        .unwrap();

    // Only H1 holds the pass: B refuses the demand.
    let d = CreateDemand {
        query: "router".into(),
        category: None,
        max_price: None,
        holder: Default::default(),
        min_holders: None,
        max_holders: None,
        ttl_seconds: None,
        wait: None,
    };
    let refused = req_b.create_demand(&d).await.unwrap_err();
    assert_eq!(refused.code(), Some("insufficient_holders"));

    // A grant made through A: matching on B finds it within one second.
    provider
        .grant(
            &pass.id,
            &CreateGrant {
                holder_id: h2_id.clone(),
                units: None,
            },
        )
        .await
        .unwrap();
    let granted_at = Instant::now();
    let created = loop {
        match req_b.create_demand(&d).await {
            Ok(c) => break c,
            Err(e)
                if e.code() == Some("insufficient_holders")
                    && granted_at.elapsed() < Duration::from_secs(1) =>
            {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("replica B did not see the grant within one second: {e}"),
        }
    };
    assert_eq!(created.contacted.len(), 2);

    // Holders answer on A; the requester sees the offers, accepts and pays on B.
    let mut offer_ids = Vec::new();
    for h in [&h1, &h2] {
        let item = h
            .inbox(None, None)
            .await
            .unwrap()
            .items
            .into_iter()
            .find(|i| i.demand_id == created.id)
            .expect("request in inbox");
        offer_ids.push(
            h.offer(
                &item.id,
                &CreateOffer {
                    pass_id: pass.id.clone(),
                    note: None,
                },
            )
            .await
            .unwrap()
            .id,
        );
    }
    let view = req_b.demand(&created.id).await.unwrap();
    assert_eq!(view.offers.len(), 2);
    req_b.accept(&offer_ids[0]).await.unwrap();
    // A second accept through the other replica conflicts.
    assert_eq!(
        req_a.accept(&offer_ids[1]).await.unwrap_err().code(),
        Some("offer_already_accepted")
    );
    let order = req_b
        .create_order(&CreateOrder {
            offer_id: offer_ids[0].clone(),
            quantity: 2,
            pay: true,
            ship_to: None,
        })
        .await
        .unwrap();
    assert_eq!(
        (order.status.as_str(), order.total.amount.as_str()),
        ("paid", "300.00")
    );
    assert_eq!(
        provider.ship_order(&order.id).await.unwrap().status,
        "shipped"
    );
    // A buyer rates once the order arrived.
    assert_eq!(
        req_b.confirm_delivery(&order.id).await.unwrap().status,
        "delivered"
    );
    req_b
        .rate(
            &offer_ids[0],
            &CreateRating {
                positive: true,
                comment: None,
            },
        )
        .await
        .unwrap();
    // Reputation changed through B is visible through A.
    let rep = a.holder(&h1_id).await.unwrap();
    assert_eq!(
        (rep.positive_rate, rep.ratings, rep.success_rate),
        (Some(1.0), 1, Some(1.0))
    );
    assert_eq!(
        provider
            .balance()
            .await
            .unwrap()
            .balances
            .get("USD")
            .map(String::as_str),
        Some("270.00")
    );
    assert_eq!(
        req_a
            .balance()
            .await
            .unwrap()
            .balances
            .get("USD")
            .map(String::as_str),
        Some("-300.00")
    );

    drop(ra);
    drop(rb);
    admin_exec(
        &admin,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    )
    .await;
}
