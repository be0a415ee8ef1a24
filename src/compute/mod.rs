//! The compute side IMS depends on: ECSs (servers) with their EVS disks, flavors, and the
//! paths between servers and images. Servers boot no guest; their disks are real qcow2 files.
//!
//! Reading order: `model` (what pages show), `requests` and `rules` (what users may ask and the
//! IMS rules that answer), `service` (every operation), `store` (the only writer of the
//! servers and disks tables), `jobs` (the work queued by the operations), `files` (disk files).
//! The server functions below are thin adapters over `service`.

pub mod create_page;
pub mod detail_page;
pub mod disks_page;
#[cfg(feature = "ssr")]
pub mod files;
pub mod flavors;
#[cfg(feature = "ssr")]
pub mod jobs;
pub mod list_page;
pub mod model;
pub mod panels;
pub mod requests;
pub mod rules;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod store;

#[cfg(feature = "ssr")]
use crate::auth::audit::Audit;
use crate::error::AppError;
use leptos::prelude::*;
use model::{DiskBytes, DiskView, ImageChoice, ServerDetail, ServerView};
use requests::{CaptureRequest, CreateDiskRequest, CreateServersRequest, WriteDiskRequest, WriteFileRequest};
#[cfg(feature = "ssr")]
use {crate::auth::as_editor, crate::auth::as_viewer, requests::ReadDiskRequest};

/// The caller's ECSs in the region, newest first; `name` (contains) and `status` narrow them.
#[server(endpoint = "list_servers")]
pub async fn list_servers(
    #[server(default)] name: String,
    #[server(default)] status: String,
) -> Result<Vec<ServerView>, AppError> {
    as_viewer(|state, caller| async move { service::list_servers(&state, &caller, &name, &status).await }).await
}

#[server(endpoint = "get_server")]
pub async fn get_server(id: String) -> Result<ServerDetail, AppError> {
    as_viewer(|state, caller| async move { service::get_server(&state, &caller, &id).await }).await
}

#[server(endpoint = "list_disks")]
pub async fn list_disks() -> Result<Vec<DiskView>, AppError> {
    as_viewer(|state, caller| async move { service::list_disks(&state, &caller).await }).await
}

/// Images of the region that can make servers (`for_disks` false) or EVS disks (true).
#[server(endpoint = "list_image_choices")]
pub async fn list_image_choices(for_disks: bool) -> Result<Vec<ImageChoice>, AppError> {
    as_viewer(|state, caller| async move { service::image_choices(&state, &caller, for_disks).await }).await
}

/// Creates one or several ECSs from an image. Returns their ids.
#[server(endpoint = "create_servers")]
pub async fn create_servers(request: CreateServersRequest) -> Result<Vec<String>, AppError> {
    as_editor(Audit::new("Create ECS", "server", ""), |state, caller| async move {
        service::create_servers(&state, &caller, &request).await
    })
    .await
}

/// `start`, `stop` or `reinstall` (the OS again from the image the ECS came from).
#[server(endpoint = "server_action")]
pub async fn run_server_action(id: String, action: String) -> Result<(), AppError> {
    let operation = match action.as_str() {
        "start" => "Start ECS",
        "stop" => "Stop ECS",
        "reinstall" => "Reinstall OS",
        _ => "ECS action",
    };
    as_editor(Audit::new(operation, "server", id.as_str()), |state, caller| async move {
        service::server_action(&state, &caller, &id, &action).await
    })
    .await
}

/// Replaces the ECS's system disk with one made from `image_id`; data disks are kept.
#[server(endpoint = "change_os")]
pub async fn change_os(id: String, image_id: String) -> Result<(), AppError> {
    as_editor(Audit::new("Change OS", "server", id.as_str()), |state, caller| async move {
        service::change_os(&state, &caller, &id, &image_id).await
    })
    .await
}

/// Deletes an ECS and its system disk; its data disks are detached and kept unless asked.
#[server(endpoint = "delete_server")]
pub async fn delete_server(id: String, #[server(default)] delete_data_disks: bool) -> Result<(), AppError> {
    as_editor(Audit::new("Delete ECS", "server", id.as_str()), |state, caller| async move {
        service::delete_server(&state, &caller, &id, delete_data_disks).await
    })
    .await
}

#[server(endpoint = "attach_disk")]
pub async fn attach_disk(server_id: String, disk_id: String) -> Result<(), AppError> {
    as_editor(Audit::new("Attach EVS disk", "disk", disk_id.as_str()), |state, caller| async move {
        service::attach_disk(&state, &caller, &server_id, &disk_id).await
    })
    .await
}

#[server(endpoint = "detach_disk")]
pub async fn detach_disk(disk_id: String) -> Result<(), AppError> {
    as_editor(Audit::new("Detach EVS disk", "disk", disk_id.as_str()), |state, caller| async move {
        service::detach_disk(&state, &caller, &disk_id).await
    })
    .await
}

/// Creates an EVS disk, blank or from a data disk image. Returns its id.
#[server(endpoint = "create_disk")]
pub async fn create_disk(request: CreateDiskRequest) -> Result<String, AppError> {
    as_editor(Audit::new("Create EVS disk", "disk", ""), |state, caller| async move {
        service::create_disk(&state, &caller, &request).await
    })
    .await
}

#[server(endpoint = "delete_disk")]
pub async fn delete_disk(id: String) -> Result<(), AppError> {
    as_editor(Audit::new("Delete EVS disk", "disk", id.as_str()), |state, caller| async move {
        service::delete_disk(&state, &caller, &id).await
    })
    .await
}

/// Creates a system disk, full-ECS or data disk image from an ECS. Returns the image id.
#[server(endpoint = "create_image_from_server")]
pub async fn create_image_from_server(request: CaptureRequest) -> Result<String, AppError> {
    as_editor(Audit::new("Create image from ECS", "image", ""), |state, caller| async move {
        service::create_image_from_server(&state, &caller, &request).await.map(|created| created.image_id)
    })
    .await
}

/// Writes text at a byte offset of a disk: how tests and operators put known content on a
/// server's disk, to find it again in images made from it.
#[server(endpoint = "write_disk")]
pub async fn write_disk(request: WriteDiskRequest) -> Result<(), AppError> {
    as_editor(Audit::new("Write to EVS disk", "disk", request.disk_id.as_str()), |state, caller| async move {
        service::write_disk(&state, &caller, &request).await
    })
    .await
}

#[server(endpoint = "read_disk")]
pub async fn read_disk(disk_id: String, offset: String, length: String) -> Result<DiskBytes, AppError> {
    let request = ReadDiskRequest { disk_id, offset, length };
    as_viewer(|state, caller| async move { service::read_disk(&state, &caller, &request).await }).await
}

/// Writes a file into the filesystem on a disk (ext2/3/4, first partition or whole disk).
#[server(endpoint = "write_disk_file")]
pub async fn write_disk_file(request: WriteFileRequest) -> Result<(), AppError> {
    as_editor(Audit::new("Write file to EVS disk", "disk", request.disk_id.as_str()), |state, caller| async move {
        service::write_disk_file(&state, &caller, &request).await
    })
    .await
}

#[server(endpoint = "read_disk_file")]
pub async fn read_disk_file(disk_id: String, path: String) -> Result<String, AppError> {
    as_viewer(|state, caller| async move { service::read_disk_file(&state, &caller, &disk_id, &path).await }).await
}
