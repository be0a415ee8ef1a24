-- Tenants' own automation: access keys (AK/SK) for the IMS API, and Keystone tokens for the
-- Glance API.

-- A user holds at most two access keys. The secret key is kept sealed under the server's master
-- key (IMS_MASTER_KEY_FILE), never in clear: it must be at hand to check signatures.
CREATE TABLE access_keys (
    id              TEXT PRIMARY KEY,              -- the AK, as clients send it
    user_id         TEXT NOT NULL REFERENCES users (id),
    secret_sealed   TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    created_at      BIGINT NOT NULL,
    last_used_at    BIGINT
);
CREATE INDEX access_keys_user ON access_keys (user_id, created_at);

-- Keystone tokens: only a hash of the token is stored. A token ends at expires_at, when revoked
-- (row deleted), or with its user.
CREATE TABLE api_tokens (
    token_hash      TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id),
    project_id      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);
CREATE INDEX api_tokens_expiry ON api_tokens (expires_at);

-- Glance images carry free-form string properties (openstacksdk's owner_specified.openstack.*),
-- kept as a JSON object and echoed back.
ALTER TABLE images ADD COLUMN properties TEXT NOT NULL DEFAULT '{}';
