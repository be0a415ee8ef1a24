//! KooGallery (marketplace) images: third-party offerings and images an account published,
//! listed per region; paid ones need the project's acceptance of their price. The server
//! functions are thin adapters over `service`.

pub mod model;
pub mod publish_panel;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod store;
pub mod subscriptions_page;

#[cfg(feature = "ssr")]
use crate::auth::audit::Audit;
use crate::error::AppError;
use leptos::prelude::*;
use model::{PublishRequest, Subscription};
#[cfg(feature = "ssr")]
use {crate::auth::as_editor, crate::auth::as_viewer};

/// An account admin publishes one of the account's images in KooGallery.
#[server(endpoint = "publish_image")]
pub async fn publish_image(request: PublishRequest) -> Result<(), AppError> {
    as_editor(Audit::new("Publish image", "image", request.image_id.as_str()), |state, caller| async move {
        service::publish(&state, &caller, &request).await
    })
    .await
}

/// An account admin takes the account's image off KooGallery.
#[server(endpoint = "unpublish_image")]
pub async fn unpublish_image(image_id: String) -> Result<(), AppError> {
    as_editor(Audit::new("Unpublish image", "image", image_id.as_str()), |state, caller| async move {
        service::unpublish(&state, &caller, &image_id).await
    })
    .await
}

/// The project's KooGallery subscriptions.
#[server(endpoint = "list_subscriptions")]
pub async fn list_subscriptions() -> Result<Vec<Subscription>, AppError> {
    as_viewer(|state, caller| async move { service::subscriptions(&state, &caller).await }).await
}
