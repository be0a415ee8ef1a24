//! Tenant buckets (the object storage side IMS imports from and exports to): create and
//! delete buckets, list, upload, download and delete objects. The server functions below and
//! the upload endpoints in `transfer` are thin adapters over `service` and `uploads`.

pub mod model;
pub mod page;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod store;
#[cfg(feature = "ssr")]
pub mod transfer;
#[cfg(feature = "hydrate")]
mod uploader;
#[cfg(feature = "ssr")]
pub mod uploads;

#[cfg(feature = "ssr")]
use crate::auth::audit::Audit;
#[cfg(feature = "ssr")]
use crate::auth::{as_editor, as_viewer};
use crate::error::AppError;
use leptos::prelude::*;
use model::{BucketView, ObjectView, UploadView};

#[server(endpoint = "list_buckets")]
pub async fn list_buckets() -> Result<Vec<BucketView>, AppError> {
    as_viewer(|state, caller| async move { service::list_buckets(&state, &caller).await }).await
}

#[server(endpoint = "create_bucket")]
pub async fn create_bucket(name: String) -> Result<(), AppError> {
    as_editor(Audit::new("Create bucket", "bucket", name.as_str()), |state, caller| async move {
        service::create_bucket(&state, &caller, &name).await
    })
    .await
}

#[server(endpoint = "delete_bucket")]
pub async fn delete_bucket(name: String) -> Result<(), AppError> {
    as_editor(Audit::new("Delete bucket", "bucket", name.as_str()), |state, caller| async move {
        service::delete_bucket(&state, &caller, &name).await
    })
    .await
}

#[server(endpoint = "list_objects")]
pub async fn list_objects(bucket: String) -> Result<Vec<ObjectView>, AppError> {
    as_viewer(|state, caller| async move { service::list_objects(&state, &caller, &bucket).await }).await
}

#[server(endpoint = "list_uploads")]
pub async fn list_uploads(bucket: String) -> Result<Vec<UploadView>, AppError> {
    as_viewer(|state, caller| async move { uploads::list_uploads(&state, &caller, &bucket).await }).await
}

#[server(endpoint = "delete_object")]
pub async fn delete_object(bucket: String, key: String) -> Result<(), AppError> {
    as_editor(Audit::new("Delete object", "object", format!("{bucket}/{key}")), |state, caller| async move {
        service::delete_object(&state, &caller, &bucket, &key).await
    })
    .await
}
