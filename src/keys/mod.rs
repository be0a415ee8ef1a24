//! Keys: the project's own encryption keys (a small key management service per project and
//! region), on the Keys page under Data Encryption. The server functions are thin adapters
//! over `service`.

pub mod model;
pub mod page;
pub mod schedule_deletion_dialog;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod store;

#[cfg(feature = "ssr")]
use crate::auth::audit::Audit;
#[cfg(feature = "ssr")]
use crate::auth::{as_editor, as_viewer};
use crate::error::AppError;
use leptos::prelude::*;
use model::KeyView;

#[server(endpoint = "list_keys")]
pub async fn list_keys() -> Result<Vec<KeyView>, AppError> {
    as_viewer(|state, caller| async move { service::list_keys(&state, &caller).await }).await
}

#[server(endpoint = "create_key")]
pub async fn create_key(alias: String, description: String) -> Result<String, AppError> {
    as_editor(Audit::new("Create key", "key", ""), |state, caller| async move {
        service::create_key(&state, &caller, &alias, &description).await
    })
    .await
}

#[server(endpoint = "set_key_enabled")]
pub async fn set_key_enabled(id: String, enabled: bool) -> Result<(), AppError> {
    let operation = if enabled { "Enable key" } else { "Disable key" };
    as_editor(Audit::new(operation, "key", id.as_str()), |state, caller| async move {
        service::set_key_enabled(&state, &caller, &id, enabled).await
    })
    .await
}

#[server(endpoint = "schedule_key_deletion")]
pub async fn schedule_key_deletion(id: String, pending_days: String) -> Result<i64, AppError> {
    as_editor(Audit::new("Schedule key deletion", "key", id.as_str()), |state, caller| async move {
        service::schedule_key_deletion(&state, &caller, &id, &pending_days).await
    })
    .await
}

#[server(endpoint = "cancel_key_deletion")]
pub async fn cancel_key_deletion(id: String) -> Result<(), AppError> {
    as_editor(Audit::new("Cancel key deletion", "key", id.as_str()), |state, caller| async move {
        service::cancel_key_deletion(&state, &caller, &id).await
    })
    .await
}
