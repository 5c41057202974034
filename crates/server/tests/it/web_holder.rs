//! The holder's console over real HTTP with plain form posts: the inbox
//! (requests arriving on its live stream, the criteria and the countdown,
//! an answer with a pass and a note, a decline, a request past its deadline),
//! the wallet (share link with `?via=`, its QR code, the orders it brought
//! without the buyer's address), the earnings (commission per order and
//! month, the chart) and the reputation (figures, ratings, history chart,
//! the fields of focus form); each page in Chinese; other roles refused.

use crate::harness::*;
use crate::on_both_backends;
use crate::web_journey::{web_sign_in, Browser, Page};
use symbolon_client::api::*;
use symbolon_client::Client;

/// A provider with a camera pass (10 % commission) granted to two holders
/// with fields of focus, and a requester. Returns (provider, pass id,
/// holders (id, client), requester).
async fn market(srv: &TestServer) -> (Client, String, Vec<(String, Client)>, Client) {
    let (_, p) = srv.account("Nordlicht Optics", &[Role::Provider]).await;
    let prod = p
        .create_product(&product(
            "Trail camera TC-40",
            "electronics/cameras",
            "129.00",
            10,
        ))
        .await
        .unwrap();
    let pass = p.create_pass(&shareable(&prod.id, 1000)).await.unwrap();
    let mut holders = Vec::new();
    for name in ["Hana", "Ivo"] {
        let (id, h) = srv.account(name, &[Role::Holder]).await;
        h.set_holder_profile(&fields(&["electronics/cameras"]))
            .await
            .unwrap();
        p.grant(&pass.id, &grant(&id)).await.unwrap();
        holders.push((id, h));
    }
    let (_, r) = srv.account("Ada", &[Role::Requester]).await;
    (p, pass.id, holders, r)
}

/// A demand for the camera with criteria: a price cap, a category, a field.
fn camera_demand() -> CreateDemand {
    CreateDemand {
        category: Some("electronics/cameras".into()),
        max_price: Some(usd("200.00")),
        holder: HolderCriteria {
            fields: Some(vec!["electronics/cameras".into()]),
            ..Default::default()
        },
        ..demand("trail camera")
    }
}

/// The interaction request of `holder` for `demand_id`.
async fn request_of(holder: &Client, demand_id: &str) -> String {
    holder
        .inbox(None, None)
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|i| i.demand_id == demand_id)
        .expect("the holder's request")
        .id
}

async fn answer(b: &Browser, id: &str, pass: &str, note: &str) -> Page {
    let csrf = b.get("/inbox").await.csrf();
    let fields = [
        ("csrf", csrf.as_str()),
        ("do", "answer"),
        ("pass", pass),
        ("note", note),
    ];
    b.post(&format!("/inbox/{id}"), &fields).await
}

