//! The Modify dialog of an owner's private image, and the detail page's deletion protection
//! switch.

use super::model::ImageDetail;
use super::{ModifyImage, SetImageProtection};
use crate::ui::{field_error, general_error, ErrorBanner, FieldError};
use leptos::form::ActionForm;
use leptos::prelude::*;

/// Name, description, memory limits, boot mode, OS version and deletion protection, filled in
/// with the image's values; each refusal shows next to its field. Closes once saved.
#[component]
pub fn ModifyDialog(image: ImageDetail, open: RwSignal<bool>, action: ServerAction<ModifyImage>) -> impl IntoView {
    Effect::new(move |_| {
        if matches!(action.value().get(), Some(Ok(()))) {
            open.set(false);
        }
    });
    let error =
        move |field: &'static str| move || view! { <FieldError message=field_error(action.value().get(), field) /> };
    let number = |value: i64| if value == 0 { String::new() } else { value.to_string() };
    move || {
        let image = image.clone();
        let data = image.kind == "data";
        open.get().then(move || {
            view! {
                <div class="dialog-backdrop">
                    <div class="dialog dialog-wide" role="dialog" aria-modal="true" aria-labelledby="modify-title">
                        <h2 id="modify-title">{format!("Modify Image \"{}\"", image.name)}</h2>
                        {move || general_error(action.value().get()).map(|message| view! { <ErrorBanner message /> })}
                        <ActionForm action attr:class="stack-form" attr:novalidate=true>
                            <input type="hidden" name="request[image_id]" value=image.id.clone() />
                            <label for="modify-name">"Name"</label>
                            <input id="modify-name" name="request[name]" maxlength="128" value=image.name.clone() autocomplete="off" />
                            {error("name")}
                            <label for="modify-description">"Description"</label>
                            <textarea id="modify-description" name="request[description]" rows="2" maxlength="1024">
                                {image.description.clone()}
                            </textarea>
                            {error("description")}
                            <label for="modify-min-ram">"Min. memory (MB)"</label>
                            <input id="modify-min-ram" name="request[min_ram]" inputmode="numeric" placeholder="Unrestricted"
                                value=number(image.min_ram) autocomplete="off" />
                            {error("min_ram")}
                            <label for="modify-max-ram">"Max. memory (MB)"</label>
                            <input id="modify-max-ram" name="request[max_ram]" inputmode="numeric" placeholder="Unrestricted"
                                value=number(image.max_ram) autocomplete="off" />
                            {error("max_ram")}
                            {(!data).then(|| view! {
                                <label for="modify-boot-mode">"Boot mode"</label>
                                <select id="modify-boot-mode" name="request[boot_mode]">
                                    <option value="bios" selected=image.hw_firmware_type == "bios">"BIOS"</option>
                                    <option value="uefi" selected=image.hw_firmware_type == "uefi">"UEFI"</option>
                                </select>
                                {error("boot_mode")}
                                <label for="modify-os-version">"OS version"</label>
                                <input id="modify-os-version" name="request[os_version]" maxlength="255"
                                    value=image.os_version.clone() autocomplete="off" />
                                {error("os_version")}
                            })}
                            <label for="modify-family">"Family"</label>
                            <input id="modify-family" name="request[family]" maxlength="63" value=image.family.clone()
                                autocomplete="off" aria-describedby="modify-family-hint" />
                            <p class="hint" id="modify-family-hint">"Empty for none. The image joins the family's policy once saved."</p>
                            {error("family")}
                            <div class="checkbox-row">
                                <input type="checkbox" id="modify-protected" name="request[protected]" value="on"
                                    checked=image.protected />
                                <label for="modify-protected">"Deletion protection"</label>
                            </div>
                            <div class="dialog-actions">
                                <button type="button" class="button" on:click=move |_| open.set(false)>"Cancel"</button>
                                <button type="submit" class="button button-primary" disabled=move || action.pending().get()>"Save"</button>
                            </div>
                        </ActionForm>
                    </div>
                </div>
            }
        })
    }
}

/// A switch for deletion protection: on, the image cannot be deleted.
pub fn protection_switch(image_id: String, protected: bool, action: ServerAction<SetImageProtection>) -> impl IntoView {
    view! {
        <div class="protection" data-testid="protection">
            <button type="button" role="switch" class="switch" aria-checked=if protected { "true" } else { "false" }
                aria-labelledby="protection-label" disabled=move || action.pending().get()
                on:click=move |_| { action.dispatch(SetImageProtection { id: image_id.clone(), protected: !protected }); }>
                <span class="switch-knob"></span>
            </button>
            <span id="protection-label">"Deletion protection"</span>
            <span class="hint">{if protected { "On: the image cannot be deleted." } else { "Off" }}</span>
            {move || general_error(action.value().get()).map(|message| view! { <ErrorBanner message /> })}
        </div>
    }
}
