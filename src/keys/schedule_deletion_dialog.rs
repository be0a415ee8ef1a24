//! Schedule Deletion of a key: the waiting period (7–30 days) and, when images are encrypted
//! under the key, which ones become unusable.

use super::model::{KeyView, MAX_PENDING_DAYS, MIN_PENDING_DAYS};
use super::ScheduleKeyDeletion;
use crate::ui::{field_error, general_error, ErrorBanner, FieldError};
use leptos::form::ActionForm;
use leptos::prelude::*;

/// Open while `key` holds a key; closes once the deletion is scheduled.
#[component]
pub fn ScheduleDeletionDialog(
    key: RwSignal<Option<KeyView>>,
    action: ServerAction<ScheduleKeyDeletion>,
) -> impl IntoView {
    Effect::new(move |_| {
        if matches!(action.value().get(), Some(Ok(_))) {
            key.set(None);
        }
    });
    move || {
        key.get().map(|shown| {
            let warning = if shown.images.is_empty() {
                "No image is encrypted under this key.".to_string()
            } else {
                let names: Vec<&str> = shown.images.iter().map(|image| image.image_name.as_str()).collect();
                format!(
                    "These images are encrypted under this key: {}. They cannot be used while the deletion waits, \
                     and cannot be read at all once the key is deleted.",
                    names.join(", ")
                )
            };
            view! {
                <div class="dialog-backdrop">
                    <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="schedule-deletion-title">
                        <h2 id="schedule-deletion-title">{format!("Schedule Deletion of Key \"{}\"", shown.alias)}</h2>
                        <p class="hint">
                            "The key is deleted when the waiting period ends. Until then you can cancel the deletion; the key then comes back disabled."
                        </p>
                        <p data-testid="key-usage">{warning}</p>
                        {move || general_error(action.value().get()).map(|message| view! { <ErrorBanner message /> })}
                        <ActionForm action attr:class="stack-form" attr:novalidate=true>
                            <input type="hidden" name="id" value=shown.id.clone() />
                            <label for="pending-days">"Waiting period (days)"</label>
                            <input id="pending-days" name="pending_days" type="number" value=MIN_PENDING_DAYS.to_string()
                                min=MIN_PENDING_DAYS.to_string() max=MAX_PENDING_DAYS.to_string() aria-describedby="pending-days-hint" />
                            <p class="hint" id="pending-days-hint">{format!("From {MIN_PENDING_DAYS} to {MAX_PENDING_DAYS} days.")}</p>
                            {move || view! { <FieldError message=field_error(action.value().get(), "pending_days") /> }}
                            <div class="dialog-actions">
                                <button type="button" class="button" on:click=move |_| key.set(None)>"Cancel"</button>
                                <button type="submit" class="button button-danger" disabled=move || action.pending().get()>
                                    "Schedule Deletion"
                                </button>
                            </div>
                        </ActionForm>
                    </div>
                </div>
            }
        })
    }
}
