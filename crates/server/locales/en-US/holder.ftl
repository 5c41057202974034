# The holder's console: inbox, wallet, earnings, reputation.

## Inbox
inbox-title = Inbox
inbox-explain = Requesters' demands that matched your passes, newest first. Answer each with a pass and a note before its deadline, or decline it.
inbox-updated = New or changed requests are shown.
inbox-empty = No interaction requests yet. They appear here as soon as a demand matches your passes.
inbox-category = Category:
inbox-price-cap = at most { $arg }
inbox-deadline = Answer by { $arg }
inbox-time-left = Time left:
inbox-deadline-passed = deadline passed
inbox-no-criteria = The requester set no criteria for holders.
inbox-criteria = The requester's criteria and your figures
inbox-criterion = Criterion
inbox-asked = Asked
inbox-yours = Yours
inbox-met = met
inbox-not-met = not met now
inbox-crit-positive = Positive ratings
inbox-crit-success = Requests answered
inbox-crit-ratings = Number of ratings
inbox-crit-fields = Fields of focus
inbox-at-least = at least { $arg }
inbox-no-ratings = no ratings yet
inbox-no-requests = no decided requests yet
inbox-no-fields = none of yours matched
inbox-status-pending = Awaiting your answer
inbox-status-offered = Answered with an offer
inbox-status-declined = Declined
inbox-status-expired = Deadline passed
inbox-status-withdrawn = Withdrawn by the requester
inbox-status-unknown = Unknown
inbox-pass = Pass to offer
inbox-suggested = Matching this demand
inbox-other-passes = Other passes
inbox-note = Note for the requester (optional)
inbox-send = Send offer
inbox-no-pass = You hold no pass you could offer now.
inbox-decline-reason = Reason for declining (optional)
inbox-decline = Decline
inbox-closed-expired = The deadline has passed: this request can no longer be answered.
inbox-closed-offered = You answered this request with an offer.
inbox-closed-declined = You declined this request.
inbox-declined-because = Your reason: { $arg }
inbox-closed-withdrawn = The requester withdrew this request (another offer was accepted or the demand was cancelled).
inbox-err-pass = Choose a pass to offer.
inbox-err-action = Choose to send an offer or to decline.

## Wallet
wallet-title = Wallet
wallet-explain = The passes you hold. Share a pass's link or QR code: orders placed through it credit you with its commission.
wallet-empty = You hold no passes yet. Providers grant them to you.
wallet-commission = commission { $arg }
wallet-units-left = { $n ->
    [one] { $n } unit left
   *[other] { $n } units left
}
wallet-units-of = of { $n } granted
wallet-shareable = shareable
wallet-not-active = not active
wallet-share = Share
wallet-qr-label = QR code of your share link
wallet-link = Your share link
wallet-copy = Copy link
wallet-copied = Link copied.
wallet-orders = Orders this pass brought
wallet-no-orders = No orders through this pass yet.
holder-col-order = Order
holder-col-pass = Pass
holder-col-day = Date
holder-col-status = Status
holder-col-quantity = Quantity
holder-col-total = Total
holder-col-commission = Commission
holder-order-placed = Placed, not paid
holder-order-paid = Paid
holder-order-shipped = Shipped
holder-order-delivered = Delivered
holder-order-settled = Settled
holder-order-cancelled = Cancelled
holder-order-refunded = Refunded
holder-order-expired = Expired unpaid
holder-order-other = Other

## Earnings
earnings-title = Earnings
earnings-explain = Your commission on the orders your passes brought. It is pending from payment until the order is delivered and its return window has passed; then it is available to pay out.
earnings-balances = Balances
earnings-over-time = Commission over time
earnings-chart-daily = Commission per day
earnings-chart-monthly = Commission per month
earnings-chart-y = Commission
earnings-series = Commission ({ $arg })
earnings-per-month = Per month
earnings-month = Month
earnings-none = No commission yet.
earnings-per-order = Per order
earnings-no-orders = No orders through your passes yet.
earnings-col-stage = Commission is
earnings-col-net = Net commission
earnings-stage-unpaid = not earned (unpaid)
earnings-stage-pending = pending
earnings-stage-available = available
earnings-stage-reversed = taken back

## Reputation
reputation-title = Reputation
reputation-explain = Your reputation as requesters see it.
reputation-public-page = Your public page
reputation-history = History
reputation-history-explain = The rates as they stood at the end of each period, with their counts.
reputation-chart-daily = Reputation per day
reputation-chart-monthly = Reputation per month
reputation-chart-y = Percent
reputation-series-positive = Positive ratings
reputation-series-success = Requests answered
reputation-of-ratings = { $n ->
    [one] { $n } rating
   *[other] { $n } ratings
}
reputation-of-requests = { $n ->
    [one] { $n } request
   *[other] { $n } requests
}
reputation-fields = Fields of focus
reputation-fields-label = Your fields of focus
reputation-fields-hint = { $n ->
    [one] Category paths such as electronics/cameras, separated by commas; at most { $n }.
   *[other] Category paths such as electronics/cameras, separated by commas; at most { $n }.
}
reputation-fields-save = Save fields
reputation-fields-saved = Your fields of focus are saved.
reputation-fields-invalid = These fields cannot be saved:
