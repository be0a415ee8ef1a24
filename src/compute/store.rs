//! The servers and disks tables: the only place that writes them, so "where does a server's
//! or a disk's status change?" has a one-file answer. Reads for a caller are scoped to its
//! project. State changes are conditional UPDATEs (they say whether they applied), so two
//! requests or two instances cannot both move the same row.

use super::flavors::{find_flavor, Flavor};
use super::model::{DiskStatus, DiskView, ImageChoice, ServerDetail, ServerStatus, ServerView};
use super::rules::ImageFacts;
use crate::caller::Caller;
use crate::db::{like_escape, now_ms, Db};
use crate::error::AppError;
use crate::images::model::ImageStatus;
use crate::regions::region_name;
use crate::storage::Storage;
use sqlx::{Any, Executor, Transaction};

const SERVER_SELECT: &str = "SELECT s.*, \
    COALESCE((SELECT MAX(d.size_gb) FROM disks d WHERE d.server_id = s.id AND d.role = 'system'), 0) AS system_disk_gb, \
    (SELECT COUNT(*) FROM disks d WHERE d.server_id = s.id AND d.role = 'data') AS data_disks, \
    (SELECT MAX(j.percent) FROM jobs j WHERE j.resource_id = s.id AND j.status IN ('INIT', 'RUNNING')) AS progress, \
    (SELECT COUNT(*) FROM images i WHERE i.id = s.image_id AND i.deleted_at IS NULL) AS image_live \
    FROM servers s";

#[derive(sqlx::FromRow)]
pub struct ServerRow {
    pub id: String,
    pub region: String,
    pub project_id: String,
    pub name: String,
    pub flavor: String,
    pub status: ServerStatus,
    pub status_reason: String,
    pub image_id: String,
    pub image_name: String,
    pub os_type: String,
    pub platform: String,
    pub os_version: String,
    pub architecture: String,
    pub boot_mode: String,
    pub temporary: i64,
    pub created_at: i64,
    pub system_disk_gb: i64,
    pub data_disks: i64,
    pub progress: Option<f64>,
    pub image_live: i64,
    pub image_price_cents: i64,
}

impl ServerRow {
    fn view(self) -> ServerView {
        let flavor = find_flavor(&self.region, &self.flavor);
        ServerView {
            flavor_summary: flavor.map(Flavor::summary).unwrap_or_default(),
            gpu: flavor.is_some_and(|flavor| flavor.gpu),
            id: self.id,
            name: self.name,
            status: self.status,
            status_reason: self.status_reason,
            flavor: self.flavor,
            image_id: self.image_id,
            image_name: self.image_name,
            os_type: self.os_type,
            os_version: self.os_version,
            architecture: self.architecture,
            boot_mode: self.boot_mode,
            temporary: self.temporary != 0,
            system_disk_gb: self.system_disk_gb,
            data_disks: self.data_disks,
            created_at: self.created_at,
            progress: self.progress,
            image_exists: self.image_live > 0,
            image_price_cents: self.image_price_cents,
        }
    }

    pub fn flavor(&self) -> Result<&'static Flavor, AppError> {
        find_flavor(&self.region, &self.flavor).ok_or_else(|| {
            AppError::internal("server flavor", format!("unknown flavor {} of {}", self.flavor, self.id))
        })
    }
}

#[derive(Clone, sqlx::FromRow)]
pub struct DiskRow {
    pub id: String,
    pub region: String,
    pub project_id: String,
    pub name: String,
    pub size_gb: i64,
    pub status: DiskStatus,
    pub status_reason: String,
    pub server_id: String,
    pub role: String,
    pub device: String,
    pub image_id: String,
    pub object_key: String,
    pub io_until: i64,
    pub created_at: i64,
    #[sqlx(default)]
    pub server_name: String,
}

impl DiskRow {
    fn view(self) -> DiskView {
        DiskView {
            id: self.id,
            name: self.name,
            size_gb: self.size_gb,
            status: self.status,
            status_reason: self.status_reason,
            server_id: self.server_id,
            server_name: self.server_name,
            role: self.role,
            device: self.device,
            image_id: self.image_id,
            created_at: self.created_at,
        }
    }

    /// Whether a console read or write holds the disk.
    pub fn is_busy(&self) -> bool {
        self.io_until > now_ms()
    }
}

// ---- Reads -------------------------------------------------------------------------------

