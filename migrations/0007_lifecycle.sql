-- The private image lifecycle: recycle bin, deprecation, frequently used images and the
-- operation log.

-- A deleted private image waits in the recycle bin (deleted_at set, status kept, file kept)
-- until purge_at; then the sweeper removes its file and marks it deleted (purge_at NULL).
ALTER TABLE images ADD COLUMN purge_at BIGINT;
CREATE INDEX images_recycled ON images (owner, deleted_at, id) WHERE purge_at IS NOT NULL;
CREATE INDEX images_purge_due ON images (purge_at) WHERE purge_at IS NOT NULL;

-- From this time on (unix ms) the image is Deprecated: hidden from lists unless asked for.
ALTER TABLE images ADD COLUMN deprecated_at BIGINT;

-- Images a user marked as frequently used (a star), per user.
CREATE TABLE favorite_images (
    user_id     TEXT NOT NULL REFERENCES users (id),
    image_id    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (user_id, image_id)
);

-- Every state-changing operation: who, when, where, on what, and how it ended. Rows are only
-- ever inserted.
CREATE TABLE operation_log (
    id             TEXT PRIMARY KEY,
    account_id     TEXT NOT NULL,
    project_id     TEXT NOT NULL,
    region         TEXT NOT NULL,
    user_name      TEXT NOT NULL,
    source         TEXT NOT NULL,             -- console or api
    operation      TEXT NOT NULL,             -- e.g. deleteImage
    resource_type  TEXT NOT NULL,             -- image, server, disk, bucket, ...
    resource_id    TEXT NOT NULL,
    resource_name  TEXT NOT NULL DEFAULT '',
    result         TEXT NOT NULL CHECK (result IN ('success', 'failure')),
    reason         TEXT NOT NULL DEFAULT '',  -- the refusal or failure the user was shown
    created_at     BIGINT NOT NULL
);
CREATE INDEX operation_log_account_time ON operation_log (account_id, created_at, id);

-- Lineage: what was made from an image.
CREATE INDEX servers_image ON servers (image_id);
CREATE INDEX disks_image ON disks (image_id);
CREATE INDEX images_original ON images (original_image_id) WHERE original_image_id <> '';

-- The list's indexes also carry deprecated_at, so hiding deprecated images still pages and
-- counts from the index alone.
DROP INDEX images_public_created;
DROP INDEX images_owner_created;
DROP INDEX images_owner_name;
DROP INDEX images_owner_size;
CREATE INDEX images_public_created ON images (region, imagetype, created_at, id, deprecated_at) WHERE deleted_at IS NULL;
CREATE INDEX images_owner_created ON images (owner, created_at, id, deprecated_at) WHERE deleted_at IS NULL;
CREATE INDEX images_owner_name ON images (owner, name, id, deprecated_at) WHERE deleted_at IS NULL;
CREATE INDEX images_owner_size ON images (owner, image_size, id, deprecated_at) WHERE deleted_at IS NULL;
CREATE INDEX favorite_images_image ON favorite_images (image_id);
