//! Images: the list (public, private, shared), the detail page, creating one from a file in a
//! bucket, exporting one, modifying and tagging one, deleting to the recycle bin and restoring.
//! The server functions below are thin adapters over the services (`service`, `recycle`,
//! `tags`); only the stores (`store`, `recycle_store`, `tag_store`) write the images tables.

#[cfg(feature = "ssr")]
pub mod api_list;
pub mod create_page;
#[cfg(feature = "ssr")]
pub mod csv_export;
#[cfg(feature = "ssr")]
pub mod csv_route;
pub mod delete_dialog;
pub mod deprecate_dialog;
pub mod detail_page;
pub mod families;
pub mod families_page;
#[cfg(feature = "ssr")]
pub mod family_service;
#[cfg(feature = "ssr")]
pub mod family_store;
#[cfg(feature = "ssr")]
pub mod glance;
#[cfg(feature = "ssr")]
pub mod jobs;
#[cfg(feature = "ssr")]
pub mod lineage;
pub mod lineage_panel;
pub mod list_page;
#[cfg(feature = "ssr")]
pub mod list_store;
pub mod model;
pub mod modify_dialog;
pub mod query;
#[cfg(feature = "ssr")]
pub mod recycle;
pub mod recycle_bin_page;
#[cfg(feature = "ssr")]
pub mod recycle_store;
pub mod replicate;
pub mod replicate_dialog;
#[cfg(feature = "ssr")]
pub mod replicate_jobs;
#[cfg(feature = "ssr")]
pub mod replicate_service;
pub mod requests;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod store;
#[cfg(feature = "ssr")]
pub mod tag_store;
#[cfg(feature = "ssr")]
pub mod tags;
pub mod tags_dialog;
pub mod validate;

#[cfg(feature = "ssr")]
use crate::auth::audit::Audit;
use crate::error::AppError;
use families::{FamilyPolicyRequest, FamilyView};
use leptos::prelude::*;
use model::{DeletionPlan, ImageDetail, ImagePage, RecycleBin};
use query::ImageQuery;
use replicate::{ReplicateRequest, ReplicationTarget};
use requests::{ImportRequest, ModifyRequest, TagRequest};
#[cfg(feature = "ssr")]
use {crate::auth::as_editor, crate::auth::as_viewer, requests::ExportRequest};

/// One page of the images the caller may see in the selected region.
#[server(endpoint = "list_images")]
pub async fn list_images(query: ImageQuery) -> Result<ImagePage, AppError> {
    as_viewer(|state, caller| async move { service::list_images(&state, &caller, &query).await }).await
}

/// One image, if the caller may see it.
#[server(endpoint = "get_image")]
pub async fn get_image(id: String) -> Result<ImageDetail, AppError> {
    as_viewer(|state, caller| async move { service::get_image(&state, &caller, &id).await }).await
}

/// Moves one of the caller's private images to the recycle bin.
#[server(endpoint = "delete_image")]
pub async fn delete_image(id: String) -> Result<(), AppError> {
    as_editor(Audit::new("Delete image", "image", id.as_str()), |state, caller| async move {
        service::delete_image(&state, &caller, &id).await
    })
    .await
}

/// Batch Delete: moves the selected images (comma-separated ids) to the recycle bin, all or none.
#[server(endpoint = "delete_images")]
pub async fn delete_images(images: String) -> Result<(), AppError> {
    let ids: Vec<String> = images.split(',').map(str::to_string).collect();
    as_editor(Audit::new("Delete images", "image", images.as_str()), |state, caller| async move {
        recycle::delete_images(&state, &caller, &ids).await
    })
    .await
}

/// What deleting each of the selected images (comma-separated ids) would affect.
#[server(endpoint = "deletion_impact")]
pub async fn deletion_impact(images: String) -> Result<DeletionPlan, AppError> {
    let ids: Vec<String> = images.split(',').map(str::to_string).collect();
    as_viewer(|state, caller| async move { recycle::deletion_impact(&state, &caller, &ids).await }).await
}

/// The caller's recycle bin.
#[server(endpoint = "list_recycled_images")]
pub async fn list_recycled_images() -> Result<RecycleBin, AppError> {
    as_viewer(|state, caller| async move { recycle::list_recycled(&state, &caller).await }).await
}

/// Brings an image back from the recycle bin.
#[server(endpoint = "restore_image")]
pub async fn restore_image(id: String) -> Result<(), AppError> {
    as_editor(Audit::new("Restore image", "image", id.as_str()), |state, caller| async move {
        recycle::restore_image(&state, &caller, &id).await
    })
    .await
}

/// Deletes an image of the recycle bin for good.
#[server(endpoint = "delete_image_permanently")]
pub async fn delete_image_permanently(id: String) -> Result<(), AppError> {
    as_editor(Audit::new("Delete image permanently", "image", id.as_str()), |state, caller| async move {
        recycle::delete_permanently(&state, &caller, &id).await
    })
    .await
}

