//! The API commands: one subcommand (or group) per API operation, over the
//! typed client. Readable tables by default; `--json` prints the API response.

mod after_sale;
mod audit;
mod catalog;
mod dispatch;
mod print;
#[cfg(test)]
mod tests;
mod trade;

use dispatch::dispatch;

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
    /// The exchange's transparency log of selections: verify a demand's entry.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
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
    /// Disable an endpoint: nothing is sent until it is enabled; its events wait.
    Disable {
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
        /// An email to sign in on the web with; the password is read from
        /// standard input (one line), never from the command line.
        #[arg(long)]
        email: Option<String>,
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
