//! Every limit of the exchange, in one place. Each is enforced where input
//! enters (the exchange services) and tested at its edge.

/// Largest request body the HTTP API accepts (bytes). Larger bodies get 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Account name length (characters).
pub const MAX_NAME_CHARS: usize = 200;
/// Product title length (characters).
pub const MAX_TITLE_CHARS: usize = 300;
/// Product description length (characters).
pub const MAX_DESCRIPTION_CHARS: usize = 10_000;
/// Number of `specs` entries on a product.
pub const MAX_SPECS: usize = 64;
/// Length of one spec name (characters).
pub const MAX_SPEC_NAME_CHARS: usize = 100;
/// Length of one spec value (characters).
pub const MAX_SPEC_VALUE_CHARS: usize = 1_000;
/// Segments in a category or field path (`a/b/c` has 3).
pub const MAX_PATH_SEGMENTS: usize = 8;
/// Characters in one path segment.
pub const MAX_PATH_SEGMENT_CHARS: usize = 64;
/// Fields of focus a holder may declare; fields a demand may request.
pub const MAX_FIELDS: usize = 32;
/// Product stock.
pub const MAX_STOCK: i64 = 1_000_000_000;
/// Units of a unique pass.
pub const MAX_UNITS: i64 = 100_000;
/// Quantity of one order.
pub const MAX_ORDER_QUANTITY: i64 = 10_000;
/// Unpaid orders one requester may have open at once (placed, not yet paid or
/// expired). Unpaid orders hold no stock and no unit — stock is taken and a
/// unit changes hands only in the transaction that records the payment — so
/// this bounds bookkeeping, not stock. Checked inside the placing transaction.
pub const MAX_UNPAID_ORDERS_PER_REQUESTER: u64 = 20;
/// Total quantity over one requester's open unpaid orders.
pub const MAX_UNPAID_QUANTITY_PER_REQUESTER: i64 = 10_000;
/// Default time an unpaid order may be paid in (`unpaid_order_ttl`); after it
/// the order expires (`order.expired`) and paying it is refused.
pub const DEFAULT_UNPAID_ORDER_TTL_SECONDS: u64 = 30 * 60;
/// Shortest and longest `unpaid_order_ttl` the server accepts.
pub const MIN_UNPAID_ORDER_TTL_SECONDS: u64 = 60;
pub const MAX_UNPAID_ORDER_TTL_SECONDS: u64 = 7 * 24 * 3600;
/// Commission in basis points (100% = 10 000).
pub const MAX_COMMISSION_BPS: i64 = 10_000;
/// Demand query length (characters).
pub const MAX_QUERY_CHARS: usize = 500;
/// Smallest `min_holders` (the exchange always brings at least two holders).
pub const MIN_MIN_HOLDERS: u32 = 2;
/// Largest fan-out of one demand (`max_holders`).
pub const MAX_MAX_HOLDERS: u32 = 20;
/// Default `min_holders`.
pub const DEFAULT_MIN_HOLDERS: u32 = 2;
/// Default `max_holders`.
pub const DEFAULT_MAX_HOLDERS: u32 = 5;
/// Default demand time-to-live (seconds).
pub const DEFAULT_TTL_SECONDS: u32 = 300;
/// Shortest demand TTL (seconds): a holder gets at least a minute to answer
/// before a request counts as expired against it.
pub const MIN_TTL_SECONDS: u32 = 60;
/// Longest demand TTL (seconds): 7 days.
pub const MAX_TTL_SECONDS: u32 = 7 * 24 * 3600;
/// Standing demands (`wait: true`) one requester may have waiting at once.
pub const MAX_WAITING_DEMANDS_PER_REQUESTER: u64 = 20;
/// Demands one requester may have open at once (before their deadline and not
/// accepted, waiting ones included): bounds how many interaction requests one
/// account can have outstanding with holders. Checked inside the transaction
/// that records the demand.
pub const MAX_OPEN_DEMANDS_PER_REQUESTER: u64 = 100;
/// Reputation: a holder's expired requests count once per requester per UTC
/// day (of the deadline), so one account sending many demands it never meant
/// to follow up cannot sink a holder's success rate; answers and declines
/// count one by one. The length of that day, in milliseconds.
pub const EXPIRY_COUNT_WINDOW_MS: i64 = 24 * 3600 * 1000;
/// A replica whose engine is at most this many market versions behind, all of
/// them changes of holders' reputations or fields, updates those holders in
/// place instead of re-reading the market.
pub const MAX_INCREMENTAL_SYNC_VERSIONS: i64 = 10_000;
/// Market changes kept for replicas catching up (older ones are pruned; a
/// replica further behind re-reads the market).
pub const MARKET_CHANGES_KEPT: i64 = 100_000;
/// Market changes one sweep prunes at most (a sweep never holds the writer
/// long, however many changes piled up; a million go in 100 sweeps).
pub const MARKET_CHANGES_PRUNE_BATCH: u32 = 10_000;
/// Standing demands re-matched per sweep (about once a second) at most; the
/// rest wait for the next sweeps, oldest-checked first, so a market change
/// costs bounded work however many demands wait.
pub const MAX_REMATCH_PER_SWEEP: usize = 50;
/// The matching engine re-reads the market at least this often (ms), even when
/// the market version is unchanged (passes becoming valid later).
pub const MAX_MARKET_SYNC_AGE_MS: i64 = 60_000;
/// Offer note and rating comment length (characters).
pub const MAX_NOTE_CHARS: usize = 2_000;
/// Address line length (characters).
pub const MAX_ADDRESS_CHARS: usize = 200;
/// A shipment's tracking text — carrier and tracking number, e.g.
/// `UPS 1Z999AA10123456784` — (characters), stored on the order.
pub const MAX_TRACKING_CHARS: usize = 200;
/// The reason a holder may give when declining an interaction request
/// (characters); the requester sees it in the demand.
pub const MAX_DECLINE_REASON_CHARS: usize = 500;
/// Default page size of list endpoints.
pub const DEFAULT_PAGE_LIMIT: u32 = 50;
/// Largest page size of list endpoints.
pub const MAX_PAGE_LIMIT: u32 = 200;
/// Longest pass validity accepted at issue time (days).
pub const MAX_PASS_VALIDITY_DAYS: i64 = 3_660;
/// Largest money amount in minor units (10^15, i.e. 10 trillion in a 2-decimal currency).
pub const MAX_MONEY_MINOR: i64 = 1_000_000_000_000_000;

