//! The API commands: one subcommand (or group) per API operation, over the
//! typed client. Readable tables by default; `--json` prints the API response.

#[path = "after_sale.rs"]
mod after_sale;

use crate::output::{self, Fields};
use anyhow::{anyhow, bail};
use clap::{ArgGroup, Args, Subcommand, ValueEnum};
use std::collections::BTreeMap;
use symbolon_api as api;
use symbolon_client::{Client, ClientError};

#[derive(Subcommand, Debug)]
pub enum ApiCommand {
    /// Create an account, or show yours.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Show your balances per currency: the ledger, pending (orders not yet
    /// settled), available and paid out; warns when you owe the exchange.
    Balance,
    /// Check that the server is up.
    Health,
    /// Provider: create, list, show, update or archive your products.
    #[command(subcommand)]
    Product(ProductCommand),
    /// Provider: create, show and grant passes; show a provider's keys.
    #[command(subcommand)]
    Pass(PassCommand),
    /// Holder: set your fields; show a holder's public reputation.
    #[command(subcommand)]
    Holder(HolderCommand),
    /// Holder: list the passes granted to you.
    Wallet,
    /// Holder: list the interaction requests sent to you (`--pending`: only
    /// those still awaiting your answer).
    Inbox(InboxArgs),
    /// Holder: answer an interaction request with an offer of one of your passes.
    Offer(OfferArgs),
    /// Holder: decline an interaction request (`--reason`: the requester sees why).
    Decline {
        /// The interaction id (from `inbox`).
        interaction: String,
        /// Why you decline (up to 500 characters), shown to the requester with the demand.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Requester: create, list, show or cancel your demands.
    #[command(subcommand)]
    Demand(DemandCommand),
    /// Requester: accept an offer (you receive the licence, or the right to
    /// buy a unit); `--order [--pay]` orders, and pays, in the same command.
    Accept(AcceptArgs),
    /// Requester: rate the holder of an accepted offer.
    Rate(RateArgs),
    /// Requester: set or show your shipping address and payment method.
    #[command(subcommand)]
    Requester(RequesterCommand),
    /// Orders: create (and pay in one click), list, show, pay, ship; after the
    /// sale: cancel, refund, delivered, return, dispute.
    #[command(subcommand)]
    Order(OrderCommand),
    /// Disputes: show, message; operators: list, resolve.
    #[command(subcommand)]
    Dispute(after_sale::DisputeCommand),
    /// Pay available money out of the exchange.
    Payout(after_sale::PayoutArgs),
    /// Your events (interaction requests, offers, orders, ratings, expiries):
    /// a page, or `--follow` to stream them live (resuming after a drop).
    Events(EventsArgs),
    /// Webhook endpoints (Standard Webhooks): add, list, show, rm, rotate,
    /// enable, replay, attempts.
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// Your keys for sealed secrets (kept in $SYMBOLON_HOME, mode 0600).
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Provider: seal a secret into a pass, on this machine (only the payload,
    /// the signed header and wrapped shares ever reach the exchange).
    Seal(SealArgs),
    /// Requester: open the sealed secret of a paid order with the holder's
    /// and the provider's shares.
    Open(OpenArgs),
    /// Provider: the agent that releases the shares of paid orders.
    #[command(subcommand)]
    Provider(ProviderCommand),
    /// Send a sealed pass's share again (when the automatic step could not).
    #[command(subcommand)]
    Share(ShareCommand),
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Generate your X25519 (age) identity and Ed25519 signing key, keep them
    /// locally and register the public halves (again, with the same keys, unless --force).
    Init {
        /// Make new keys even when the exchange already has keys for the account
        /// (from this machine or another): shares wrapped to the old keys then open
        /// only where those keys are, secrets you sealed no longer verify, and
        /// counterparties must `keys trust` you again.
        #[arg(long)]
        force: bool,
    },
    /// Print your recipient (`age1…`) and its fingerprint, for out-of-band checks.
    Show,
    /// Accept an account's current keys after checking their fingerprint with
    /// its owner (keys are trusted on first use; a changed key is refused).
    Trust {
        /// The account whose registered keys to trust.
        account: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum ShareCommand {
    /// Provider: (re)send a holder its share of a sealed pass.
    Send {
        /// The pass id.
        #[arg(long)]
        pass: String,
        /// The holder's account id.
        #[arg(long)]
        holder: String,
    },
    /// Holder: (re)send the requester of your offer your share.
    Offer {
        /// The offer id.
        offer: String,
        /// The pass offered.
        #[arg(long)]
        pass: String,
    },
}

#[derive(Args, Debug)]
pub struct SealArgs {
    /// The pass id.
    #[arg(long)]
    pass: String,
    /// The secret (at most 64 KiB).
    #[arg(long)]
    secret_file: std::path::PathBuf,
    /// Shares needed to open (default 2: the holder's and the provider's).
    #[arg(long, default_value_t = 2)]
    threshold: u8,
    /// Shares made: 1 for holders, the rest kept by the provider's side
    /// (it releases threshold − 1 of them after payment).
    #[arg(long, default_value_t = 2)]
    shares: u8,
}

#[derive(Args, Debug)]
pub struct OpenArgs {
    /// The order id.
    #[arg(long)]
    order: String,
    /// Write the secret here (mode 0600) instead of stdout.
    #[arg(long)]
    out: Option<std::path::PathBuf>,
    /// Also write the rebuilt age identity (for `age -d -i FILE`).
    #[arg(long)]
    export_identity: Option<std::path::PathBuf>,
    /// Also write the sealed payload (an age file, zstd inside).
    #[arg(long)]
    save_payload: Option<std::path::PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum ProviderCommand {
    /// Follow your events and release the shares of every paid order of a
    /// pass you sealed (resumes where it stopped); a release refused because
    /// the buyer has no keys yet is retried with backoff.
    Agent {
        /// Handle what is there (and the retries due), then exit.
        #[arg(long)]
        once: bool,
        /// The wait before retrying a release that failed (the buyer has no keys
        /// yet, the exchange is unreachable); it doubles after each failure, up
        /// to 1h. [default: 10s]
        #[arg(long, value_parser = crate::agent::parse_wait)]
        retry_first: Option<std::time::Duration>,
        /// Attempts per order before the agent gives up on it (then release by
        /// hand: `symbolon provider release ORDER`). [default: 30, about a day]
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
        retry_attempts: Option<u32>,
    },
    /// Release the shares of one paid order by hand.
    Release {
        /// The paid order id.
        order: String,
    },
}

#[derive(Args, Debug)]
pub struct EventsArgs {
    /// Events after this id (`evt_…`).
    #[arg(long)]
    after: Option<String>,
    /// Page size (1–500).
    #[arg(long)]
    limit: Option<u32>,
    /// Stream events as they happen (Server-Sent Events); reconnects and
    /// resumes after the last event seen. One line per event (JSON with `--json`).
    #[arg(long)]
    follow: bool,
}

#[derive(Subcommand, Debug)]
pub enum WebhookCommand {
    /// Register an endpoint; prints its `whsec_` secret (shown once).
    Add {
        /// An http(s) URL.
        url: String,
    },
    /// List your endpoints.
    List,
    /// Show an endpoint.
    Show {
        /// The endpoint id (`whk_…`).
        id: String,
    },
    /// Delete an endpoint (and what waits for it).
    Rm {
        /// The endpoint id (`whk_…`).
        id: String,
    },
    /// A new secret; the old one keeps signing for 24 h.
    Rotate {
        /// The endpoint id (`whk_…`).
        id: String,
    },
    /// Enable a disabled endpoint; what waited is delivered.
    Enable {
        /// The endpoint id (`whk_…`).
        id: String,
    },
    /// Re-send every event after `--after` (all kept events without it).
    Replay {
        /// The endpoint id (`whk_…`).
        id: String,
        /// Only events after this one (`evt_…`).
        #[arg(long)]
        after: Option<String>,
    },
    /// The latest delivery attempts.
    Attempts {
        /// The endpoint id (`whk_…`).
        id: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum AccountCommand {
    /// Register a new account (no key needed) and print its API key.
    Create {
        /// Display name.
        #[arg(long)]
        name: String,
        /// A role of the account (repeat or comma-separate for several).
        #[arg(long = "role", value_enum, required = true, value_delimiter = ',')]
        roles: Vec<RoleArg>,
    },
    /// Show the account of the API key (whoami).
    Show,
}

#[derive(Subcommand, Debug)]
pub enum ProductCommand {
    /// Create a product.
    Create(CreateProductArgs),
    /// List your products, oldest first.
    List(PageArgs),
    /// Show a product.
    Show {
        /// The product id.
        id: String,
    },
    /// Change your product: the flags given, checked as at creation. Once it
    /// has a pass only --stock may change (the rest is signed into its passes).
    Update(UpdateProductArgs),
    /// Stop selling your product: no new passes, offers or orders, and its
    /// passes leave the market (not revoked); paid orders go on.
    Archive {
        /// The product id.
        product: String,
    },
}

#[derive(Args, Debug)]
#[command(group(ArgGroup::new("change").required(true).multiple(true)
    .args(["title", "description", "category", "price", "stock", "specs", "gtin"])))]
pub struct UpdateProductArgs {
    /// The product id.
    product: String,
    /// A new title.
    #[arg(long)]
    title: Option<String>,
    /// A new description (`""` clears it).
    #[arg(long)]
    description: Option<String>,
    /// A new category path, e.g. `electronics/audio/headphones`.
    #[arg(long)]
    category: Option<String>,
    /// A new unit price as a decimal string, e.g. `12.34`.
    #[arg(long)]
    price: Option<String>,
    /// The currency of --price [default: the product's].
    #[arg(long, requires = "price")]
    currency: Option<String>,
    /// Units in stock now (0 takes it off the market until restocked).
    #[arg(long)]
    stock: Option<i64>,
    /// A specification `name=value` (repeatable); replaces all the specs.
    #[arg(long = "spec", value_parser = parse_spec)]
    specs: Vec<(String, String)>,
    /// A GTIN with a valid check digit (`""` removes it).
    #[arg(long)]
    gtin: Option<String>,
}

#[derive(Args, Debug)]
pub struct CreateProductArgs {
    /// The product title (shown on offers and the pass page).
    #[arg(long)]
    title: String,
    /// A longer description (optional).
    #[arg(long, default_value = "")]
    description: String,
    /// A category path, e.g. `electronics/audio/headphones`.
    #[arg(long)]
    category: String,
    /// Unit price as a decimal string, e.g. `12.34`.
    #[arg(long)]
    price: String,
    /// ISO 4217 currency, e.g. `USD`.
    #[arg(long)]
    currency: String,
    /// Units in stock.
    #[arg(long)]
    stock: i64,
    /// A specification `name=value` (repeatable).
    #[arg(long = "spec", value_parser = parse_spec)]
    specs: Vec<(String, String)>,
}

#[derive(Subcommand, Debug)]
pub enum PassCommand {
    /// Issue a signed pass for one of your products.
    Create(CreatePassArgs),
    /// Show a pass (public).
    Show {
        /// The pass id.
        id: String,
    },
    /// Grant a pass to a holder.
    Grant {
        /// The pass id.
        pass: String,
        /// The holder's account id.
        #[arg(long)]
        holder: String,
        /// Units to hand over (unique passes only).
        #[arg(long)]
        units: Option<i64>,
        /// Sealed pass: grant even though the holder's share cannot go along now
        /// (this machine lacks the seal's shares, or the holder has no keys yet);
        /// send it later from the machine that sealed the pass with
        /// `symbolon share send --pass PASS --holder HOLDER`.
        #[arg(long)]
        without_share: bool,
    },
    /// Show a provider's public keys (JWK Set): a table on a terminal, the
    /// JWK Set as JSON when redirected (`pass jwks acc_… > jwks.json`).
    Jwks {
        /// The provider's account id.
        provider: String,
    },
    /// Verify a pass: signature, algorithm, validity, revocation. Prints its
    /// content and ✓, or exits 1 naming the reason (bad_signature,
    /// unknown_key, expired, not_yet_valid, revoked, wrong_algorithm,
    /// malformed). Needs no account; with --jwks it needs no network.
    Verify(VerifyArgs),
    /// Provider: revoke a pass (its bit is set in your status list).
    Revoke {
        /// The pass id.
        pass: String,
    },
    /// Provider: list your signing keys, or rotate (a new key signs from now on).
    Keys {
        /// Make a new signing key; the old ones stay published until their passes expire.
        #[arg(long)]
        rotate: bool,
    },
    /// A unit's ownership history (public), verified offline against the issuer's
    /// keys; without a unit number, the units that have histories.
    History {
        /// The pass id.
        pass: String,
        /// The unit number (see `pass history PASS` for the units that have one).
        unit: Option<i64>,
        /// Pin the issuer's keys (JWK Set file) instead of fetching them.
        #[arg(long)]
        jwks: Option<std::path::PathBuf>,
    },
    /// Provider: make an Ed25519 key you keep yourself (a JWK file, mode 0600) and register its public half.
    Keygen {
        /// Where to write the private key (JWK).
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Provider: sign a pass with your own key (from `pass keygen`) and upload it; the server verifies it.
    Sign(SignPassArgs),
    /// Owner: hand a unit you own to another account (the next signed statement of its chain).
    Transfer {
        /// The pass id.
        pass: String,
        /// The unit number.
        unit: i64,
        /// The receiving account id.
        #[arg(long)]
        to: String,
    },
}

#[derive(Args, Debug)]
pub struct SignPassArgs {
    /// Your private key (JWK file from `pass keygen`).
    #[arg(long)]
    pub key_file: std::path::PathBuf,
    /// The product id.
    #[arg(long)]
    pub product: String,
    /// `shareable` (a licence for everyone) or `unique` (N owned units).
    #[arg(long, value_enum)]
    pub mode: ModeArg,
    /// Units of a unique pass.
    #[arg(long)]
    pub units: Option<i64>,
    /// The holder's commission in basis points (100 = 1%).
    #[arg(long)]
    pub commission_bps: i64,
    /// RFC 3339 end of validity.
    #[arg(long)]
    pub valid_until: Option<String>,
    /// Also write the signed pass (compact JWS) to this file.
    #[arg(long)]
    pub out: Option<std::path::PathBuf>,
    /// Sign only; do not upload.
    #[arg(long)]
    pub no_upload: bool,
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// A compact JWS, a file holding one (or the API's pass JSON), or a URL
    /// (`…/v1/passes/{id}` or the pass page `…/p/{id}`).
    pub pass: String,
    /// Pin the issuer's keys: a JWK Set file (no network needed for keys).
    #[arg(long)]
    pub jwks: Option<std::path::PathBuf>,
    /// The issuer's status list credential from a file (revocation offline).
    #[arg(long)]
    pub status_list: Option<std::path::PathBuf>,
    /// Use no network at all (revocation unchecked unless --status-list).
    #[arg(long)]
    pub offline: bool,
    /// Fail when revocation cannot be checked.
    #[arg(long)]
    pub require_status: bool,
}

#[derive(Args, Debug)]
pub struct CreatePassArgs {
    /// The product id.
    #[arg(long)]
    product: String,
    /// `shareable` (a licence for everyone) or `unique` (N owned units).
    #[arg(long, value_enum)]
    mode: ModeArg,
    /// Number of units (unique passes only).
    #[arg(long)]
    units: Option<i64>,
    /// Holder's commission in basis points of the order total (0-10000; 1000 = 10%).
    #[arg(long)]
    commission_bps: i64,
    /// Expiry, RFC 3339 (e.g. `2030-01-01T00:00:00Z`); default: none.
    #[arg(long)]
    valid_until: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum HolderCommand {
    /// Set your fields of focus.
    Profile {
        /// A field of focus, e.g. `electronics/audio` (repeatable).
        #[arg(long = "field", required = true)]
        fields: Vec<String>,
    },
    /// Show a holder's public profile and reputation.
    Show {
        /// The holder's account id.
        id: String,
    },
}

#[derive(Args, Debug)]
pub struct PageArgs {
    /// Cursor from the previous page (`next`).
    #[arg(long)]
    after: Option<String>,
    /// Page size.
    #[arg(long)]
    limit: Option<u32>,
}

#[derive(Args, Debug)]
pub struct InboxArgs {
    /// Only the requests still awaiting your answer (pending, before their deadline).
    #[arg(long)]
    pending: bool,
    #[command(flatten)]
    page: PageArgs,
}

#[derive(Args, Debug)]
pub struct AcceptArgs {
    /// The offer id (from `demand show`).
    offer: String,
    /// Also order it at once (as `order create --offer OFFER`).
    #[arg(long)]
    order: bool,
    /// With --order: pay at once with the saved payment method (one click).
    #[arg(long, requires = "order")]
    pay: bool,
    /// With --order: how many (a unique pass: 1).
    #[arg(long, requires = "order", default_value_t = 1)]
    quantity: i64,
}

#[derive(Args, Debug)]
pub struct OfferArgs {
    /// The interaction id (from `inbox`).
    interaction: String,
    /// The pass to offer (from `wallet`).
    #[arg(long)]
    pass: String,
    /// A note to the requester.
    #[arg(long)]
    note: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum DemandCommand {
    /// Post a demand: the exchange contacts the best qualifying holders.
    Create(CreateDemandArgs),
    /// List your demands, newest first, with their state.
    List(PageArgs),
    /// Show a demand, the holders contacted (rank, score, why) and their offers.
    Show {
        /// The demand id.
        id: String,
    },
    /// Cancel your waiting, open or closed demand: no more requests go out,
    /// pending ones are withdrawn, and none of its offers can be accepted.
    Cancel {
        /// The demand id.
        demand: String,
    },
}

#[derive(Args, Debug)]
pub struct CreateDemandArgs {
    /// What you are looking for, e.g. `noise cancelling headphones`.
    query: String,
    /// Category path the item must be in (or under).
    #[arg(long)]
    category: Option<String>,
    /// Highest acceptable price, as a decimal string (with --currency).
    #[arg(long, requires = "currency")]
    max_price: Option<String>,
    /// Currency of --max-price.
    #[arg(long, requires = "max_price")]
    currency: Option<String>,
    /// Holders' least share of positive ratings (0-1).
    #[arg(long)]
    min_positive_rate: Option<f64>,
    /// Holders' least share of requests answered in time (0-1).
    #[arg(long)]
    min_success_rate: Option<f64>,
    /// Holders' least number of ratings.
    #[arg(long)]
    min_ratings: Option<u64>,
    /// A field holders must focus on (repeatable).
    #[arg(long = "field")]
    fields: Vec<String>,
    /// Least number of holders to contact (at least 2; default 2).
    #[arg(long)]
    min_holders: Option<u32>,
    /// Most holders to contact (default 5, at most 20).
    #[arg(long)]
    max_holders: Option<u32>,
    /// Seconds the holders have to answer (default 300).
    #[arg(long = "ttl")]
    ttl_seconds: Option<u32>,
    /// Keep the demand waiting when fewer than `min_holders` qualify; holders
    /// are contacted as soon as enough do (until the TTL ends).
    #[arg(long)]
    wait: bool,
}

#[derive(Args, Debug)]
#[command(group(ArgGroup::new("verdict").required(true).args(["positive", "negative"])))]
pub struct RateArgs {
    /// The accepted offer's id.
    offer: String,
    /// A positive rating.
    #[arg(long)]
    positive: bool,
    /// A negative rating.
    #[arg(long)]
    negative: bool,
    /// A comment shown with the rating (optional).
    #[arg(long)]
    comment: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum RequesterCommand {
    /// Set your shipping address and/or payment method.
    Profile(RequesterProfileArgs),
    /// Show your requester profile.
    Show,
}

#[derive(Args, Debug)]
#[command(group(ArgGroup::new("update").required(true).multiple(true).args(["name", "card"])))]
pub struct RequesterProfileArgs {
    #[command(flatten)]
    address: AddressArgs,
    /// A sandbox card number (`4242424242424242` is approved).
    #[arg(long)]
    card: Option<String>,
}

/// A shipping address; `--name` needs the other required parts.
#[derive(Args, Debug)]
pub struct AddressArgs {
    /// Ship to: recipient name.
    #[arg(long, requires_all = ["line1", "city", "postal_code", "country"])]
    name: Option<String>,
    /// Ship to: street line.
    #[arg(long, requires = "name")]
    line1: Option<String>,
    /// Ship to: second line.
    #[arg(long, requires = "name")]
    line2: Option<String>,
    /// Ship to: city.
    #[arg(long, requires = "name")]
    city: Option<String>,
    /// Ship to: postal code.
    #[arg(long, requires = "name")]
    postal_code: Option<String>,
    /// Ship to: ISO 3166-1 alpha-2 country, e.g. `US`.
    #[arg(long, requires = "name")]
    country: Option<String>,
}

impl AddressArgs {
    fn into_address(self) -> Option<api::Address> {
        Some(api::Address {
            name: self.name?,
            line1: self.line1.unwrap_or_default(),
            line2: self.line2,
            city: self.city.unwrap_or_default(),
            postal_code: self.postal_code.unwrap_or_default(),
            country: self.country.unwrap_or_default(),
        })
    }
}

#[derive(Subcommand, Debug)]
pub enum OrderCommand {
    /// Order from an accepted offer (`--pay`: order and pay in one click).
    Create(CreateOrderArgs),
    /// List your orders as one role.
    List {
        /// Which side of the orders (default: your first of provider, requester, holder).
        #[arg(long, value_enum)]
        role: Option<RoleArg>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Show an order.
    Show {
        /// The order id.
        id: String,
    },
    /// Requester: pay a placed order with the saved payment method.
    Pay {
        /// The order id.
        id: String,
    },
    /// Provider: mark a paid order shipped.
    Ship {
        /// The order id.
        id: String,
        /// Carrier and tracking number (up to 200 characters), shown to the
        /// requester on the order, e.g. `"UPS 1Z999AA10123456784"`.
        #[arg(long)]
        tracking: Option<String>,
    },
    #[command(flatten)]
    Step(after_sale::OrderStep),
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("from").required(true).args(["offer", "pass"])))]
pub struct CreateOrderArgs {
    /// The accepted offer's id.
    #[arg(long)]
    offer: Option<String>,
    /// Or order straight from a pass (as its page does), without a demand.
    #[arg(long)]
    pass: Option<String>,
    /// With --pass: the holder whose link brought you (credited with the order).
    #[arg(long, conflicts_with = "offer")]
    via: Option<String>,
    /// How many (a unique pass: 1).
    #[arg(long, default_value_t = 1)]
    quantity: i64,
    /// Pay at once with the saved payment method.
    #[arg(long)]
    pay: bool,
    /// Ship elsewhere than the profile's address.
    #[command(flatten)]
    ship_to: AddressArgs,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleArg {
    Provider,
    Holder,
    Requester,
}

impl From<RoleArg> for api::Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Provider => api::Role::Provider,
            RoleArg::Holder => api::Role::Holder,
            RoleArg::Requester => api::Role::Requester,
        }
    }
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModeArg {
    Shareable,
    Unique,
}

impl From<ModeArg> for api::PassMode {
    fn from(m: ModeArg) -> Self {
        match m {
            ModeArg::Shareable => api::PassMode::Shareable,
            ModeArg::Unique => api::PassMode::Unique,
        }
    }
}

fn parse_spec(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
        _ => Err(format!("expected `name=value`, got `{s}`")),
    }
}

/// The global flags API commands use.
pub struct Context {
    pub server: String,
    pub key: Option<String>,
    pub json: bool,
}

impl Context {
    fn anon(&self) -> anyhow::Result<Client> {
        Ok(Client::new(&self.server)?)
    }

    /// A client with the API key, or a clear error before any request.
    fn authed(&self) -> anyhow::Result<Client> {
        match self.key.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
            Some(k) => Ok(self.anon()?.with_key(k)),
            None => bail!(
                "this command needs an API key: pass --key KEY or set SYMBOLON_KEY \
                 (`symbolon account create` prints one)"
            ),
        }
    }

    /// Prints `v` as JSON with `--json`, else runs `human`.
    fn show<T: serde::Serialize>(&self, v: &T, human: impl FnOnce(&T)) {
        if self.json {
            output::print_json(v);
        } else {
            human(v);
        }
    }
}

/// Runs one API command; client errors come back readable (`code: message`
/// plus details).
pub async fn run(cmd: ApiCommand, ctx: &Context) -> anyhow::Result<()> {
    dispatch(cmd, ctx)
        .await
        .map_err(|e| readable(e, &ctx.server))
}

/// Rewrites client errors for people: `<code>: <message>` and the details.
fn readable(e: anyhow::Error, server: &str) -> anyhow::Error {
    let Some(ce) = e.downcast_ref::<ClientError>() else {
        return e;
    };
    match ce {
        ClientError::Api {
            code,
            message,
            details,
            ..
        } => {
            let mut s = format!("{code}: {message}");
            if let Some(d) = details {
                s.push_str(&details_lines(&output::humane_details(d)));
            }
            if let Some(hint) = cli_hint(code, message) {
                s.push_str("\n  hint: ");
                s.push_str(hint);
            }
            anyhow!(s)
        }
        ClientError::Transport(t) => {
            let mut root: &dyn std::error::Error = t;
            while let Some(next) = root.source() {
                root = next;
            }
            anyhow!(
                "cannot reach the server at {server}: {root}; \
                 is `symbolon serve` running? (set --server or SYMBOLON_SERVER)"
            )
        }
        ClientError::Decode { status, message } => {
            anyhow!("unexpected response from {server} (HTTP {status}): {message}")
        }
        ClientError::BadUrl(u) => {
            anyhow!("invalid server URL `{u}`: it must start with http:// or https://")
        }
    }
}

/// What to do about an API error, in the CLI's terms (its commands and
/// flags, not the API's fields).
fn cli_hint(code: &str, message: &str) -> Option<&'static str> {
    Some(match code {
        "shipping_address_missing" => "give the address with --name, --line1, --city, --postal-code and --country, or save one: symbolon requester profile --name … --line1 … --city … --postal-code … --country …",
        "payment_method_missing" => "save a card first: symbolon requester profile --card 4242424242424242",
        "interaction_closed" if message.contains("offered") || message.contains("declined") => {
            "you already answered this request (see symbolon inbox)"
        }
        "interaction_closed" => "the request expired or was withdrawn; nothing more can be sent to it",
        "already_ordered" => "go on with the order named above: symbolon order show ORDER (symbolon order pay ORDER if it is unpaid)",
        "offer_not_accepted" => "accept the offer first: symbolon accept OFFER",
        "rating_not_allowed" => "a buyer rates once its order is delivered: symbolon order delivered ORDER",
        "unauthorized" => "pass your API key with --key or SYMBOLON_KEY",
        "invalid_transition" => "see the order's state and what it allows: symbolon order show ORDER",
        "refund_exceeds_paid" => "leave out --amount to refund all that is left",
        "party_keys_missing" => "run symbolon keys init on the machine that will open or send shares",
        _ => return None,
    })
}

/// Error details as indented `key: value` lines (nested objects as dotted keys).
fn details_lines(d: &serde_json::Value) -> String {
    fn walk(prefix: &str, v: &serde_json::Value, out: &mut String) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v, out);
                }
            }
            serde_json::Value::Null if prefix.is_empty() => {}
            serde_json::Value::String(s) => out.push_str(&format!("\n  {prefix}: {s}")),
            other => out.push_str(&format!(
                "\n  {}: {other}",
                if prefix.is_empty() { "details" } else { prefix }
            )),
        }
    }
    let mut out = String::new();
    walk("", d, &mut out);
    out
}

