# The requester's journey: home, demands, offers, orders, holders' pages.
nav-label = Main
nav-new-demand = New demand
nav-demands = My demands
nav-orders = My orders
nav-balance = Balance
refresh = Refresh
list-next = Next page
live-sign-in = Sign in to follow this page live.

home-title = Symbolon
home-what = Symbolon is an exchange where you say what you need and people who hold verified passes for it make you offers.
home-how = You pick the holders you trust by their record, compare offers side by side, and order and pay in one click.
home-need = What do you need?
home-need-example = e.g. noise-cancelling headphones
home-go = Find holders
home-sign-in = Sign in to send a demand

demand-new-title = What do you need?
demand-new-intro = Describe the item and who you are willing to deal with; we ask the best-matching holders and nobody else.
demand-field-query = What you are looking for
demand-field-category = Category (optional)
demand-hint-category = Choose one in use, e.g. electronics/audio, or leave it empty.
demand-field-max-price = Highest price (optional)
demand-field-currency = Currency
demand-holders-legend = Which holders may answer
demand-field-min-positive = Lowest positive ratings (%)
demand-field-min-success = Lowest answer rate (%)
demand-field-min-ratings = Fewest ratings
demand-field-fields = Their fields (optional)
demand-hint-fields = Separated by commas, e.g. electronics/audio, home
demand-field-min-holders = Ask at least this many holders
demand-field-max-holders = Ask at most this many holders
demand-field-ttl = Holders may answer for
demand-ttl-5m = 5 minutes
demand-ttl-1h = 1 hour
demand-ttl-1d = 1 day
demand-ttl-7d = 7 days
demand-field-wait = If too few holders qualify now, wait for more
demand-submit = Ask holders
demand-err-percent = Enter a percentage from 0 to 100.
demand-err-whole = Enter a whole number.
demand-err-query = Say what you are looking for.
demand-err-invalid = Please check this value:
demand-insufficient = Too few holders qualify, so nobody was asked. See why below.
demand-why-title = Why nobody was asked
demand-insufficient-supply = { $n ->
    [one] One holder has something on offer;
   *[other] { $n } holders have something on offer;
  }
demand-insufficient-matching = { $n ->
    [one] one of them matches the item,
   *[other] { $n } of them match the item,
  }
demand-insufficient-qualified = { $n ->
    [one] and one meets all your criteria.
   *[other] and { $n } meet all your criteria.
  }
demand-insufficient-need = { $n ->
    [one] You asked for at least one.
   *[other] You asked for at least { $n }.
  }
demand-eliminated = { $n ->
    [one] ruled out one holder
   *[other] ruled out { $n } holders
  }
demand-crit-query = The words of your query
demand-crit-relevance = No pass really matches the item (only some of its words)
demand-closest-intro = The closest passes, below the relevance floor:
demand-closest-coverage = holds { $arg } % of what your query asks
demand-crit-category = The category
demand-crit-max_price = The highest price
demand-crit-min_positive_rate = The lowest positive ratings
demand-crit-min_success_rate = The lowest answer rate
demand-crit-min_ratings = The fewest ratings
demand-crit-fields = The fields
demand-crit-other = Another criterion
demand-relax-intro = Any one of these changes would be enough; pressing it sends the demand again with that value:
demand-no-relaxation = No single change to your criteria would be enough; try other words or a wider category.
demand-relax-drop = Drop “{ $arg }”
demand-relax-min_positive_rate = Accept positive ratings ≥ { $arg }
demand-relax-min_success_rate = Accept an answer rate ≥ { $arg }
demand-relax-min_ratings = Accept holders with { $arg } ratings or more
demand-relax-max_price = Accept prices up to { $arg }
demand-relax-category = Search in { $arg }
demand-relax-holders = { $n ->
    [one] one holder
   *[other] { $n } holders
  }

demands-title = My demands
demands-none = You have no demands yet.
demands-contacted = { $n ->
    [one] one holder asked
   *[other] { $n } holders asked
  }
demands-offers = { $n ->
    [one] one offer
   *[other] { $n } offers
  }
