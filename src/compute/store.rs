//! Reading servers, disks and usable images from the database. Every function takes the
//! caller and scopes its SQL to the caller's project (changes are in `actions`).

use super::flavors::{find_flavor, Flavor};
use super::rules::ImageFacts;
use super::{DiskView, ImageChoice, ServerDetail, ServerView};
use crate::auth::CurrentUser;
use crate::db::Db;
use crate::error::AppError;
use sqlx::Any;

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
    pub status: String,
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
        }
    }

    pub fn flavor(&self) -> Result<&'static Flavor, AppError> {
        find_flavor(&self.region, &self.flavor)
            .ok_or_else(|| AppError::internal("server flavor", format!("unknown flavor {} of {}", self.flavor, self.id)))
    }
}

#[derive(Clone, sqlx::FromRow)]
pub struct DiskRow {
    pub id: String,
    pub region: String,
    pub project_id: String,
    pub name: String,
    pub size_gb: i64,
    pub status: String,
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
}

pub(super) fn field(name: &str, message: String) -> AppError {
    AppError::Fields(vec![(name.to_string(), message)])
}

pub async fn list_servers(db: &Db, user: &CurrentUser, name: &str, status: &str) -> Result<Vec<ServerView>, AppError> {
    let sql = format!(
        "{SERVER_SELECT} WHERE s.project_id = $1 AND ($2 = '' OR LOWER(s.name) LIKE $3 ESCAPE '\\') AND ($4 = '' OR s.status = $4) \
         ORDER BY s.created_at DESC, s.id DESC LIMIT 500"
    );
    let pattern = format!("%{}%", crate::db::like_escape(&name.to_lowercase()));
    let rows: Vec<ServerRow> =
        sqlx::query_as(&sql).bind(&user.project_id).bind(name).bind(pattern).bind(status).fetch_all(db).await?;
    Ok(rows.into_iter().map(ServerRow::view).collect())
}

pub async fn find_server(db: &Db, user: &CurrentUser, id: &str) -> Result<ServerRow, AppError> {
    let sql = format!("{SERVER_SELECT} WHERE s.id = $1 AND s.project_id = $2");
    let row: Option<ServerRow> = sqlx::query_as(&sql).bind(id).bind(&user.project_id).fetch_optional(db).await?;
    row.ok_or_else(|| {
        AppError::NotFound(format!("ECS '{id}' does not exist in region {}.", crate::regions::region_name(&user.region)))
    })
}

pub async fn server_disks(db: &Db, server_id: &str) -> Result<Vec<DiskRow>, AppError> {
    Ok(sqlx::query_as("SELECT * FROM disks WHERE server_id = $1 ORDER BY device, id").bind(server_id).fetch_all(db).await?)
}

pub async fn find_disk(db: &Db, user: &CurrentUser, id: &str) -> Result<DiskRow, AppError> {
    let row: Option<DiskRow> = sqlx::query_as(
        "SELECT d.*, COALESCE(s.name, '') AS server_name FROM disks d LEFT JOIN servers s ON s.id = d.server_id \
         WHERE d.id = $1 AND d.project_id = $2",
    )
    .bind(id)
    .bind(&user.project_id)
    .fetch_optional(db)
    .await?;
    row.ok_or_else(|| AppError::NotFound(format!("Disk '{id}' does not exist in region {}.", crate::regions::region_name(&user.region))))
}

pub async fn server_detail(db: &Db, user: &CurrentUser, id: &str) -> Result<ServerDetail, AppError> {
    let server = find_server(db, user, id).await?;
    let disks = server_disks(db, id).await?;
    let server_name = server.name.clone();
    Ok(ServerDetail {
        server: server.view(),
        disks: disks.into_iter().map(|disk| DiskRow { server_name: server_name.clone(), ..disk }.view()).collect(),
    })
}

pub async fn list_disks(db: &Db, user: &CurrentUser) -> Result<Vec<DiskView>, AppError> {
    let rows: Vec<DiskRow> = sqlx::query_as(
        "SELECT d.*, COALESCE(s.name, '') AS server_name FROM disks d LEFT JOIN servers s ON s.id = d.server_id \
         WHERE d.project_id = $1 ORDER BY d.created_at DESC, d.id DESC LIMIT 1000",
    )
    .bind(&user.project_id)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(DiskRow::view).collect())
}

