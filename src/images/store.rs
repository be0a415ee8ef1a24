//! Image queries. Every function takes the caller, and its SQL is scoped to what that caller
//! may see: public images of the selected region, the caller's own project's images, and
//! images shared with that project.

use super::{ImageDetail, ImagePage, ImageSummary, ImageTab, ImageTag, SortKey, ValidQuery};
use crate::auth::CurrentUser;
use crate::db::{like_escape, now_ms, Db};
use crate::error::AppError;
use crate::storage::Storage;

/// A bind value for SQL built at run time.
enum Arg {
    Text(String),
    Int(i64),
}

/// A WHERE clause and its arguments, numbered `$1`, `$2`, ... in order.
#[derive(Default)]
struct Filter {
    clauses: Vec<String>,
    args: Vec<Arg>,
}

impl Filter {
    /// Adds `clause`, in which `?` stands for the new argument.
    fn push(&mut self, clause: &str, arg: Arg) {
        self.args.push(arg);
        self.clauses.push(clause.replace('?', &format!("${}", self.args.len())));
    }

    fn push_plain(&mut self, clause: &str) {
        self.clauses.push(clause.to_string());
    }

    fn sql(&self) -> String {
        self.clauses.join(" AND ")
    }
}

/// Binds every argument in order (works for `query_as` and `query_scalar` alike).
macro_rules! bind_all {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args {
            query = match arg {
                Arg::Text(text) => query.bind(text.clone()),
                Arg::Int(number) => query.bind(*number),
            };
        }
        query
    }};
}

/// Which images of the tab the caller may see.
fn tab_scope(filter: &mut Filter, tab: ImageTab, user: &CurrentUser) {
    filter.push_plain("i.deleted_at IS NULL");
    match tab {
        ImageTab::Public => {
            filter.push_plain("i.imagetype = 'gold'");
            filter.push("i.region = ?", Arg::Text(user.region.clone()));
        }
        ImageTab::Private => {
            // A project owns only private images (public ones belong to the platform).
            filter.push("i.owner = ?", Arg::Text(user.project_id.clone()));
        }
        ImageTab::Shared => {
            filter.push_plain("i.imagetype = 'private'");
            filter.push("i.region = ?", Arg::Text(user.region.clone()));
            filter.push(
                "EXISTS (SELECT 1 FROM image_members m WHERE m.image_id = i.id AND m.member_id = ? AND m.status <> 'rejected')",
                Arg::Text(user.project_id.clone()),
            );
        }
    }
}

fn user_filters(filter: &mut Filter, query: &ValidQuery) {
    if let Some(name) = &query.name {
        filter.push("LOWER(i.name) LIKE ? ESCAPE '\\'", Arg::Text(format!("%{}%", like_escape(&name.to_lowercase()))));
    }
    for (column, value) in [
        ("i.os_type", &query.os_type),
        ("i.platform", &query.platform),
        ("i.image_kind", &query.kind),
        ("i.status", &query.status),
    ] {
        if let Some(value) = value {
            filter.push(&format!("{column} = ?"), Arg::Text(value.clone()));
        }
    }
    if let Some(key) = &query.tag_key {
        match &query.tag_value {
            Some(value) => {
                filter.args.push(Arg::Text(key.clone()));
                filter.args.push(Arg::Text(value.clone()));
                let (k, v) = (filter.args.len() - 1, filter.args.len());
                filter.push_plain(&format!(
                    "EXISTS (SELECT 1 FROM image_tags t WHERE t.image_id = i.id AND t.tag_key = ${k} AND t.tag_value = ${v})"
                ));
            }
            None => filter.push(
                "EXISTS (SELECT 1 FROM image_tags t WHERE t.image_id = i.id AND t.tag_key = ?)",
                Arg::Text(key.clone()),
            ),
        }
    }
    if let Some(from) = query.created_from_ms {
        filter.push("i.created_at >= ?", Arg::Int(from));
    }
    if let Some(until) = query.created_until_ms {
        filter.push("i.created_at < ?", Arg::Int(until));
    }
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: String,
    name: String,
    status: String,
    status_reason: String,
    os_type: String,
    os_version: String,
    platform: String,
    image_kind: String,
    disk_format: String,
    image_size: i64,
    min_disk: i64,
    min_ram: i64,
    architecture: String,
    hw_firmware_type: String,
    created_at: i64,
    cmk_id: String,
    protected: i64,
    owner: String,
    progress: Option<f64>,
    servers_created: i64,
    has_file: i64,
}

