//! One image with every attribute of the IMS image model that applies to it, and its tags.

use super::model::{kind_label, ImageDetail, ImageStatus, ImageTag};
use super::requests::EXPORT_FORMATS;
use super::{get_image, ExportImage};
use crate::buckets::list_buckets;
use crate::buckets::model::BucketView;
use crate::caller::SessionInfo;
use crate::error::AppError;
use crate::format::{format_bytes, format_time};
use crate::regions::region_name;
use crate::ui::{field_error, general_error, ErrorBanner, FieldError, SignedInPage, StatusBadge};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn ImageDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|params| params.get("id").unwrap_or_default());
    let image = Resource::new(id, get_image);
    // For the export panel; made here, before any Suspense (see SignedInPage).
    let buckets = Resource::new(|| (), |_| list_buckets());
    let crumb = Signal::derive(move || match image.get() {
        Some(Ok(image)) => image.name,
        _ => "Image".to_string(),
    });
    view! {
        <SignedInPage crumb let:info>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || {
                    let info = info.clone();
                    Suspend::new(async move { detail_view(info, image.await, buckets) })
                }}
            </Transition>
        </SignedInPage>
    }
}

fn detail_view(
    info: SessionInfo,
    image: Result<ImageDetail, AppError>,
    buckets: Resource<Result<Vec<BucketView>, AppError>>,
) -> impl IntoView {
    match image {
        Ok(image) => {
            let exportable = info.role.can_modify_images()
                && image.owned
                && image.imagetype == "private"
                && image.status == ImageStatus::Active
                && !matches!(image.kind.as_str(), "iso" | "full_ecs");
            let export = exportable
                .then(|| view! { <ExportPanel image_id=image.id.clone() image_name=image.name.clone() buckets /> });
            view! {
                <Title text=format!("{} — Image Management Service", image.name) />
                {image_view(image)}
                {export}
            }
            .into_any()
        }
        // get_image has already given the response the error's status (404 for unknown ids).
        Err(error) => view! {
            <Title text="Image not found — Image Management Service" />
            <div class="page-header">
                <h1>"Image not found"</h1>
            </div>
            <ErrorBanner message=error.to_string() />
            <p>
                <a href="/images/private">"Back to Private Images"</a>
            </p>
        }
        .into_any(),
    }
}

fn or_dash(text: &str) -> String {
    if text.is_empty() {
        "—".to_string()
    } else {
        text.to_string()
    }
}

fn yes_no(flag: bool) -> String {
    if flag {
        "Yes".to_string()
    } else {
        "No".to_string()
    }
}

fn megabytes(value: i64) -> String {
    if value == 0 {
        "Unrestricted".to_string()
    } else {
        format!("{value} MB")
    }
}

/// The Basic Information rows: (label, value) in the order the page shows them.
fn attributes(image: &ImageDetail) -> Vec<(&'static str, String)> {
    let mut fields = vec![
        ("Name", image.name.clone()),
        ("ID", image.id.clone()),
        ("Description", or_dash(&image.description)),
        ("Image Type", kind_label(&image.kind).to_string()),
        ("Visibility", image.visibility.clone()),
        ("Image Category (__imagetype)", image.imagetype.clone()),
        ("Region", region_name(&image.region).to_string()),
        ("Owner Project", image.owner.clone()),
        ("Enterprise Project", image.enterprise_project_id.clone()),
        ("OS Type", image.os_type.clone()),
        ("OS", or_dash(&image.os_version)),
        ("Platform", image.platform.clone()),
        ("OS Bit", format!("{}-bit", image.os_bit)),
        ("Architecture", image.architecture.clone()),
        ("Boot Mode", image.hw_firmware_type.to_uppercase()),
        ("Virtualization", image.virtual_env_type.clone()),
        ("Disk Format", image.disk_format.clone()),
        ("Container Format", image.container_format.clone()),
        ("Size", format!("{} ({} bytes)", format_bytes(image.image_size), image.image_size)),
        ("Virtual Size", format!("{} ({} bytes)", format_bytes(image.virtual_size), image.virtual_size)),
        ("Min. Disk", format!("{} GB", image.min_disk)),
        ("Min. Memory", megabytes(image.min_ram)),
        ("Max. Memory", megabytes(image.max_ram)),
        (
            "Encrypted",
            if image.cmk_id.is_empty() { "No".to_string() } else { format!("Yes (KMS key {})", image.cmk_id) },
        ),
        ("Protected", yes_no(image.protected)),
        ("Registered", yes_no(image.is_registered)),
        ("Source", or_dash(&image.root_origin)),
        ("Data Origin", or_dash(&image.data_origin)),
        ("Parent Image", or_dash(&image.original_image_id)),
        ("Backup", or_dash(&image.backup_id)),
        ("Storage Backend", image.image_source_type.clone()),
        ("Features", if image.support_flags.is_empty() { "—".to_string() } else { image.support_flags.join(", ") }),
        ("MD5 Checksum", or_dash(&image.checksum)),
        ("SHA-256 Checksum", or_dash(&image.sha256)),
        ("Created", format_time(image.created_at)),
        ("Updated", format_time(image.updated_at)),
        ("Active Since", image.active_at.map(format_time).unwrap_or_else(|| "—".to_string())),
        ("ECSs Created from It", image.servers_created.to_string()),
        ("Last Used", image.last_used_at.map(format_time).unwrap_or_else(|| "Never".to_string())),
    ];
    if image.kind == "full_ecs" {
        let disks = image.data_disks_gb.iter().map(|gb| format!("{gb} GB")).collect::<Vec<_>>().join(", ");
        fields.push(("Data Disks", if disks.is_empty() { "None".to_string() } else { disks }));
    }
    fields
}

