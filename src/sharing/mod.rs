//! Sharing images between tenants: My Credentials (where a tenant reads the project id it
//! gives to an owner), the owner's Share and Stop Sharing, the recipient's Accept and Reject,
//! and the account's sharing policy. The server functions are thin adapters over `service`.

pub mod credentials_page;
pub mod members_panel;
pub mod model;
#[cfg(feature = "ssr")]
pub mod service;
pub mod settings_page;
#[cfg(feature = "ssr")]
pub mod store;

#[cfg(feature = "ssr")]
use crate::auth::audit::Audit;
use crate::error::AppError;
use leptos::prelude::*;
use model::{Credentials, MemberView, NoticeCounts, PolicyView};
#[cfg(feature = "ssr")]
use {crate::auth::as_editor, crate::auth::as_viewer};

/// The caller's account, user and projects.
#[server(endpoint = "my_credentials")]
pub async fn my_credentials() -> Result<Credentials, AppError> {
    as_viewer(|state, caller| async move { service::credentials(&state, &caller).await }).await
}

/// Pending shares and shares about to expire, for the header.
#[server(endpoint = "share_notices")]
pub async fn share_notices() -> Result<NoticeCounts, AppError> {
    as_viewer(|state, caller| async move { service::notices(&state, &caller).await }).await
}

/// Shares the caller's images (comma separated ids) with projects. Returns the job id.
#[server(endpoint = "share_images")]
pub async fn share_images(images: String, projects: String, expires_on: String) -> Result<String, AppError> {
    as_editor(Audit::new("Share images", "image", images.as_str()), |state, caller| async move {
        service::share_images(&state, &caller, &images, &projects, &expires_on).await
    })
    .await
}

/// The projects one of the caller's images is shared with.
#[server(endpoint = "list_image_members")]
pub async fn list_image_members(image_id: String) -> Result<Vec<MemberView>, AppError> {
    as_viewer(|state, caller| async move { service::list_members(&state, &caller, &image_id).await }).await
}

/// Stops sharing an image with the listed projects, or with all when `projects` is empty.
#[server(endpoint = "stop_sharing")]
pub async fn stop_sharing(image_id: String, projects: String) -> Result<String, AppError> {
    as_editor(Audit::new("Stop sharing", "image", image_id.as_str()), |state, caller| async move {
        service::stop_sharing(&state, &caller, &image_id, &projects).await
    })
    .await
}

/// The recipient accepts (`accepted`) or rejects (`rejected`) shared images.
#[server(endpoint = "answer_shares")]
pub async fn answer_shares(images: String, status: String) -> Result<String, AppError> {
    as_editor(Audit::new("Answer shares", "image", images.as_str()), |state, caller| async move {
        service::answer_shares(&state, &caller, &images, &status).await
    })
    .await
}

#[server(endpoint = "sharing_policy")]
pub async fn sharing_policy() -> Result<PolicyView, AppError> {
    as_viewer(|state, caller| async move { service::sharing_policy(&state, &caller).await }).await
}

/// The account admin sets the sharing policy.
#[server(endpoint = "set_sharing_policy")]
pub async fn set_sharing_policy(policy: String, accounts: String) -> Result<PolicyView, AppError> {
    as_editor(Audit::new("Set sharing policy", "account", ""), |state, caller| async move {
        service::set_sharing_policy(&state, &caller, &policy, &accounts).await
    })
    .await
}

/// The account admin stops every share the policy forbids. Returns how many ended.
#[server(endpoint = "stop_forbidden_shares")]
pub async fn stop_forbidden_shares() -> Result<u64, AppError> {
    as_editor(Audit::new("Stop forbidden shares", "account", ""), |state, caller| async move {
        service::stop_forbidden_shares(&state, &caller).await
    })
    .await
}
