-- Portable SQL: runs unchanged on SQLite and PostgreSQL (integers are BIGINT, booleans 0/1,
-- times are unix milliseconds), so both backends share one migration history.

CREATE TABLE accounts (
    id          TEXT PRIMARY KEY,            -- domain id, 32 hex characters
    name        TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL
);

-- One project per account and region; its id is what the IMS API calls project_id.
CREATE TABLE projects (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    region      TEXT NOT NULL,
    name        TEXT NOT NULL,
    UNIQUE (account_id, region)
);

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    account_id     TEXT NOT NULL REFERENCES accounts (id),
    name           TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
    created_at     BIGINT NOT NULL,
    UNIQUE (account_id, name)
);

CREATE TABLE sessions (
    id          TEXT PRIMARY KEY,
    data        TEXT NOT NULL,
    expires_at  BIGINT NOT NULL                -- unix seconds
);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- Failed-login counters, keyed by account+user and by client address.
CREATE TABLE login_throttle (
    throttle_key       TEXT PRIMARY KEY,
    failures           BIGINT NOT NULL,
    window_started_at  BIGINT NOT NULL,
    locked_until       BIGINT NOT NULL
);

-- The image model of the IMS API (shared/reference/ims-api.md section 3).
CREATE TABLE images (
    id                     TEXT PRIMARY KEY,
    region                 TEXT NOT NULL,
    owner                  TEXT NOT NULL,     -- owning project id (a platform project for public images)
    name                   TEXT NOT NULL,
    description            TEXT NOT NULL DEFAULT '',
    status                 TEXT NOT NULL CHECK (status IN ('queued', 'saving', 'deleted', 'killed', 'active')),
    status_reason          TEXT NOT NULL DEFAULT '',   -- why an image is killed
    visibility             TEXT NOT NULL CHECK (visibility IN ('public', 'private', 'shared')),
    imagetype              TEXT NOT NULL CHECK (imagetype IN ('gold', 'private', 'shared', 'market')),
    image_kind             TEXT NOT NULL CHECK (image_kind IN ('system', 'data', 'full_ecs', 'iso')),
    virtual_env_type       TEXT NOT NULL,     -- FusionCompute, Ironic, DataImage, IsoImage
    os_type                TEXT NOT NULL CHECK (os_type IN ('Linux', 'Windows', 'Other')),
    platform               TEXT NOT NULL,
    os_version             TEXT NOT NULL DEFAULT '',
    os_bit                 TEXT NOT NULL DEFAULT '64',
    architecture           TEXT NOT NULL CHECK (architecture IN ('x86', 'arm')),
    hw_firmware_type       TEXT NOT NULL CHECK (hw_firmware_type IN ('bios', 'uefi')),
    disk_format            TEXT NOT NULL,
    container_format       TEXT NOT NULL DEFAULT 'bare',
    min_disk               BIGINT NOT NULL,            -- GB
    min_ram                BIGINT NOT NULL DEFAULT 0,  -- MB, 0 = unrestricted
    max_ram                BIGINT NOT NULL DEFAULT 0,  -- MB, 0 = unrestricted
    image_size             BIGINT NOT NULL DEFAULT 0,  -- bytes of the stored file
    virtual_size           BIGINT NOT NULL DEFAULT 0,  -- bytes of the virtual disk
    checksum               TEXT NOT NULL DEFAULT '',   -- md5 of the stored file (Glance)
    sha256                 TEXT NOT NULL DEFAULT '',
    protected              BIGINT NOT NULL DEFAULT 0,
    is_registered          BIGINT NOT NULL DEFAULT 1,
    cmk_id                 TEXT NOT NULL DEFAULT '',   -- KMS key id; the image is encrypted when set
    data_origin            TEXT NOT NULL DEFAULT '',   -- e.g. instance,<id> or file,<bucket>:<object>
    original_image_id      TEXT NOT NULL DEFAULT '',   -- __originalimagename
    root_origin            TEXT NOT NULL DEFAULT '',
    backup_id              TEXT NOT NULL DEFAULT '',
    enterprise_project_id  TEXT NOT NULL DEFAULT '0',
    image_source_type      TEXT NOT NULL DEFAULT 'uds',
    support_flags          TEXT NOT NULL DEFAULT '',   -- comma list: kvm,xen,largememory,...
    file_location          TEXT NOT NULL DEFAULT '',   -- object key in the region's image store
    created_at             BIGINT NOT NULL,            -- unix milliseconds
    updated_at             BIGINT NOT NULL,
    active_at              BIGINT,
    deleted_at             BIGINT
);
-- Partial indexes over live images, one per sort order of the list, ending in id (the tie
-- breaker): counting and paging a project's images then reads only the index.
CREATE INDEX images_public_created ON images (region, imagetype, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX images_owner_created ON images (owner, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX images_owner_name ON images (owner, name, id) WHERE deleted_at IS NULL;
CREATE INDEX images_owner_size ON images (owner, image_size, id) WHERE deleted_at IS NULL;

CREATE TABLE image_tags (
    image_id   TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    tag_key    TEXT NOT NULL,
    tag_value  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (image_id, tag_key)
);
CREATE INDEX image_tags_key_value ON image_tags (tag_key, tag_value);

-- Projects a private image is shared with (filled by the sharing feature).
CREATE TABLE image_members (
    image_id    TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    member_id   TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'rejected')),
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (image_id, member_id)
);
CREATE INDEX image_members_member ON image_members (member_id, status);
