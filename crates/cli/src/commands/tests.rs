use super::catalog::side_note;
use super::print::{demands_table, products_table};
use super::trade::{next_after_accept, order_command};
use super::*;
use clap::Parser;

#[derive(Parser, Debug)]
struct Cli {
    #[command(subcommand)]
    cmd: ApiCommand,
}

fn parse(args: &[&str]) -> Result<ApiCommand, clap::Error> {
    Cli::try_parse_from(std::iter::once("symbolon").chain(args.iter().copied())).map(|c| c.cmd)
}

#[test]
fn errors_name_the_cli_way_out() {
    let hint = |code: &str, message: &str| {
        let e = anyhow::Error::new(ClientError::Api {
            status: 409,
            code: code.into(),
            message: message.into(),
            details: None,
        });
        readable(e, "http://x").to_string()
    };
    insta::assert_snapshot!(
        "error_hints",
        [
            hint(
                "shipping_address_missing",
                "give `ship_to` or save one in the requester profile"
            ),
            hint("interaction_closed", "the interaction request is offered"),
            hint("interaction_closed", "the interaction request is expired"),
            hint(
                "already_ordered",
                "an order was already placed from this offer: ord_1"
            ),
            hint(
                "rating_not_allowed",
                "only the requester of the accepted offer may rate"
            ),
            hint("not_found", "no such order"),
        ]
        .join("\n---\n")
    );
}

/// `product list` and `demand list` at 80 and 140 columns: every id
/// whole, what each list says at a glance.
#[test]
fn owners_lists_keep_ids_whole() {
    let product = |id: &str, title: &str, stock: i64, archived: bool| api::Product {
        id: id.into(),
        provider_id: "acc_2p8kq0zv7m3x".into(),
        title: title.into(),
        description: String::new(),
        category: "electronics/audio/headphones".into(),
        specs: Default::default(),
        price: api::Money::new("349.99", "USD"),
        stock,
        created_at: "2026-12-01T09:30:00Z".into(),
        gtin: None,
        archived_at: archived.then(|| "2026-12-03T17:00:00Z".into()),
    };
    let products = api::ProductList {
        items: vec![
            product(
                "prd_wxe53g1k1f2wbk0p",
                "Noise cancelling headphones WH-1000XM5, black",
                20,
                false,
            ),
            product(
                "prd_0pq9r8s7t6u5v4w3",
                "Studio monitor headphones",
                0,
                false,
            ),
            product("prd_h8g7f6e5d4c3b2a1", "Wired earbuds, 3.5 mm", 7, true),
        ],
        next: Some("3".into()),
    };
    let summary = |id: &str,
                   status: &str,
                   query: &str,
                   contacted: u64,
                   offers: u64,
                   accepted: Option<&str>| {
        api::DemandSummary {
            id: id.into(),
            status: status.into(),
            item: api::DemandItem {
                query: query.into(),
                category: None,
                max_price: None,
            },
            contacted,
            offers,
            accepted_offer_id: accepted.map(str::to_string),
            deadline: "2026-12-01T10:05:00Z".into(),
            created_at: "2026-12-01T10:00:00Z".into(),
            cancelled_at: (status == "cancelled").then(|| "2026-12-01T10:02:00Z".into()),
        }
    };
    let demands = api::DemandList {
        items: vec![
            summary(
                "dem_3kd9s0a2lq7x",
                "cancelled",
                "vinyl turntable with a built-in preamp",
                3,
                0,
                None,
            ),
            summary(
                "dem_9x8w7v6u5t4s",
                "accepted",
                "noise cancelling headphones",
                4,
                2,
                Some("ofr_wxe53g1k1f2wbk0pntwr"),
            ),
            summary("dem_1a2b3c4d5e6f", "waiting", "降噪耳机", 0, 0, None),
        ],
        next: None,
    };
    for width in [80u16, 140] {
        let mut t = products_table(&products);
        t.set_width(width);
        let out = output::render(&t);
        for p in &products.items {
            assert!(out.contains(&p.id), "{} cut at {width}:\n{out}", p.id);
        }
        insta::assert_snapshot!(format!("product_list_at_{width}_columns"), out);
        let mut t = demands_table(&demands);
        t.set_width(width);
        let out = output::render(&t);
        for d in &demands.items {
            assert!(out.contains(&d.id), "{} cut at {width}:\n{out}", d.id);
        }
        insta::assert_snapshot!(format!("demand_list_at_{width}_columns"), out);
    }
}

