//! Images: the list (public, private, shared), the detail page, creating one from a file in a
//! bucket, exporting one, deleting one. The server functions below are thin adapters over
//! `service`; `store` is the only writer of the images tables.

pub mod create_page;
pub mod detail_page;
#[cfg(feature = "ssr")]
pub mod jobs;
pub mod list_page;
pub mod model;
pub mod modify_dialog;
pub mod query;
pub mod requests;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod store;
pub mod validate;

use crate::error::AppError;
use leptos::prelude::*;
use model::{ImageDetail, ImagePage};
use query::ImageQuery;
use requests::{ImportRequest, ModifyRequest};
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

/// Deletes one of the caller's private images.
#[server(endpoint = "delete_image")]
pub async fn delete_image(id: String) -> Result<(), AppError> {
    as_editor(|state, caller| async move { service::delete_image(&state, &caller, &id).await }).await
}

/// Modify: changes what an owner may change on one of its private images.
#[server(endpoint = "modify_image")]
pub async fn modify_image(request: ModifyRequest) -> Result<(), AppError> {
    as_editor(|state, caller| async move { service::modify_image(&state, &caller, &request).await }).await
}

/// Turns deletion protection of one of the caller's private images on or off.
#[server(endpoint = "set_image_protection")]
pub async fn set_image_protection(id: String, protected: bool) -> Result<(), AppError> {
    as_editor(|state, caller| async move { service::set_protection(&state, &caller, &id, protected).await }).await
}

/// Registers the image (status queued) and queues its import job. Returns the image id.
#[server(endpoint = "create_image_from_file")]
pub async fn create_image_from_file(request: ImportRequest) -> Result<String, AppError> {
    as_editor(|state, caller| async move { service::create_image_from_file(&state, &caller, &request).await }).await
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
    as_editor(|state, caller| async move { service::export_image(&state, &caller, &request).await }).await
}
