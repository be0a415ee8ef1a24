-- Buckets get a surrogate id; objects, uploads and export jobs refer to it, never to the name,
-- so a name that changes hands (deleted by one tenant, created by another) carries nothing
-- with it. Existing buckets keep their name as id, which is also where their objects are
-- stored (buckets/{region}/{id}/...); new buckets get random ids.

CREATE TABLE buckets_by_id (
    id          TEXT PRIMARY KEY,
    region      TEXT NOT NULL,
    name        TEXT NOT NULL,
    project_id  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (region, name)
);
INSERT INTO buckets_by_id (id, region, name, project_id, created_at)
    SELECT name, region, name, project_id, created_at FROM buckets;

CREATE TABLE bucket_objects_by_id (
    bucket_id   TEXT NOT NULL REFERENCES buckets_by_id (id),
    object_key  TEXT NOT NULL,
    size        BIGINT NOT NULL,
    sha256      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (bucket_id, object_key)
);
INSERT INTO bucket_objects_by_id (bucket_id, object_key, size, sha256, created_at)
    SELECT bucket, object_key, size, sha256, created_at FROM bucket_objects;

CREATE TABLE uploads_by_id (
    id          TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL,
    bucket_id   TEXT NOT NULL REFERENCES buckets_by_id (id),
    object_key  TEXT NOT NULL,
    size        BIGINT NOT NULL,
    chunk_size  BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
INSERT INTO uploads_by_id (id, project_id, bucket_id, object_key, size, chunk_size, created_at, updated_at)
    SELECT id, project_id, bucket, object_key, size, chunk_size, created_at, updated_at FROM uploads;

CREATE TABLE upload_chunks_by_id (
    upload_id    TEXT NOT NULL REFERENCES uploads_by_id (id) ON DELETE CASCADE,
    chunk_index  BIGINT NOT NULL,
    size         BIGINT NOT NULL,
    PRIMARY KEY (upload_id, chunk_index)
);
INSERT INTO upload_chunks_by_id (upload_id, chunk_index, size)
    SELECT upload_id, chunk_index, size FROM upload_chunks;

DROP TABLE upload_chunks;
DROP TABLE uploads;
DROP TABLE bucket_objects;
DROP TABLE buckets;
ALTER TABLE buckets_by_id RENAME TO buckets;
ALTER TABLE bucket_objects_by_id RENAME TO bucket_objects;
ALTER TABLE uploads_by_id RENAME TO uploads;
ALTER TABLE upload_chunks_by_id RENAME TO upload_chunks;
CREATE INDEX buckets_project ON buckets (project_id, region);
CREATE INDEX uploads_target ON uploads (bucket_id, object_key);
CREATE INDEX uploads_stale ON uploads (updated_at);

-- Writes to one object (upload completion, export, delete) take turns, across instances.
CREATE TABLE object_locks (
    bucket_id   TEXT NOT NULL,
    object_key  TEXT NOT NULL,
    holder      TEXT NOT NULL,
    expires_at  BIGINT NOT NULL,
    PRIMARY KEY (bucket_id, object_key)
);

-- The image whose file a job reads (a new ECS, disk or OS from it): the image cannot be
-- deleted while such a job is pending.
ALTER TABLE jobs ADD COLUMN source_image_id TEXT NOT NULL DEFAULT '';
CREATE INDEX jobs_source_image ON jobs (source_image_id, status);

-- Who holds a disk's console read/write claim: only that holder releases it.
ALTER TABLE disks ADD COLUMN io_claim TEXT NOT NULL DEFAULT '';

-- Fair claiming: waiting jobs per project, and the queue in order.
CREATE INDEX jobs_waiting ON jobs (project_id, status);
