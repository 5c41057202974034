-- Symbolon schema v10: the provider's oldest unexpired pass (what keeps a
-- retired signing key in the public JWKS) is found by walking this index in
-- creation order and stopping at the first unexpired pass, instead of
-- scanning every pass of the provider on each JWKS request.
CREATE INDEX passes_by_provider_age ON passes(provider_id, created_at);