fn image_view(image: ImageDetail) -> impl IntoView {
    let back = match image.imagetype.as_str() {
        "gold" => "/images/public",
        _ if image.owned => "/images/private",
        _ => "/images/shared",
    };
    // Images made from one of the caller's ECSs link to it.
    let source_server = image.owned.then(|| image.data_origin.strip_prefix("instance,").map(str::to_string)).flatten();
    let use_link = (image.status == ImageStatus::Active && image.has_file).then(|| match image.kind.as_str() {
        "data" => view! { <a class="button" href=format!("/disks?image={}", image.id)>"Create Disk"</a> }.into_any(),
        _ => view! { <a class="button button-primary" href=format!("/ecs/create?image={}", image.id)>"Apply for ECS"</a> }.into_any(),
    });
    view! {
        <div class="page-header">
            <a class="back-link" href=back>"‹ Back"</a>
            <h1>{image.name.clone()}</h1>
            <StatusBadge status=image.status.as_str() label=image.status.label() reason=image.status_reason.clone() />
            <div class="header-actions">{use_link}</div>
        </div>
        {(!image.status_reason.is_empty())
            .then(|| view! { <ErrorBanner message=format!("Failure reason: {}", image.status_reason) /> })}
        <section class="panel">
            <h2>"Basic Information"</h2>
            <dl class="attributes">
                {attributes(&image)
                    .into_iter()
                    .map(|(label, value)| {
                        view! {
                            <div class="attribute">
                                <dt>{label}</dt>
                                <dd>{value}</dd>
                            </div>
                        }
                    })
                    .collect_view()}
                {source_server.map(|id| view! {
                    <div class="attribute">
                        <dt>"Source ECS"</dt>
                        <dd><a href=format!("/ecs/{id}")>{id.clone()}</a></dd>
                    </div>
                })}
            </dl>
        </section>
        {tags_panel(image.tags)}
    }
}

fn tags_panel(tags: Vec<ImageTag>) -> impl IntoView {
    let body = if tags.is_empty() {
        view! { <p class="empty">"This image has no tags."</p> }.into_any()
    } else {
        view! {
            <table class="tag-table">
                <thead>
                    <tr>
                        <th>"Key"</th>
                        <th>"Value"</th>
                    </tr>
                </thead>
                <tbody>
                    {tags.into_iter().map(|tag| view! { <tr><td>{tag.key}</td><td>{tag.value}</td></tr> }).collect_view()}
                </tbody>
            </table>
        }
        .into_any()
    };
    view! {
        <section class="panel">
            <h2>"Tags"</h2>
            {body}
        </section>
    }
}

/// Export the image to a bucket: choose the bucket, the object name and the format.
#[component]
fn ExportPanel(
    image_id: String,
    image_name: String,
    buckets: Resource<Result<Vec<BucketView>, AppError>>,
) -> impl IntoView {
    let export = ServerAction::<ExportImage>::new();
    let format = RwSignal::new("qcow2".to_string());
    let default_name = move || format!("{image_name}.{}", format.get());
    let error =
        move |field: &'static str| move || view! { <FieldError message=field_error(export.value().get(), field) /> };
    view! {
        <section class="panel">
            <h2>"Export Image"</h2>
            {move || match export.value().get() {
                Some(Ok(job_id)) => Some(view! {
                    <p class="banner banner-info" role="status">
                        {format!("Export started (job {job_id}). ")}
                        <a href="/jobs">"Follow it on the Jobs page"</a>
                    </p>
                }),
                _ => None,
            }}
            {move || general_error(export.value().get()).map(|message| view! { <ErrorBanner message /> })}
            <ActionForm action=export attr:class="inline-form">
                <input type="hidden" name="image_id" value=image_id.clone() />
                <label for="export-bucket">"Bucket"</label>
                <div>
                    <select id="export-bucket" name="bucket">
                        <Suspense fallback=|| view! { <option value="">"Loading…"</option> }>
                            {move || Suspend::new(async move {
                                let names: Vec<String> = buckets.await.unwrap_or_default().into_iter().map(|bucket| bucket.name).collect();
                                view! {
                                    <option value="">{if names.is_empty() { "No buckets: create one first" } else { "Choose a bucket" }}</option>
                                    {names.into_iter().map(|name| view! { <option value=name.clone()>{name.clone()}</option> }).collect_view()}
                                }
                            })}
                        </Suspense>
                    </select>
                    {error("bucket")}
                </div>
                <label for="export-format">"Format"</label>
                <select id="export-format" name="file_format" on:change=move |event| format.set(event_target_value(&event))>
                    {EXPORT_FORMATS.iter().map(|name| view! { <option value=*name>{name.to_uppercase()}</option> }).collect_view()}
                </select>
                <label for="export-key">"Object name"</label>
                <div>
                    <input id="export-key" name="object_key" prop:value=default_name />
                    {error("object_key")}
                </div>
                <button type="submit" class="button button-primary" disabled=move || export.pending().get()>"Export"</button>
            </ActionForm>
        </section>
    }
}
