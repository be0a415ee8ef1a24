//! "Create Image" from an image file in a bucket: the form, with each error next to its field.

use super::model::{OS_TYPES, PLATFORMS};
use super::requests::IMPORT_FORMATS;
use super::CreateImageFromFile;
use crate::buckets::model::ObjectView;
use crate::buckets::{list_buckets, list_objects};
use crate::error::AppError;
use crate::ui::{field_error, general_error, ErrorBanner, FieldError, FormRow, SignedInPage};
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
    let create = ServerAction::<CreateImageFromFile>::new();
    // Resources are made here, before any Suspense (see SignedInPage). Opened from a bucket's
    // Create Image link, the bucket and object come filled in.
    let query = use_query_map();
    let bucket = RwSignal::new(query.with_untracked(|query| query.get("bucket").unwrap_or_default()));
    let buckets = Resource::new(|| (), |_| list_buckets());
    let objects = Resource::new(
        move || bucket.get(),
        |bucket| async move {
            if bucket.is_empty() {
                Ok(Vec::new())
            } else {
                list_objects(bucket).await
            }
        },
    );
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(_)) = create.value().get() {
            navigate("/images/private", Default::default());
        }
    });
    view! {
        <Title text="Create Image — Image Management Service" />
        <SignedInPage crumb="Create Image" let:_info>
            <div class="page-header">
                <a class="back-link" href="/images/private">"‹ Private Images"</a>
                <h1>"Create Image from an Image File"</h1>
            </div>
            <p class="page-intro">
                "To create a system disk, full-ECS or data disk image from a server instead, open the ECS in "
                <a href="/ecs">"Elastic Cloud Servers"</a>" and use Create Image there."
            </p>
            {move || general_error(create.value().get()).map(|message| view! { <ErrorBanner message /> })}
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let bucket_names: Vec<String> = buckets.await.unwrap_or_default().into_iter().map(|bucket| bucket.name).collect();
                    view! {
                        <ActionForm action=create attr:class="panel form-grid" attr:novalidate=true>
                            <FileFields create bucket_names bucket objects />
                            <ImageFields create />
                            <div class="form-actions">
                                <button type="submit" class="button button-primary" disabled=move || create.pending().get()>
                                    "Create Image"
                                </button>
                                <a class="button" href="/images/private">"Cancel"</a>
                            </div>
                        </ActionForm>
                    }
                })}
            </Transition>
        </SignedInPage>
    }
}

/// The error the server gave for `field`, for a `FormRow`.
fn field_signal(create: ServerAction<CreateImageFromFile>, field: &'static str) -> Signal<Option<String>> {
    Signal::derive(move || field_error(create.value().get(), field))
}

/// Which file to import: bucket, object (suggested from the bucket's objects), format, fast
/// import.
#[component]
fn FileFields(
    create: ServerAction<CreateImageFromFile>,
    bucket_names: Vec<String>,
    bucket: RwSignal<String>,
    objects: Resource<Result<Vec<ObjectView>, AppError>>,
) -> impl IntoView {
    let query = use_query_map();
    let key = RwSignal::new(query.with_untracked(|query| query.get("key").unwrap_or_default()));
    let format = RwSignal::new(guess_format(&key.get_untracked()).to_string());
    let error = move |field| field_signal(create, field);
    view! {
        <h2>"Image File"</h2>
        <FormRow label="Bucket" id="import-bucket" error=error("bucket")>
            <select id="import-bucket" name="request[bucket]" on:change=move |event| bucket.set(event_target_value(&event))>
                <option value="">"Choose a bucket"</option>
                {bucket_names
                    .iter()
                    .map(|name| view! { <option value=name.clone() selected=*name == bucket.get_untracked()>{name.clone()}</option> })
                    .collect_view()}
            </select>
            {bucket_names.is_empty().then(|| view! { <p class="hint">"No buckets yet: "<a href="/buckets">"create one and upload the file"</a>"."</p> })}
        </FormRow>
        <FormRow label="Image file" id="import-key" error=error("object_key")>
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
        </FormRow>
        <FormRow label="File format" id="import-format" error=error("file_format")>
            <select id="import-format" name="request[file_format]" prop:value=move || format.get() on:change=move |event| format.set(event_target_value(&event))>
                <option value="">"Choose the format"</option>
                {IMPORT_FORMATS.iter().map(|name| view! { <option value=*name>{name.to_uppercase()}</option> }).collect_view()}
            </select>
        </FormRow>
        <label class="checkbox">
            <input type="checkbox" name="request[quick_import]" value="true" />
            "Fast import (RAW files up to 1 TB, registered without conversion)"
        </label>
        {move || view! { <FieldError message=error("quick_import").get() /> }}
    }
}