demand-status-waiting = Waiting for holders
demand-status-open = Open
demand-status-closed = Closed to new offers
demand-status-accepted = Offer accepted
demand-status-expired = Expired
demand-status-cancelled = Cancelled
demand-status-unknown = Unknown
demand-label = Demand
demand-at-most = at most { $arg }
demand-deadline = answers until { $arg }

contacted-count = { $n ->
    [one] One holder asked
   *[other] { $n } holders asked
  }
contacted-none = Nobody was asked yet.
contacted-pending = waiting for an answer
contacted-offered = made an offer
contacted-declined = declined
contacted-expired = did not answer in time
contacted-withdrawn = withdrawn
contacted-other = unknown
contacted-declined-because = Reason: { $arg }
offer-why-relevance = matches your query { $arg }
offer-why-positive = positive ratings at least { $arg }
offer-why-success = answers at least { $arg }
offer-why-fields = fields { $arg }

offers-count = { $n ->
    [0] Offers
    [one] One offer
   *[other] { $n } offers
  }
offers-none-yet = No offers yet. They appear here as holders answer.
offers-updated = The offers were updated.
offer-accepted = Accepted
offer-price = Price
offer-item = Item
offer-reputation = Reputation
offer-positive-rate = { $arg } positive
offer-of-ratings = { $n ->
    [one] of one rating
   *[other] of { $n } ratings
  }
offer-no-ratings = No ratings yet
offer-success-rate = { $arg } of requests answered
offer-pass = Pass
offer-pass-valid = Valid (checked just now)
offer-note = Note
offer-accept = Accept
offer-see-order = See the order
offer-first-time = First order? Add your address and card

orders-title = My orders
orders-none = You have no orders yet.
order-choose-action = Choose an action.
order-sealed-title = Opening the secret
order-sealed-explain = This pass carries a sealed secret. Only your machine can open it, with the key shares the holder and the provider release after payment; run these commands with the Symbolon command-line tool:
timeline-title = Progress
timeline-updated = The order was updated.
timeline-placed = Order placed
timeline-paid = Paid { $arg }
timeline-shipped = Shipped
timeline-shipped-tracking = Shipped: { $arg }
timeline-delivered = Delivered
timeline-return-requested = Return requested
timeline-return-accepted = Return accepted
timeline-return-refused = Return refused
timeline-return-refunded = Return refunded
timeline-dispute-opened = Dispute opened
timeline-dispute-resolved = Dispute resolved with a refund
timeline-dispute-rejected = Dispute closed without a refund
timeline-cancelled = Cancelled
timeline-cancelled-because = Cancelled: { $arg }
timeline-refunded = Refunded { $arg }
timeline-expired = Expired unpaid
timeline-settled = Settled with the sellers
dispute-title = Dispute
dispute-message-label = Your message
dispute-send = Send
order-pay-now = Pay now
order-confirm-delivery = I received it
order-rate-legend = Rate the holder
order-rate-positive = Positive
order-rate-negative = Negative
order-rate-comment = Comment (optional)
order-rate = Rate
order-rated = You rated the holder.
order-return-summary = Return it
order-reason = Reason
order-request-return = Request a return
order-dispute-summary = Something is wrong
order-dispute-kind = What happened
order-dispute-not-received = It did not arrive
order-dispute-not-as-described = It is not as described
order-open-dispute = Open a dispute
order-cancel-summary = Cancel the order
order-cancel = Cancel the order

holder-label = Holder
holder-no-fields = No fields of focus given.
holder-fields = Fields:
holder-reputation = Reputation
holder-positive = Positive ratings
holder-positive-of = { $n ->
    [one] of one rating
   *[other] of { $n } ratings
  }
holder-success = Requests answered
holder-answered-of = { $n ->
    [one] of one request
   *[other] of { $n } requests
  }
holder-no-requests = No requests decided yet
holder-recent-ratings = Recent ratings
demand-cancel-summary = Cancel this demand
demand-cancel-explain = No holder will be asked any more, requests not yet answered are withdrawn, and no offer can be accepted.
demand-cancel = Cancel the demand
