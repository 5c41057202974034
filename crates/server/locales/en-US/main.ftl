# Symbolon's web pages, English (United States).
# Every key here must exist in zh-CN/main.ftl too (a test checks it).

## Layout and errors
layout-signed-in-as = Signed in as
layout-sign-out = Sign out
layout-sign-in = Sign in
error-internal = Something went wrong on our side; nothing was charged. Please try again.
error-form-expired = The form expired; please try again.
error-form-foreign = The form expired or did not come from this page; please try again.
error-rate-limited = { $n ->
    [one] Too many requests at once; please wait { $n } second and try again.
   *[other] Too many requests at once; please wait { $n } seconds and try again.
}

## Form fields
field-quantity = Quantity
field-address-legend = Shipping address
field-name = Name
field-line1 = Address
field-city = City
field-postal-code = Postal code
field-country = Country (2 letters)
field-card-number = Card number (for Order & pay)

## Sign-in
login-title = Sign in
login-button = Sign in
login-signed-in-title = Signed in
login-signed-in-as = as

## The pass page
pass-valid = Valid pass
pass-sold-by = Sold and shipped by
pass-recommended-by = recommended by
pass-specs = Specifications
pass-no-specs = No specifications given.
pass-pass = Pass
pass-mode-shareable = shareable
pass-mode-unique = unique units
pass-valid-until = valid until { $arg }
pass-no-expiry = no expiry
pass-no-unit-left = no unit left
pass-out-of-stock = out of stock
pass-units-left-after = { $n ->
    [one] unit left
   *[other] units left
}
pass-in-stock-after = in stock
pass-purchases = Purchases
pass-orders-after = { $n ->
    [one] order
   *[other] orders
}
pass-units-in-all = { $n ->
    [one] { $n } unit in all
   *[other] { $n } units in all
}
pass-no-purchases = No purchases yet.
pass-buyer-ordered = A buyer ordered
pass-reviews = Reviews
pass-positive-of = { $n ->
    [one] positive of { $n } rating
   *[other] positive of { $n } ratings
}
pass-no-reviews = No reviews yet.
pass-positive = Positive
pass-negative = Negative
pass-verified-buyer = Verified buyer
pass-order = Order
pass-not-orderable = This pass can no longer be used to order: { $arg }.
pass-why-archived = its provider no longer sells the product
pass-why-revoked = its provider revoked it
pass-why-expired = it has expired
pass-why-not-yet-valid = it is not valid yet
pass-why-invalid = it is not valid
pass-new-buyer = New here? Add your address and card
pass-ships-to = Ships to
pass-pays-with-card = Pays with card ending
pass-btn-order = Order
pass-btn-order-pay = Order & pay
pass-quantity-whole = quantity: a whole number
pass-choose-action = Choose Order or Order & pay.
pass-share = Share this pass
pass-qr-label = QR code of the link
pass-verify = Verify
pass-verify-signed-by = This pass is a W3C Verifiable Credential signed by { $arg } (Ed25519).
pass-verify-check = Check it with any JOSE library against the
pass-verify-keys = issuer's keys
pass-verify-metadata = issuer metadata
pass-verify-offline = , or offline:
pass-verify-details = Key and signed pass
pass-verify-key = Key:

## The order page
order-headline-placed = Order placed
order-headline-paid = Order placed and paid
order-headline-shipped = Order shipped
order-headline-delivered = Order delivered
order-headline-cancelled = Order cancelled
order-headline-refunded = Order refunded
order-headline-expired = Order expired
order-thanks = Thank you.
order-order = Order
order-status = Status
order-total = Total
order-payment = Payment
order-payment-received-ref = received ({ $arg })
order-payment-none-cancelled = none: cancelled before payment
order-payment-received = received
order-payment-expired = not made in time; the order expired
order-payment-due = due by { $arg }; pay from your orders
order-payment-awaiting = awaiting the buyer's payment (until { $arg })
order-unit = Unit
order-unit-no = No. { $n }
order-unit-when-paid = assigned when paid
order-refunded = Refunded
order-delivered = Delivered
order-returns-until = Returns until
order-back-to-pass = Back to the pass

## The balance page
balance-title = Balance
balance-explain = Money from an order is pending until it is delivered and its return window has passed; then it is available until paid out.
balance-owes-before = You owe the exchange
balance-owes-after = : a refund took back money that had already been paid out to you. It is deducted from what you earn next.
balance-no-money = No money has moved yet.
balance-currency = Currency
balance-pending = Pending
balance-available = Available
balance-paid-out = Paid out
balance-in-all = In all