async fn holder_console_story(backend: Backend) {
    let clock = manual_clock();
    let srv = TestServer::start_on(backend, clock.clone()).await;
    let (p, pass_id, holders, r) = market(&srv).await;
    let (hid, h) = &holders[0];
    let hb = web_sign_in(&srv, h.api_key().unwrap()).await;

    // An empty inbox, ready for live updates.
    let inbox = hb.get("/inbox").await;
    assert_eq!(inbox.status, 200);
    assert!(inbox.body.contains("id=\"inbox\""));
    assert!(inbox.body.contains("data-live=\"/inbox/live\""));
    assert!(inbox.body.contains("id=\"inbox-empty\""));

    // A demand arrives while the stream is open: it says `change`.
    let stream = hb
        .req(hb.http.get(format!("{}/inbox/live", hb.base)))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    assert!(stream.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let d1 = r.create_demand(&camera_demand()).await.unwrap();
    wait_for_change(stream).await;
    let i1 = request_of(h, &d1.id).await;

    // The fragment live.js swaps in, and the page: demand, criteria, countdown, forms.
    let list = hb.get("/inbox/list").await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains(&format!("id=\"req-{i1}\"")));
    assert!(!list.body.contains("<html"));
    let page = hb.get("/inbox").await;
    let req = page.element("article", &format!("req-{i1}"));
    assert!(req.contains("trail camera"), "{req}");
    assert!(
        req.contains("electronics/cameras") && req.contains("$200.00"),
        "{req}"
    );
    assert!(
        req.contains("Fields of focus") && req.contains("met"),
        "{req}"
    );
    assert!(
        req.contains("data-remaining=\"300\"") && req.contains(">5:00<"),
        "{req}"
    );
    assert!(req.contains(&format!("id=\"answer-{i1}\"")));
    assert!(req.contains(&format!("id=\"answer-{i1}-send\"")));
    assert!(req.contains(&format!("id=\"decline-{i1}\"")));
    assert!(req.contains("name=\"note\""));
    let select = &req[req.find("name=\"pass\"").unwrap()..];
    let suggested = select
        .find("Matching this demand")
        .expect("suggested passes");
    assert!(select[suggested..].contains(&format!("value=\"{pass_id}\"")));

    // No pass chosen: 422 with the message beside the field; nothing sent.
    let bad = answer(&hb, &i1, "", "Ships today").await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains(&format!("id=\"answer-{i1}-pass-error\"")));
    assert!(bad.body.contains("Choose a pass to offer."));
    assert!(bad.body.contains(">Ships today</textarea>"));
    assert!(r.demand(&d1.id).await.unwrap().offers.is_empty());

    // Answered with the pass and a note: the requester sees the offer.
    let sent = answer(&hb, &i1, &pass_id, "Ships today from Oslo").await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    assert_eq!(sent.location(), format!("/inbox#req-{i1}"));
    let d = r.demand(&d1.id).await.unwrap();
    assert_eq!(d.offers.len(), 1);
    let offer = &d.offers[0];
    assert_eq!(offer.holder.id, *hid);
    assert_eq!(offer.note.as_deref(), Some("Ships today from Oslo"));
    let page = hb.get("/inbox").await;
    let req = page.element("article", &format!("req-{i1}"));
    assert!(req.contains("You answered this request with an offer."));
    assert!(!req.contains(&format!("id=\"answer-{i1}\"")));

    // The requester buys through the offer: the wallet shows the order, not the buyer.
    let order = buy(&r, &offer.id).await;
    let wallet = hb.get("/wallet").await;
    assert_eq!(wallet.status, 200);
    let share = wallet.element("input", &format!("share-{pass_id}"));
    let link = format!("/p/{pass_id}?via={hid}\"");
    assert!(
        share.contains("value=\"http") && share.contains(&link),
        "{share}"
    );
    assert!(wallet.body.contains(&format!("id=\"pass-{pass_id}-qr\"")));
    assert!(wallet
        .element("div", &format!("pass-{pass_id}-qr"))
        .contains("<svg"));
    assert!(wallet
        .body
        .contains(&format!("data-copy=\"share-{pass_id}\"")));
    assert!(wallet
        .body
        .contains(&format!("<label for=\"share-{pass_id}\"")));
    assert!(wallet.body.contains(&format!("id=\"order-{}\"", order.id)));
    for private in ["Ada Lovelace", "St James", "SW1Y", "London", "4242"] {
        assert!(!wallet.body.contains(private), "the wallet shows {private}");
    }

    // Earnings: the commission (10 % of $129.00), pending, per order, month and in the chart.
    let earnings = hb.get("/earnings").await;
    assert_eq!(earnings.status, 200);
    let row = earnings.element("tr", &format!("order-{}", order.id));
    assert!(row.contains("$12.90") && row.contains("pending"), "{row}");
    let month = earnings.element("tr", "month-2026-11-USD");
    assert!(month.contains("$12.90"), "{month}");
    let chart = earnings.element("section", "earnings-chart");
    assert!(
        chart.contains("<svg") && chart.contains("Commission per day"),
        "{chart}"
    );
    assert!(
        chart.contains("2026-11-28") && chart.contains("$12.90"),
        "{chart}"
    );
    assert!(earnings.element("tr", "row-USD").contains("$12.90"));
    for private in ["Ada Lovelace", "St James", "SW1Y"] {
        assert!(!earnings.body.contains(private));
    }

    // Declined with a reason: the requester sees it.
    let d2 = r.create_demand(&camera_demand()).await.unwrap();
    let i2 = request_of(h, &d2.id).await;
    let csrf = hb.get("/inbox").await.csrf();
    let declined = hb
        .post(
            &format!("/inbox/{i2}"),
            &[
                ("csrf", csrf.as_str()),
                ("do", "decline"),
                ("reason", "Out of stock this week"),
            ],
        )
        .await;
    assert_eq!(declined.status, 303, "{}", declined.body);
    let d = r.demand(&d2.id).await.unwrap();
    let c = d.contacted.iter().find(|c| c.holder_id == *hid).unwrap();
    assert_eq!(c.status, "declined");
    assert_eq!(c.decline_reason.as_deref(), Some("Out of stock this week"));
    // Newest first.
    let page = hb.get("/inbox").await;
    assert!(
        page.body.find(&format!("id=\"req-{i2}\"")) < page.body.find(&format!("id=\"req-{i1}\""))
    );

    // Rated after delivery: the reputation page shows it.
    deliver(&p, &r, &order.id).await;
    r.rate(
        &offer.id,
        &CreateRating {
            positive: true,
            comment: Some("Great advice, fast answer".into()),
        },
    )
    .await
    .unwrap();
    let rep = hb.get("/reputation").await;
    assert_eq!(rep.status, 200);
    assert!(rep.body.contains("Great advice, fast answer"));
    let public = h.holder(hid).await.unwrap();
    assert_eq!(public.ratings, 1);
    assert!(rep.element("td", "positive-rate").contains("100%"));
    let shown = hb.get(&format!("/h/{hid}")).await;
    assert_eq!(
        rep.element("td", "positive-rate"),
        shown.element("td", "positive-rate")
    );
    assert_eq!(
        rep.element("td", "success-rate"),
        shown.element("td", "success-rate")
    );
    let history = rep.element("section", "history");
    assert!(
        history.contains("<svg") && history.contains("Positive ratings"),
        "{history}"
    );
    assert!(history.contains("100% (1 / 1 rating)"), "{history}");

    // Fields of focus: a bad path is refused beside the field, a good list saved.
    let csrf = rep.csrf();
    let bad = hb
        .post(
            "/reputation",
            &[("csrf", csrf.as_str()), ("fields", "electronics//cameras")],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("id=\"fields-error\""));
    assert!(bad.body.contains(">electronics//cameras</textarea>"));
    assert_eq!(h.holder(hid).await.unwrap().fields, ["electronics/cameras"]);
    let good = hb
        .post(
            "/reputation",
            &[
                ("csrf", csrf.as_str()),
                ("fields", "electronics/cameras, outdoor/hiking"),
            ],
        )
        .await;
    assert_eq!(good.status, 303, "{}", good.body);
    assert_eq!(
        h.holder(hid).await.unwrap().fields,
        ["electronics/cameras", "outdoor/hiking"]
    );
    assert!(hb
        .get("/reputation?saved=1")
        .await
        .body
        .contains("id=\"saved\""));

    // Past its deadline a request cannot be answered; a POST anyway is refused on the page.
    let d3 = r.create_demand(&camera_demand()).await.unwrap();
    let i3 = request_of(h, &d3.id).await;
    clock.advance_seconds(301);
    let page = hb.get("/inbox").await;
    let req = page.element("article", &format!("req-{i3}"));
    assert!(req.contains("The deadline has passed"), "{req}");
    assert!(!req.contains(&format!("id=\"answer-{i3}\"")));
    let late = answer(&hb, &i3, &pass_id, "Sorry, late").await;
    assert!((400..500).contains(&late.status), "{}", late.status);
    assert!(late.body.contains(&format!("id=\"req-{i3}-error\"")));
    assert!(late.body.contains("expired"), "{}", late.body);
    assert!(r.demand(&d3.id).await.unwrap().offers.is_empty());

    // Every page in Chinese.
    let mut zh = hb;
    zh.lang = Some("zh-CN");
    for (path, title) in [
        ("/inbox", "收件箱"),
        ("/wallet", "钱包"),
        ("/earnings", "收益"),
        ("/reputation", "信誉"),
    ] {
        let page = zh.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(page.body.contains("lang=\"zh-CN\""), "{path}");
        assert!(page.body.contains(&format!("<h1>{title}</h1>")), "{path}");
    }
    assert!(zh.get("/inbox").await.body.contains("已过截止时间"));
    assert!(zh.get("/earnings").await.body.contains("待结算"));
}