// ---------------------------------------------------------------- passes (issue 5)

/// Random draws of a free bit in a provider's revocation status list before giving up
/// (a list has 131 072 bits; a draw collides only as the list fills).
pub const MAX_STATUS_INDEX_DRAWS: u32 = 16;
/// How long a served status list credential is valid (`validUntil` − `validFrom`):
/// verifiers re-fetch after this, so a revocation reaches them within it.
pub const STATUS_LIST_TTL_SECONDS: i64 = 600;
/// Recent purchases and reviews shown on a pass page.
pub const PASS_PAGE_RECENT: u32 = 10;
/// How long a web sign-in lasts at most (its absolute expiry).
pub const WEB_SESSION_TTL_SECONDS: i64 = 30 * 24 * 3600;
/// A web session unused this long ends (its inactivity expiry).
pub const WEB_SESSION_IDLE_SECONDS: i64 = 7 * 24 * 3600;
/// A session's last-seen time (and inactivity expiry) moves at most this often.
pub const WEB_SESSION_TOUCH_SECONDS: i64 = 60;
/// A revoked web session's row is kept this long (revoking it again stays a
/// no-op), then the sweeper forgets it; expired ones go at once.
pub const REVOKED_SESSION_KEEP_SECONDS: i64 = 24 * 3600;
/// The pre-session cookie (the CSRF binding of forms before sign-in) lasts this long.
pub const WEB_PRE_SESSION_SECONDS: i64 = 12 * 3600;
/// The user agent kept with a session (for the list of signed-in devices), in characters.
pub const MAX_USER_AGENT_CHARS: usize = 200;
/// Passwords: at least this many characters (OWASP: 8 with MFA) …
pub const MIN_PASSWORD_CHARS: usize = 8;
/// … and at most this many (OWASP: allow at least 64); no composition rules.
pub const MAX_PASSWORD_CHARS: usize = 128;
/// The longest email address (RFC 5321's path limit), in characters.
pub const MAX_EMAIL_CHARS: usize = 254;
/// Failed sign-ins counted per account and per client address within this window …
pub const SIGN_IN_WINDOW_SECONDS: i64 = 15 * 60;
/// … refuse further attempts (429) once this many failed in it.
pub const MAX_SIGN_IN_FAILURES: i64 = 10;
/// API keys (besides the registration key) an account may have unrevoked.
pub const MAX_API_KEYS_PER_ACCOUNT: i64 = 20;
/// Passkeys an account may hold.
pub const MAX_PASSKEYS_PER_ACCOUNT: i64 = 10;
/// How long a passkey ceremony (registration or sign-in) may take, from its
/// start to its finish.
pub const PASSKEY_CEREMONY_TTL_SECONDS: i64 = 300;
/// The longest name of a passkey, in characters.
pub const MAX_PASSKEY_NAME_CHARS: usize = 64;
/// Passkey ceremonies (registrations and sign-ins) one client address may
/// have under way at once: starting a sign-in needs no account, so this
/// bounds what an address can make the exchange store. Concurrent starts
/// on PostgreSQL may pass it by a few.
pub const MAX_OPEN_PASSKEY_CEREMONIES_PER_ADDRESS: i64 = 20;
/// The longest label of an API key, in characters.
pub const MAX_API_KEY_LABEL_CHARS: usize = 60;
/// Transfers of one unit (a unit changing hands more often is refused).
pub const MAX_UNIT_TRANSFERS: i64 = 1_000;
/// Signing keys a provider may have (active, retired and published, or not).
pub const MAX_SIGNING_KEYS: usize = 100;
/// Times a sale retries with the holder's next unsold unit after losing a race for one.
/// Each lost race means another unit was sold, so a holder with fewer units never
/// needs this many; beyond it the buyer gets 409 `unit_already_sold` and may retry.
pub const MAX_UNIT_RACE_RETRIES: u32 = 32;
/// How far a served status list's `validFrom` is back-dated, for verifiers whose clocks lag.
pub const STATUS_LIST_CLOCK_SKEW_SECONDS: i64 = 60;
/// The largest pass (compact JWS) a provider may upload.
pub const MAX_PASS_JWS_BYTES: usize = 64 * 1024;
/// Longest `Idempotency-Key` header accepted (Stripe's limit).
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 255;
/// How long a used idempotency key is kept (the same key after this is a new request).
pub const IDEMPOTENCY_KEY_TTL_SECONDS: i64 = 24 * 3600;
/// A request still "running" under its key after this long was cut off (a
/// crash): the key runs again, making the same ids, and answers what the
/// first run created. Requests are stopped before it (see below).
pub const IDEMPOTENCY_LOCK_SECONDS: i64 = 30;
/// A POST run under an `Idempotency-Key` is stopped (503, key released) after
/// this long: shorter than the lock, so a retry never runs beside it.
pub const IDEMPOTENT_REQUEST_TIMEOUT_SECONDS: u64 = 25;
/// The largest response stored for replay.
pub const MAX_IDEMPOTENT_RESPONSE_BYTES: usize = 4 * 1024 * 1024;
/// Events in one `GET /v1/events` page (default and maximum).
pub const EVENT_PAGE_DEFAULT: u32 = 100;
pub const EVENT_PAGE_MAX: u32 = 500;
/// How long events are kept (those a webhook delivery still waits for are kept longer).
pub const EVENT_RETENTION_SECONDS: i64 = 30 * 24 * 3600;
/// Event streams (`GET /v1/events` as SSE) one account may hold open at once.
pub const MAX_STREAMS_PER_ACCOUNT: usize = 16;
/// How often each replica looks for events committed by any replica, whatever
/// else wakes it (its own writes; PostgreSQL `NOTIFY` for other replicas'):
/// the bound on delivery delay when notifications are lost.
pub const EVENT_POLL_MILLIS: u64 = 200;
/// Events one replica's hub keeps in memory (every account's newest), so
/// open streams read them without a store query each; a stream whose cursor
/// is older reads the store.
pub const HUB_RECENT_EVENTS: usize = 8192;
/// Events the hub's tail reads per store query.
pub const HUB_TAIL_BATCH: u32 = 1000;
/// A stream that heard no wake for this many poll periods reads the store
/// anyway (a safety net for a stalled poller: 1 s at the default period).
pub const STREAM_RECHECK_POLLS: u32 = 5;
/// Seconds between SSE keep-alive comments.
pub const SSE_KEEPALIVE_SECONDS: u64 = 15;
/// Webhook endpoints one account may register.
pub const MAX_WEBHOOKS_PER_ACCOUNT: usize = 10;
/// The longest webhook URL accepted.
pub const MAX_WEBHOOK_URL_BYTES: usize = 2048;
/// Events one `POST /v1/webhooks/{id}/replay` queues at most.
pub const MAX_REPLAY_EVENTS: u32 = 10_000;
/// A webhook attempt not answered within this fails (and is retried).
pub const WEBHOOK_TIMEOUT_SECONDS: u64 = 15;
/// A claimed delivery is leased this long (the attempt's timeout and a
/// margin); a worker that crashes loses it after, and another sends it again.
pub const WEBHOOK_LEASE_SECONDS: i64 = WEBHOOK_TIMEOUT_SECONDS as i64 + 5;
/// Deliveries one worker claims at a time (each sent in its own task).
pub const WEBHOOK_CLAIM_BATCH: u32 = 16;
/// Webhook sends one replica's worker has in flight at once. A slow send
/// holds one of these, never the worker's loop, which keeps claiming.
pub const WEBHOOK_IN_FLIGHT: usize = 64;
/// Sends to one endpoint in flight at once, across all replicas (a claim
/// skips an endpoint with this many live leases). A slow endpoint holds at
/// most this many; first attempts go out in `seq` order within that window.
pub const WEBHOOK_IN_FLIGHT_PER_ENDPOINT: u32 = 4;
/// Sends to one account's endpoints in flight at once, across all replicas,
/// so that one account's slow endpoints hold at most this many of a worker's
/// [`WEBHOOK_IN_FLIGHT`] slots; claims also take due deliveries round-robin
/// across accounts rather than oldest first.
pub const WEBHOOK_IN_FLIGHT_PER_ACCOUNT: u32 = 8;
/// Resolving a webhook host (at registration and at every connection) and
/// connecting to it fail after this long.
pub const WEBHOOK_CONNECT_TIMEOUT_SECONDS: u64 = 5;
/// After a rotation, the previous secret still signs (a second signature) this long.
pub const WEBHOOK_PREVIOUS_SECRET_SECONDS: i64 = 24 * 3600;
/// An endpoint failing without a single success for this long is disabled
/// (its undelivered events wait; enabling it resumes them).
pub const WEBHOOK_DISABLE_AFTER_SECONDS: i64 = 5 * 24 * 3600;
/// The longest `Retry-After` honoured.
pub const MAX_RETRY_AFTER_SECONDS: i64 = 24 * 3600;
/// The retry schedule: the delay before attempt n+1 after n failed attempts;
/// past its end the last delay repeats (until delivered or the endpoint is
/// disabled). Each delay gets ±20 % jitter.
pub const WEBHOOK_RETRY_SCHEDULE_SECONDS: &[i64] =
    &[5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600];
