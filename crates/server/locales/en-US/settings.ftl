# Settings: /settings/webhooks and /settings/keys (web/settings.rs).
settings-nav-label = Settings
settings-nav-webhooks = Webhooks
settings-nav-keys = Signing keys

settings-webhooks-title = Webhooks
settings-webhooks-intro = Each endpoint receives every event of your account as a signed POST (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature). Failed deliveries are retried; an endpoint failing for too long is disabled until you enable it.
settings-webhooks-endpoints = Your endpoints
settings-webhooks-none = No webhook endpoints yet.
settings-webhook-add = Add an endpoint
settings-webhook-field-url = Endpoint URL
settings-webhook-url-hint = { $n ->
    [one] An http or https URL. At most one endpoint per account.
   *[other] An http or https URL. At most { $n } endpoints per account.
  }
settings-webhook-add-submit = Add endpoint
settings-webhook-err-url-missing = Enter the endpoint's URL.
settings-webhook-secret-made = The signing secret of { $arg }:
settings-webhook-secret-rotated = The new signing secret of { $arg } (the previous one keeps signing for a while, so your receiver can switch):
settings-webhook-secret-once = Copy it now: it is shown only this once.
settings-webhook-status-active = active
settings-webhook-status-disabled = disabled
settings-webhook-status-unknown = unknown
settings-webhook-created = added
settings-webhook-pending = { $n ->
    [one] one event waiting
   *[other] { $n } events waiting
  }
settings-webhook-disabled-at = Disabled
settings-webhook-failing-since = Failing since
settings-webhook-rotate = Rotate secret
settings-webhook-disable = Disable
settings-webhook-enable = Enable
settings-webhook-delete = Delete
settings-webhook-replay-after = Send again the events after this event id
settings-webhook-replay-hint = Leave empty to send every event still kept; an id such as evt_42 sends the later ones.
settings-webhook-replay = Replay
settings-webhook-replay-queued = { $n ->
    [one] One event queued for delivery.
   *[other] { $n } events queued for delivery.
  }
settings-webhook-attempts = Recent delivery attempts
settings-webhook-attempts-none = No delivery attempts yet.
settings-webhook-attempt-at = Time
settings-webhook-attempt-event = Event
settings-webhook-attempt-code = Response
settings-webhook-attempt-outcome = Outcome
settings-webhook-attempt-no-answer = no answer
settings-webhook-attempt-ms = { $n } ms
settings-webhook-outcome-delivered = delivered
settings-webhook-outcome-retry = will retry
settings-webhook-outcome-disabled = endpoint disabled
settings-webhook-outcome-unknown = unknown

settings-keys-title = Signing keys
settings-keys-intro = Your passes are signed with these Ed25519 keys. Only their public halves are published; the exchange keeps the private ones sealed and never shows them.
settings-keys-jwks = Public keys (JWKS):
settings-keys-none = No signing keys yet: one is made with your first pass.
settings-keys-kid = Key id
settings-keys-created = Created
settings-keys-retired = Retired
settings-keys-published = Published
settings-keys-active = signing
settings-keys-yes = yes
settings-keys-no = no
settings-keys-rotate = Rotate the signing key
settings-keys-rotate-explain = A new key signs from now on. The current key is retired but stays published until the passes it signed expire, so they still verify.
settings-keys-rotate-confirm = Yes, make a new signing key and retire the current one
settings-keys-rotate-submit = Rotate key
settings-keys-err-confirm = Tick the box to confirm the rotation.
settings-keys-rotated = A new signing key is active; the previous one is retired.