/// Modify: changes what an owner may change on one of its private images.
#[server(endpoint = "modify_image")]
pub async fn modify_image(request: ModifyRequest) -> Result<(), AppError> {
    as_editor(Audit::new("Modify image", "image", request.image_id.as_str()), |state, caller| async move {
        service::modify_image(&state, &caller, &request).await
    })
    .await
}

/// Turns deletion protection of one of the caller's private images on or off.
#[server(endpoint = "set_image_protection")]
pub async fn set_image_protection(id: String, protected: bool) -> Result<(), AppError> {
    as_editor(Audit::new("Set deletion protection", "image", id.as_str()), |state, caller| async move {
        service::set_protection(&state, &caller, &id, protected).await
    })
    .await
}

/// Stars an image as frequently used (or unstars it), for the caller alone: a viewer may too.
#[server(endpoint = "set_favorite_image")]
pub async fn set_favorite_image(id: String, favorite: bool) -> Result<(), AppError> {
    as_viewer(|state, caller| async move { service::set_favorite(&state, &caller, &id, favorite).await }).await
}

/// Sets or clears (empty) the deprecation time of one of the caller's private images.
#[server(endpoint = "set_image_deprecation")]
pub async fn set_image_deprecation(id: String, deprecate_at: String) -> Result<(), AppError> {
    as_editor(Audit::new("Set deprecation", "image", id.as_str()), |state, caller| async move {
        service::set_deprecation(&state, &caller, &id, &deprecate_at).await
    })
    .await
}

/// Adds a tag to one of the caller's private images, or edits one (`original_key`).
#[server(endpoint = "set_image_tag")]
pub async fn set_image_tag(request: TagRequest) -> Result<(), AppError> {
    as_editor(Audit::new("Set image tag", "image", request.image_id.as_str()), |state, caller| async move {
        tags::set_tag(&state, &caller, &request).await
    })
    .await
}

/// Deletes a tag of one of the caller's private images.
#[server(endpoint = "delete_image_tag")]
pub async fn delete_image_tag(image_id: String, key: String) -> Result<(), AppError> {
    as_editor(Audit::new("Delete image tag", "image", image_id.as_str()), |state, caller| async move {
        tags::delete_tag(&state, &caller, &image_id, &key).await
    })
    .await
}

/// Batch Tag: `add` or `remove` tag `key` (=`value`) on the selected images (comma-separated ids).
#[server(endpoint = "batch_tag_images")]
pub async fn batch_tag_images(images: String, action: String, key: String, value: String) -> Result<(), AppError> {
    let ids: Vec<String> = images.split(',').map(str::to_string).collect();
    as_editor(Audit::new("Batch tag images", "image", images.as_str()), |state, caller| async move {
        tags::batch_tag(&state, &caller, &ids, &action, &key, &value).await
    })
    .await
}

/// Registers the image (status queued) and queues its import job. Returns the image id.
/// Replicate: one image within the region, or up to five to the account's project in another
/// region. Returns the replicas' ids.
#[server(endpoint = "replicate_images")]
pub async fn replicate_images(request: ReplicateRequest) -> Result<Vec<String>, AppError> {
    as_editor(Audit::new("Replicate image", "image", request.images.as_str()), |state, caller| async move {
        let created = replicate_service::replicate(&state, &caller, &request).await?;
        Ok(created.into_iter().map(|replica| replica.image_id).collect())
    })
    .await
}

/// The project's image families with their latest image and policy.
#[server(endpoint = "list_image_families")]
pub async fn list_image_families() -> Result<Vec<FamilyView>, AppError> {
    as_viewer(|state, caller| async move { family_service::list_families(&state, &caller).await }).await
}

/// Sets a family's policy: keep the newest N members, replicate new members to regions.
#[server(endpoint = "set_family_policy")]
pub async fn set_family_policy(request: FamilyPolicyRequest) -> Result<(), AppError> {
    as_editor(Audit::new("Set family policy", "image", request.name.as_str()), |state, caller| async move {
        family_service::set_policy(&state, &caller, &request).await
    })
    .await
}

/// The regions an image can be replicated to, each with the account's project there.
#[server(endpoint = "replication_targets")]
pub async fn replication_targets() -> Result<Vec<ReplicationTarget>, AppError> {
    as_viewer(|state, caller| async move { replicate_service::replication_targets(&state, &caller).await }).await
}

#[server(endpoint = "create_image_from_file")]
pub async fn create_image_from_file(request: ImportRequest) -> Result<String, AppError> {
    as_editor(Audit::new("Create image from file", "image", ""), |state, caller| async move {
        service::create_image_from_file(&state, &caller, &request).await.map(|created| created.image_id)
    })
    .await
}

/// Queues the export of `image_id` to `bucket`/`object_key`. Returns the job id.
#[server(endpoint = "export_image")]
pub async fn export_image(
    image_id: String,
    bucket: String,
    object_key: String,
    file_format: String,
) -> Result<String, AppError> {
    let request = ExportRequest { image_id, bucket, object_key, file_format };
    as_editor(Audit::new("Export image", "image", request.image_id.as_str()), |state, caller| async move {
        service::export_image(&state, &caller, &request).await
    })
    .await
}
