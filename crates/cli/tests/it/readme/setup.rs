//! The setup the README's lines imply: accounts, orders and demands made
//! before a line runs (with any command; only the README's lines are under
//! test), the reputations one line needs, and time passing for the payout.

use super::Story;
use crate::s;
use std::time::{Duration, Instant};

impl Story {
    /// Setup: an account `name` with one role; records `name.id`, `name.key`.
    pub(super) fn account(&mut self, name: &str, role: &str) {
        let a = self.json(
            "anyone",
            &["account", "create", "--name", name, "--role", role],
        );
        self.set(&format!("{name}.id"), s(&a["id"]).to_string());
        self.set(&format!("{name}.key"), s(&a["api_key"]).to_string());
    }

    /// Setup: the requester orders the README's pass through the first holder
    /// and pays; then each of `steps` (`ship` by the provider, `delivered` by
    /// the requester). Records the order as `name`.
    pub(super) fn paid_order(&mut self, name: &str, steps: &[&str]) {
        let (pass, holder) = (self.get("pass"), self.get("holder.id"));
        let o = self.json(
            "requester",
            &[
                "order", "create", "--pass", &pass, "--via", &holder, "--pay",
            ],
        );
        assert_eq!(o["status"], "paid", "{o}");
        let id = s(&o["id"]).to_string();
        for step in steps {
            let who = if *step == "ship" {
                "provider"
            } else {
                "requester"
            };
            self.json(who, &["order", step, &id]);
        }
        self.set(name, id);
    }

    /// Setup: `requester` asks for "降噪耳机", which reaches both holders of
    /// the README's pass. Records the demand as `name` and the two holders'
    /// requests as `name.interaction` and `name.interaction2`.
    pub(super) fn demand_for_the_pass(&mut self, requester: &str, name: &str) {
        let d = self.json(requester, &["demand", "create", "降噪耳机"]);
        for (who, key) in [("holder", "interaction"), ("holder2", "interaction2")] {
            let id = self.get(&format!("{who}.id"));
            let int = d["contacted"]
                .as_array()
                .expect("contacted")
                .iter()
                .find(|c| c["holder_id"] == id.as_str())
                .map(|c| s(&c["interaction_id"]).to_string())
                .unwrap_or_else(|| panic!("{who} not contacted: {d}"));
            self.set(&format!("{name}.{key}"), int);
        }
        self.set(name, s(&d["id"]).to_string());
    }

    /// Setup: `demand_for_the_pass`, and the first holder offers the
    /// README's pass on it; records the offer as `name.offer`.
    pub(super) fn offer_on_a_new_demand(&mut self, requester: &str, name: &str) {
        self.demand_for_the_pass(requester, name);
        let (int, pass) = (self.get(&format!("{name}.interaction")), self.get("pass"));
        let o = self.json("holder", &["offer", &int, "--pass", &pass]);
        assert_eq!(o["status"], "offered", "{o}");
        self.set(&format!("{name}.offer"), s(&o["id"]).to_string());
    }
}

/// Both holders earn three positive ratings on a pass that matches "noise
/// cancelling headphones", so that the demand with `--min-positive-rate 0.9
/// --min-ratings 3` finds two holders. (The README's own product, titled
/// "降噪耳机 WH-1000XM5" with no description, does not match that English
/// query: with it alone the line is refused, `insufficient_holders` with
/// `eliminated.query: 2`.) A second requester buys: each rating needs an
/// accepted offer whose order arrived.
pub(super) fn build_reputations(st: &mut Story) {
    let p = st.json(
        "provider",
        &[
            "product",
            "create",
            "--title",
            "Noise cancelling headphones",
            "--category",
            "electronics/audio/headphones",
            "--price",
            "249.00",
            "--currency",
            "USD",
            "--stock",
            "10",
        ],
    );
    let pass = st.json(
        "provider",
        &[
            "pass",
            "create",
            "--product",
            s(&p["id"]),
            "--mode",
            "shareable",
            "--commission-bps",
            "500",
        ],
    );
    let pass = s(&pass["id"]).to_string();
    for who in ["holder", "holder2"] {
        let id = st.get(&format!("{who}.id"));
        st.json("provider", &["pass", "grant", &pass, "--holder", &id]);
    }
    st.account("buyer", "requester");
    st.json(
        "buyer",
        &[
            "requester",
            "profile",
            "--name",
            "Bo",
            "--line1",
            "2 Side St",
            "--city",
            "Shelbyville",
            "--postal-code",
            "54321",
            "--country",
            "US",
            "--card",
            "4242424242424242",
        ],
    );
    for who in ["holder", "holder2"] {
        let id = st.get(&format!("{who}.id"));
        for _ in 0..3 {
            let d = st.json(
                "buyer",
                &["demand", "create", "noise cancelling headphones"],
            );
            let int = d["contacted"]
                .as_array()
                .expect("contacted")
                .iter()
                .find(|c| c["holder_id"] == id.as_str())
                .map(|c| s(&c["interaction_id"]).to_string())
                .unwrap_or_else(|| panic!("{who} not contacted: {d}"));
            let offer = st.json(who, &["offer", &int, "--pass", &pass]);
            let offer = s(&offer["id"]).to_string();
            st.json("buyer", &["accept", &offer]);
            let o = st.json("buyer", &["order", "create", "--offer", &offer, "--pay"]);
            let o = s(&o["id"]).to_string();
            st.json("provider", &["order", "ship", &o]);
            st.json("buyer", &["order", "delivered", &o]);
            st.json("buyer", &["rate", &offer, "--positive"]);
        }
        let rep = st.json("anyone", &["holder", "show", &id]);
        assert_eq!(
            (rep["ratings"].as_u64(), rep["positive_rate"].as_f64()),
            (Some(3), Some(1.0))
        );
    }
}

/// Money becomes available to pay out once a delivered order's return window
/// (14 days by default, 1 minute at least) has passed. Time passing is the one
/// thing the test stands in for: the first order's delivery moves 30 days into
/// the past in the server's store, and the server's sweeper (every second)
/// settles it; the test waits, bounded, for the provider's money to be
/// available.
pub(super) fn settle_the_first_order(st: &mut Story) {
    let order = st.get("order.offer");
    let db = st.srv._dir.path().join("symbolon.db");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    rt.block_on(async {
        sqlx::any::install_default_drivers();
        let pool = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(&format!("sqlite://{}", db.display()))
            .await
            .expect("open the server's store");
        let n = sqlx::query(
            "UPDATE orders SET delivered_at = delivered_at - 2592000000 \
             WHERE id = $1 AND delivered_at IS NOT NULL AND settled_at IS NULL",
        )
        .bind(&order)
        .execute(&pool)
        .await
        .expect("move the delivery into the past")
        .rows_affected();
        assert_eq!(n, 1, "{order} is delivered and unsettled");
        pool.close().await;
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let b = st.json("provider", &["balance"]);
        if b["available"]["USD"] == "275.08" {
            break;
        }
        assert!(Instant::now() < deadline, "{order} never settled: {b}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
