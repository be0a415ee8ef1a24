//! The images tables: with `recycle_store` (the recycle bin) and `tag_store` (tag edits), the
//! only place that writes `images`, `image_tags` and `image_disks`, so "where does an image's
//! status change?" has a one-file answer. Reads for a caller are scoped to what that caller may
//! see: public images of its region, its own project's images, images shared with that
//! project, and the region's KooGallery images. The list's queries are in `list_store`.

use super::list_store::{bind_all, Arg};
use super::model::{ImageDetail, ImageStatus, ImageTag};
use crate::caller::Caller;
use crate::db::{now_ms, Db};
use crate::error::AppError;
use crate::sharing::model::MemberStatus;
use sqlx::{Any, Executor, Transaction};

#[derive(sqlx::FromRow)]
struct ImageRow {
    id: String,
    region: String,
    owner: String,
    name: String,
    description: String,
    status: ImageStatus,
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
    deprecated_at: Option<i64>,
    properties: String,
    family: String,
}

/// Images the caller may see: `$2` is their region, `$3` their project, `$4` now. A project
/// sees the images shared with it whatever its answer, until the share stops or expires.
const VISIBLE_TO_CALLER: &str = "i.deleted_at IS NULL AND ( \
    (i.imagetype = 'gold' AND i.region = $2) \
    OR i.owner = $3 \
    OR EXISTS (SELECT 1 FROM market_offerings o WHERE o.image_id = i.id AND o.region = $2) \
    OR EXISTS (SELECT 1 FROM image_members m WHERE m.image_id = i.id AND m.member_id = $3 \
               AND (m.expires_at IS NULL OR m.expires_at > $4)))";

/// The name of an image the caller may see.
pub async fn visible_name(db: &Db, user: &Caller, id: &str) -> Result<Option<String>, sqlx::Error> {
    let sql = format!("SELECT i.name FROM images i WHERE i.id = $1 AND {VISIBLE_TO_CALLER}");
    sqlx::query_scalar(&sql).bind(id).bind(&user.region).bind(&user.project_id).bind(now_ms()).fetch_optional(db).await
}

pub fn not_found(id: &str, user: &Caller) -> AppError {
    AppError::NotFound(format!(
        "Image '{id}' does not exist in region {} or you cannot see it.",
        crate::regions::region_name(&user.region)
    ))
}

pub async fn get_image(db: &Db, user: &Caller, id: &str) -> Result<ImageDetail, AppError> {
    let sql = format!("SELECT i.* FROM images i WHERE i.id = $1 AND {VISIBLE_TO_CALLER}");
    let now = now_ms();
    let row: Option<ImageRow> =
        sqlx::query_as(&sql).bind(id).bind(&user.region).bind(&user.project_id).bind(now).fetch_optional(db).await?;
    let row = row.ok_or_else(|| not_found(id, user))?;
    let owner_account: Option<String> =
        sqlx::query_scalar("SELECT a.name FROM projects p JOIN accounts a ON a.id = p.account_id WHERE p.id = $1")
            .bind(&row.owner)
            .fetch_optional(db)
            .await?;
    let member_status: Option<MemberStatus> = sqlx::query_scalar(
        "SELECT status FROM image_members WHERE image_id = $1 AND member_id = $2 \
         AND (expires_at IS NULL OR expires_at > $3)",
    )
    .bind(id)
    .bind(&user.project_id)
    .bind(now)
    .fetch_optional(db)
    .await?;
    let shared_with: i64 = if row.owner == user.project_id {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM image_members WHERE image_id = $1 AND (expires_at IS NULL OR expires_at > $2)",
        )
        .bind(id)
        .bind(now)
        .fetch_one(db)
        .await?
    } else {
        0
    };
    let offering = crate::market::store::offering_of(db, id).await?;
    let favorite: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM favorite_images WHERE user_id = $1 AND image_id = $2")
        .bind(&user.user_id)
        .bind(id)
        .fetch_one(db)
        .await?;
    let tags: Vec<(String, String)> =
        sqlx::query_as("SELECT tag_key, tag_value FROM image_tags WHERE image_id = $1 ORDER BY tag_key")
            .bind(id)
            .fetch_all(db)
            .await?;
    let data_disks_gb: Vec<i64> =
        sqlx::query_scalar("SELECT size_gb FROM image_disks WHERE image_id = $1 ORDER BY position")
            .bind(id)
            .fetch_all(db)
            .await?;
    let mut detail = row.into_detail(&user.project_id, now);
    detail.data_disks_gb = data_disks_gb;
    detail.tags = tags.into_iter().map(|(key, value)| ImageTag { key, value }).collect();
    detail.owner_account = owner_account.unwrap_or_default();
    detail.member_status = member_status;
    detail.shared_with = shared_with;
    detail.offering = offering;
    detail.favorite = favorite > 0;
    Ok(detail)
}