pub async fn list_servers(
    db: &Db,
    caller: &Caller,
    name: &str,
    status: Option<ServerStatus>,
) -> Result<Vec<ServerView>, AppError> {
    let sql = format!(
        "{SERVER_SELECT} WHERE s.project_id = $1 AND ($2 = '' OR LOWER(s.name) LIKE $3 ESCAPE '\\') AND ($4 = '' OR s.status = $4) \
         ORDER BY s.created_at DESC, s.id DESC LIMIT 500"
    );
    let pattern = format!("%{}%", like_escape(&name.to_lowercase()));
    let status = status.map(ServerStatus::as_str).unwrap_or_default();
    let rows: Vec<ServerRow> =
        sqlx::query_as(&sql).bind(&caller.project_id).bind(name).bind(pattern).bind(status).fetch_all(db).await?;
    Ok(rows.into_iter().map(ServerRow::view).collect())
}

pub async fn find_server(db: &Db, caller: &Caller, id: &str) -> Result<ServerRow, AppError> {
    let sql = format!("{SERVER_SELECT} WHERE s.id = $1 AND s.project_id = $2");
    let row: Option<ServerRow> = sqlx::query_as(&sql).bind(id).bind(&caller.project_id).fetch_optional(db).await?;
    row.ok_or_else(|| {
        AppError::NotFound(format!("ECS '{id}' does not exist in region {}.", region_name(&caller.region)))
    })
}

/// The server's disks in device order (the system disk, /dev/vda, first).
pub async fn server_disks<'e>(
    executor: impl Executor<'e, Database = Any>,
    server_id: &str,
) -> Result<Vec<DiskRow>, sqlx::Error> {
    sqlx::query_as("SELECT * FROM disks WHERE server_id = $1 ORDER BY device, id")
        .bind(server_id)
        .fetch_all(executor)
        .await
}

pub async fn find_disk(db: &Db, caller: &Caller, id: &str) -> Result<DiskRow, AppError> {
    let row: Option<DiskRow> = sqlx::query_as(
        "SELECT d.*, COALESCE(s.name, '') AS server_name FROM disks d LEFT JOIN servers s ON s.id = d.server_id \
         WHERE d.id = $1 AND d.project_id = $2",
    )
    .bind(id)
    .bind(&caller.project_id)
    .fetch_optional(db)
    .await?;
    row.ok_or_else(|| {
        AppError::NotFound(format!("Disk '{id}' does not exist in region {}.", region_name(&caller.region)))
    })
}

pub async fn server_detail(db: &Db, caller: &Caller, id: &str) -> Result<ServerDetail, AppError> {
    let server = find_server(db, caller, id).await?;
    let disks = server_disks(db, id).await?;
    let server_name = server.name.clone();
    Ok(ServerDetail {
        server: server.view(),
        disks: disks.into_iter().map(|disk| DiskRow { server_name: server_name.clone(), ..disk }.view()).collect(),
    })
}

pub async fn list_disks(db: &Db, caller: &Caller) -> Result<Vec<DiskView>, AppError> {
    let rows: Vec<DiskRow> = sqlx::query_as(
        "SELECT d.*, COALESCE(s.name, '') AS server_name FROM disks d LEFT JOIN servers s ON s.id = d.server_id \
         WHERE d.project_id = $1 ORDER BY d.created_at DESC, d.id DESC LIMIT 1000",
    )
    .bind(&caller.project_id)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(DiskRow::view).collect())
}

/// The status of a server, if it still exists. A job that runs again after its work was
/// committed (its instance died before recording success) finds it moved on.
pub async fn server_status(db: &Db, id: &str) -> Result<Option<ServerStatus>, sqlx::Error> {
    sqlx::query_scalar("SELECT status FROM servers WHERE id = $1").bind(id).fetch_optional(db).await
}

pub async fn disk_status(db: &Db, id: &str) -> Result<Option<DiskStatus>, sqlx::Error> {
    sqlx::query_scalar("SELECT status FROM disks WHERE id = $1").bind(id).fetch_optional(db).await
}

/// A disk's current file and size in GB, if the disk still exists.
pub async fn disk_file(db: &Db, id: &str) -> Result<Option<(String, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT object_key, size_gb FROM disks WHERE id = $1").bind(id).fetch_optional(db).await
}

/// Whether any disk uses the file at `object_key`.
pub async fn disk_file_in_use(db: &Db, object_key: &str) -> Result<bool, sqlx::Error> {
    let count: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM disks WHERE object_key = $1").bind(object_key).fetch_one(db).await?;
    Ok(count > 0)
}

