-- Tenant buckets (the OBS side IMS imports from and exports to), resumable uploads, and jobs.

CREATE TABLE buckets (
    region      TEXT NOT NULL,
    name        TEXT NOT NULL,
    project_id  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (region, name)
);
CREATE INDEX buckets_project ON buckets (project_id);

CREATE TABLE bucket_objects (
    region      TEXT NOT NULL,
    bucket      TEXT NOT NULL,
    object_key  TEXT NOT NULL,
    size        BIGINT NOT NULL,
    sha256      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (region, bucket, object_key)
);

-- A browser upload in progress: chunks are stored as separate objects until it completes.
CREATE TABLE uploads (
    id          TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL,
    region      TEXT NOT NULL,
    bucket      TEXT NOT NULL,
    object_key  TEXT NOT NULL,
    size        BIGINT NOT NULL,
    chunk_size  BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX uploads_target ON uploads (project_id, region, bucket, object_key);

CREATE TABLE upload_chunks (
    upload_id    TEXT NOT NULL REFERENCES uploads (id) ON DELETE CASCADE,
    chunk_index  BIGINT NOT NULL,
    size         BIGINT NOT NULL,
    PRIMARY KEY (upload_id, chunk_index)
);

-- Long work (imports, exports, ...). Claimed with a lease so several server instances can
-- share the queue and take over the jobs of an instance that died.
CREATE TABLE jobs (
    id                TEXT PRIMARY KEY,
    project_id        TEXT NOT NULL,
    region            TEXT NOT NULL,
    job_type          TEXT NOT NULL,
    image_id          TEXT NOT NULL DEFAULT '',  -- the image the job creates or reads, if any
    status            TEXT NOT NULL CHECK (status IN ('INIT', 'RUNNING', 'SUCCESS', 'FAIL')),
    percent           DOUBLE PRECISION NOT NULL DEFAULT 0,
    current_task      TEXT NOT NULL DEFAULT '',
    error_code        TEXT NOT NULL DEFAULT '',
    fail_reason       TEXT NOT NULL DEFAULT '',
    params            TEXT NOT NULL,            -- JSON, the handler's input
    entities          TEXT NOT NULL,            -- JSON, e.g. {"image_id": ..., "image_name": ...}
    cancel_requested  BIGINT NOT NULL DEFAULT 0,
    lease_owner       TEXT NOT NULL DEFAULT '',
    lease_expires_at  BIGINT NOT NULL DEFAULT 0,
    attempts          BIGINT NOT NULL DEFAULT 0,
    created_at        BIGINT NOT NULL,
    started_at        BIGINT,
    finished_at       BIGINT,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX jobs_queue ON jobs (status, created_at);
CREATE INDEX jobs_project ON jobs (project_id, created_at);
CREATE INDEX jobs_image ON jobs (image_id, status);