impl ImageRow {
    /// The row as a detail record; what comes from other tables is left empty.
    fn into_detail(self, project_id: &str, now: i64) -> ImageDetail {
        let row = self;
        ImageDetail {
            owned: row.owner == project_id,
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
            family: row.family,
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
            data_disks_gb: Vec::new(),
            has_file: !row.file_location.is_empty(),
            tags: Vec::new(),
            owner_account: String::new(),
            member_status: None,
            shared_with: 0,
            offering: None,
            lineage: None,
            deprecated: row.deprecated_at.is_some_and(|at| at <= now),
            deprecated_at: row.deprecated_at,
            favorite: false,
            properties: row.properties,
        }
    }
}

/// The select list of an API page query: the whole row, and its tags as one text of
/// `key=value` pairs joined by commas (tag keys and values hold only letters, digits, `_` and
/// `-`: `validate::tag_key`, `validate::tag_value`).
/// Both backends have `string_agg` (SQLite since 3.44).
pub const ROW_WITH_TAGS: &str = "i.*, (SELECT string_agg(t.tag_key || '=' || t.tag_value, ',' ORDER BY t.tag_key) \
     FROM image_tags t WHERE t.image_id = i.id) AS tag_list";

#[derive(sqlx::FromRow)]
struct RowWithTags {
    #[sqlx(flatten)]
    row: ImageRow,
    tag_list: Option<String>,
}

/// The rows a page query selecting `ROW_WITH_TAGS` returns (already scoped to what the caller
/// may see), in its order, with their tags and the caller's share answers: the API lists'
/// page in one query, two when it holds images other projects shared.
pub(super) async fn page_details(
    db: &Db,
    user: &Caller,
    sql: &str,
    args: &[Arg],
) -> Result<Vec<ImageDetail>, sqlx::Error> {
    let rows: Vec<RowWithTags> = bind_all!(sqlx::query_as(sql), args).fetch_all(db).await?;
    let now = now_ms();
    // Share answers exist only for private images of other projects (none on a page of one's own).
    let others: Vec<String> = rows
        .iter()
        .filter(|found| found.row.imagetype == "private" && found.row.owner != user.project_id)
        .map(|found| found.row.id.clone())
        .collect();
    let answers = share_answers(db, user, &others, now).await?;
    Ok(rows
        .into_iter()
        .map(|found| {
            let mut detail = found.row.into_detail(&user.project_id, now);
            detail.tags = found
                .tag_list
                .unwrap_or_default()
                .split(',')
                .filter(|pair| !pair.is_empty())
                .map(|pair| {
                    let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                    ImageTag { key: key.to_string(), value: value.to_string() }
                })
                .collect();
            detail.member_status = answers.get(&detail.id).copied();
            detail
        })
        .collect())
}

/// The caller's live share answers to the images `ids` (images of other projects).
async fn share_answers(
    db: &Db,
    user: &Caller,
    ids: &[String],
    now: i64,
) -> Result<std::collections::HashMap<String, MemberStatus>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let list: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
    let member = ids.len() + 1;
    let sql = format!(
        "SELECT image_id, status FROM image_members WHERE image_id IN ({}) AND member_id = ${member} \
         AND (expires_at IS NULL OR expires_at > ${})",
        list.join(", "),
        member + 1
    );
    let mut query = sqlx::query_as(&sql);
    for id in ids {
        query = query.bind(id.clone());
    }
    let answers: Vec<(String, MemberStatus)> = query.bind(&user.project_id).bind(now).fetch_all(db).await?;
    Ok(answers.into_iter().collect())
}