/// What the image is: type, name, OS, architecture, boot mode, limits and tags.
#[component]
fn ImageFields(create: ServerAction<CreateImageFromFile>) -> impl IntoView {
    let error = move |field| field_signal(create, field);
    view! {
        <h2>"Image"</h2>
        <FormRow label="Image type" id="import-type" error=error("image_type") hint="An ISO file always becomes an ISO image.">
            <select id="import-type" name="request[image_type]">
                <option value="system">"System disk image"</option>
                <option value="data">"Data disk image"</option>
            </select>
        </FormRow>
        <FormRow label="Name" id="import-name" error=error("name")>
            <input id="import-name" name="request[name]" maxlength="128" autocomplete="off" />
        </FormRow>
        <FormRow label="Description" id="import-description" error=error("description")>
            <input id="import-description" name="request[description]" maxlength="1024" autocomplete="off" />
        </FormRow>
        <FormRow label="OS type" id="import-os-type" error=error("os_type")>
            <select id="import-os-type" name="request[os_type]">
                {OS_TYPES.iter().map(|name| view! { <option value=*name>{*name}</option> }).collect_view()}
            </select>
        </FormRow>
        <FormRow label="OS" id="import-platform" error=error("platform")>
            <select id="import-platform" name="request[platform]">
                <option value="">"Choose the OS"</option>
                {PLATFORMS.iter().map(|name| view! { <option value=*name>{*name}</option> }).collect_view()}
            </select>
        </FormRow>
        <FormRow label="OS version" id="import-os-version" error=error("os_version")>
            <input id="import-os-version" name="request[os_version]" placeholder="e.g. Ubuntu 22.04 server 64bit" />
        </FormRow>
        <FormRow label="Architecture" id="import-architecture" error=error("architecture")>
            <select id="import-architecture" name="request[architecture]">
                <option value="x86">"x86"</option>
                <option value="arm">"Arm"</option>
            </select>
        </FormRow>
        <FormRow label="Boot mode" id="import-boot" error=error("boot_mode")>
            <select id="import-boot" name="request[boot_mode]">
                <option value="bios">"BIOS"</option>
                <option value="uefi">"UEFI"</option>
            </select>
        </FormRow>
        <FormRow label="Min. memory (MB)" id="import-min-ram" error=error("min_ram")>
            <input id="import-min-ram" name="request[min_ram]" inputmode="numeric" placeholder="0 = unrestricted" />
        </FormRow>
        <FormRow label="Max. memory (MB)" id="import-max-ram" error=error("max_ram")>
            <input id="import-max-ram" name="request[max_ram]" inputmode="numeric" placeholder="0 = unrestricted" />
        </FormRow>
        <FormRow label="Min. disk (GB)" id="import-min-disk" error=error("min_disk")>
            <input id="import-min-disk" name="request[min_disk]" inputmode="numeric" placeholder="Default: the image's virtual size" />
        </FormRow>
        <FormRow label="Tags" id="import-tags" error=error("tags")>
            <input id="import-tags" name="request[tags]" placeholder="key=value, key2=value2" />
        </FormRow>
        <FormRow label="Family" id="import-family" error=error("family")>
            <input id="import-family" name="request[family]" maxlength="63" autocomplete="off"
                placeholder="Optional, e.g. web-frontend: Create ECS can take the family's latest image" />
        </FormRow>
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
