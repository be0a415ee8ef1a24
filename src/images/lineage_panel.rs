//! Lineage in the pages: the detail page's "Lineage" panel (where the image came from and what
//! was made from it) and the same "made from it" list in the Delete dialog.

use super::model::{Descendants, ImageSource, Lineage, LinkedResource};
use leptos::prelude::*;

/// A resource by name (or id when it has none), linked when it has a page.
fn resource_link(resource: &LinkedResource) -> impl IntoView {
    let label = if resource.name.is_empty() { resource.id.clone() } else { resource.name.clone() };
    match &resource.href {
        Some(href) => view! { <a href=href.clone() title=resource.id.clone()>{label}</a> }.into_any(),
        None => view! { <span title=resource.id.clone()>{label}" (no longer exists or not yours)"</span> }.into_any(),
    }
}

fn link_list(resources: &[LinkedResource]) -> impl IntoView {
    resources
        .iter()
        .enumerate()
        .map(|(index, resource)| view! { {(index > 0).then_some(", ")}{resource_link(resource)} })
        .collect_view()
}

fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// One line per kind of thing made from the image; an empty list says so.
pub fn descendants_view(descendants: &Descendants) -> impl IntoView {
    if descendants.is_empty() {
        return view! { <p class="hint" data-testid="no-descendants">"Nothing has been made from this image."</p> }
            .into_any();
    }
    let servers = (!descendants.servers.is_empty() || descendants.other_servers > 0).then(|| {
        let others = (descendants.other_servers > 0).then(|| {
            let count = descendants.other_servers as usize;
            format!(
                "{}{} in other projects",
                if descendants.servers.is_empty() { "" } else { "; " },
                plural(count, "ECS", "ECSs")
            )
        });
        view! {
            <li data-testid="impact-servers">
                {format!("{}: ", plural(descendants.servers.len() + descendants.other_servers as usize, "ECS", "ECSs"))}
                {link_list(&descendants.servers)}
                {others}
            </li>
        }
    });
    let disks = (!descendants.disks.is_empty()).then(|| {
        view! {
            <li data-testid="impact-disks">
                {format!("{}: ", plural(descendants.disks.len(), "EVS disk", "EVS disks"))}
                {link_list(&descendants.disks)}
            </li>
        }
    });
    let images = (!descendants.images.is_empty()).then(|| {
        view! {
            <li data-testid="impact-images">
                {format!("{} made from it: ", plural(descendants.images.len(), "image", "images"))}
                {link_list(&descendants.images)}
            </li>
        }
    });
    let shares = (!descendants.shares.is_empty()).then(|| {
        let names = descendants
            .shares
            .iter()
            .map(|share| {
                let who = if share.account.is_empty() { share.project_id.clone() } else { share.account.clone() };
                format!("{who} ({})", share.status.label().to_lowercase())
            })
            .collect::<Vec<_>>()
            .join(", ");
        view! {
            <li data-testid="impact-shares">
                {format!("Shared with {}: {names}", plural(descendants.shares.len(), "project", "projects"))}
            </li>
        }
    });
    view! { <ul class="lineage-list">{servers}{disks}{images}{shares}</ul> }.into_any()
}

fn source_view(source: &ImageSource) -> impl IntoView {
    match source {
        ImageSource::File { bucket, object_key, href } => {
            let bucket_view = match href {
                Some(href) => view! { <a href=href.clone()>{bucket.clone()}</a> }.into_any(),
                None => view! { <span>{bucket.clone()}" (bucket no longer exists)"</span> }.into_any(),
            };
            view! { "Imported from file "<code>{object_key.clone()}</code>" in bucket "{bucket_view} }.into_any()
        }
        ImageSource::Server(server) => view! { "Captured from ECS "{resource_link(server)} }.into_any(),
        ImageSource::Disk(disk) => view! { "Captured from EVS disk "{resource_link(disk)} }.into_any(),
        ImageSource::Image(image) => view! { "Copied from image "{resource_link(image)} }.into_any(),
        ImageSource::Replica { image, region } if image.href.is_none() && !image.name.is_empty() => view! {
            "Replicated from image "<span title=image.id.clone()>{image.name.clone()}</span>" in "{region.clone()}
        }
        .into_any(),
        ImageSource::Replica { image, region } => {
            view! { "Replicated from image "{resource_link(image)}" in "{region.clone()} }.into_any()
        }
        ImageSource::Platform => view! { "Provided by the platform" }.into_any(),
        ImageSource::Unknown => view! { "Not recorded" }.into_any(),
    }
}

/// The detail page's Lineage panel.
pub fn lineage_panel(lineage: Lineage) -> impl IntoView {
    view! {
        <section class="panel" data-testid="lineage">
            <h2>"Lineage"</h2>
            <dl class="attributes">
                <div class="attribute attribute-wide">
                    <dt>"Came from"</dt>
                    <dd data-testid="lineage-source">{source_view(&lineage.source)}</dd>
                </div>
                {lineage.parent.map(|parent| view! {
                    <div class="attribute attribute-wide">
                        <dt>"Parent image"</dt>
                        <dd>{resource_link(&parent)}</dd>
                    </div>
                })}
                <div class="attribute attribute-wide">
                    <dt>"Made from it"</dt>
                    <dd>{descendants_view(&lineage.descendants)}</dd>
                </div>
            </dl>
        </section>
    }
}