/// Types of the jobs queued or running on a server or disk, oldest first.
pub async fn pending_jobs<'e>(executor: impl sqlx::Executor<'e, Database = Any>, resource_id: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT job_type FROM jobs WHERE resource_id = $1 AND status IN ('INIT', 'RUNNING') ORDER BY created_at")
        .bind(resource_id)
        .fetch_all(executor)
        .await
}

pub async fn pending_work(db: &Db, resource_id: &str) -> Result<Option<String>, AppError> {
    Ok(pending_jobs(db, resource_id).await?.into_iter().next())
}

/// Images the caller may make servers and disks from (`$2` region, `$3` project): public images
/// of the region, the project's own, and images shared with it once the share is accepted.
const USABLE_BY_CALLER: &str = "i.deleted_at IS NULL AND ( \
    (i.imagetype = 'gold' AND i.region = $2) \
    OR i.owner = $3 \
    OR EXISTS (SELECT 1 FROM image_members m WHERE m.image_id = i.id AND m.member_id = $3 AND m.status = 'accepted'))";

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

pub async fn source_image(db: &Db, user: &CurrentUser, id: &str) -> Result<SourceImage, AppError> {
    type Row = (String, String, String, String, String, String, i64, i64, i64, i64, String, String, String, String, String);
    let sql = format!(
        "SELECT i.name, i.status, i.image_kind, i.imagetype, i.architecture, i.hw_firmware_type, i.min_ram, i.max_ram, \
         i.min_disk, i.virtual_size, i.file_location, i.disk_format, i.os_type, i.platform, i.os_version \
         FROM images i WHERE i.id = $1 AND {USABLE_BY_CALLER}"
    );
    let row: Option<Row> =
        sqlx::query_as(&sql).bind(id).bind(&user.region).bind(&user.project_id).fetch_optional(db).await?;
    let Some((name, status, kind, imagetype, architecture, boot_mode, min_ram, max_ram, min_disk, virtual_size, file_location, disk_format, os_type, platform, os_version)) = row
    else {
        return Err(field(
            "image_id",
            format!("Image '{id}' does not exist in region {} or you cannot use it.", crate::regions::region_name(&user.region)),
        ));
    };
    Ok(SourceImage {
        id: id.to_string(),
        facts: ImageFacts {
            name,
            status,
            kind,
            imagetype,
            architecture,
            boot_mode,
            min_ram,
            max_ram,
            min_disk,
            virtual_size,
            has_file: !file_location.is_empty(),
        },
        file_location,
        disk_format,
        os_type,
        platform,
        os_version,
    })
}

pub async fn image_choices(db: &Db, user: &CurrentUser, for_disks: bool) -> Result<Vec<ImageChoice>, AppError> {
    let kinds = if for_disks { "('data')" } else { "('system', 'full_ecs', 'iso')" };
    let sql = format!(
        "SELECT i.id, i.name, i.imagetype, i.owner, i.image_kind, i.architecture, i.hw_firmware_type, i.min_disk, i.min_ram \
         FROM images i WHERE i.id <> $1 AND {USABLE_BY_CALLER} AND i.status = 'active' AND i.file_location <> '' \
         AND i.image_kind IN {kinds} ORDER BY i.imagetype, i.name LIMIT 1000"
    );
    let rows: Vec<(String, String, String, String, String, String, String, i64, i64)> =
        sqlx::query_as(&sql).bind("").bind(&user.region).bind(&user.project_id).fetch_all(db).await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, imagetype, owner, kind, architecture, boot_mode, min_disk, min_ram)| ImageChoice {
            category: match imagetype.as_str() {
                "gold" => "Public",
                _ if owner == user.project_id => "Private",
                _ => "Shared",
            }
            .to_string(),
            id,
            name,
            kind,
            architecture,
            boot_mode,
            min_disk,
            min_ram,
        })
        .collect())
}

