//! Glance's way of making an image: a record first (`POST /v2/images`, Queued, no file), then
//! its data (`PUT /v2/images/{id}/file`), which goes through the same import job as a console
//! import (inspection, quotas, store). Downloads stream the stored file. Free-form string
//! properties are kept as a JSON object and echoed back.

use super::jobs::{ImportParams, IMPORT_JOB};
use super::model::ImageStatus;
use super::requests::IMPORT_FORMATS;
use super::store::{self, NewImage};
use super::validate;
use crate::caller::Caller;
use crate::db::now_ms;
use crate::error::AppError;
use crate::jobs::model::JobEntities;
use crate::jobs::queue::{enqueue, NewJob};
use crate::quotas::model::QuotaKind;
use crate::quotas::service::require_room;
use crate::state::AppState;
use crate::storage::Storage;
use bytes::Bytes;
use serde_json::{Map, Value};

/// What a Glance create request may set.
#[derive(Clone, Debug, Default)]
pub struct GlanceCreate {
    pub name: String,
    pub disk_format: String,
    pub container_format: String,
    pub min_disk: i64,
    pub min_ram: i64,
    pub protected: bool,
    pub tags: Vec<String>,
    pub os_version: String,
    pub platform: String,
    pub os_type: String,
    pub properties: Map<String, Value>,
}

/// Marks images made by a Glance create: until data comes, such an image may be deleted.
pub const GLANCE_ORIGIN: &str = "glance";

pub fn check_disk_format(format: &str) -> Result<(), AppError> {
    if format.is_empty() || IMPORT_FORMATS.contains(&format) {
        Ok(())
    } else {
        Err(AppError::Invalid(format!(
            "disk_format '{format}' is not supported: use one of {}.",
            IMPORT_FORMATS.join(", ")
        )))
    }
}

/// Registers a Queued image without a file; returns its id.
pub async fn create_record(state: &AppState, caller: &Caller, request: &GlanceCreate) -> Result<String, AppError> {
    let name = request.name.trim();
    validate::image_name(name).map_err(|message| AppError::Invalid(format!("name: {message}")))?;
    check_disk_format(&request.disk_format)?;
    if !matches!(request.container_format.as_str(), "" | "bare") {
        return Err(AppError::Invalid("container_format must be bare: images are single disk files.".into()));
    }
    if !(0..=1024).contains(&request.min_disk) || !(0..=524_288).contains(&request.min_ram) {
        return Err(AppError::Invalid("min_disk must be 0 to 1024 (GB) and min_ram 0 to 524288 (MB).".into()));
    }
    let mut tags = Vec::new();
    for tag in &request.tags {
        validate::tag_key(tag).map_err(|message| AppError::Invalid(format!("Tag '{tag}': {message}")))?;
        tags.push((tag.clone(), String::new()));
    }
    if tags.len() > validate::MAX_TAGS {
        return Err(AppError::Invalid(format!("An image can have at most {} tags.", validate::MAX_TAGS)));
    }
    require_room(state, caller, QuotaKind::Images, 1).await?;
    let kind = if request.disk_format == "iso" { "iso" } else { "system" };
    let image = NewImage {
        os_type: request.os_type.clone(),
        platform: request.platform.clone(),
        os_version: request.os_version.clone(),
        disk_format: request.disk_format.clone(),
        min_disk: request.min_disk,
        min_ram: request.min_ram,
        protected: request.protected,
        root_origin: GLANCE_ORIGIN.into(),
        tags,
        ..NewImage::queued(caller, name, kind)
    };
    let mut transaction = state.db.begin().await?;
    store::insert_image(&mut transaction, &image).await?;
    sqlx::query("UPDATE images SET properties = $1 WHERE id = $2")
        .bind(Value::Object(request.properties.clone()).to_string())
        .bind(&image.id)
        .execute(&mut *transaction)
        .await?;
    transaction.commit().await?;
    Ok(image.id)
}

/// Receives an image's data (`body`, `size_hint` from `X-OpenStack-Image-Size` when sent) and
/// queues its import. Only a Queued image with no data yet takes data. Returns the job id.
pub async fn upload<S, E>(
    state: &AppState,
    caller: &Caller,
    id: &str,
    size_hint: Option<u64>,
    body: S,
) -> Result<String, AppError>
where
    S: futures::Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let image = super::service::own_private(state, caller, id).await?;
    let detail = store::get_image(&state.db, caller, id).await?;
    if image.status != ImageStatus::Queued || detail.has_file || busy(&state.db, id).await? {
        return Err(AppError::Conflict(format!("Image '{}' already has data (or is receiving it).", image.name)));
    }
    let format = detail.disk_format.clone();
    if format.is_empty() {
        return Err(AppError::Invalid(format!(
            "Image '{}' has no disk_format: set it (e.g. qcow2 or raw) before uploading data.",
            image.name
        )));
    }
    check_disk_format(&format)?;
    if let Some(size) = size_hint.filter(|size| *size > 0) {
        require_room(state, caller, QuotaKind::StoredBytes, size as i64).await?;
    }
    // Data past the project's stored-data quota (or the largest image) is refused as it comes,
    // whether or not the client announced a size.
    let room = crate::quotas::service::room_left(state, caller, QuotaKind::StoredBytes).await? as u64;
    let limit = state.config.engine.max_virtual_size.min(room);
    let staged = Storage::staging_key(&caller.region, id);
    let written = state.storage.put_stream(&staged, body, limit).await.map_err(|error| {
        tracing::warn!(%error, image = id, "receiving a Glance upload");
        AppError::Invalid("The upload broke off before all data arrived. Upload the data again.".into())
    })?;
    let Some(written) = written else {
        return Err(AppError::TooMany(format!(
            "The data is larger than the {} bytes this project may still store (or an image file may have).",
            limit
        )));
    };
    if written.size == 0 {
        let _ = state.storage.delete(&staged).await;
        return Err(AppError::Invalid(
            "The upload holds no data: send the image file's bytes as the request body.".into(),
        ));
    }
    let params = ImportParams {
        image_id: id.to_string(),
        source_key: staged.clone(),
        file_format: format,
        quick_import: false,
        min_disk: (detail.min_disk > 0).then_some(detail.min_disk),
        keep_original: true,
        staged: true,
    };
    let queued = queue_import(state, caller, &image.name, params, "glance upload").await;
    if queued.is_err() {
        let _ = state.storage.delete(&staged).await;
    }
    queued
}

