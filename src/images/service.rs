//! What a caller can do with images: list and read them, delete its own, create one from a
//! file in a bucket and export one to a bucket. The console's server functions (and later the
//! IMS and Glance APIs) are thin adapters over these.

use super::jobs::{ExportParams, ImportParams, EXPORT_JOB, IMPORT_JOB};
use super::lineage::{self, Origin};
use super::model::{ImageDetail, ImagePage, ImageStatus, Lineage};
use super::query::ImageQuery;
use super::requests::{ExportRequest, ImportRequest, ModifyRequest};
use super::store::{self, NewImage};
use crate::buckets::service::{find_object, require_bucket};
use crate::buckets::store as bucket_store;
use crate::caller::Caller;
use crate::error::AppError;
use crate::jobs::model::JobEntities;
use crate::jobs::queue::{enqueue, NewJob};
use crate::quotas::model::QuotaKind;
use crate::quotas::service::require_room;
use crate::quotas::store::gb;
use crate::state::AppState;
use crate::storage::Storage;

/// One page of the images the caller may see in its region.
pub async fn list_images(state: &AppState, caller: &Caller, query: &ImageQuery) -> Result<ImagePage, AppError> {
    let valid = query.validate()?;
    super::list_store::list_images(&state.db, caller, &valid).await
}

/// One image, if the caller may see it, with its lineage.
pub async fn get_image(state: &AppState, caller: &Caller, id: &str) -> Result<ImageDetail, AppError> {
    let mut image = store::get_image(&state.db, caller, id).await?;
    let origin = Origin {
        imagetype: &image.imagetype,
        data_origin: &image.data_origin,
        original_image_id: &image.original_image_id,
    };
    let own = image.owned && image.imagetype == "private";
    image.lineage = Some(Lineage {
        source: lineage::source(&state.db, caller, &origin).await?,
        parent: lineage::parent(&state.db, caller, &origin).await?,
        descendants: lineage::descendants(&state.db, caller, id, own).await?,
    });
    Ok(image)
}

/// Moves one of the caller's private images to the recycle bin (see `recycle`).
pub async fn delete_image(state: &AppState, caller: &Caller, id: &str) -> Result<(), AppError> {
    super::recycle::delete_images(state, caller, &[id.to_string()]).await
}

/// One of the caller's own private images, or NotFound (a viewer never gets here: the gate
/// refuses it; a recipient of a shared image and a public image are not the caller's).
pub async fn own_private(state: &AppState, caller: &Caller, id: &str) -> Result<store::OwnedImage, AppError> {
    store::find_owned(&state.db, caller, id)
        .await?
        .filter(|image| image.imagetype == "private")
        .ok_or_else(|| AppError::NotFound(format!("Image '{id}' is not one of your private images in this region.")))
}

/// Modify: name, description, memory limits, boot mode, OS version and deletion protection of
/// one of the caller's private images, checked by the rules of creation.
pub async fn modify_image(state: &AppState, caller: &Caller, request: &ModifyRequest) -> Result<(), AppError> {
    let id = request.image_id.trim();
    let image = own_private(state, caller, id).await?;
    if image.status.is_in_progress() {
        return Err(AppError::Conflict(format!(
            "Image '{}' is still being created. Modify it when it is ready.",
            image.name
        )));
    }
    let valid =
        request.validate(&image.image_kind, &image.architecture, &image.hw_firmware_type).map_err(AppError::Fields)?;
    if !store::update_attributes(&state.db, caller, id, &valid).await? {
        return Err(AppError::Conflict(format!("Image '{}' changed meanwhile; try again.", image.name)));
    }
    tracing::info!(image = id, project = %caller.project_id, user = %caller.user_name, "image modified");
    Ok(())
}

/// The detail page's deletion protection switch.
pub async fn set_protection(state: &AppState, caller: &Caller, id: &str, protected: bool) -> Result<(), AppError> {
    own_private(state, caller, id).await?;
    if !store::set_protected(&state.db, caller, id, protected).await? {
        return Err(store::not_found(id, caller));
    }
    tracing::info!(image = id, protected, user = %caller.user_name, "deletion protection set");
    Ok(())
}

/// Stars (`favorite`) or unstars an image the caller can see, for the caller alone.
pub async fn set_favorite(state: &AppState, caller: &Caller, id: &str, favorite: bool) -> Result<(), AppError> {
    if favorite && store::visible_name(&state.db, caller, id).await?.is_none() {
        return Err(store::not_found(id, caller));
    }
    store::set_favorite(&state.db, &caller.user_id, id, favorite).await?;
    Ok(())
}

/// Sets the deprecation time of one of the caller's private images (`YYYY-MM-DDTHH:MM`, UTC),
/// or clears it (empty). From that time on the image is Deprecated.
pub async fn set_deprecation(state: &AppState, caller: &Caller, id: &str, at: &str) -> Result<(), AppError> {
    own_private(state, caller, id).await?;
    let at = match at.trim() {
        "" => None,
        text => Some(crate::format::parse_datetime_ms(text).ok_or_else(|| {
            AppError::field("deprecate_at", format!("'{text}' is not a date and time like 2026-12-31T18:00."))
        })?),
    };
    if !store::set_deprecation(&state.db, caller, id, at).await? {
        return Err(store::not_found(id, caller));
    }
    tracing::info!(image = id, deprecate_at = ?at, user = %caller.user_name, "deprecation set");
    Ok(())
}

/// A new image and the job that makes its file.
#[derive(Clone, Debug, PartialEq)]
pub struct CreatedImage {
    pub image_id: String,
    pub job_id: String,
}

