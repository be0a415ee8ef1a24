-- Sharing between tenants and KooGallery (marketplace) images.

-- A share may end by itself: at expires_at (unix ms) it counts as stopped.
ALTER TABLE image_members ADD COLUMN expires_at BIGINT;
CREATE INDEX image_members_image ON image_members (image_id, status);

-- An account's rule for sharing its images: 'any' project, only 'listed' accounts, or 'none'.
CREATE TABLE account_settings (
    account_id      TEXT PRIMARY KEY REFERENCES accounts (id),
    sharing_policy  TEXT NOT NULL CHECK (sharing_policy IN ('any', 'listed', 'none')),
    updated_at      BIGINT NOT NULL
);

-- The accounts a 'listed' policy lets an account share with.
CREATE TABLE sharing_allowed_accounts (
    account_id          TEXT NOT NULL REFERENCES accounts (id),
    allowed_account_id  TEXT NOT NULL REFERENCES accounts (id),
    PRIMARY KEY (account_id, allowed_account_id)
);

-- An image listed in KooGallery in its region: the platform's third-party offerings, and
-- private system disk images an account admin published. price_cents is per hour, 0 = free.
CREATE TABLE market_offerings (
    image_id      TEXT PRIMARY KEY REFERENCES images (id),
    region        TEXT NOT NULL,
    publisher     TEXT NOT NULL,     -- what the listing names as its publisher
    account_id    TEXT NOT NULL DEFAULT '',  -- the publishing account; '' for the platform's offerings
    name          TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    price_cents   BIGINT NOT NULL DEFAULT 0,
    published_at  BIGINT NOT NULL
);
CREATE INDEX market_offerings_region ON market_offerings (region, published_at);

-- A project's acceptance of a paid KooGallery image's price, recorded the first time it
-- makes an ECS from it.
CREATE TABLE market_subscriptions (
    id            TEXT PRIMARY KEY,
    project_id    TEXT NOT NULL,
    region        TEXT NOT NULL,
    image_id      TEXT NOT NULL,
    image_name    TEXT NOT NULL,
    publisher     TEXT NOT NULL,
    price_cents   BIGINT NOT NULL,
    accepted_by   TEXT NOT NULL,     -- user name
    created_at    BIGINT NOT NULL,
    UNIQUE (project_id, image_id)
);

-- What an ECS costs per hour for its image (a paid KooGallery image), fixed when it is made.
ALTER TABLE servers ADD COLUMN image_price_cents BIGINT NOT NULL DEFAULT 0;