/// What deletion and export need to know of one of the caller's own images.
#[derive(sqlx::FromRow)]
pub struct OwnedImage {
    pub name: String,
    pub status: ImageStatus,
    pub image_kind: String,
    pub imagetype: String,
    pub protected: i64,
    pub file_location: String,
    pub image_size: i64,
    pub virtual_size: i64,
    pub cmk_id: String,
    pub architecture: String,
    pub hw_firmware_type: String,
}

/// An image the caller's project owns, if it is not deleted.
pub async fn find_owned(db: &Db, caller: &Caller, id: &str) -> Result<Option<OwnedImage>, sqlx::Error> {
    sqlx::query_as(
        "SELECT name, status, image_kind, imagetype, protected, file_location, image_size, virtual_size, cmk_id, \
         architecture, hw_firmware_type FROM images \
         WHERE id = $1 AND owner = $2 AND deleted_at IS NULL",
    )
    .bind(id)
    .bind(&caller.project_id)
    .fetch_optional(db)
    .await
}

/// What Modify changes on one of the caller's images. False when it is not the caller's live
/// image or is still being created (nothing changed).
pub async fn update_attributes(
    db: &Db,
    caller: &Caller,
    id: &str,
    valid: &super::requests::ValidModify,
) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query(
        "UPDATE images SET name = $1, description = $2, min_ram = $3, max_ram = $4, hw_firmware_type = $5, \
         os_version = $6, protected = $7, updated_at = $8, \
         family_settled = CASE WHEN $11 <> '' AND family <> $11 THEN 0 ELSE family_settled END, family = $11 \
         WHERE id = $9 AND owner = $10 AND deleted_at IS NULL AND status NOT IN ('queued', 'saving')",
    )
    .bind(&valid.name)
    .bind(&valid.description)
    .bind(valid.min_ram)
    .bind(valid.max_ram)
    .bind(&valid.boot_mode)
    .bind(&valid.os_version)
    .bind(i64::from(valid.protected))
    .bind(now_ms())
    .bind(id)
    .bind(&caller.project_id)
    .bind(&valid.family)
    .execute(db)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// Turns deletion protection of one of the caller's images on or off. False when it is not
/// the caller's live image.
pub async fn set_protected(db: &Db, caller: &Caller, id: &str, protected: bool) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query(
        "UPDATE images SET protected = $1, updated_at = $2 WHERE id = $3 AND owner = $4 AND deleted_at IS NULL",
    )
    .bind(i64::from(protected))
    .bind(now_ms())
    .bind(id)
    .bind(&caller.project_id)
    .execute(db)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// Sets (or with `None` clears) the deprecation time of one of the caller's live images.
pub async fn set_deprecation(db: &Db, caller: &Caller, id: &str, at: Option<i64>) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query(
        "UPDATE images SET deprecated_at = $1, updated_at = $2 WHERE id = $3 AND owner = $4 AND deleted_at IS NULL",
    )
    .bind(at)
    .bind(now_ms())
    .bind(id)
    .bind(&caller.project_id)
    .execute(db)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// Stars (or unstars) an image for the user.
pub async fn set_favorite(db: &Db, user_id: &str, image_id: &str, favorite: bool) -> Result<(), sqlx::Error> {
    if favorite {
        sqlx::query(
            "INSERT INTO favorite_images (user_id, image_id, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, image_id) DO NOTHING",
        )
        .bind(user_id)
        .bind(image_id)
        .bind(now_ms())
        .execute(db)
        .await?;
    } else {
        sqlx::query("DELETE FROM favorite_images WHERE user_id = $1 AND image_id = $2")
            .bind(user_id)
            .bind(image_id)
            .execute(db)
            .await?;
    }
    Ok(())
}

