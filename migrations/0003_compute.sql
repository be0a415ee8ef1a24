-- The built-in compute backend: ECSs and their EVS disks. Servers boot no guest, but every
-- disk is a real qcow2 file in the object store, so images made from servers hold their bytes.
CREATE TABLE servers (
    id              TEXT PRIMARY KEY,
    region          TEXT NOT NULL,
    project_id      TEXT NOT NULL,
    name            TEXT NOT NULL,
    flavor          TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('creating', 'running', 'stopped', 'starting', 'stopping',
                                                    'changing_os', 'error')),
    status_reason   TEXT NOT NULL DEFAULT '',
    image_id        TEXT NOT NULL DEFAULT '',   -- the image the current OS came from
    image_name      TEXT NOT NULL DEFAULT '',
    os_type         TEXT NOT NULL DEFAULT 'Linux',
    platform        TEXT NOT NULL DEFAULT 'Other',
    os_version      TEXT NOT NULL DEFAULT '',
    architecture    TEXT NOT NULL CHECK (architecture IN ('x86', 'arm')),
    boot_mode       TEXT NOT NULL CHECK (boot_mode IN ('bios', 'uefi')),
    temporary       BIGINT NOT NULL DEFAULT 0,  -- made from an ISO image to install an OS
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX servers_project ON servers (project_id, created_at);

CREATE TABLE disks (
    id              TEXT PRIMARY KEY,
    region          TEXT NOT NULL,
    project_id      TEXT NOT NULL,
    name            TEXT NOT NULL,
    size_gb         BIGINT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('creating', 'available', 'in_use', 'error')),
    status_reason   TEXT NOT NULL DEFAULT '',
    server_id       TEXT NOT NULL DEFAULT '',   -- the server it is attached to, if any
    role            TEXT NOT NULL DEFAULT 'data' CHECK (role IN ('system', 'data')),
    device          TEXT NOT NULL DEFAULT '',   -- /dev/vda for system disks, /dev/vdb... for data disks
    image_id        TEXT NOT NULL DEFAULT '',   -- the image it was made from, if any
    object_key      TEXT NOT NULL DEFAULT '',   -- its qcow2 file; a new key each time it is rewritten
    io_until        BIGINT NOT NULL DEFAULT 0,  -- a console read or write of the file runs until then (a lease)
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX disks_project ON disks (project_id, created_at);
CREATE INDEX disks_server ON disks (server_id);

-- The data disks of a full-ECS image (its system disk is the image's own file).
CREATE TABLE image_disks (
    image_id      TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    position      BIGINT NOT NULL,
    size_gb       BIGINT NOT NULL,
    object_key    TEXT NOT NULL,
    image_size    BIGINT NOT NULL,
    sha256        TEXT NOT NULL,
    PRIMARY KEY (image_id, position)
);

-- Usage of an image: servers created from it and when it was last used to make or reinstall one.
ALTER TABLE images ADD COLUMN servers_created BIGINT NOT NULL DEFAULT 0;
ALTER TABLE images ADD COLUMN last_used_at BIGINT;

-- The server or disk a job works on, so conflicting work on it can be refused.
ALTER TABLE jobs ADD COLUMN resource_id TEXT NOT NULL DEFAULT '';
CREATE INDEX jobs_resource ON jobs (resource_id, status);

-- One disk per device of a server (device is empty for disks not attached).
CREATE UNIQUE INDEX disks_server_device ON disks (server_id, device) WHERE device <> '';