impl SummaryRow {
    fn into_summary(self, project_id: &str) -> ImageSummary {
        ImageSummary {
            owned: self.owner == project_id,
            id: self.id,
            name: self.name,
            status: self.status,
            status_reason: self.status_reason,
            os_type: self.os_type,
            os_version: self.os_version,
            platform: self.platform,
            kind: self.image_kind,
            disk_format: self.disk_format,
            image_size: self.image_size,
            min_disk: self.min_disk,
            min_ram: self.min_ram,
            architecture: self.architecture,
            hw_firmware_type: self.hw_firmware_type,
            created_at: self.created_at,
            encrypted: !self.cmk_id.is_empty(),
            protected: self.protected != 0,
            progress: self.progress,
            servers_created: self.servers_created,
            has_file: self.has_file != 0,
        }
    }
}

const SUMMARY_COLUMNS: &str = "i.id, i.name, i.status, i.status_reason, i.os_type, i.os_version, i.platform, \
    i.image_kind, i.disk_format, i.image_size, i.min_disk, i.min_ram, i.architecture, i.hw_firmware_type, \
    i.created_at, i.cmk_id, i.protected, i.owner, i.servers_created, \
    CAST(CASE WHEN i.file_location = '' THEN 0 ELSE 1 END AS BIGINT) AS has_file, \
    (SELECT MAX(j.percent) FROM jobs j WHERE j.image_id = i.id AND j.status IN ('INIT', 'RUNNING')) AS progress";

pub async fn list_images(db: &Db, user: &CurrentUser, query: &ValidQuery) -> Result<ImagePage, AppError> {
    let mut filter = Filter::default();
    tab_scope(&mut filter, query.tab, user);
    user_filters(&mut filter, query);
    let where_sql = filter.sql();

    let count_sql = format!("SELECT COUNT(*) FROM images i WHERE {where_sql}");
    let total: i64 = bind_all!(sqlx::query_scalar(&count_sql), &filter.args).fetch_one(db).await?;

    let sort_column = match query.sort {
        SortKey::Created => "i.created_at",
        SortKey::Name => "i.name",
        SortKey::Size => "i.image_size",
    };
    let direction = if query.descending { "DESC" } else { "ASC" };
    let offset = (query.page as i64 - 1) * query.page_size as i64;
    // Page through ids alone first (the sort indexes cover them), then fetch just that page's
    // rows: deep pages skip index entries instead of whole rows.
    let order = format!("{sort_column} {direction}, i.id {direction}");
    let list_sql = format!(
        "SELECT {SUMMARY_COLUMNS} FROM images i JOIN \
         (SELECT i.id FROM images i WHERE {where_sql} ORDER BY {order} LIMIT {} OFFSET {offset}) page ON page.id = i.id \
         ORDER BY {order}",
        query.page_size
    );
    let rows: Vec<SummaryRow> = bind_all!(sqlx::query_as(&list_sql), &filter.args).fetch_all(db).await?;
    Ok(ImagePage {
        images: rows.into_iter().map(|row| row.into_summary(&user.project_id)).collect(),
        total,
        page: query.page,
        page_size: query.page_size,
    })
}

#[derive(sqlx::FromRow)]
struct ImageRow {
    id: String,
    region: String,
    owner: String,
    name: String,
    description: String,
    status: String,
    status_reason: String,
    visibility: String,
    imagetype: String,
    image_kind: String,
    virtual_env_type: String,
    os_type: String,
    platform: String,
    os_version: String,
    os_bit: String,
    architecture: String,
    hw_firmware_type: String,
    disk_format: String,
    container_format: String,
    min_disk: i64,
    min_ram: i64,
    max_ram: i64,
    image_size: i64,
    virtual_size: i64,
    checksum: String,
    sha256: String,
    protected: i64,
    is_registered: i64,
    cmk_id: String,
    data_origin: String,
    original_image_id: String,
    root_origin: String,
    backup_id: String,
    enterprise_project_id: String,
    image_source_type: String,
    support_flags: String,
    created_at: i64,
    updated_at: i64,
    active_at: Option<i64>,
    servers_created: i64,
    last_used_at: Option<i64>,
    file_location: String,
}

/// Images the caller may see: `$2` is their region, `$3` their project.
const VISIBLE_TO_CALLER: &str = "i.deleted_at IS NULL AND ( \
    (i.imagetype = 'gold' AND i.region = $2) \
    OR i.owner = $3 \
    OR EXISTS (SELECT 1 FROM image_members m WHERE m.image_id = i.id AND m.member_id = $3 AND m.status <> 'rejected'))";

fn not_found(id: &str, user: &CurrentUser) -> AppError {
    AppError::NotFound(format!(
        "Image '{id}' does not exist in region {} or you cannot see it.",
        crate::regions::region_name(&user.region)
    ))
}