/// Images the caller may make servers and disks from (`$2` region, `$3` project, `$4` now):
/// public images of the region, the project's own, images shared with it once the share is
/// accepted (until it stops or expires), and the region's KooGallery images.
const USABLE_BY_CALLER: &str = "i.deleted_at IS NULL AND ( \
    (i.imagetype = 'gold' AND i.region = $2) \
    OR i.owner = $3 \
    OR EXISTS (SELECT 1 FROM market_offerings o WHERE o.image_id = i.id AND o.region = $2) \
    OR EXISTS (SELECT 1 FROM image_members m WHERE m.image_id = i.id AND m.member_id = $3 AND m.status = 'accepted' \
               AND (m.expires_at IS NULL OR m.expires_at > $4)))";

/// An image the caller may use, with what the rules and the jobs need.
pub struct SourceImage {
    pub id: String,
    pub facts: ImageFacts,
    pub file_location: String,
    pub disk_format: String,
    pub os_type: String,
    pub platform: String,
    pub os_version: String,
}

#[derive(sqlx::FromRow)]
struct SourceImageRow {
    name: String,
    status: ImageStatus,
    image_kind: String,
    imagetype: String,
    architecture: String,
    hw_firmware_type: String,
    min_ram: i64,
    max_ram: i64,
    min_disk: i64,
    virtual_size: i64,
    file_location: String,
    disk_format: String,
    os_type: String,
    platform: String,
    os_version: String,
}

pub async fn source_image(db: &Db, caller: &Caller, id: &str) -> Result<SourceImage, AppError> {
    let sql = format!(
        "SELECT i.name, i.status, i.image_kind, i.imagetype, i.architecture, i.hw_firmware_type, i.min_ram, i.max_ram, \
         i.min_disk, i.virtual_size, i.file_location, i.disk_format, i.os_type, i.platform, i.os_version \
         FROM images i WHERE i.id = $1 AND {USABLE_BY_CALLER}"
    );
    let row: Option<SourceImageRow> = sqlx::query_as(&sql)
        .bind(id)
        .bind(&caller.region)
        .bind(&caller.project_id)
        .bind(now_ms())
        .fetch_optional(db)
        .await?;
    // Not found (404), like every other object of another tenant's, whatever the form.
    let row = row.ok_or_else(|| {
        AppError::NotFound(format!(
            "Image '{id}' does not exist in region {} or you cannot use it.",
            region_name(&caller.region)
        ))
    })?;
    Ok(SourceImage {
        id: id.to_string(),
        facts: ImageFacts {
            name: row.name,
            status: row.status,
            kind: row.image_kind,
            imagetype: row.imagetype,
            architecture: row.architecture,
            boot_mode: row.hw_firmware_type,
            min_ram: row.min_ram,
            max_ram: row.max_ram,
            min_disk: row.min_disk,
            virtual_size: row.virtual_size,
            has_file: !row.file_location.is_empty(),
        },
        file_location: row.file_location,
        disk_format: row.disk_format,
        os_type: row.os_type,
        platform: row.platform,
        os_version: row.os_version,
    })
}

#[derive(sqlx::FromRow)]
struct ChoiceRow {
    id: String,
    name: String,
    imagetype: String,
    owner: String,
    image_kind: String,
    architecture: String,
    hw_firmware_type: String,
    min_disk: i64,
    min_ram: i64,
    price_cents: Option<i64>,
    deprecated_at: Option<i64>,
    favorite: i64,
}

/// Every image the caller may make servers (or, `for_disks`, disks) from, with the user's stars
/// and whether each is deprecated (the form decides what to show).
pub async fn image_choices(db: &Db, caller: &Caller, for_disks: bool) -> Result<Vec<ImageChoice>, AppError> {
    let kinds = if for_disks { "('data')" } else { "('system', 'full_ecs', 'iso')" };
    let sql = format!(
        "SELECT i.id, i.name, i.imagetype, i.owner, i.image_kind, i.architecture, i.hw_firmware_type, i.min_disk, i.min_ram, \
         i.deprecated_at, (SELECT o.price_cents FROM market_offerings o WHERE o.image_id = i.id) AS price_cents, \
         (SELECT COUNT(*) FROM favorite_images f WHERE f.image_id = i.id AND f.user_id = $5) AS favorite \
         FROM images i WHERE i.id <> $1 AND {USABLE_BY_CALLER} AND i.status = 'active' AND i.file_location <> '' \
         AND i.image_kind IN {kinds} ORDER BY i.imagetype, i.name LIMIT 1000"
    );
    let now = now_ms();
    let rows: Vec<ChoiceRow> = sqlx::query_as(&sql)
        .bind("")
        .bind(&caller.region)
        .bind(&caller.project_id)
        .bind(now)
        .bind(&caller.user_id)
        .fetch_all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| ImageChoice {
            category: match row.imagetype.as_str() {
                "gold" => "Public",
                _ if row.owner == caller.project_id => "Private",
                _ if row.price_cents.is_some() => "KooGallery",
                _ => "Shared",
            }
            .to_string(),
            id: row.id,
            name: row.name,
            kind: row.image_kind,
            architecture: row.architecture,
            boot_mode: row.hw_firmware_type,
            min_disk: row.min_disk,
            min_ram: row.min_ram,
            price_cents: row.price_cents.unwrap_or(0),
            deprecated: row.deprecated_at.is_some_and(|at| at <= now),
            favorite: row.favorite > 0,
        })
        .collect())
}

