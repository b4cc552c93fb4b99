-- Server secrets that every instance of a provider must share and that are not keys of the JWKS. Keep in step
-- with ../postgres/0003_server_secrets.sql.
--
-- One row today: `user_code_key`, the HMAC key of user codes, written only when no master key is configured
-- (with one, that key is derived from the master key and never stored). The first instance to start writes it;
-- the others find it (INSERT ... ON CONFLICT DO NOTHING, then SELECT), so no two instances ever use different
-- values.
CREATE TABLE server_secrets (
    name       TEXT    NOT NULL PRIMARY KEY,
    value      TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
