//! The declared authorization policy: one row per API operation (the OpenAPI
//! document's paths × methods) and per web route (`symbolon_server::web::routes`),
//! saying who may call it. `authz_matrix.rs` holds the table to the route
//! lists in both directions and plays every row as every actor.
//!
//! To add a route: add its row here, in the section of its area — `ids` names
//! the fixture (see `authz_matrix::World`) each path parameter takes, in
//! order; `body` is the JSON (API) or form (web) it sends, with `{fixture}`
//! placeholders; `who` says who may call it. Everyone else is refused: 401
//! (API) or a redirect to sign-in (pages) without credentials, 403 or 404
//! with them — never a 2xx.

use symbolon_client::api::Role;

/// The parties to A's objects, as the fixtures make them: one provider
/// (products, passes, the order's seller), one holder (the grants, the
/// interaction, the offer, the holder the order came through), one
/// requester (the demand, the order, the dispute, the webhook, the unit it
/// bought), and the operator (disputes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    Provider,
    Holder,
    Requester,
    Operator,
}

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// Anyone, without credentials too.
    Public,
    /// Any signed-in account (it acts on its own things only).
    SignedIn,
    /// Any account with the role (it acts on its own things only).
    Role(Role),
    /// Any account with one of the roles.
    AnyRole(&'static [Role]),
    /// Only these parties to the object named in the path or the body.
    Parties(&'static [Party]),
}

/// When an allowed call runs, relative to the others: later stages change
/// what earlier rows read (an archived product, a cancelled order, a
/// deleted webhook, a signed-out session).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    Early,
    Late,
    Last,
    /// Signing out: after everything else the session does.
    Final,
}

/// Whether a row is an operation of the JSON API or a web route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    Api,
    Web,
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub surface: Surface,
    pub method: &'static str,
    /// As the router and the OpenAPI document write it.
    pub path: &'static str,
    /// The fixture each `{…}` of the path takes, in order.
    pub ids: &'static [&'static str],
    /// JSON (API) or `application/x-www-form-urlencoded` (web; the caller's
    /// CSRF token is added), with `{fixture}` placeholders.
    pub body: Option<&'static str>,
    pub who: Who,
    pub stage: Stage,
    /// What an allowed call answers when that is not a success with these
    /// fixtures (e.g. a link token the fixtures cannot make); empty: any
    /// answer that is not a refusal, and below 400 for a GET.
    pub answers: &'static [u16],
    /// A form made before sign-in (sign-in, sign-up): it carries the
    /// visitor's pre-session token, whoever sends it.
    pub pre_session: bool,
}

impl Rule {
    fn new(surface: Surface, method: &'static str, path: &'static str, who: Who) -> Self {
        Self {
            surface,
            method,
            path,
            ids: &[],
            body: None,
            who,
            stage: Stage::Early,
            answers: &[],
            pre_session: false,
        }
    }
    fn ids(mut self, ids: &'static [&'static str]) -> Self {
        self.ids = ids;
        self
    }
    fn body(mut self, body: &'static str) -> Self {
        self.body = Some(body);
        self
    }
    fn late(mut self) -> Self {
        self.stage = Stage::Late;
        self
    }
    fn last(mut self) -> Self {
        self.stage = Stage::Last;
        self
    }
    fn answers(mut self, answers: &'static [u16]) -> Self {
        self.answers = answers;
        self
    }
    fn pre_session(mut self) -> Self {
        self.pre_session = true;
        self
    }
    fn finally(mut self) -> Self {
        self.stage = Stage::Final;
        self
    }
    /// The path with the fixtures' ids in place of its parameters.
    pub fn concrete_path(&self, id: impl Fn(&str) -> String) -> String {
        let mut out = String::new();
        let mut rest = self.path;
        let mut ids = self.ids.iter();
        while let Some(open) = rest.find('{') {
            let close = rest[open..].find('}').expect("a closing brace") + open;
            out.push_str(&rest[..open]);
            let name = ids.next().unwrap_or_else(|| {
                panic!(
                    "{} {}: a fixture for each parameter",
                    self.method, self.path
                )
            });
            out.push_str(&id(name));
            rest = &rest[close + 1..];
        }
        assert!(
            ids.next().is_none(),
            "{} {}: more fixtures than parameters",
            self.method,
            self.path
        );
        out.push_str(rest);
        out
    }
}