/// Takes the image's row lock for the rest of the transaction (a no-op write), so changes that
/// check and then write the image's members or listing take turns. False when it is gone.
pub async fn lock_image(transaction: &mut Transaction<'_, Any>, id: &str) -> Result<bool, sqlx::Error> {
    let locked = sqlx::query("UPDATE images SET updated_at = updated_at WHERE id = $1 AND deleted_at IS NULL")
        .bind(id)
        .execute(&mut **transaction)
        .await?;
    Ok(locked.rows_affected() == 1)
}

/// The stored image file: object key and checksums.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StoredFile {
    pub location: String,
    pub md5: String,
    pub sha256: String,
}

/// Everything needed to insert one image row. Public images belong to the platform's project
/// of their region; `file` is set only for images whose file already exists (the demo's).
#[derive(Clone, Debug)]
pub struct NewImage {
    pub id: String,
    pub region: String,
    pub owner: String,
    pub name: String,
    pub description: String,
    pub status: ImageStatus,
    pub status_reason: String,
    pub public: bool,
    /// A platform KooGallery image (`__imagetype` market); its offering is listed separately.
    pub market: bool,
    pub kind: String,
    pub os_type: String,
    pub platform: String,
    pub os_version: String,
    pub architecture: String,
    pub boot_mode: String,
    pub disk_format: String,
    pub min_disk: i64,
    pub min_ram: i64,
    pub max_ram: i64,
    pub image_size: i64,
    pub virtual_size: i64,
    pub protected: bool,
    pub cmk_id: String,
    pub data_origin: String,
    pub root_origin: String,
    pub original_image_id: String,
    pub support_flags: String,
    /// The image family it joins ("" for none); its policy applies once it is Normal.
    pub family: String,
    pub created_at: i64,
    pub tags: Vec<(String, String)>,
    pub file: Option<StoredFile>,
}

impl NewImage {
    /// A private image of the caller's project, queued until its job stores the file.
    pub fn queued(caller: &Caller, name: &str, kind: &str) -> NewImage {
        NewImage { owner: caller.project_id.clone(), ..NewImage::queued_for(&caller.region, name, kind) }
    }

    /// An image of `region` with every attribute at its default, queued, owned by nobody yet.
    pub fn queued_for(region: &str, name: &str, kind: &str) -> NewImage {
        NewImage {
            id: uuid::Uuid::new_v4().to_string(),
            region: region.to_string(),
            owner: String::new(),
            name: name.to_string(),
            description: String::new(),
            status: ImageStatus::Queued,
            status_reason: String::new(),
            public: false,
            market: false,
            kind: kind.to_string(),
            os_type: "Other".into(),
            platform: "Other".into(),
            os_version: String::new(),
            architecture: "x86".into(),
            boot_mode: "bios".into(),
            disk_format: "qcow2".into(),
            min_disk: 0,
            min_ram: 0,
            max_ram: 0,
            image_size: 0,
            virtual_size: 0,
            protected: false,
            cmk_id: String::new(),
            data_origin: String::new(),
            root_origin: String::new(),
            original_image_id: String::new(),
            support_flags: String::new(),
            family: String::new(),
            created_at: now_ms(),
            tags: Vec::new(),
            file: None,
        }
    }
}

/// The IMS `virtual_env_type` of an image kind.
fn virtual_env_type(kind: &str) -> &'static str {
    match kind {
        "data" => "DataImage",
        "iso" => "IsoImage",
        _ => "FusionCompute",
    }
}