pub async fn get_image(db: &Db, user: &CurrentUser, id: &str) -> Result<ImageDetail, AppError> {
    let sql = format!("SELECT i.* FROM images i WHERE i.id = $1 AND {VISIBLE_TO_CALLER}");
    let row: Option<ImageRow> = sqlx::query_as(&sql)
        .bind(id)
        .bind(&user.region)
        .bind(&user.project_id)
        .fetch_optional(db)
        .await?;
    let row = row.ok_or_else(|| not_found(id, user))?;
    let tags: Vec<(String, String)> =
        sqlx::query_as("SELECT tag_key, tag_value FROM image_tags WHERE image_id = $1 ORDER BY tag_key")
            .bind(id)
            .fetch_all(db)
            .await?;
    let data_disks_gb: Vec<i64> = sqlx::query_scalar("SELECT size_gb FROM image_disks WHERE image_id = $1 ORDER BY position")
        .bind(id)
        .fetch_all(db)
        .await?;
    Ok(ImageDetail {
        owned: row.owner == user.project_id,
        id: row.id,
        name: row.name,
        description: row.description,
        region: row.region,
        owner: row.owner,
        status: row.status,
        status_reason: row.status_reason,
        visibility: row.visibility,
        imagetype: row.imagetype,
        kind: row.image_kind,
        virtual_env_type: row.virtual_env_type,
        os_type: row.os_type,
        platform: row.platform,
        os_version: row.os_version,
        os_bit: row.os_bit,
        architecture: row.architecture,
        hw_firmware_type: row.hw_firmware_type,
        disk_format: row.disk_format,
        container_format: row.container_format,
        min_disk: row.min_disk,
        min_ram: row.min_ram,
        max_ram: row.max_ram,
        image_size: row.image_size,
        virtual_size: row.virtual_size,
        checksum: row.checksum,
        sha256: row.sha256,
        protected: row.protected != 0,
        is_registered: row.is_registered != 0,
        cmk_id: row.cmk_id,
        data_origin: row.data_origin,
        original_image_id: row.original_image_id,
        root_origin: row.root_origin,
        backup_id: row.backup_id,
        enterprise_project_id: row.enterprise_project_id,
        image_source_type: row.image_source_type,
        support_flags: row.support_flags.split(',').filter(|flag| !flag.is_empty()).map(str::to_string).collect(),
        created_at: row.created_at,
        updated_at: row.updated_at,
        active_at: row.active_at,
        servers_created: row.servers_created,
        last_used_at: row.last_used_at,
        data_disks_gb,
        has_file: !row.file_location.is_empty(),
        tags: tags.into_iter().map(|(key, value)| ImageTag { key, value }).collect(),
    })
}

/// Marks a private image of the caller's project deleted. Protected images and images still
/// being created are refused, each with its reason.
pub async fn delete_private_image(db: &Db, storage: &Storage, user: &CurrentUser, id: &str) -> Result<(), AppError> {
    let row: Option<(String, i64, String, String)> = sqlx::query_as(
        "SELECT name, protected, status, file_location FROM images \
         WHERE id = $1 AND owner = $2 AND imagetype = 'private' AND deleted_at IS NULL",
    )
    .bind(id)
    .bind(&user.project_id)
    .fetch_optional(db)
    .await?;
    let (name, protected, status, file_location) = row.ok_or_else(|| not_found(id, user))?;
    if protected != 0 {
        return Err(AppError::Conflict(format!("Image '{name}' is protected and cannot be deleted.")));
    }
    if status == "queued" || status == "saving" {
        return Err(AppError::Conflict(format!(
            "Image '{name}' is still being created. Delete it when it is ready or has failed."
        )));
    }
    // A full-ECS image also has a file per data disk.
    let part_keys: Vec<String> = sqlx::query_scalar("SELECT object_key FROM image_disks WHERE image_id = $1")
        .bind(id)
        .fetch_all(db)
        .await?;
    let now = now_ms();
    let mut transaction = db.begin().await?;
    sqlx::query("DELETE FROM image_tags WHERE image_id = $1").bind(id).execute(&mut *transaction).await?;
    sqlx::query("DELETE FROM image_disks WHERE image_id = $1").bind(id).execute(&mut *transaction).await?;
    sqlx::query("DELETE FROM image_members WHERE image_id = $1").bind(id).execute(&mut *transaction).await?;
    sqlx::query(
        "UPDATE images SET status = 'deleted', deleted_at = $1, updated_at = $1 WHERE id = $2 AND owner = $3",
    )
    .bind(now)
    .bind(id)
    .bind(&user.project_id)
    .execute(&mut *transaction)
    .await?;
    transaction.commit().await?;
    for key in std::iter::once(file_location).chain(part_keys).filter(|key| !key.is_empty()) {
        if let Err(error) = storage.delete(&key).await {
            tracing::warn!(%error, image = id, "removing a deleted image's file");
        }
    }
    tracing::info!(image = id, project = %user.project_id, user = %user.user_name, "image deleted");
    Ok(())
}
