# Accounts for people: sign-up, sign-in, the account page. English (United States).
# Every key here must exist in zh-CN/account.ftl too (a test checks it).

## The account menu
layout-account = Account
layout-sign-up = Create account
error-cross-site = This form was sent from another site, so it was refused. Open the page on this site and try again.

## Form fields
field-email = Email
field-password = Password
field-new-password = Password
field-your-name = Your name
field-roles = I want to…
role-requester = buy (requester)
role-holder = recommend passes (holder)
role-provider = sell products (provider)
role-operator = resolve disputes (operator)

## Sign-in
login-wrong = Wrong email or password.
login-too-many = { $n ->
    [one] Too many failed sign-ins; try again in { $n } minute.
   *[other] Too many failed sign-ins; try again in { $n } minutes.
}
login-no-account = New here?
login-to-signup = Create an account

## Sign-up
signup-title = Create an account
signup-button = Create account
signup-have-account = Already have an account?
signup-to-login = Sign in
signup-password-hint = { $n ->
    [one] At least { $n } character; a long passphrase is best.
   *[other] At least { $n } characters; a long passphrase is best.
}
signup-name-invalid = Enter your name (at most 200 characters).
signup-email-invalid = Enter an email address like name@example.org.
signup-password-invalid = Use 8 to 128 characters.
signup-roles-invalid = Choose at least one of the roles.
signup-email-taken = An account already uses this email. Sign in instead?
signup-too-many = { $n ->
    [one] Too many accounts were created from your network; try again in { $n } minute.
   *[other] Too many accounts were created from your network; try again in { $n } minutes.
}

## The account page
account-title = Your account
account-roles = Roles:
account-profile = Shipping and payment
account-card-new = New card number (sandbox)
account-save = Save
account-language = Language
account-language-now = The pages are in
account-devices = Signed-in devices
account-device-unknown = Unknown browser
account-device-since = signed in
account-device-seen = last seen
account-device-this = this device
account-device-revoke = Sign out
account-devices-revoke-others = Sign out everywhere else
account-keys = API keys
account-key-made = Your new key “{ $arg }”:
account-key-once = Copy it now: it is shown only this once.
account-keys-none = No API keys yet.
account-key-revoke = Revoke
account-key-label = Label of a new key
account-key-create = Create key
account-passkeys = Passkeys
account-passkeys-none = No passkeys yet.
account-passkey-created = added
account-passkey-used = last used
account-passkey-never = never used
account-passkey-remove = Remove
account-passkey-name = Name of a new passkey
account-passkey-add = Add a passkey
account-passkey-needs-js = Adding a passkey needs JavaScript and a browser that supports passkeys.

## Passkeys (messages of passkey.js and its endpoints)
login-passkey = Sign in with a passkey
passkey-working = Waiting for your passkey…
passkey-cancelled = The passkey was not used. Try again, or sign in with your password.
passkey-error-ceremony = That took too long or was already used; try again.
passkey-error-invalid = The passkey was not accepted.
passkey-error-too-many = You already have the most passkeys allowed; remove one first.
passkey-error-signed-out = You are signed out; sign in again to add a passkey.
passkey-error-name = Give the passkey a name (at most 64 characters).

## The pass page
pass-sign-in-to-order-hint = Sign in to order; your address and card are saved for one-click orders next time.
pass-sign-in-link = Sign in
pass-sign-up-link = Create an account
pass-sign-in-first = Sign in to order.
