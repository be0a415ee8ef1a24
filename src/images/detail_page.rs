//! One image with every attribute of the IMS image model that applies to it, and its tags.

use super::{get_image, kind_label, ImageDetail};
use crate::auth::SessionInfo;
use crate::error::AppError;
use crate::format::{format_bytes, format_time};
use crate::regions::region_name;
use crate::ui::{ErrorBanner, SessionResource, Shell, StatusBadge};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn ImageDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|params| params.get("id").unwrap_or_default());
    let image = Resource::new(id, get_image);
    let session = expect_context::<SessionResource>().0;
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let info = session.await;
                let image = image.await;
                match info {
                    Ok(Some(info)) => detail_view(info, image).into_any(),
                    Ok(None) | Err(_) => crate::app::SessionEnded().into_any(),
                }
            })}
        </Transition>
    }
}

fn detail_view(info: SessionInfo, image: Result<ImageDetail, AppError>) -> impl IntoView {
    match image {
        Ok(image) => {
            let name = image.name.clone();
            view! {
                <Title text=format!("{name} — Image Management Service") />
                <Shell info=info crumb=name>
                    {image_view(image)}
                </Shell>
            }
            .into_any()
        }
        // get_image has already given the response the error's status (404 for unknown ids).
        Err(error) => {
            view! {
                <Title text="Image not found — Image Management Service" />
                <Shell info=info crumb="Image".to_string()>
                    <div class="page-header">
                        <h1>"Image not found"</h1>
                    </div>
                    <ErrorBanner message=error.to_string() />
                    <p>
                        <a href="/images/private">"Back to Private Images"</a>
                    </p>
                </Shell>
            }
            .into_any()
        }
    }
}

fn or_dash(text: &str) -> String {
    if text.is_empty() { "—".to_string() } else { text.to_string() }
}

fn yes_no(flag: bool) -> String {
    if flag { "Yes".to_string() } else { "No".to_string() }
}

fn megabytes(value: i64) -> String {
    if value == 0 { "Unrestricted".to_string() } else { format!("{value} MB") }
}

fn image_view(image: ImageDetail) -> impl IntoView {
    let back = match image.imagetype.as_str() {
        "gold" => "/images/public",
        _ if image.owned => "/images/private",
        _ => "/images/shared",
    };
    let fields: Vec<(&'static str, String)> = vec![
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
        ("Encrypted", if image.cmk_id.is_empty() { "No".to_string() } else { format!("Yes (KMS key {})", image.cmk_id) }),
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
    ];
    let tags = image.tags.clone();
    view! {
        <div class="page-header">
            <a class="back-link" href=back>"‹ Back"</a>
            <h1>{image.name.clone()}</h1>
            <StatusBadge status=image.status.clone() reason=image.status_reason.clone() />
        </div>
        {(!image.status_reason.is_empty())
            .then(|| view! { <ErrorBanner message=format!("Failure reason: {}", image.status_reason) /> })}
        <section class="panel">
            <h2>"Basic Information"</h2>
            <dl class="attributes">
                {fields
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
            </dl>
        </section>
        <section class="panel">
            <h2>"Tags"</h2>
            {if tags.is_empty() {
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
                            {tags
                                .into_iter()
                                .map(|tag| view! { <tr><td>{tag.key}</td><td>{tag.value}</td></tr> })
                                .collect_view()}
                        </tbody>
                    </table>
                }
                    .into_any()
            }}
        </section>
    }
}