#[test]
fn accept_says_how_to_order_next() {
    insta::assert_snapshot!(
        "accept_next_step",
        [
            next_after_accept("ofr_wxe53g1k1f2wbk0pntwr"),
            order_command("ofr_wxe53g1k1f2wbk0pntwr", false),
        ]
        .join("\n")
    );
}

#[test]
fn owners_commands_parse() {
    assert!(matches!(
        parse(&["product", "update", "prd_1", "--stock", "3"]).unwrap(),
        ApiCommand::Product(ProductCommand::Update(UpdateProductArgs {
            stock: Some(3),
            ..
        }))
    ));
    assert!(
        parse(&["product", "update", "prd_1"]).is_err(),
        "something to change"
    );
    assert!(
        parse(&["product", "update", "prd_1", "--currency", "EUR"]).is_err(),
        "a currency goes with a price"
    );
    assert!(parse(&["product", "archive", "prd_1"]).is_ok());
    assert!(parse(&["product", "list", "--limit", "5"]).is_ok());
    assert!(parse(&["demand", "list"]).is_ok());
    assert!(parse(&["demand", "cancel", "dem_1"]).is_ok());
    assert!(matches!(
        parse(&["inbox", "--pending", "--limit", "2"]).unwrap(),
        ApiCommand::Inbox(InboxArgs { pending: true, .. })
    ));
    assert!(matches!(
        parse(&["decline", "int_1", "--reason", "sold out"]).unwrap(),
        ApiCommand::Decline {
            reason: Some(_),
            ..
        }
    ));
    assert!(matches!(
        parse(&["order", "ship", "ord_1", "--tracking", "UPS 1Z"]).unwrap(),
        ApiCommand::Order(OrderCommand::Ship {
            tracking: Some(_),
            ..
        })
    ));
    assert!(matches!(
        parse(&["accept", "ofr_1", "--order", "--pay"]).unwrap(),
        ApiCommand::Accept(AcceptArgs {
            order: true,
            pay: true,
            ..
        })
    ));
    assert!(
        parse(&["accept", "ofr_1", "--pay"]).is_err(),
        "--pay needs --order"
    );
    assert!(
        parse(&["accept", "ofr_1", "--quantity", "2"]).is_err(),
        "so does --quantity"
    );
}

#[test]
fn order_create_takes_an_offer_or_a_pass() {
    assert!(parse(&["order", "create", "--offer", "ofr_1", "--pay"]).is_ok());
    assert!(parse(&["order", "create", "--pass", "pas_1", "--via", "acc_h", "--pay"]).is_ok());
    assert!(
        parse(&["order", "create", "--pay"]).is_err(),
        "one of them is needed"
    );
    assert!(parse(&["order", "create", "--offer", "ofr_1", "--pass", "pas_1"]).is_err());
    assert!(parse(&["order", "create", "--offer", "ofr_1", "--via", "acc_h"]).is_err());
}

#[test]
fn order_list_says_which_side_it_shows() {
    assert_eq!(side_note(&["requester"]), None);
    assert_eq!(
        side_note(&["holder", "requester"]).as_deref(),
        Some("showing your orders as requester; this account has other sides too: --role holder")
    );
    assert_eq!(
        side_note(&["holder", "provider", "requester"]).as_deref(),
        Some("showing your orders as provider; this account has other sides too: --role holder, --role requester")
    );
    assert_eq!(side_note(&[]), None);
}

#[test]
fn the_command_tree_is_valid() {
    use clap::CommandFactory;
    Cli::command().debug_assert();
}

#[test]
fn specs_parse_as_name_value() {
    assert_eq!(
        parse_spec("color = black").unwrap(),
        ("color".into(), "black".into())
    );
    assert_eq!(parse_spec("a=b=c").unwrap(), ("a".into(), "b=c".into()));
    assert!(parse_spec("nope").is_err());
    assert!(parse_spec("=x").is_err());
}

#[test]
fn rate_needs_exactly_one_verdict() {
    assert!(parse(&["rate", "off_1"]).is_err());
    assert!(parse(&["rate", "off_1", "--positive", "--negative"]).is_err());
    assert!(matches!(
        parse(&["rate", "off_1", "--negative"]).unwrap(),
        ApiCommand::Rate(RateArgs { negative: true, .. })
    ));
}