/// Attempts of one endpoint listed at most.
pub const WEBHOOK_ATTEMPTS_LISTED: u32 = 100;
/// How far a webhook's timestamp may be from the verifier's clock (either way).
pub const WEBHOOK_TOLERANCE_SECONDS: i64 = 5 * 60;

// ---------------------------------------------------------------- connections (issue 15)

/// Default `header_read_timeout`: a connection's request head (request line and
/// headers) must arrive within this, counted from its first byte (or from the
/// accept, for a connection's first request). Past it the connection is closed.
pub const HEADER_READ_TIMEOUT_MILLIS: u64 = 10_000;
/// Default `body_read_timeout`: a request's whole body must arrive within this,
/// counted from the end of its head. Past it the answer is 408 `request_timeout`
/// and the connection is closed.
pub const BODY_READ_TIMEOUT_MILLIS: u64 = 30_000;
/// Default `idle_timeout`: a keep-alive connection with no request in flight is
/// closed when the next request has not begun within this.
pub const IDLE_TIMEOUT_MILLIS: u64 = 60_000;
/// Default `max_connections`: connections served at once; beyond it the server
/// stops accepting (new connections wait in the kernel's backlog) until one closes.
pub const MAX_CONNECTIONS: usize = 1024;
/// Default `shutdown_grace`: on shutdown, in-flight requests get this long to
/// finish before every connection still open is closed.
pub const SHUTDOWN_GRACE_MILLIS: u64 = 10_000;
/// Default `drain_delay`: on shutdown, `/readyz` answers 503 and the server
/// keeps serving (and accepting) this long, so load balancers stop sending
/// it traffic before it stops accepting; then `shutdown_grace` begins.
pub const DRAIN_DELAY_MILLIS: u64 = 5_000;
/// How long the readiness probe and a metrics scrape wait for the store
/// before counting it as not answering.
pub const PROBE_STORE_TIMEOUT_MILLIS: u64 = 2_000;
/// After a failed `accept` (e.g. `EMFILE`, too many open files) the server waits
/// this long before the next, doubling up to [`ACCEPT_BACKOFF_MAX_MILLIS`].
pub const ACCEPT_BACKOFF_MIN_MILLIS: u64 = 10;
/// The longest wait between failed `accept`s.
pub const ACCEPT_BACKOFF_MAX_MILLIS: u64 = 1_000;
/// The window of `registrations_per_ip_per_hour` (seconds).
pub const REGISTRATION_WINDOW_SECONDS: u64 = 3_600;
/// IPv6 peers are counted per network of this prefix length for the
/// registration limit (one host usually holds a whole /64).
pub const REGISTRATION_IPV6_PREFIX_BITS: u32 = 64;
/// Default `rate_limit_per_second`: requests one API key or web session may
/// make per second, sustained (0 turns the limit off).
pub const DEFAULT_RATE_LIMIT_PER_SECOND: u32 = 100;
/// Default `rate_limit_burst`: requests one API key or web session may make at
/// once before the sustained rate applies (0 turns the limit off).
pub const DEFAULT_RATE_LIMIT_BURST: u32 = 200;
/// Default `ip_rate_limit_per_second`: 0, off (many buyers share one proxy's
/// address, and the load benchmark runs from one).
pub const DEFAULT_IP_RATE_LIMIT_PER_SECOND: u32 = 0;
/// Default `ip_rate_limit_burst`, used once `ip_rate_limit_per_second` is set.
pub const DEFAULT_IP_RATE_LIMIT_BURST: u32 = 200;
/// The largest rate (per second) and burst any rate limit accepts.
pub const MAX_RATE_LIMIT: u32 = 1_000_000;
/// How often (at most) a rate limiter forgets the keys whose bucket is full
/// again, so its memory follows the clients of the last few seconds.
pub const RATE_LIMIT_SWEEP_SECONDS: u64 = 10;
/// The most entries `trusted_proxies` may list.
pub const MAX_TRUSTED_PROXIES: usize = 64;