/// Registers a private image (Queued) from a file in one of the caller's buckets and queues the
/// job that inspects, converts and stores it.
pub async fn create_image_from_file(
    state: &AppState,
    caller: &Caller,
    request: &ImportRequest,
) -> Result<CreatedImage, AppError> {
    let valid = request.validate().map_err(AppError::Fields)?;
    require_room(state, caller, QuotaKind::Images, 1).await?;
    let (bucket, object) =
        find_object(state, caller, &request.bucket, &request.object_key).await?.ok_or_else(|| {
            AppError::field(
                "object_key",
                format!("Object '{}' does not exist in bucket '{}'.", request.object_key, request.bucket),
            )
        })?;
    if request.quick_import && object.size as u64 > 1 << 40 {
        return Err(AppError::field("quick_import", "Fast import takes files up to 1 TB."));
    }
    let name = request.name.trim();
    let data = valid.kind == "data";
    let image = NewImage {
        description: request.description.clone(),
        os_type: request.os_type.clone(),
        platform: if data { "Other".into() } else { request.platform.clone() },
        os_version: if data { String::new() } else { request.os_version.trim().to_string() },
        architecture: request.architecture.clone(),
        boot_mode: request.boot_mode.clone(),
        disk_format: request.file_format.clone(),
        min_disk: valid.min_disk.unwrap_or(0),
        min_ram: valid.min_ram,
        max_ram: valid.max_ram,
        data_origin: format!("file,{}:{}", request.bucket, request.object_key),
        root_origin: "file".into(),
        tags: valid.tags.clone(),
        family: request.family.trim().to_string(),
        ..NewImage::queued(caller, name, valid.kind)
    };
    let params = ImportParams {
        image_id: image.id.clone(),
        source_key: Storage::bucket_key(&caller.region, &bucket.id, &request.object_key),
        file_format: request.file_format.clone(),
        quick_import: request.quick_import,
        min_disk: valid.min_disk,
        keep_original: false,
        staged: false,
    };
    let entities = JobEntities { image_id: image.id.clone(), image_name: name.to_string(), ..Default::default() };
    let mut transaction = state.db.begin().await?;
    store::insert_image(&mut transaction, &image).await?;
    let job_id =
        enqueue(&mut transaction, NewJob::new(caller, IMPORT_JOB, &params, entities).for_image(&image.id)).await?;
    transaction.commit().await?;
    state.wake_jobs();
    Ok(CreatedImage { image_id: image.id, job_id })
}

/// Queues the export of one of the caller's private images to a bucket object. Public, ISO and
/// full-ECS images cannot be exported (IMS rules). Returns the job id.
pub async fn export_image(state: &AppState, caller: &Caller, request: &ExportRequest) -> Result<String, AppError> {
    request.validate().map_err(AppError::Fields)?;
    let bucket = require_bucket(state, caller, &request.bucket).await?;
    let (image_id, object_key) = (request.image_id.as_str(), request.object_key.trim());
    let image = store::find_owned(&state.db, caller, image_id).await?.ok_or_else(|| {
        AppError::NotFound(format!("Image '{image_id}' is not one of your private images in this region."))
    })?;
    let refusal = match (image.imagetype.as_str(), image.image_kind.as_str()) {
        ("gold", _) => Some("Public images cannot be exported."),
        (_, "iso") => Some("ISO images cannot be exported."),
        (_, "full_ecs") => Some("Full-ECS images cannot be exported."),
        _ if image.status != ImageStatus::Active => Some("Only images in the Normal state can be exported."),
        _ if image.file_location.is_empty() => Some("This image has no stored image file to export."),
        _ => None,
    };
    if let Some(reason) = refusal {
        return Err(AppError::Conflict(format!("Image '{}' cannot be exported: {reason}", image.name)));
    }
    // Raw and VHD files are as large as the disk, however little data it holds.
    let flat = matches!(request.file_format.trim().to_ascii_lowercase().as_str(), "raw" | "vhd");
    let written = if flat { image.virtual_size } else { image.image_size };
    let flat_limit = state.config.engine.max_flat_export_bytes as i64;
    if flat && written > flat_limit {
        return Err(AppError::field(
            "file_format",
            format!(
                "A {} export writes the disk's full size, {} GB, more than the {} GB such exports may have. \
                 Export as qcow2 or vmdk, which store only the data ({} GB here).",
                request.file_format.trim().to_ascii_uppercase(),
                gb(written),
                gb(flat_limit),
                gb(image.image_size)
            ),
        ));
    }
    if bucket_store::find_object(&state.db, &bucket.id, object_key).await?.is_none() {
        require_room(state, caller, QuotaKind::Objects, 1).await?;
    }
    require_room(state, caller, QuotaKind::StoredBytes, written).await?;
    let params = ExportParams {
        image_id: image_id.to_string(),
        bucket_id: bucket.id.clone(),
        object_key: object_key.to_string(),
        file_format: request.file_format.clone(),
    };
    let entities = JobEntities {
        image_id: image_id.to_string(),
        image_name: image.name,
        target: format!("{}:{object_key}", request.bucket),
        ..Default::default()
    };
    let mut transaction = state.db.begin().await?;
    let job_id =
        // on_resource: the bucket cannot be deleted while the export is pending.
        enqueue(
            &mut transaction,
            NewJob::new(caller, EXPORT_JOB, &params, entities).for_image(image_id).on_resource(&bucket.id),
        )
        .await?;
    transaction.commit().await?;
    state.wake_jobs();
    Ok(job_id)
}