#[test]
fn partial_addresses_and_lone_prices_are_refused() {
    assert!(parse(&["requester", "profile"]).is_err());
    assert!(parse(&["requester", "profile", "--name", "A", "--city", "X"]).is_err());
    assert!(parse(&["requester", "profile", "--city", "X"]).is_err());
    assert!(parse(&["requester", "profile", "--card", "4242424242424242"]).is_ok());
    assert!(parse(&["demand", "create", "q", "--max-price", "10"]).is_err());
    assert!(parse(&[
        "demand",
        "create",
        "q",
        "--max-price",
        "10.50",
        "--currency",
        "USD"
    ])
    .is_ok());
}

#[test]
fn roles_repeat_or_comma_separate() {
    let ApiCommand::Account(AccountCommand::Create { roles, .. }) = parse(&[
        "account",
        "create",
        "--name",
        "A",
        "--role",
        "provider,holder",
        "--role",
        "requester",
    ])
    .unwrap() else {
        panic!("not account create")
    };
    assert_eq!(
        roles,
        vec![RoleArg::Provider, RoleArg::Holder, RoleArg::Requester]
    );
}

#[test]
fn after_sale_steps_parse() {
    use after_sale::{DisputeCommand, DisputeKindArg, OrderStep};
    let ApiCommand::Order(OrderCommand::Step(OrderStep::Refund { id, amount, reason })) = parse(&[
        "order", "refund", "ord_1", "--amount", "12.50", "--reason", "scuffed",
    ])
    .unwrap() else {
        panic!("not order refund")
    };
    assert_eq!(
        (id.as_str(), amount.as_deref(), reason.as_str()),
        ("ord_1", Some("12.50"), "scuffed")
    );
    assert!(
        parse(&["order", "refund", "ord_1"]).is_err(),
        "a reason is required"
    );
    assert!(matches!(
        parse(&["order", "cancel", "ord_1", "--reason", "twice"]).unwrap(),
        ApiCommand::Order(OrderCommand::Step(OrderStep::Cancel { .. }))
    ));
    assert!(matches!(
        parse(&["order", "return-accept", "ord_1"]).unwrap(),
        ApiCommand::Order(OrderCommand::Step(OrderStep::ReturnAccept { .. }))
    ));
    assert!(matches!(
        parse(&[
            "order",
            "dispute",
            "ord_1",
            "--kind",
            "not_as_described",
            "--reason",
            "x"
        ])
        .unwrap(),
        ApiCommand::Order(OrderCommand::Step(OrderStep::Dispute {
            kind: DisputeKindArg::NotAsDescribed,
            ..
        }))
    ));
    assert!(parse(&["order", "dispute", "ord_1", "--kind", "lost", "--reason", "x"]).is_err());
    // No --refund rejects the dispute.
    let ApiCommand::Dispute(DisputeCommand::Resolve { refund, .. }) = parse(&[
        "dispute",
        "resolve",
        "dsp_1",
        "--reason",
        "tracking shows delivery",
    ])
    .unwrap() else {
        panic!("not dispute resolve")
    };
    assert_eq!(refund, None);
    assert!(matches!(
        parse(&["dispute", "list", "--status", "open", "--limit", "5"]).unwrap(),
        ApiCommand::Dispute(DisputeCommand::List { .. })
    ));
    assert!(parse(&["payout", "--currency", "USD", "--amount", "5.00"]).is_ok());
    assert!(parse(&["payout"]).is_err(), "a currency is required");
}

#[test]
fn api_errors_read_as_code_message_and_details() {
    let e = anyhow::Error::from(ClientError::Api {
        status: 400,
        code: "invalid_field".into(),
        message: "min_holders: must be at least 2".into(),
        details: Some(serde_json::json!({"field": "min_holders"})),
    });
    assert_eq!(
        format!("{:#}", readable(e, "http://x")),
        "invalid_field: min_holders: must be at least 2\n  field: min_holders"
    );
    let e = anyhow::Error::from(ClientError::Api {
        status: 422,
        code: "insufficient_holders".into(),
        message: "1 holder(s) qualify, 2 needed".into(),
        details: Some(serde_json::json!({"eliminated": {"query": 3}, "min_holders": 2})),
    });
    assert_eq!(
        format!("{:#}", readable(e, "http://x")),
        "insufficient_holders: 1 holder(s) qualify, 2 needed\n  eliminated.query: 3\n  min_holders: 2"
    );
}

#[test]
fn a_missing_key_is_named() {
    let ctx = Context {
        server: "http://127.0.0.1:1".into(),
        key: None,
        json: false,
    };
    let e = ctx.authed().unwrap_err().to_string();
    assert!(e.contains("--key") && e.contains("SYMBOLON_KEY"), "{e}");
}
