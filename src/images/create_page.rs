//! "Create Image" from an image file in a bucket: the form, with each error next to its field.

use super::import::{CreateImageFromFile, IMPORT_FORMATS};
use super::{OS_TYPES, PLATFORMS};
use crate::buckets::{list_buckets, list_objects};
use crate::ui::{field_error, general_error, ErrorBanner, FieldError, SessionResource, Shell};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

/// The file format an object name suggests.
fn guess_format(key: &str) -> &'static str {
    let extension = key.rsplit('.').next().unwrap_or_default().to_ascii_lowercase();
    match extension.as_str() {
        "img" | "raw" | "bin" => "raw",
        other => IMPORT_FORMATS.iter().find(|format| **format == other).copied().unwrap_or(""),
    }
}

#[component]
pub fn CreateImagePage() -> impl IntoView {
    let query = use_query_map();
    let create = ServerAction::<CreateImageFromFile>::new();
    let bucket = RwSignal::new(query.with_untracked(|query| query.get("bucket").unwrap_or_default()));
    let key = RwSignal::new(query.with_untracked(|query| query.get("key").unwrap_or_default()));
    let format = RwSignal::new(guess_format(&key.get_untracked()).to_string());
    let buckets = Resource::new(|| (), |_| list_buckets());
    let objects = Resource::new(move || bucket.get(), |bucket| async move {
        if bucket.is_empty() { Ok(Vec::new()) } else { list_objects(bucket).await }
    });
    let session = expect_context::<SessionResource>().0;

    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(_)) = create.value().get() {
            navigate("/images/private", Default::default());
        }
    });
    let error = move |field: &'static str| move || view! { <FieldError message=field_error(create.value().get(), field) /> };

    view! {
        <Title text="Create Image — Image Management Service" />
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let Ok(Some(info)) = session.await else { return crate::app::SessionEnded().into_any() };
                let bucket_names: Vec<String> = buckets.await.unwrap_or_default().into_iter().map(|bucket| bucket.name).collect();
                view! {
                    <Shell info crumb="Create Image".to_string()>
                        <div class="page-header">
                            <a class="back-link" href="/images/private">"‹ Private Images"</a>
                            <h1>"Create Image from an Image File"</h1>
                        </div>
                        <p class="page-intro">
                            "To create a system disk, full-ECS or data disk image from a server instead, open the ECS in "
                            <a href="/ecs">"Elastic Cloud Servers"</a>" and use Create Image there."
                        </p>
                        {move || general_error(create.value().get()).map(|message| view! { <ErrorBanner message /> })}
                        <ActionForm action=create attr:class="panel form-grid" attr:novalidate=true>
                            <h2>"Image File"</h2>
                            <label for="import-bucket">"Bucket"</label>
                            <div>
                                <select id="import-bucket" name="request[bucket]" on:change=move |event| bucket.set(event_target_value(&event))>
                                    <option value="">"Choose a bucket"</option>
                                    {bucket_names
                                        .iter()
                                        .map(|name| view! { <option value=name.clone() selected=*name == bucket.get_untracked()>{name.clone()}</option> })
                                        .collect_view()}
                                </select>
                                {error("bucket")}
                                {bucket_names.is_empty().then(|| view! { <p class="hint">"No buckets yet: "<a href="/buckets">"create one and upload the file"</a>"."</p> })}
                            </div>
                            <label for="import-key">"Image file"</label>
                            <div>
                                <input
                                    id="import-key"
                                    name="request[object_key]"
                                    list="import-objects"
                                    autocomplete="off"
                                    prop:value=move || key.get()
                                    on:input=move |event| {
                                        let value = event_target_value(&event);
                                        let guessed = guess_format(&value);
                                        if !guessed.is_empty() {
                                            format.set(guessed.to_string());
                                        }
                                        key.set(value);
                                    }
                                />
                                <datalist id="import-objects">
                                    <Suspense>
                                        {move || Suspend::new(async move {
                                            objects.await.unwrap_or_default().into_iter()
                                                .map(|object| view! { <option value=object.key.clone()></option> })
                                                .collect_view()
                                        })}
                                    </Suspense>
                                </datalist>
                                {error("object_key")}
                            </div>
                            <label for="import-format">"File format"</label>
                            <div>
                                <select id="import-format" name="request[file_format]" prop:value=move || format.get() on:change=move |event| format.set(event_target_value(&event))>
                                    <option value="">"Choose the format"</option>
                                    {IMPORT_FORMATS.iter().map(|name| view! { <option value=*name>{name.to_uppercase()}</option> }).collect_view()}
                                </select>
                                {error("file_format")}
                            </div>
                            <label class="checkbox">
                                <input type="checkbox" name="request[quick_import]" value="true" />
                                "Fast import (RAW files up to 1 TB, registered without conversion)"
                            </label>
                            {error("quick_import")}

                            <h2>"Image"</h2>
                            <label for="import-type">"Image type"</label>
                            <div>
                                <select id="import-type" name="request[image_type]">
                                    <option value="system">"System disk image"</option>
                                    <option value="data">"Data disk image"</option>
                                </select>
                                <p class="hint">"An ISO file always becomes an ISO image."</p>
                                {error("image_type")}
                            </div>
                            <label for="import-name">"Name"</label>
                            <div>
                                <input id="import-name" name="request[name]" maxlength="128" autocomplete="off" />
                                {error("name")}
                            </div>
                            <label for="import-description">"Description"</label>
                            <div>
                                <input id="import-description" name="request[description]" maxlength="1024" autocomplete="off" />
                                {error("description")}
                            </div>
                            <label for="import-os-type">"OS type"</label>
                            <div>
                                <select id="import-os-type" name="request[os_type]">
                                    {OS_TYPES.iter().map(|name| view! { <option value=*name>{*name}</option> }).collect_view()}
                                </select>
                                {error("os_type")}
                            </div>
                            <label for="import-platform">"OS"</label>
                            <div>
                                <select id="import-platform" name="request[platform]">
                                    <option value="">"Choose the OS"</option>
                                    {PLATFORMS.iter().map(|name| view! { <option value=*name>{*name}</option> }).collect_view()}
                                </select>
                                {error("platform")}
                            </div>
                            <label for="import-os-version">"OS version"</label>
                            <div>
                                <input id="import-os-version" name="request[os_version]" placeholder="e.g. Ubuntu 22.04 server 64bit" />
                                {error("os_version")}
                            </div>
                            <label for="import-architecture">"Architecture"</label>
                            <div>
                                <select id="import-architecture" name="request[architecture]">
                                    <option value="x86">"x86"</option>
                                    <option value="arm">"Arm"</option>
                                </select>
                                {error("architecture")}
                            </div>
                            <label for="import-boot">"Boot mode"</label>
                            <div>
                                <select id="import-boot" name="request[boot_mode]">
                                    <option value="bios">"BIOS"</option>
                                    <option value="uefi">"UEFI"</option>
                                </select>
                                {error("boot_mode")}
                            </div>
                            <label for="import-min-ram">"Min. memory (MB)"</label>
                            <div>
                                <input id="import-min-ram" name="request[min_ram]" inputmode="numeric" placeholder="0 = unrestricted" />
                                {error("min_ram")}
                            </div>
                            <label for="import-max-ram">"Max. memory (MB)"</label>
                            <div>
                                <input id="import-max-ram" name="request[max_ram]" inputmode="numeric" placeholder="0 = unrestricted" />
                                {error("max_ram")}
                            </div>
                            <label for="import-min-disk">"Min. disk (GB)"</label>
                            <div>
                                <input id="import-min-disk" name="request[min_disk]" inputmode="numeric" placeholder="Default: the image's virtual size" />
                                {error("min_disk")}
                            </div>
                            <label for="import-tags">"Tags"</label>
                            <div>
                                <input id="import-tags" name="request[tags]" placeholder="key=value, key2=value2" />
                                {error("tags")}
                            </div>
                            <div class="form-actions">
                                <button type="submit" class="button button-primary" disabled=move || create.pending().get()>
                                    "Create Image"
                                </button>
                                <a class="button" href="/images/private">"Cancel"</a>
                            </div>
                        </ActionForm>
                    </Shell>
                }
                    .into_any()
            })}
        </Transition>
    }
}

#[cfg(test)]
mod tests {
    use super::guess_format;

    #[test]
    fn guesses_formats_from_names() {
        assert_eq!(guess_format("centos.QCOW2"), "qcow2");
        assert_eq!(guess_format("disk.img"), "raw");
        assert_eq!(guess_format("win.vhdx"), "vhdx");
        assert_eq!(guess_format("notes.txt"), "");
    }
}
