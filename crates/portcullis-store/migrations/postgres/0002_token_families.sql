-- Token families: every token of one sign-in (a code redemption, a password or device grant) and of the
-- refreshes that continue it shares a family, so that a replay revokes that sign-in and nothing else.
ALTER TABLE tokens ADD COLUMN family_id TEXT;
-- A rotated refresh token names its successor and, for the reuse leeway only, keeps the successor's value
-- encrypted with the provider's key, so that a second tab presenting it gets the same successor back.
ALTER TABLE tokens ADD COLUMN successor_id TEXT;
ALTER TABLE tokens ADD COLUMN successor_value TEXT;
CREATE INDEX ix_tokens_family_id ON tokens (family_id);
-- At most one live refresh token per family, whatever the concurrency: the rule the rotation keeps, enforced.
CREATE UNIQUE INDEX ux_tokens_live_refresh_of_family ON tokens (family_id)
    WHERE token_type = 'refresh_token' AND status = 'valid';
