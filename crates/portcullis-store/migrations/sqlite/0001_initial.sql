-- Portcullis storage, SQLite. Keep in step with ../postgres/0001_initial.sql: same tables, columns and names.
--
-- Times are UTC unix seconds (INTEGER); lists and permission sets are JSON text; secrets (client secrets,
-- codes, refresh and reference tokens, session cookies) are only ever stored as SHA-256 digests.

CREATE TABLE users (
    id                  TEXT    NOT NULL PRIMARY KEY,
    username            TEXT    NOT NULL,
    normalized_username TEXT    NOT NULL,
    name                TEXT,
    email               TEXT,
    normalized_email    TEXT,
    email_confirmed     BOOLEAN NOT NULL DEFAULT 0,
    phone               TEXT,
    phone_confirmed     BOOLEAN NOT NULL DEFAULT 0,
    password_hash       TEXT    NOT NULL,
    security_stamp      TEXT    NOT NULL,
    lockout_end         INTEGER,
    failed_count        INTEGER NOT NULL DEFAULT 0,
    disabled            BOOLEAN NOT NULL DEFAULT 0,
    created_at          INTEGER NOT NULL
);
CREATE UNIQUE INDEX ux_users_normalized_username ON users (normalized_username);
-- NULLs never collide, so any number of users may have no email.
CREATE UNIQUE INDEX ux_users_normalized_email ON users (normalized_email);

CREATE TABLE roles (
    id   TEXT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL
);
CREATE UNIQUE INDEX ux_roles_name ON roles (name);

CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, role_id)
);
CREATE INDEX ix_user_roles_role_id ON user_roles (role_id);

CREATE TABLE applications (
    id                        TEXT    NOT NULL PRIMARY KEY,
    client_id                 TEXT    NOT NULL,
    secret_digest             TEXT,
    client_type               TEXT    NOT NULL CHECK (client_type IN ('confidential', 'public')),
    consent_type              TEXT    NOT NULL
        CHECK (consent_type IN ('explicit', 'implicit', 'external', 'systematic')),
    display_name              TEXT    NOT NULL,
    redirect_uris             TEXT    NOT NULL, -- JSON array of strings
    post_logout_redirect_uris TEXT    NOT NULL, -- JSON array of strings
    cors_origins              TEXT    NOT NULL, -- JSON array of strings
    permissions               TEXT    NOT NULL, -- JSON object: grant_types, scopes, introspection, revocation
    pkce_exempt               BOOLEAN NOT NULL DEFAULT 0,
    access_token_format       TEXT    CHECK (access_token_format IN ('encrypted', 'jwt', 'reference')),
    created_at                INTEGER NOT NULL
);
CREATE UNIQUE INDEX ux_applications_client_id ON applications (client_id);

CREATE TABLE scopes (
    name         TEXT NOT NULL PRIMARY KEY,
    display_name TEXT NOT NULL,
    description  TEXT,
    resources    TEXT NOT NULL -- JSON array of audiences
);

-- subject is not a foreign key: for client credentials it is a client id, not a user.
CREATE TABLE authorizations (
    id         TEXT    NOT NULL PRIMARY KEY,
    subject    TEXT    NOT NULL,
    client_id  TEXT    NOT NULL REFERENCES applications (client_id) ON DELETE CASCADE,
    status     TEXT    NOT NULL CHECK (status IN ('valid', 'revoked')),
    kind       TEXT    NOT NULL CHECK (kind IN ('permanent', 'ad-hoc')),
    scopes     TEXT    NOT NULL, -- JSON array of scope names
    created_at INTEGER NOT NULL
);
CREATE INDEX ix_authorizations_subject_client ON authorizations (subject, client_id, status);
CREATE INDEX ix_authorizations_client_id ON authorizations (client_id);
CREATE INDEX ix_authorizations_created_at ON authorizations (created_at);

CREATE TABLE tokens (
    id               TEXT    NOT NULL PRIMARY KEY,
    token_type       TEXT    NOT NULL CHECK (token_type IN
        ('authorization_code', 'access_token', 'refresh_token', 'id_token', 'device_code', 'user_code')),
    subject          TEXT,
    client_id        TEXT    NOT NULL REFERENCES applications (client_id) ON DELETE CASCADE,
    authorization_id TEXT    REFERENCES authorizations (id) ON DELETE CASCADE,
    reference_digest TEXT,
    status           TEXT    NOT NULL CHECK (status IN ('valid', 'inactive', 'redeemed', 'revoked')),
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER,
    redeemed_at      INTEGER,
    payload          TEXT
);
CREATE UNIQUE INDEX ux_tokens_reference_digest ON tokens (reference_digest);
CREATE INDEX ix_tokens_authorization_id ON tokens (authorization_id);
CREATE INDEX ix_tokens_client_id ON tokens (client_id);
CREATE INDEX ix_tokens_subject ON tokens (subject);
CREATE INDEX ix_tokens_expires_at ON tokens (expires_at);
CREATE INDEX ix_tokens_status_created_at ON tokens (status, created_at);

CREATE TABLE keys (
    kid         TEXT    NOT NULL PRIMARY KEY,
    key_use     TEXT    NOT NULL CHECK (key_use IN ('sig', 'enc')),
    alg         TEXT    NOT NULL,
    private_jwk TEXT    NOT NULL, -- sealed with the master key when one is configured
    public_jwk  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    not_before  INTEGER NOT NULL,
    retired_at  INTEGER
);

CREATE TABLE sessions (
    id         TEXT    NOT NULL PRIMARY KEY, -- SHA-256 digest of the cookie value
    subject    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    auth_time  INTEGER NOT NULL,
    amr        TEXT    NOT NULL, -- JSON array of strings
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX ix_sessions_subject ON sessions (subject);
CREATE INDEX ix_sessions_expires_at ON sessions (expires_at);