/// Refunds (succeeded or in flight) one order may have: a provider cannot
/// flood its buyer, the ledger or the event stream with cent-sized refunds.
pub const MAX_REFUNDS_PER_ORDER: u64 = 100;
/// Messages one dispute may hold, from all its parties together.
pub const MAX_DISPUTE_MESSAGES: u64 = 200;
/// The longest reason (cancellation, refund, return, dispute, resolution) and
/// dispute message, in characters.
pub const MAX_REASON_CHARS: usize = 2_000;
/// Operators a dispute's events go to (the first by id); the rest see it in
/// `GET /v1/disputes`.
pub const MAX_OPERATORS_NOTIFIED: i64 = 50;
/// Orders the sweeper delivers or settles in one pass.
pub const LIFECYCLE_SWEEP_BATCH: u32 = 500;
/// A refund still `pending` this long after its reservation (the server
/// stopped between the reservation and the gateway's answer) is retried by
/// the sweeper with the same gateway reference.
pub const STALE_REFUND_SECONDS: u64 = 300;
/// The default and bounds of `auto_deliver_after`: a shipped order counts as
/// delivered this long after shipping unless its requester confirmed earlier.
pub const DEFAULT_AUTO_DELIVER_DAYS: u64 = 14;
/// The default of `return_window`: how long after delivery a return may be
/// requested; the provider's and holder's money stays pending until it ends.
pub const DEFAULT_RETURN_WINDOW_DAYS: u64 = 14;
/// Both settings lie within 1 minute … 365 days.
pub const MIN_LIFECYCLE_WINDOW_SECONDS: u64 = 60;
pub const MAX_LIFECYCLE_WINDOW_SECONDS: u64 = 365 * 24 * 3600;