/// Only holders: a provider or a requester gets the 403 page on every
/// holder page (and the stream); a visitor is sent to sign in.
async fn holder_pages_are_for_holders(backend: Backend) {
    let srv = TestServer::on(backend).await;
    let (_, p) = srv.account("Nordlicht Optics", &[Role::Provider]).await;
    let (_, r) = srv.account("Ada", &[Role::Requester]).await;
    let paths = [
        "/inbox",
        "/inbox/list",
        "/inbox/live",
        "/wallet",
        "/earnings",
        "/reputation",
    ];
    for c in [&p, &r] {
        let b = web_sign_in(&srv, c.api_key().unwrap()).await;
        for path in paths {
            let page = b.get(path).await;
            assert_eq!(page.status, 403, "{path}");
        }
        let csrf = b.get("/account").await.csrf();
        let post = b
            .post(
                "/reputation",
                &[("csrf", csrf.as_str()), ("fields", "electronics/cameras")],
            )
            .await;
        assert_eq!(post.status, 403);
        let post = b
            .post(
                "/inbox/int_nope",
                &[("csrf", csrf.as_str()), ("do", "decline")],
            )
            .await;
        assert_eq!(post.status, 403);
    }
    let anon = web_client();
    for path in ["/inbox", "/wallet", "/earnings", "/reputation"] {
        let r = anon.get(format!("{}{path}", srv.url)).send().await.unwrap();
        assert_eq!(r.status(), 303, "{path}");
        assert_eq!(r.headers()["location"], format!("/login?next={path}"));
    }
}

/// A holder cannot answer another holder's request from the page: the
/// exchange's refusal is shown, nothing is offered.
async fn another_holders_request_is_refused(backend: Backend) {
    let srv = TestServer::on(backend).await;
    let (_, pass_id, holders, r) = market(&srv).await;
    let d = r.create_demand(&camera_demand()).await.unwrap();
    let theirs = request_of(&holders[1].1, &d.id).await;
    let hb = web_sign_in(&srv, holders[0].1.api_key().unwrap()).await;
    let page = answer(&hb, &theirs, &pass_id, "Not mine").await;
    assert_eq!(page.status, 403, "{}", page.body);
    assert!(page.body.contains("id=\"error\""));
    assert!(r.demand(&d.id).await.unwrap().offers.is_empty());
}

on_both_backends!(
    holder_console_story,
    holder_pages_are_for_holders,
    another_holders_request_is_refused
);