// ---- Servers -----------------------------------------------------------------------------

/// A server to insert (status Creating); its OS comes from the image.
pub struct NewServer<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub flavor: &'a str,
    pub image_id: &'a str,
    pub image_name: &'a str,
    pub os_type: &'a str,
    pub platform: &'a str,
    pub os_version: &'a str,
    pub architecture: &'a str,
    pub boot_mode: &'a str,
    /// Made from an ISO image to install an OS.
    pub temporary: bool,
}

pub async fn insert_server(
    transaction: &mut Transaction<'_, Any>,
    caller: &Caller,
    server: &NewServer<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO servers (id, region, project_id, name, flavor, status, image_id, image_name, os_type, platform, \
         os_version, architecture, boot_mode, temporary, created_at, updated_at, image_price_cents) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, \
         COALESCE((SELECT m.price_cents FROM market_subscriptions m WHERE m.project_id = $3 AND m.image_id = $7), 0))",
    )
    .bind(server.id)
    .bind(&caller.region)
    .bind(&caller.project_id)
    .bind(server.name)
    .bind(server.flavor)
    .bind(ServerStatus::Creating)
    .bind(server.image_id)
    .bind(server.image_name)
    .bind(server.os_type)
    .bind(server.platform)
    .bind(server.os_version)
    .bind(server.architecture)
    .bind(server.boot_mode)
    .bind(i64::from(server.temporary))
    .bind(now_ms())
    .execute(&mut **transaction)
    .await?;
    Ok(())
}

/// Moves a server from `from` to `to` with `reason`. False when it was not in `from` (it
/// changed state meanwhile, or is gone).
pub async fn move_server<'e>(
    executor: impl Executor<'e, Database = Any>,
    id: &str,
    from: ServerStatus,
    to: ServerStatus,
    reason: &str,
) -> Result<bool, sqlx::Error> {
    let moved = sqlx::query(
        "UPDATE servers SET status = $1, status_reason = $2, updated_at = $3 WHERE id = $4 AND status = $5",
    )
    .bind(to)
    .bind(reason)
    .bind(now_ms())
    .bind(id)
    .bind(from)
    .execute(executor)
    .await?;
    Ok(moved.rows_affected() == 1)
}

/// Locks the server's row for the rest of `transaction` if it is Running or Stopped (a row
/// lock on PostgreSQL, the write lock on SQLite), so that checks made after it hold until
/// commit. False when the server is not settled any more.
pub async fn lock_settled_server(transaction: &mut Transaction<'_, Any>, id: &str) -> Result<bool, sqlx::Error> {
    let locked = sqlx::query("UPDATE servers SET updated_at = $1 WHERE id = $2 AND status IN ('running', 'stopped')")
        .bind(now_ms())
        .bind(id)
        .execute(&mut **transaction)
        .await?;
    Ok(locked.rows_affected() == 1)
}

/// A created server's disks are written: they are in use and the server runs.
pub async fn finish_server_creation(db: &Db, server_id: &str, disk_ids: &[&str]) -> Result<(), sqlx::Error> {
    let mut transaction = db.begin().await?;
    for disk_id in disk_ids {
        sqlx::query("UPDATE disks SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(DiskStatus::InUse)
            .bind(now_ms())
            .bind(disk_id)
            .execute(&mut *transaction)
            .await?;
    }
    move_server(&mut *transaction, server_id, ServerStatus::Creating, ServerStatus::Running, "").await?;
    transaction.commit().await
}

/// The image an OS change installs: its id and what the server takes from it.
pub struct InstalledImage<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub os_type: &'a str,
    pub platform: &'a str,
    pub os_version: &'a str,
    pub boot_mode: &'a str,
}

