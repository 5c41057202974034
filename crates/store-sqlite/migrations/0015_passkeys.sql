-- Symbolon schema v15 (SQLite): passkeys (WebAuthn) for web accounts.
--
--   * passkeys: an account's credentials by their id (base64url), each the
--     serialized webauthn-rs `Passkey` (public key, counter) with a name;
--   * passkey_ceremonies: the server's state between the start and the
--     finish of a registration or a sign-in, taken (deleted) exactly once,
--     refused after `expires_at`; `client` is the address that started it
--     (at most MAX_OPEN_PASSKEY_CEREMONIES_PER_ADDRESS under way each).
CREATE TABLE passkeys (
    credential_id TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts(id),
    name          TEXT NOT NULL,
    passkey_json  TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER
);
CREATE INDEX passkeys_of_account ON passkeys(account_id, created_at);

CREATE TABLE passkey_ceremonies (
    id         TEXT PRIMARY KEY,
    account_id TEXT REFERENCES accounts(id),
    kind       TEXT NOT NULL CHECK (kind IN ('register', 'authenticate')),
    state_json TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    client     TEXT
);
CREATE INDEX passkey_ceremonies_by_expiry ON passkey_ceremonies(expires_at);
CREATE INDEX passkey_ceremonies_by_client ON passkey_ceremonies(client);
