-- Tenant keys (a small key management service per project): each key's random material is
-- kept sealed under the server's master key (IMS_MASTER_KEY_FILE), never in clear. Encrypted
-- images name their key in images.cmk_id.
CREATE TABLE kms_keys (
    id               TEXT PRIMARY KEY,          -- a UUID, as KMS key ids are
    project_id       TEXT NOT NULL,             -- a project is one account in one region
    alias            TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    state            TEXT NOT NULL CHECK (state IN ('enabled', 'disabled', 'pending_deletion')),
    material_sealed  TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    deletion_at      BIGINT                     -- set while the key waits to be deleted
);
CREATE UNIQUE INDEX kms_keys_alias ON kms_keys (project_id, alias);
CREATE INDEX kms_keys_deletion ON kms_keys (deletion_at) WHERE deletion_at IS NOT NULL;
CREATE INDEX images_cmk ON images (cmk_id) WHERE cmk_id <> '';