/// Points the system disk at its new file and the server at its new OS, and starts it.
pub async fn swap_system_disk(
    db: &Db,
    server_id: &str,
    disk_id: &str,
    object_key: &str,
    image: &InstalledImage<'_>,
) -> Result<(), sqlx::Error> {
    let now = now_ms();
    let mut transaction = db.begin().await?;
    sqlx::query("UPDATE disks SET object_key = $1, image_id = $2, updated_at = $3 WHERE id = $4")
        .bind(object_key)
        .bind(image.id)
        .bind(now)
        .bind(disk_id)
        .execute(&mut *transaction)
        .await?;
    sqlx::query(
        "UPDATE servers SET status = $1, status_reason = '', image_id = $2, image_name = $3, os_type = $4, \
         platform = $5, os_version = $6, boot_mode = $7, temporary = 0, updated_at = $8, \
         image_price_cents = COALESCE((SELECT m.price_cents FROM market_subscriptions m \
           WHERE m.project_id = servers.project_id AND m.image_id = $2), 0) WHERE id = $9 AND status = $10",
    )
    .bind(ServerStatus::Running)
    .bind(image.id)
    .bind(image.name)
    .bind(image.os_type)
    .bind(image.platform)
    .bind(image.os_version)
    .bind(image.boot_mode)
    .bind(now)
    .bind(server_id)
    .bind(ServerStatus::ChangingOs)
    .execute(&mut *transaction)
    .await?;
    transaction.commit().await
}

/// Deletes the server row if it is still in `status`. The row goes first: an attach racing
/// with the delete then finds no server.
pub async fn delete_server_row(
    transaction: &mut Transaction<'_, Any>,
    caller: &Caller,
    id: &str,
    status: ServerStatus,
) -> Result<bool, sqlx::Error> {
    let deleted = sqlx::query("DELETE FROM servers WHERE id = $1 AND project_id = $2 AND status = $3")
        .bind(id)
        .bind(&caller.project_id)
        .bind(status)
        .execute(&mut **transaction)
        .await?;
    Ok(deleted.rows_affected() == 1)
}

/// Removes a deleted server's system disk (and its data disks when asked); the others are
/// detached and kept as Available disks. Returns the removed disks, whose files go next.
pub async fn remove_server_disks(
    transaction: &mut Transaction<'_, Any>,
    server_id: &str,
    delete_data_disks: bool,
) -> Result<Vec<DiskRow>, sqlx::Error> {
    let disks: Vec<DiskRow> = sqlx::query_as("SELECT * FROM disks WHERE server_id = $1")
        .bind(server_id)
        .fetch_all(&mut **transaction)
        .await?;
    let (removed, kept): (Vec<DiskRow>, Vec<DiskRow>) =
        disks.into_iter().partition(|disk| disk.role == "system" || delete_data_disks);
    for disk in &removed {
        sqlx::query("DELETE FROM disks WHERE id = $1").bind(&disk.id).execute(&mut **transaction).await?;
    }
    for disk in &kept {
        sqlx::query("UPDATE disks SET server_id = '', device = '', status = $1, updated_at = $2 WHERE id = $3")
            .bind(DiskStatus::Available)
            .bind(now_ms())
            .bind(&disk.id)
            .execute(&mut **transaction)
            .await?;
    }
    Ok(removed)
}

// ---- Disks -------------------------------------------------------------------------------

/// A disk to insert: a data disk on its own (no server, no device), or a server's disk.
pub struct NewDisk<'a> {
    pub name: &'a str,
    pub size_gb: i64,
    pub status: DiskStatus,
    pub server_id: &'a str,
    /// `system` or `data`.
    pub role: &'a str,
    /// /dev/vda for a system disk, /dev/vdb... for attached data disks, empty otherwise.
    pub device: &'a str,
    /// The image the disk is made from, if any.
    pub image_id: &'a str,
}

/// Inserts a disk; returns its id and the key of its (future) file.
pub async fn insert_disk(
    transaction: &mut Transaction<'_, Any>,
    caller: &Caller,
    disk: &NewDisk<'_>,
) -> Result<(String, String), sqlx::Error> {
    let id = uuid::Uuid::new_v4().to_string();
    let key = Storage::disk_key(&caller.region, &id);
    sqlx::query(
        "INSERT INTO disks (id, region, project_id, name, size_gb, status, server_id, role, device, image_id, object_key, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
    )
    .bind(&id)
    .bind(&caller.region)
    .bind(&caller.project_id)
    .bind(disk.name)
    .bind(disk.size_gb)
    .bind(disk.status)
    .bind(disk.server_id)
    .bind(disk.role)
    .bind(disk.device)
    .bind(disk.image_id)
    .bind(&key)
    .bind(now_ms())
    .execute(&mut **transaction)
    .await?;
    Ok((id, key))
}

