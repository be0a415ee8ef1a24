-- Image families (beyond IMS): an optional family name on an image; "latest of family X" is
-- the project's newest Normal, non-deprecated member. A family may have a policy: keep the
-- newest N members (older ones go to the recycle bin), and replicate each new member to
-- listed regions. family_settled marks a member whose policy has been applied.
ALTER TABLE images ADD COLUMN family TEXT NOT NULL DEFAULT '';
ALTER TABLE images ADD COLUMN family_settled INTEGER NOT NULL DEFAULT 1;
CREATE INDEX images_family ON images (owner, family, created_at) WHERE family <> '' AND deleted_at IS NULL;
CREATE INDEX images_family_unsettled ON images (id) WHERE family_settled = 0;
CREATE TABLE image_families (
    project_id    TEXT NOT NULL,
    name          TEXT NOT NULL,
    keep_newest   INTEGER,                   -- NULL keeps every member
    replicate_to  TEXT NOT NULL DEFAULT '',  -- region ids, comma-separated
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (project_id, name)
);