use Party::*;
use Who::*;

const PROVIDER: Who = Parties(&[Provider]);
const HOLDER: Who = Parties(&[Holder]);
const REQUESTER: Who = Parties(&[Requester]);
const OPERATOR: Who = Who::Role(Role::Operator);
/// The order's buyer and seller: they act on it.
const ORDER_PARTIES: Who = Parties(&[Requester, Provider]);
/// Who may read an order: its buyer and seller, the holder it came
/// through (without the buyer's address or card: `authz_matrix` checks
/// every answer for them) and operators (who judge disputes).
const ORDER_READERS: Who = Parties(&[Requester, Provider, Holder, Operator]);
/// A dispute's parties and the operator.
const DISPUTE_PARTIES: Who = Parties(&[Requester, Provider, Operator]);

fn api(method: &'static str, path: &'static str, who: Who) -> Rule {
    Rule::new(Surface::Api, method, path, who)
}

fn web(method: &'static str, path: &'static str, who: Who) -> Rule {
    Rule::new(Surface::Web, method, path, who)
}

/// Every operation of the JSON API.
pub fn api_rules() -> Vec<Rule> {
    let provider = Who::Role(Role::Provider);
    let holder = Who::Role(Role::Holder);
    let requester = Who::Role(Role::Requester);
    vec![
        // Meta and public reads.
        api("GET", "/healthz", Public),
        // Probes and metrics: no credentials, never rate limited.
        api("GET", "/livez", Public),
        api("GET", "/readyz", Public),
        api("GET", "/metrics", Public),
        api("GET", "/.well-known/jwt-vc-issuer/v1/providers/{id}", Public).ids(&["provider"]),
        api("GET", "/v1/providers/{id}/jwks.json", Public).ids(&["provider"]),
        api("GET", "/v1/providers/{id}/status/revocation", Public).ids(&["provider"]),
        api("GET", "/v1/passes/{id}", Public).ids(&["pass"]),
        api("GET", "/v1/passes/{id}/units", Public).ids(&["upass"]),
        api("GET", "/v1/passes/{id}/units/{unit}/history", Public).ids(&["upass", "unit"]),
        api("GET", "/v1/holders/{id}", Public).ids(&["holder"]),
        api("POST", "/v1/accounts", Public)
            .body(r#"{"name":"Newcomer","roles":["requester"]}"#),
        // Accounts.
        api("GET", "/v1/account", SignedIn),
        api("GET", "/v1/balance", SignedIn),
        api("GET", "/v1/events", SignedIn),
        api("POST", "/v1/payouts", SignedIn).body(r#"{"currency":"USD"}"#),
        api("PUT", "/v1/account/keys", SignedIn).body("{party_keys}"),
        api("GET", "/v1/accounts/{id}/keys", SignedIn).ids(&["requester"]),
        // Providers.
        api("GET", "/v1/products", provider),
        api("POST", "/v1/products", provider).body(
            r#"{"title":"Lamp","description":"A lamp","category":"home/lighting","specs":{},"price":{"amount":"20.00","currency":"USD"},"stock":3}"#,
        ),
        api("GET", "/v1/products/{id}", SignedIn).ids(&["product"]),
        api("PATCH", "/v1/products/{id}", PROVIDER)
            .ids(&["product"])
            .body(r#"{"stock":30}"#),
        api("POST", "/v1/products/{id}/archive", PROVIDER).ids(&["spare_product"]).late(),
        api("POST", "/v1/passes", PROVIDER)
            .body(r#"{"product_id":"{product}","mode":"shareable","commission_bps":300}"#),
        api("POST", "/v1/passes/upload", provider).body(r#"{"jws":"not.a.jws"}"#),
        api("POST", "/v1/passes/{id}/grants", PROVIDER)
            .ids(&["pass"])
            .body(r#"{"holder_id":"{holder_b}"}"#),
        api("POST", "/v1/passes/{id}/revoke", PROVIDER).ids(&["spare_pass"]).late(),
        api("GET", "/v1/provider/keys", provider),
        api("POST", "/v1/provider/keys", provider).body(r#"{"jwk":{"kty":"OKP"}}"#),
        api("POST", "/v1/provider/keys/rotate", provider).late(),
        api("PUT", "/v1/passes/{id}/seal", PROVIDER).ids(&["pass"]).body("{seal_body}"),
        // Ciphertext and the provider's signed header: opening it takes the
        // shares, which go only to holders and buyers.
        api("GET", "/v1/passes/{id}/seal", SignedIn).ids(&["pass"]),
        api("POST", "/v1/passes/{id}/shares", PROVIDER)
            .ids(&["pass"])
            .body(r#"{"holder_id":"{holder}","wrapped":"{wrapped_to_holder}"}"#),
        api("GET", "/v1/passes/{id}/shares", SignedIn).ids(&["pass"]),
        api("POST", "/v1/orders/{id}/shares", PROVIDER)
            .ids(&["order"])
            .body(r#"{"wrapped":["{wrapped_to_requester}"]}"#),
        api("POST", "/v1/orders/{id}/ship", PROVIDER).ids(&["order"]).late(),
        api("POST", "/v1/orders/{id}/refunds", PROVIDER)
            .ids(&["order"])
            .body(r#"{"amount":"1.00","reason":"a dent"}"#)
            .late(),
        api("POST", "/v1/orders/{id}/return/accept", PROVIDER).ids(&["order"]).late(),
        api("POST", "/v1/orders/{id}/return/refuse", PROVIDER).ids(&["order"]).late(),
        // Holders.
        api("PUT", "/v1/holder/profile", holder).body(r#"{"fields":["home"]}"#),
        api("GET", "/v1/wallet", holder),
        api("GET", "/v1/inbox", holder),
        api("POST", "/v1/interactions/{id}/offer", HOLDER)
            .ids(&["interaction"])
            .body(r#"{"pass_id":"{pass}"}"#),
        api("POST", "/v1/interactions/{id}/decline", HOLDER).ids(&["interaction"]).late(),
        api("POST", "/v1/offers/{id}/shares", HOLDER)
            .ids(&["offer"])
            .body(r#"{"wrapped":["{wrapped_to_requester}"]}"#),
        api("GET", "/v1/offers/{id}/requester/keys", Parties(&[Holder, Requester]))
            .ids(&["offer"]),
        // Requesters.
        api("POST", "/v1/demands", requester).body(r#"{"query":"lamp"}"#),
        api("GET", "/v1/demands", requester),
        api("GET", "/v1/demands/{id}", REQUESTER).ids(&["demand"]),
        // The selection log: the demand's requester and the holders its
        // entry names; the log itself is public.
        api("GET", "/v1/demands/{id}/proof", Parties(&[Requester, Holder])).ids(&["demand"]),
        api("GET", "/v1/holder/selections", holder),
        // Without `from` and `to` (the matrix sends no query): 400 to anyone.
        api("GET", "/v1/log/consistency", Public).answers(&[400]),
        api("GET", "/.well-known/symbolon/checkpoint", Public),
        api("GET", "/.well-known/symbolon/log-key", Public),
        api("POST", "/v1/demands/{id}/cancel", REQUESTER).ids(&["demand"]).last(),
        api("POST", "/v1/offers/{id}/accept", REQUESTER).ids(&["offer"]),
        api("POST", "/v1/offers/{id}/rating", REQUESTER)
            .ids(&["offer"])
            .body(r#"{"positive":true}"#)
            .late(),
        api("GET", "/v1/requester/profile", requester),
        api("PUT", "/v1/requester/profile", requester).body(r#"{}"#),
        api("POST", "/v1/orders", REQUESTER)
            .body(r#"{"offer_id":"{offer}","quantity":1,"pay":false}"#),
        api("POST", "/v1/passes/{id}/orders", requester)
            .ids(&["pass"])
            .body(r#"{"quantity":1,"pay":false,"via":"{holder}"}"#),
        api("POST", "/v1/passes/{id}/units/{unit}/transfer", REQUESTER)
            .ids(&["upass", "unit"])
            .body(r#"{"to":"{requester_b}"}"#)
            .late(),
        api("POST", "/v1/orders/{id}/pay", REQUESTER).ids(&["order"]).late(),
        api("POST", "/v1/orders/{id}/delivered", REQUESTER).ids(&["order"]).late(),
        api("POST", "/v1/orders/{id}/return", REQUESTER)
            .ids(&["order"])
            .body(r#"{"reason":"too big"}"#)
            .late(),
        api("POST", "/v1/orders/{id}/disputes", REQUESTER)
            .ids(&["order"])
            .body(r#"{"kind":"not_received","reason":"never came"}"#)
            .late(),
        // Orders: both parties.
        api("GET", "/v1/orders", AnyRole(&[Role::Requester, Role::Provider, Role::Holder])),
        api("GET", "/v1/orders/{id}", ORDER_READERS).ids(&["order"]),
        api("POST", "/v1/orders/{id}/cancel", ORDER_PARTIES)
            .ids(&["order"])
            .body(r#"{"reason":"changed my mind"}"#)
            .last(),
        // Disputes.
        api("GET", "/v1/disputes", OPERATOR),
        api("GET", "/v1/disputes/{id}", DISPUTE_PARTIES).ids(&["dispute"]),
        api("POST", "/v1/disputes/{id}/messages", DISPUTE_PARTIES)
            .ids(&["dispute"])
            .body(r#"{"body":"a word from {actor}"}"#),
        api("POST", "/v1/disputes/{id}/resolve", OPERATOR)
            .ids(&["dispute"])
            .body(r#"{"reason":"settled"}"#)
            .last(),
        // Webhooks: the requester's endpoint.
        api("POST", "/v1/webhooks", SignedIn).body(r#"{"url":"https://93.184.216.34/{actor}"}"#),
        api("GET", "/v1/webhooks", SignedIn),
        api("GET", "/v1/webhooks/{id}", REQUESTER).ids(&["webhook"]),
        api("GET", "/v1/webhooks/{id}/attempts", REQUESTER).ids(&["webhook"]),
        api("POST", "/v1/webhooks/{id}/rotate", REQUESTER).ids(&["webhook"]).late(),
        api("POST", "/v1/webhooks/{id}/disable", REQUESTER).ids(&["webhook"]).late(),
        api("POST", "/v1/webhooks/{id}/enable", REQUESTER).ids(&["webhook"]).late(),
        api("POST", "/v1/webhooks/{id}/replay", REQUESTER)
            .ids(&["webhook"])
            .body(r#"{}"#)
            .late(),
        api("DELETE", "/v1/webhooks/{id}", REQUESTER).ids(&["webhook"]).last(),
    ]
}

/// Every web route: pages, forms, fragments and live streams.
pub fn web_rules() -> Vec<Rule> {
    let provider = Who::Role(Role::Provider);
    let holder = Who::Role(Role::Holder);
    let requester = Who::Role(Role::Requester);
    vec![
        // Public pages.
        web("GET", "/", Public),
        web("GET", "/openapi.json", Public),
        web("GET", "/assets/{file}", Public).ids(&["asset"]),
        web("GET", "/p/{id}", Public).ids(&["pass"]),
        web("GET", "/h/{id}", Public).ids(&["holder"]),
        web("GET", "/signup", Public),
        web("POST", "/signup", Public).pre_session().body("name=Newcomer&email={actor}-new%40test.invalid&password=a+long+enough+password&roles=requester"),
        web("GET", "/login", Public),
        web("POST", "/login", Public)
            .pre_session()
            .body("email={login_email}&password=correct+horse+battery+staple"),
        web("POST", "/login/passkey/start", Public).pre_session(),
        web("POST", "/login/passkey/finish", Public).pre_session(),
        // The signed token in the link is the capability; none here.
        web("GET", "/unsubscribe", Public).answers(&[404]),
        web("POST", "/unsubscribe", Public).answers(&[404]),
        web("POST", "/lang", Public).body("lang=en-US&back=/"),
        // Any signed-in account.
        web("GET", "/account", SignedIn),
        web("POST", "/account/profile", requester)
            .body("name={actor}&line1=1+Main+St&city=Town&postal_code=12345&country=GB"),
        // Requester A's spare session and key: nobody else may end them.
        web("POST", "/account/devices/revoke", REQUESTER).body("id={spare_session}"),
        web("POST", "/account/devices/revoke-others", SignedIn),
        web("POST", "/account/keys", SignedIn).body("label=spare"),
        web("POST", "/account/keys/revoke", REQUESTER).body("id={spare_key}"),
        web("POST", "/account/notifications", SignedIn).body("mail_lang=en-US"),
        web("POST", "/account/passkeys/start", SignedIn),
        web("POST", "/account/passkeys/finish", SignedIn),
        web("POST", "/account/passkeys/remove", REQUESTER).body("id={passkey}").late(),
        web("GET", "/balance", SignedIn),
        web("GET", "/settings/webhooks", SignedIn),
        web("POST", "/settings/webhooks", SignedIn).body("url=https%3A%2F%2F93.184.216.34%2Fweb-{actor}"),
        web("POST", "/settings/webhooks/{id}/{action}", REQUESTER)
            .ids(&["webhook", "disable"])
            .late(),
        web("GET", "/orders", AnyRole(&[Role::Requester, Role::Provider])),
        web("POST", "/logout", SignedIn).answers(&[303]).finally(),
        // Requesters.
        web("GET", "/demands", requester),
        web("GET", "/demands/new", requester),
        web("POST", "/demands/new", requester).body("query=lamp"),
        web("GET", "/demands/{id}", REQUESTER).ids(&["demand"]),
        web("POST", "/demands/{id}", REQUESTER).ids(&["demand"]).last(),
        web("GET", "/demands/{id}/offers", REQUESTER).ids(&["demand"]),
        web("GET", "/demands/{id}/live", REQUESTER).ids(&["demand"]),
        web("POST", "/demands/{id}/offers/{offer}", REQUESTER)
            .ids(&["demand", "offer"])
            .body("do=accept&quantity=1"),
        web("POST", "/p/{id}/order", requester)
            .ids(&["pass"])
            .body("action=order&via={holder}&quantity=1"),
        web("GET", "/orders/{id}", ORDER_READERS).ids(&["order"]),
        web("POST", "/orders/{id}", ORDER_PARTIES)
            .ids(&["order"])
            .body("do=cancel&reason=changed+my+mind")
            .late(),
        web("GET", "/orders/{id}/timeline", ORDER_READERS).ids(&["order"]),
        web("GET", "/orders/{id}/live", ORDER_READERS).ids(&["order"]),
        web("GET", "/o/{id}", Public).ids(&["order"]),
        // Holders.
        web("GET", "/inbox", holder),
        web("GET", "/inbox/list", holder),
        web("GET", "/inbox/live", holder),
        web("POST", "/inbox/{id}", HOLDER)
            .ids(&["interaction"])
            .body("do=decline&reason=busy")
            .late(),
        web("GET", "/wallet", holder),
        web("GET", "/earnings", holder),
        web("GET", "/reputation", holder),
        web("POST", "/reputation", holder).body("fields=home"),
        // Providers.
        web("GET", "/catalog", provider),
        web("POST", "/catalog", provider).body("title=Lamp&description=A+lamp&category=home%2Flighting&price=20.00&currency=USD&stock=3"),
        web("GET", "/catalog/{id}", PROVIDER).ids(&["product"]),
        web("POST", "/catalog/{id}", PROVIDER)
            .ids(&["product"])
            .body("title=Brass+desk+lamp&description=Brass+desk+lamp%2C+sold+by+the+test+provider&category=home%2Flighting&price=40.00&currency=USD&stock=30"),
        web("GET", "/passes/new", provider),
        web("POST", "/passes/new", PROVIDER).body("product_id={product}&mode=shareable&commission_bps=300"),
        web("GET", "/passes/{id}", PROVIDER).ids(&["pass"]),
        web("POST", "/passes/{id}/grant", PROVIDER)
            .ids(&["pass"])
            .body("holder_id={holder_b}"),
        web("POST", "/passes/{id}/revoke", PROVIDER).ids(&["spare_pass"]).body("confirm=yes").late(),
        web("GET", "/orders/live", provider),
        web("GET", "/orders/fragment", provider),
        web("GET", "/sales", provider),
        web("GET", "/settings/keys", provider),
        web("POST", "/settings/keys/rotate", provider).late(),
        // Operators.
        web("GET", "/operator/disputes", OPERATOR),
        web("GET", "/operator/disputes/{id}", OPERATOR).ids(&["dispute"]),
        web("POST", "/operator/disputes/{id}", OPERATOR)
            .ids(&["dispute"])
            .body("outcome=reject&reason=settled")
            .last(),
        web("POST", "/operator/disputes/{id}/messages", OPERATOR)
            .ids(&["dispute"])
            .body("body=a+word"),
    ]
}