/// Moves a disk from `from` to `to` with `reason`; false when it was not in `from`.
pub async fn move_disk(db: &Db, id: &str, from: DiskStatus, to: DiskStatus, reason: &str) -> Result<bool, sqlx::Error> {
    let moved =
        sqlx::query("UPDATE disks SET status = $1, status_reason = $2, updated_at = $3 WHERE id = $4 AND status = $5")
            .bind(to)
            .bind(reason)
            .bind(now_ms())
            .bind(id)
            .bind(from)
            .execute(db)
            .await?;
    Ok(moved.rows_affected() == 1)
}

/// Marks the disks of a server whose creation failed.
pub async fn fail_creating_disks(db: &Db, server_id: &str, reason: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE disks SET status = $1, status_reason = $2 WHERE server_id = $3 AND status = $4")
        .bind(DiskStatus::Error)
        .bind(reason)
        .bind(server_id)
        .bind(DiskStatus::Creating)
        .execute(db)
        .await?;
    Ok(())
}

/// Attaches an Available disk as `device`, only while the server is still there and settled
/// and the device still free (a unique index on server and device guards the last point too).
pub async fn attach_disk(
    transaction: &mut Transaction<'_, Any>,
    caller: &Caller,
    server_id: &str,
    disk_id: &str,
    device: &str,
) -> Result<bool, sqlx::Error> {
    let attached = sqlx::query(
        "UPDATE disks SET status = $1, server_id = $2, device = $3, updated_at = $4 WHERE id = $5 AND status = $6 \
         AND EXISTS (SELECT 1 FROM servers s WHERE s.id = $2 AND s.project_id = $7 AND s.status IN ('running', 'stopped')) \
         AND NOT EXISTS (SELECT 1 FROM disks d WHERE d.server_id = $2 AND d.device = $3)",
    )
    .bind(DiskStatus::InUse)
    .bind(server_id)
    .bind(device)
    .bind(now_ms())
    .bind(disk_id)
    .bind(DiskStatus::Available)
    .bind(&caller.project_id)
    .execute(&mut **transaction)
    .await?;
    Ok(attached.rows_affected() == 1)
}

pub async fn detach_disk(transaction: &mut Transaction<'_, Any>, disk_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE disks SET status = $1, server_id = '', device = '', updated_at = $2 WHERE id = $3 AND status = $4",
    )
    .bind(DiskStatus::Available)
    .bind(now_ms())
    .bind(disk_id)
    .bind(DiskStatus::InUse)
    .execute(&mut **transaction)
    .await?;
    Ok(())
}

/// Deletes a disk of the caller's that is Available or in Error; false when it is not.
pub async fn delete_disk(db: &Db, caller: &Caller, id: &str) -> Result<bool, sqlx::Error> {
    let deleted =
        sqlx::query("DELETE FROM disks WHERE id = $1 AND project_id = $2 AND status IN ('available', 'error')")
            .bind(id)
            .bind(&caller.project_id)
            .execute(db)
            .await?;
    Ok(deleted.rows_affected() == 1)
}

/// Claims the disk for a console read or write until `until` (unix ms): a lease every instance
/// sees, which runs out by itself if this instance dies. False when another claim holds it.
/// Claims the disk for one console read or write until `until`, under `token`.
pub async fn claim_disk_io(db: &Db, id: &str, until: i64, token: &str) -> Result<bool, sqlx::Error> {
    let claimed = sqlx::query("UPDATE disks SET io_until = $1, io_claim = $2 WHERE id = $3 AND io_until < $4")
        .bind(until)
        .bind(token)
        .bind(id)
        .bind(now_ms())
        .execute(db)
        .await?;
    Ok(claimed.rows_affected() == 1)
}

/// Releases the claim made with `token`; a claim that ran out and was taken by someone else
/// stays theirs.
pub async fn release_disk_io(db: &Db, id: &str, token: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE disks SET io_until = 0, io_claim = '' WHERE id = $1 AND io_claim = $2")
        .bind(id)
        .bind(token)
        .execute(db)
        .await?;
    Ok(())
}
