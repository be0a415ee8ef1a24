//! The detail page's KooGallery part: the listing of a market image (publisher, price), and
//! for an account admin, Publish (a dialog) and Unpublish of the account's own image.

use super::model::{price_label, Offering};
use super::{PublishImage, UnpublishImage};
use crate::format::format_time;
use crate::ui::{field_error, general_error, ErrorBanner, FieldError};
use leptos::form::ActionForm;
use leptos::prelude::*;

/// What the listing says, when the image is in KooGallery.
pub fn offering_panel(offering: Offering) -> impl IntoView {
    view! {
        <section class="panel" data-testid="offering-panel">
            <h2>"KooGallery"</h2>
            <dl class="attributes">
                <div class="attribute"><dt>"Offering"</dt><dd>{offering.name}</dd></div>
                <div class="attribute"><dt>"Publisher"</dt><dd>{offering.publisher}</dd></div>
                <div class="attribute"><dt>"Price"</dt><dd data-testid="offering-price">{price_label(offering.price_cents)}</dd></div>
                <div class="attribute"><dt>"Published"</dt><dd>{format_time(offering.published_at)}</dd></div>
                <div class="attribute"><dt>"Description"</dt><dd>{if offering.description.is_empty() { "—".to_string() } else { offering.description }}</dd></div>
            </dl>
        </section>
    }
}

/// The Publish dialog for one of the account's images.
#[component]
pub fn PublishDialog(
    image_id: String,
    image_name: String,
    open: RwSignal<bool>,
    action: ServerAction<PublishImage>,
) -> impl IntoView {
    Effect::new(move |_| {
        if matches!(action.value().get(), Some(Ok(()))) {
            open.set(false);
        }
    });
    let error =
        move |field: &'static str| move || view! { <FieldError message=field_error(action.value().get(), field) /> };
    move || {
        let (image_id, image_name) = (image_id.clone(), image_name.clone());
        open.get().then(move || {
            view! {
                <div class="dialog-backdrop">
                    <div class="dialog dialog-wide" role="dialog" aria-modal="true" aria-labelledby="publish-title">
                        <h2 id="publish-title">"Publish in KooGallery"</h2>
                        <p class="hint">
                            "The image is listed for every tenant of this region. Published images cannot be shared; unpublishing leaves running ECSs alone."
                        </p>
                        {move || general_error(action.value().get()).map(|message| view! { <ErrorBanner message /> })}
                        <ActionForm action attr:class="stack-form" attr:novalidate=true>
                            <input type="hidden" name="request[image_id]" value=image_id />
                            <label for="publish-name">"Offering name"</label>
                            <input id="publish-name" name="request[name]" maxlength="128" value=image_name autocomplete="off" />
                            {error("name")}
                            <label for="publish-description">"Description"</label>
                            <textarea id="publish-description" name="request[description]" rows="3" maxlength="1024"></textarea>
                            {error("description")}
                            <label for="publish-price">"Price (USD per hour)"</label>
                            <input id="publish-price" name="request[price]" inputmode="decimal" placeholder="0 for free" autocomplete="off" />
                            {error("price")}
                            <div class="dialog-actions">
                                <button type="button" class="button" on:click=move |_| open.set(false)>"Cancel"</button>
                                <button type="submit" class="button button-primary" disabled=move || action.pending().get()>"Publish"</button>
                            </div>
                        </ActionForm>
                    </div>
                </div>
            }
        })
    }
}

/// Unpublish, for the account's own listed image.
pub fn unpublish_button(image_id: String, action: ServerAction<UnpublishImage>) -> impl IntoView {
    view! {
        <button type="button" class="button" disabled=move || action.pending().get()
            on:click=move |_| { action.dispatch(UnpublishImage { image_id: image_id.clone() }); }>
            "Unpublish"
        </button>
        {move || general_error(action.value().get()).map(|message| view! { <ErrorBanner message /> })}
    }
}