/// Inserts the image and its tags inside the caller's transaction (so a job queued in the same
/// transaction appears with it, or neither does).
pub async fn insert_image(transaction: &mut Transaction<'_, Any>, image: &NewImage) -> Result<(), sqlx::Error> {
    let active_at = (image.status == ImageStatus::Active).then_some(image.created_at + 180_000);
    let (visibility, imagetype) = match (image.public, image.market) {
        (_, true) => ("public", "market"),
        (true, false) => ("public", "gold"),
        (false, false) => ("private", "private"),
    };
    let file = image.file.clone().unwrap_or_default();
    sqlx::query(
        "INSERT INTO images (id, region, owner, name, description, status, status_reason, visibility, imagetype, \
         image_kind, virtual_env_type, os_type, platform, os_version, architecture, hw_firmware_type, disk_format, \
         min_disk, min_ram, max_ram, image_size, virtual_size, protected, cmk_id, data_origin, root_origin, \
         original_image_id, support_flags, created_at, updated_at, active_at, file_location, checksum, sha256, \
         family, family_settled) VALUES \
         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, \
         $23, $24, $25, $26, $27, $28, $29, $29, $30, $31, $32, $33, $34, $35)",
    )
    .bind(&image.id)
    .bind(&image.region)
    .bind(&image.owner)
    .bind(&image.name)
    .bind(&image.description)
    .bind(image.status)
    .bind(&image.status_reason)
    .bind(visibility)
    .bind(imagetype)
    .bind(&image.kind)
    .bind(virtual_env_type(&image.kind))
    .bind(&image.os_type)
    .bind(&image.platform)
    .bind(&image.os_version)
    .bind(&image.architecture)
    .bind(&image.boot_mode)
    .bind(&image.disk_format)
    .bind(image.min_disk)
    .bind(image.min_ram)
    .bind(image.max_ram)
    .bind(image.image_size)
    .bind(image.virtual_size)
    .bind(image.protected as i64)
    .bind(&image.cmk_id)
    .bind(&image.data_origin)
    .bind(&image.root_origin)
    .bind(&image.original_image_id)
    .bind(&image.support_flags)
    .bind(image.created_at)
    .bind(active_at)
    .bind(&file.location)
    .bind(&file.md5)
    .bind(&file.sha256)
    .bind(&image.family)
    .bind(i64::from(image.family.is_empty()))
    .execute(&mut **transaction)
    .await?;
    for (key, value) in &image.tags {
        sqlx::query("INSERT INTO image_tags (image_id, tag_key, tag_value) VALUES ($1, $2, $3)")
            .bind(&image.id)
            .bind(key)
            .bind(value)
            .execute(&mut **transaction)
            .await?;
    }
    Ok(())
}

/// The image's status while it is not deleted.
pub async fn status_of(db: &Db, id: &str) -> Result<Option<ImageStatus>, sqlx::Error> {
    sqlx::query_scalar("SELECT status FROM images WHERE id = $1 AND deleted_at IS NULL")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// A job has started making the image's file.
pub async fn mark_saving(db: &Db, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE images SET status = $1, status_reason = '', updated_at = $2 WHERE id = $3 AND deleted_at IS NULL",
    )
    .bind(ImageStatus::Saving)
    .bind(now_ms())
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

/// Records the virtual size an import found, which its project's stored-data quota counts
/// while the image is being made.
pub async fn reserve_virtual_size(db: &Db, id: &str, virtual_size: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE images SET virtual_size = $1, updated_at = $2 WHERE id = $3")
        .bind(virtual_size)
        .bind(now_ms())
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// What a finished job stored for an image.
pub struct FinishedFile<'a> {
    pub disk_format: &'a str,
    /// Bytes stored, over every file of the image.
    pub image_size: i64,
    pub virtual_size: i64,
    pub file: &'a StoredFile,
    /// Replaces the min disk given at registration, when the job measured it.
    pub min_disk: Option<i64>,
}

/// The image's file is stored: the image becomes usable. False when the image was deleted
/// meanwhile (the caller then removes what it stored).
pub async fn mark_active<'e>(
    executor: impl Executor<'e, Database = Any>,
    id: &str,
    finished: &FinishedFile<'_>,
) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query(
        "UPDATE images SET status = $1, status_reason = '', disk_format = $2, image_size = $3, virtual_size = $4, \
         checksum = $5, sha256 = $6, min_disk = COALESCE($7, min_disk), file_location = $8, active_at = $9, \
         updated_at = $9 WHERE id = $10 AND deleted_at IS NULL",
    )
    .bind(ImageStatus::Active)
    .bind(finished.disk_format)
    .bind(finished.image_size)
    .bind(finished.virtual_size)
    .bind(&finished.file.md5)
    .bind(&finished.file.sha256)
    .bind(finished.min_disk)
    .bind(&finished.file.location)
    .bind(now_ms())
    .bind(id)
    .execute(executor)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// The job making the image failed: the image shows why. Only an image still being created