/// IMS `register_image`: imports `bucket`:`object_key` (format from its name) into a record
/// made by `POST /v2/images`. Returns the job id.
pub async fn register_file(
    state: &AppState,
    caller: &Caller,
    id: &str,
    bucket: &str,
    object_key: &str,
    file_format: &str,
) -> Result<String, AppError> {
    let image = super::service::own_private(state, caller, id).await?;
    let detail = store::get_image(&state.db, caller, id).await?;
    if image.status != ImageStatus::Queued
        || detail.has_file
        || detail.root_origin != GLANCE_ORIGIN
        || busy(&state.db, id).await?
    {
        return Err(AppError::Conflict(format!(
            "Image '{}' is not an empty record made with POST /v2/images: it already has (or is getting) a file.",
            image.name
        )));
    }
    let (bucket_row, _) = crate::buckets::service::find_object(state, caller, bucket, object_key)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("Object '{object_key}' does not exist in bucket '{bucket}'.")))?;
    let params = ImportParams {
        image_id: id.to_string(),
        source_key: Storage::bucket_key(&caller.region, &bucket_row.id, object_key),
        file_format: file_format.to_string(),
        quick_import: false,
        min_disk: (detail.min_disk > 0).then_some(detail.min_disk),
        keep_original: false,
        staged: false,
    };
    queue_import(state, caller, &image.name, params, &format!("file,{bucket}:{object_key}")).await
}

/// Queues the import of `params` into its (Queued, empty) image, unless another started meanwhile.
async fn queue_import(
    state: &AppState,
    caller: &Caller,
    name: &str,
    params: ImportParams,
    data_origin: &str,
) -> Result<String, AppError> {
    let id = params.image_id.clone();
    let entities = JobEntities { image_id: id.clone(), image_name: name.to_string(), ..Default::default() };
    let mut transaction = state.db.begin().await?;
    // Under the image's lock: a second upload racing this one finds the job and stops.
    let live = store::lock_image(&mut transaction, &id).await?;
    if !live || busy(&mut *transaction, &id).await? {
        return Err(AppError::Conflict(format!("Image '{name}' is already receiving data.")));
    }
    sqlx::query("UPDATE images SET data_origin = $1, updated_at = $2 WHERE id = $3")
        .bind(data_origin)
        .bind(now_ms())
        .bind(&id)
        .execute(&mut *transaction)
        .await?;
    let job_id = enqueue(&mut transaction, NewJob::new(caller, IMPORT_JOB, &params, entities).for_image(&id)).await?;
    transaction.commit().await?;
    state.wake_jobs();
    Ok(job_id)
}

async fn busy<'e>(executor: impl sqlx::Executor<'e, Database = sqlx::Any>, id: &str) -> Result<bool, sqlx::Error> {
    let jobs: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE image_id = $1 AND status IN ('INIT', 'RUNNING')")
            .bind(id)
            .fetch_one(executor)
            .await?;
    Ok(jobs > 0)
}

/// The stored file of an image the caller may see: (object key, size, md5), or `None` when it
/// has no data (yet).
pub async fn file_of(state: &AppState, caller: &Caller, id: &str) -> Result<Option<(String, i64, String)>, AppError> {
    let image = store::get_image(&state.db, caller, id).await?;
    if image.status != ImageStatus::Active || !image.has_file || image.kind == "full_ecs" {
        return Ok(None);
    }
    let location: Option<(String, String)> = store::file_of(&state.db, id).await?;
    Ok(location.map(|(key, _)| (key, image.image_size, image.checksum)))
}

/// Replaces the free-form properties of one of the caller's private images.
pub async fn set_properties(
    state: &AppState,
    caller: &Caller,
    id: &str,
    map: &Map<String, Value>,
) -> Result<(), AppError> {
    super::service::own_private(state, caller, id).await?;
    if map.len() > 64
        || map.iter().any(|(key, value)| key.len() > 255 || value.as_str().is_none_or(|text| text.len() > 1024))
    {
        return Err(AppError::Invalid("Properties are at most 64 string values of up to 1024 characters.".into()));
    }
    sqlx::query("UPDATE images SET properties = $1, updated_at = $2 WHERE id = $3 AND owner = $4")
        .bind(Value::Object(map.clone()).to_string())
        .bind(now_ms())
        .bind(id)
        .bind(&caller.project_id)
        .execute(&state.db)
        .await?;
    Ok(())
}