async fn dispatch(cmd: ApiCommand, ctx: &Context) -> anyhow::Result<()> {
    match cmd {
        ApiCommand::Account(AccountCommand::Create { name, roles }) => {
            let client = ctx.anon()?;
            let roles = roles.into_iter().map(api::Role::from).collect();
            let created = client
                .create_account(&api::CreateAccount { name, roles })
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

/// `accept OFFER [--order [--pay]]`: accepts, and with `--order` places the
/// order (and pays it) in the same command. Run again after a failed order,
/// it goes on from the accepted offer; the order's own checks decide.
async fn accept(a: AcceptArgs, ctx: &Context) -> anyhow::Result<()> {
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
fn order_command(offer: &str, pay: bool) -> String {
    format!(
        "symbolon order create --offer {offer}{}",
        if pay { " --pay" } else { "" }
    )
}

/// What `accept` prints after the offer: the command to order it.
fn next_after_accept(offer: &str) -> String {
    format!(
        "next: {}   (order and pay in one click; without --pay, pay later with `symbolon order pay`)",
        order_command(offer, true)
    )
}

async fn product(cmd: ProductCommand, ctx: &Context) -> anyhow::Result<()> {
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

async fn pass(cmd: PassCommand, ctx: &Context) -> anyhow::Result<()> {
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
fn side_note(sides: &[&str]) -> Option<String> {
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

async fn demand(cmd: DemandCommand, ctx: &Context) -> anyhow::Result<()> {
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

async fn order(cmd: OrderCommand, ctx: &Context) -> anyhow::Result<()> {
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

// ---------------------------------------------------------------- printers

fn print_holder(h: &api::HolderPublic) {
    let mut f = Fields::new();
    output::holder_fields(&mut f, h);
    f.print();
}

fn print_pass(p: &api::Pass) {
    Fields::new()
        .add("id", &p.id)
        .add("title", &p.title)
        .add("product", &p.product_id)
        .add("provider", &p.provider_id)
        .add("price", output::money(&p.price))
        .add("mode", output::mode(p.mode))
        .opt("units", p.units)
        .add("commission", output::bps(p.commission_bps))
        .add("valid from", &p.valid_from)
        .opt("valid until", p.valid_until.as_deref())
        .add("status", &p.status)
        .add("url", &p.url)
        .add("page", &p.page)
        .add("created", &p.created_at)
        .add("jws", &p.jws)
        .print();
}

fn print_offer(o: &api::Offer) {
    Fields::new()
        .add("offer", &o.id)
        .add("status", &o.status)
        .add("demand", &o.demand_id)
        .add("interaction", &o.interaction_id)
        .add("holder", format!("{} ({})", o.holder.name, o.holder.id))
        .add("holder positive rate", output::rate(o.holder.positive_rate))
        .add("pass", &o.pass.id)
        .add("title", &o.pass.title)
        .add("price", output::money(&o.pass.price))
        .add("mode", output::mode(o.pass.mode))
        .add("provider", &o.pass.provider_id)
        .opt("note", o.note.as_deref())
        .add("created", &o.created_at)
        .some("accepted", o.accepted_at.as_deref())
        .some("unit", o.unit.as_deref())
        .some("licence", o.licence.as_deref())
        .print();
}

fn contacted_table(contacted: &[api::Contacted]) -> comfy_table::Table {
    let mut t = output::table([
        "Rank",
        "Holder",
        "Name",
        "Status",
        "Score",
        "Why",
        "Interaction",
    ]);
    for c in contacted {
        let w = &c.why;
        let mut why = vec![
            format!("relevance {}", output::score(w.relevance)),
            format!(
                "positive LB {}, success LB {}",
                output::score(w.positive_lower_bound),
                output::score(w.success_lower_bound)
            ),
        ];
        if !w.matched_fields.is_empty() {
            why.push(format!("fields: {}", w.matched_fields.join(", ")));
        }
        why.push(format!("passes: {}", output::list(&w.matched_pass_ids)));
        let status = match c.decline_reason.as_deref() {
            Some(why) => format!("{}: {why}", c.status),
            None => c.status.clone(),
        };
        t.add_row([
            c.rank.to_string(),
            c.holder_id.clone(),
            c.holder_name.clone(),
            status,
            output::score(w.score),
            why.join("\n"),
            c.interaction_id.clone(),
        ]);
    }
    t
}

fn print_demand(d: &api::Demand) {
    let criteria = &d.holder;
    let mut crit = Vec::new();
    if let Some(r) = criteria.min_positive_rate {
        crit.push(format!("positive rate >= {}", output::rate(Some(r))));
    }
    if let Some(r) = criteria.min_success_rate {
        crit.push(format!("success rate >= {}", output::rate(Some(r))));
    }
    if let Some(n) = criteria.min_ratings {
        crit.push(format!("ratings >= {n}"));
    }
    if let Some(fields) = criteria.fields.as_ref().filter(|f| !f.is_empty()) {
        crit.push(format!("fields: {}", fields.join(", ")));
    }
    Fields::new()
        .add("demand", &d.id)
        .add("status", &d.status)
        .add("query", &d.item.query)
        .opt("category", d.item.category.as_deref())
        .add("max price", output::opt_money(d.item.max_price.as_ref()))
        .add("holder criteria", output::list(&crit))
        .add("holders", format!("{} to {}", d.min_holders, d.max_holders))
        .add("ttl", format!("{} s", d.ttl_seconds))
        .add("deadline", &d.deadline)
        .opt("accepted offer", d.accepted_offer_id.as_deref())
        .some("cancelled", d.cancelled_at.as_deref())
        .add("requester", &d.requester_id)
        .add("created", &d.created_at)
        .print();
    output::print_section(
        &format!("Contacted holders ({})", d.contacted.len()),
        &contacted_table(&d.contacted),
    );
    output::print_section(&format!("Offers ({})", d.offers.len()), &offers_table(d));
}

/// The offers side by side, as a buyer compares them: the holder's rank and
/// why (from the contacted list), its reputation with the counts behind the
/// rates, the pass, its price and until when it is valid (as the pass claims;
/// `pass verify` checks it). The offer id — what `accept` needs — is the one
/// id column; holders' ids are in the contacted table, passes' in `--json`.
fn offers_table(d: &api::Demand) -> comfy_table::Table {
    let mut t = output::table([
        "Offer",
        "Status",
        "Rank",
        "Holder",
        "Reputation",
        "Pass",
        "Price",
        "Valid until",
        "Why",
        "Note",
    ]);
    for o in &d.offers {
        let contacted = d.contacted.iter().find(|c| c.holder_id == o.holder.id);
        let h = &o.holder;
        let count = |n: u64, what: &str, rate: Option<f64>, label: &str| match n {
            0 => format!("no {what}s yet"),
            n => format!(
                "{label} {} of {n} {what}{}",
                output::rate(rate),
                if n == 1 { "" } else { "s" }
            ),
        };
        let reputation = format!(
            "{}\n{}",
            count(h.ratings, "rating", h.positive_rate, "positive"),
            count(h.interactions, "request", h.success_rate, "success"),
        );
        let valid_until = symbolon_pass::peek_claims(&o.pass.jws)
            .ok()
            .and_then(|c| {
                c.get("validUntil")
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            })
            .unwrap_or_else(|| "no expiry".into());
        t.add_row([
            o.id.clone(),
            o.status.clone(),
            contacted.map_or(output::NONE.into(), |c| c.rank.to_string()),
            h.name.clone(),
            reputation,
            o.pass.title.clone(),
            output::money(&o.pass.price),
            valid_until,
            contacted.map_or(output::NONE.into(), |c| {
                format!(
                    "score {}: relevance {}, positive LB {}, success LB {}",
                    output::score(c.why.score),
                    output::score(c.why.relevance),
                    output::score(c.why.positive_lower_bound),
                    output::score(c.why.success_lower_bound)
                )
            }),
            output::opt_str(o.note.as_deref()),
        ]);
    }
    t
}

/// A provider's products: the id `product update`/`archive` need, and whether
/// each is still sold.
fn products_table(l: &api::ProductList) -> comfy_table::Table {
    let mut t = output::table(["Product", "Title", "Price", "Stock", "Status", "Created"]);
    for p in &l.items {
        t.add_row([
            p.id.clone(),
            p.title.clone(),
            output::money(&p.price),
            p.stock.to_string(),
            match &p.archived_at {
                Some(_) => "archived".to_string(),
                None if p.stock == 0 => "sold out".to_string(),
                None => "on sale".to_string(),
            },
            p.created_at.clone(),
        ]);
    }
    t
}

/// A requester's demands, newest first: state and how far each got (offers
/// of holders contacted). The accepted offer is in `demand show`.
fn demands_table(l: &api::DemandList) -> comfy_table::Table {
    let mut t = output::table(["Demand", "Status", "Query", "Offers", "Created"]);
    for d in &l.items {
        t.add_row([
            d.id.clone(),
            d.status.clone(),
            d.item.query.clone(),
            format!("{} of {}", d.offers, d.contacted),
            d.created_at.clone(),
        ]);
    }
    t
}

fn print_requester_profile(p: &api::RequesterProfile) {
    Fields::new()
        .add(
            "ship to",
            p.ship_to
                .as_ref()
                .map(output::address)
                .unwrap_or_else(|| output::NONE.into()),
        )
        .add(
            "payment method",
            p.payment_method
                .as_ref()
                .map(|m| format!("{} ending {}", m.kind, m.last4))
                .unwrap_or_else(|| output::NONE.into()),
        )
        .add("updated", &p.updated_at)
        .print();
}

fn print_order(o: &api::Order) {
    let mut f = Fields::new();
    f.add("order", &o.id)
        .add("status", &o.status)
        .add(
            "offer",
            o.offer_id.as_deref().unwrap_or("— (ordered on the pass)"),
        )
        .add("product", &o.product_id)
        .add("pass", &o.pass_id)
        .add("quantity", o.quantity)
        .some(
            "unit",
            o.unit_no
                .map(|n| format!("{n}  (symbolon pass history {} {n})", o.pass_id))
                .as_deref(),
        )
        .add("unit price", output::money(&o.unit_price))
        .add("total", output::money(&o.total));
    if !output::is_zero(&o.refunded_total) {
        f.add("refunded", output::money(&o.refunded_total));
    }
    f.add("commission", output::money(&o.commission));
    if !output::is_zero(&o.commission_reversed) {
        f.add("commission reversed", output::money(&o.commission_reversed));
    }
    f.add("requester", &o.requester_id)
        .add("provider", &o.provider_id)
        .add("holder", o.holder_id.as_deref().unwrap_or("—"))
        .opt(
            "ship to",
            o.ship_to.as_ref().map(output::address).as_deref(),
        )
        .opt("payment", o.payment_ref.as_deref())
        .add("created", &o.created_at)
        .some("pay by", o.pay_by.as_deref())
        .opt("paid", o.paid_at.as_deref())
        .opt("shipped", o.shipped_at.as_deref())
        .some("tracking", o.tracking.as_deref())
        .some("delivered", o.delivered_at.as_deref())
        .some("return by", o.return_by.as_deref())
        .some("return", o.return_status.as_deref())
        .some("cancelled", o.cancelled_at.as_deref())
        .some("cancel reason", o.cancel_reason.as_deref())
        .some("dispute", o.dispute_id.as_deref())
        .some("settled", o.settled_at.as_deref())
        .print();
}

#[cfg(test)]
mod tests {
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
            Some(
                "showing your orders as requester; this account has other sides too: --role holder"
            )
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
        let ApiCommand::Order(OrderCommand::Step(OrderStep::Refund { id, amount, reason })) =
            parse(&[
                "order", "refund", "ord_1", "--amount", "12.50", "--reason", "scuffed",
            ])
            .unwrap()
        else {
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
}