/// fails. True when this call failed it.
pub async fn mark_killed(db: &Db, id: &str, reason: &str) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query(
        "UPDATE images SET status = $1, status_reason = $2, updated_at = $3 \
         WHERE id = $4 AND deleted_at IS NULL AND status IN ('queued', 'saving')",
    )
    .bind(ImageStatus::Killed)
    .bind(reason)
    .bind(now_ms())
    .bind(id)
    .execute(db)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// Whether the image has been deleted.
pub async fn is_deleted(db: &Db, id: &str) -> Result<bool, sqlx::Error> {
    let deleted: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM images WHERE id = $1 AND deleted_at IS NOT NULL")
        .bind(id)
        .fetch_one(db)
        .await?;
    Ok(deleted > 0)
}

/// A data disk of a full-ECS image (its system disk is the image's own file).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ImageDisk {
    pub position: i64,
    pub size_gb: i64,
    pub object_key: String,
}

pub async fn data_disks(db: &Db, image_id: &str) -> Result<Vec<ImageDisk>, sqlx::Error> {
    sqlx::query_as("SELECT position, size_gb, object_key FROM image_disks WHERE image_id = $1 ORDER BY position")
        .bind(image_id)
        .fetch_all(db)
        .await
}

/// A stored data disk file of a full-ECS image.
pub struct StoredDisk {
    pub disk: ImageDisk,
    /// Bytes of the stored file.
    pub image_size: u64,
    pub sha256: String,
}

/// Records a full-ECS image's data disk files (replacing any from an earlier run of its job).
pub async fn replace_data_disks(
    transaction: &mut Transaction<'_, Any>,
    image_id: &str,
    disks: &[StoredDisk],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM image_disks WHERE image_id = $1").bind(image_id).execute(&mut **transaction).await?;
    for StoredDisk { disk, image_size, sha256 } in disks {
        sqlx::query(
            "INSERT INTO image_disks (image_id, position, size_gb, object_key, image_size, sha256) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(image_id)
        .bind(disk.position)
        .bind(disk.size_gb)
        .bind(&disk.object_key)
        .bind(*image_size as i64)
        .bind(sha256)
        .execute(&mut **transaction)
        .await?;
    }
    Ok(())
}

/// Counts a use of an image: `servers` servers made from it (0 for an OS change or a disk).
pub async fn record_usage(
    transaction: &mut Transaction<'_, Any>,
    image_id: &str,
    servers: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE images SET servers_created = servers_created + $1, last_used_at = $2 WHERE id = $3")
        .bind(servers)
        .bind(now_ms())
        .bind(image_id)
        .execute(&mut **transaction)
        .await?;
    Ok(())
}

/// The stored file of a live image and its format (what export and disk jobs read).
pub async fn file_of(db: &Db, id: &str) -> Result<Option<(String, String)>, sqlx::Error> {
    sqlx::query_as("SELECT file_location, disk_format FROM images WHERE id = $1 AND deleted_at IS NULL")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// The OS an image installs: (name, os type, platform, OS version, boot mode).
pub async fn os_of(db: &Db, id: &str) -> Result<Option<(String, String, String, String, String)>, sqlx::Error> {
    sqlx::query_as("SELECT name, os_type, platform, os_version, hw_firmware_type FROM images WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// What a replica copies of its source's stored file.
#[derive(sqlx::FromRow)]
pub struct SourceFile {
    pub file_location: String,
    pub disk_format: String,
    pub virtual_size: i64,
    /// MD5, as IMS names it.
    pub checksum: String,
    pub sha256: String,
}

/// The stored file of a live image, if it has one.
pub async fn source_file(db: &Db, id: &str) -> Result<Option<SourceFile>, sqlx::Error> {
    let file: Option<SourceFile> = sqlx::query_as(
        "SELECT file_location, disk_format, virtual_size, checksum, sha256 FROM images WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind(id)
    .fetch_optional(db)
    .await?;
    Ok(file.filter(|file| !file.file_location.is_empty()))
}
