//! The Replicate dialog: within the region under a new name, or to the account's project in
//! another region. A way the image cannot go is shown disabled with its reason.

use super::replicate::{ReplicationTarget, MAX_CROSS_REGION_IMAGES};
use super::{replication_targets, ReplicateImages};
use crate::error::AppError;
use crate::ui::{field_error, general_error, ErrorBanner, FieldError};
use leptos::form::ActionForm;
use leptos::prelude::*;

/// What the dialog replicates, and why each way is closed, if it is.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplicateTarget {
    /// (id, name) of each image.
    pub images: Vec<(String, String)>,
    pub in_region_refusal: Option<String>,
    pub cross_region_refusal: Option<String>,
}

/// "Replication started" once the dialog's request was accepted.
pub fn replicate_done_banner(action: ServerAction<ReplicateImages>) -> impl IntoView {
    move || match action.value().get() {
        Some(Ok(ids)) => Some(view! {
            <p class="banner banner-info" role="status" data-testid="replicate-done">
                {format!(
                    "Replication started ({} image{}). Each replica is Normal once its file is copied, and Jobs shows the \
                     progress. A replica in another region is listed in that region's Private Images.",
                    ids.len(),
                    if ids.len() == 1 { "" } else { "s" }
                )}
            </p>
        }),
        _ => None,
    }
}

/// The destination choices, fetched when the dialog opens rather than with every page.
pub fn regions_for(target: RwSignal<Option<ReplicateTarget>>) -> Resource<Result<Vec<ReplicationTarget>, AppError>> {
    Resource::new(
        move || target.with(Option::is_some),
        |open| async move {
            if open {
                replication_targets().await
            } else {
                Ok(Vec::new())
            }
        },
    )
}

#[component]
pub fn ReplicateDialog(
    target: RwSignal<Option<ReplicateTarget>>,
    action: ServerAction<ReplicateImages>,
    regions: Resource<Result<Vec<ReplicationTarget>, AppError>>,
) -> impl IntoView {
    Effect::new(move |_| {
        if matches!(action.value().get(), Some(Ok(_))) {
            target.set(None);
        }
    });
    move || {
        target.get().map(|chosen| {
            let single = chosen.images.len() == 1;
            let ids = chosen.images.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>().join(",");
            let names = chosen.images.iter().map(|(_, name)| name.clone()).collect::<Vec<_>>().join(", ");
            let in_region_open = single && chosen.in_region_refusal.is_none();
            let cross = RwSignal::new(!in_region_open);
            let title = if single { format!("Replicate Image \"{names}\"") } else { format!("Replicate {} Images", chosen.images.len()) };
            let in_region_reason = if single {
                chosen.in_region_refusal.clone()
            } else {
                Some("Several images are replicated across regions only.".to_string())
            };
            let too_many = chosen.images.len() > MAX_CROSS_REGION_IMAGES;
            let cross_reason = chosen.cross_region_refusal.clone().or_else(|| {
                too_many.then(|| format!("At most {MAX_CROSS_REGION_IMAGES} images can be replicated across regions at once."))
            });
            let error = move |field: &'static str| move || view! { <FieldError message=field_error(action.value().get(), field) /> };
            view! {
                <div class="dialog-backdrop">
                    <div class="dialog dialog-wide" role="dialog" aria-modal="true" aria-labelledby="replicate-title">
                        <h2 id="replicate-title">{title}</h2>
                        {(!single).then(|| view! { <p class="hint">{names.clone()}</p> })}
                        {move || general_error(action.value().get()).map(|message| view! { <ErrorBanner message /> })}
                        <ActionForm action attr:class="stack-form" attr:novalidate=true>
                            <input type="hidden" name="request[images]" value=ids />
                            <fieldset class="radio-group">
                                <legend>"Replication Type"</legend>
                                {replication_type_option("region", "Within Region", "A copy in this region under a new name.", !cross.get_untracked(), in_region_reason, move || cross.set(false))}
                                {replication_type_option("cross", "Across Regions", "A copy in your account's project of another region.", cross.get_untracked(), cross_reason, move || cross.set(true))}
                            </fieldset>
                            {error("replication_type")}
                            {error("images")}
                            <label for="replicate-name">{if single { "Name" } else { "Name (empty keeps each image's name)" }}</label>
                            <input id="replicate-name" name="request[name]" maxlength="128" autocomplete="off"
                                value=if single { format!("{names}-copy") } else { String::new() } />
                            {error("name")}
                            <label for="replicate-description">"Description"</label>
                            <textarea id="replicate-description" name="request[description]" maxlength="1024" rows="2"></textarea>
                            {error("description")}
                            {move || cross.get().then(|| destination_fields(regions, error("region"), error("project_id")))}
                            <div class="dialog-actions">
                                <button type="button" class="button" on:click=move |_| target.set(None)>"Cancel"</button>
                                <button type="submit" class="button button-primary" disabled=move || action.pending().get()>"OK"</button>
                            </div>
                        </ActionForm>
                    </div>
                </div>
            }
        })
    }
}

/// One radio of the replication type; a closed way is disabled and says why.
fn replication_type_option(
    value: &'static str,
    label: &'static str,
    hint: &'static str,
    checked: bool,
    refusal: Option<String>,
    choose: impl Fn() + 'static,
) -> impl IntoView {
    let id = format!("replicate-type-{value}");
    let hint_id = format!("{id}-hint");
    let open = refusal.is_none();
    view! {
        <div class="radio-row">
            <input type="radio" id=id.clone() name="request[replication_type]" value=value
                checked=checked && open disabled=!open aria-describedby=hint_id.clone()
                on:change=move |_| choose() />
            <label for=id>{label}</label>
        </div>
        <p class="hint" id=hint_id>{refusal.unwrap_or_else(|| hint.to_string())}</p>
    }
}

/// Destination region and project, from the account's projects in the other regions.
fn destination_fields(
    regions: Resource<Result<Vec<ReplicationTarget>, AppError>>,
    region_error: impl IntoView + 'static,
    project_error: impl IntoView + 'static,
) -> impl IntoView {
    let chosen = RwSignal::new(String::new());
    let listed = move || regions.get().and_then(Result::ok).unwrap_or_default();
    let projects = move || {
        let region = chosen.get();
        listed().into_iter().filter(|target| region.is_empty() || target.region == region).collect::<Vec<_>>()
    };
    view! {
        <label for="replicate-region">"Destination Region"</label>
        <select id="replicate-region" name="request[region]" on:change=move |event| chosen.set(event_target_value(&event))>
            <option value="">"Choose a region"</option>
            {move || listed().into_iter().map(|target| view! {
                <option value=target.region.clone()>{format!("{} ({})", target.region_name, target.region)}</option>
            }).collect_view()}
        </select>
        {region_error}
        <label for="replicate-project">"Destination Project"</label>
        <select id="replicate-project" name="request[project_id]">
            {move || projects().into_iter().map(|target| view! {
                <option value=target.project_id.clone()>{target.project_name.clone()}</option>
            }).collect_view()}
        </select>
        <p class="hint">"The replica belongs to your account's project in that region."</p>
        {project_error}
    }
}