// ---------------------------------------------------------------- provider console

/// Holder accounts a provider's search by name or id lists at most.
pub const HOLDER_SEARCH_LIMIT: u32 = 20;
/// Longest holder search text (characters).
pub const MAX_HOLDER_SEARCH_CHARS: usize = 100;
/// A provider's passes its catalogue page lists at most (newest first).
pub const PROVIDER_PASSES_LISTED: u32 = 500;
/// Holders of one pass its admin page lists at most.
pub const PASS_HOLDERS_LISTED: u32 = 200;
/// Orders of one pass its admin page lists at most (newest first).
pub const PASS_ORDERS_LISTED: u32 = 50;
/// The provider's orders the sales report reads at most (newest first).
pub const SALES_MAX_ORDERS: u32 = 5_000;
/// Products and holders each of the sales report's top lists names.
pub const SALES_TOP: usize = 10;
/// A sales history shorter than this (days) is charted per day, else per month.
pub const SALES_DAILY_UNTIL_DAYS: i64 = 62;

// ---------------------------------------------------------------- e-mail notifications

/// E-mail notifications: the mailer looks at this many new events per step.
pub const MAIL_QUEUE_BATCH: u32 = 200;
/// Messages one replica's mailer claims at once (it sends them one by one).
pub const MAIL_CLAIM_BATCH: u32 = 10;
/// How long a claimed message is leased: past it, a replica that died
/// between claim and send loses it to another. Longer than a send may take
/// (`MAIL_SEND_TIMEOUT_SECONDS`), so a live sender keeps its lease.
pub const MAIL_LEASE_SECONDS: i64 = 120;
/// One SMTP exchange (connect, greeting, message) must finish within this.
pub const MAIL_SEND_TIMEOUT_SECONDS: u64 = 30;
/// Events older than this when the mailer first sees them are not mailed
/// (the news is stale: e.g. mail was off when they happened).
pub const MAIL_MAX_EVENT_AGE_SECONDS: i64 = 24 * 3600;
/// How long a message sent or given up stays in the mail outbox (for
/// inspection) before the sweeper forgets it.
pub const MAIL_KEEP_SECONDS: i64 = 30 * 24 * 3600;
/// The default delays between attempts to send a message; after the last
/// one fails the message is given up (`failed`).
pub const MAIL_RETRY_SCHEDULE_SECONDS: &[u64] = &[10, 60, 300, 1_800, 7_200, 21_600, 86_400];
