//! Deprecation of an owner's private image: the dialog that sets or clears the time, and the
//! notice every viewer of a deprecated image sees.

use super::model::ImageDetail;
use super::SetImageDeprecation;
use crate::format::{datetime_input_value, format_time};
use crate::ui::{field_error, general_error, ErrorBanner, FieldError};
use leptos::form::ActionForm;
use leptos::prelude::*;

/// "Deprecated since …" (or "will be deprecated at …") for anyone who sees the image.
pub fn deprecation_notice(image: &ImageDetail) -> Option<impl IntoView> {
    let at = image.deprecated_at?;
    let text = if image.deprecated {
        format!(
            "Deprecated since {}. Its owner advises against new ECSs from it: it is listed only with \"Show deprecated\", \
             and Create ECS offers it only when asked. ECSs made from it can still be reinstalled.",
            format_time(at)
        )
    } else {
        format!("This image will be deprecated at {}.", format_time(at))
    };
    Some(view! { <p class="banner banner-warning" data-testid="deprecation-notice">{text}</p> })
}

/// Set the deprecation time (UTC), or clear it. Closes once saved.
#[component]
pub fn DeprecateDialog(
    image: ImageDetail,
    open: RwSignal<bool>,
    action: ServerAction<SetImageDeprecation>,
) -> impl IntoView {
    Effect::new(move |_| {
        if matches!(action.value().get(), Some(Ok(()))) {
            open.set(false);
        }
    });
    let current = image.deprecated_at.map(datetime_input_value).unwrap_or_default();
    move || {
        let (id, name, current) = (image.id.clone(), image.name.clone(), current.clone());
        let clear_id = id.clone();
        let scheduled = !current.is_empty();
        open.get().then(move || {
            view! {
                <div class="dialog-backdrop">
                    <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="deprecate-title">
                        <h2 id="deprecate-title">{format!("Deprecate Image \"{name}\"")}</h2>
                        <p class="hint">
                            "From this time on the image is Deprecated: lists leave it out unless \"Show deprecated\" is on, \
                             and Create ECS offers it only when asked, with a warning. ECSs made from it can still be reinstalled."
                        </p>
                        {move || general_error(action.value().get()).map(|message| view! { <ErrorBanner message /> })}
                        <ActionForm action attr:class="stack-form" attr:novalidate=true>
                            <input type="hidden" name="id" value=id.clone() />
                            <label for="deprecate-at">"Deprecation time (UTC)"</label>
                            <input id="deprecate-at" type="datetime-local" name="deprecate_at" value=current.clone()
                                aria-describedby="deprecate-at-hint" />
                            <p class="hint" id="deprecate-at-hint">"A time in the past deprecates it at once."</p>
                            {move || view! { <FieldError message=field_error(action.value().get(), "deprecate_at") /> }}
                            <div class="dialog-actions">
                                <button type="button" class="button" on:click=move |_| open.set(false)>"Cancel"</button>
                                {scheduled.then(|| {
                                    let clear_id = clear_id.clone();
                                    view! {
                                        <button type="button" class="button" on:click=move |_| {
                                            action.dispatch(SetImageDeprecation { id: clear_id.clone(), deprecate_at: String::new() });
                                        }>"Cancel Deprecation"</button>
                                    }
                                })}
                                <button type="submit" class="button button-primary" disabled=move || action.pending().get()>"Save"</button>
                            </div>
                        </ActionForm>
                    </div>
                </div>
            }
        })
    }
}
