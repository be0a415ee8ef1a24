//! Image Families: the project's families in this region, each with its members, its latest
//! image and its policy, and the Edit Policy dialog.

use super::families::{FamilyView, MAX_KEEP_NEWEST};
use super::{list_image_families, SetFamilyPolicy};
use crate::regions::{region_name, REGIONS};
use crate::ui::{field_error, general_error, ErrorBanner, FieldError, Loaded, SignedInPage, Table};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

/// The family whose policy the dialog edits; a new one has an empty name to type.
#[derive(Clone, Debug, PartialEq)]
struct PolicyTarget {
    family: Option<FamilyView>,
    /// The region the families are in (they are not replicated to it).
    region: String,
}

#[component]
pub fn ImageFamiliesPage() -> impl IntoView {
    let save = ServerAction::<SetFamilyPolicy>::new();
    let families = Resource::new(move || save.version().get(), |_| list_image_families());
    let editing = RwSignal::new(None::<PolicyTarget>);
    view! {
        <Title text="Image Families — Image Management Service" />
        <SignedInPage crumb="Image Families" let:info>
            <div class="page-header">
                <h1>"Image Families"</h1>
                {info.role.can_modify_images().then(|| {
                    let region = info.region.clone();
                    view! {
                        <button type="button" class="button button-primary header-action"
                            on:click=move |_| editing.set(Some(PolicyTarget { family: None, region: region.clone() }))>
                            "Create Policy"
                        </button>
                    }
                })}
            </div>
            <p class="page-intro">
                "A family is a name shared by the versions of an image (set it in Create Image or Modify). Create ECS can \
                 take the latest of a family: its newest Normal, non-deprecated image. A policy keeps the newest images \
                 (older ones go to the recycle bin, unless protected or shared) and replicates each new image to other regions."
            </p>
            <Loaded resource=families let:families>
                {family_table(families, info.role.can_modify_images(), info.region.clone(), editing)}
            </Loaded>
        </SignedInPage>
        <PolicyDialog target=editing action=save />
    }
}

fn family_table(
    families: Vec<FamilyView>,
    can_modify: bool,
    region: String,
    editing: RwSignal<Option<PolicyTarget>>,
) -> AnyView {
    if families.is_empty() {
        return view! {
            <p class="empty panel" data-testid="empty-result">
                "No image families in this region yet. Give an image a family in Create Image or in Modify."
            </p>
        }
        .into_any();
    }
    let rows = families
        .into_iter()
        .map(|family| {
            let latest = match &family.latest {
                Some((id, name)) => view! { <a href=format!("/image/{id}")>{name.clone()}</a> }.into_any(),
                None => view! { <span class="hint">"None Normal"</span> }.into_any(),
            };
            let keep = family.keep_newest.map_or_else(|| "All".to_string(), |count| count.to_string());
            let regions = if family.replicate_to.is_empty() {
                "—".to_string()
            } else {
                family.replicate_to.iter().map(|region| region_name(region).to_string()).collect::<Vec<_>>().join(", ")
            };
            let target = PolicyTarget { family: Some(family.clone()), region: region.clone() };
            view! {
                <tr data-testid="family-row">
                    <td><span class="image-name">{family.name.clone()}</span></td>
                    <td class="num">{family.members}</td>
                    <td>{latest}</td>
                    <td class="num">{keep}</td>
                    <td>{regions}</td>
                    <td>
                        {can_modify.then(|| view! {
                            <button type="button" class="link-button" on:click=move |_| editing.set(Some(target.clone()))>
                                "Edit Policy"
                            </button>
                        })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <Table headers=&["Family", "Images", "Latest Image", "Keep Newest", "Replicate To", "Operation"]>{rows}</Table>
    }
    .into_any()
}

/// Keep newest and Replicate to, for a family (its name fixed) or a new one (its name typed).
#[component]
fn PolicyDialog(target: RwSignal<Option<PolicyTarget>>, action: ServerAction<SetFamilyPolicy>) -> impl IntoView {
    Effect::new(move |_| {
        if matches!(action.value().get(), Some(Ok(()))) {
            target.set(None);
        }
    });
    let error =
        move |field: &'static str| move || view! { <FieldError message=field_error(action.value().get(), field) /> };
    move || {
        target.get().map(|chosen| {
            let family = chosen.family.clone();
            let title = match &family {
                Some(family) => format!("Edit Policy of Family \"{}\"", family.name),
                None => "Create Policy".to_string(),
            };
            let name = family.as_ref().map(|family| family.name.clone()).unwrap_or_default();
            let keep = family.as_ref().and_then(|family| family.keep_newest).map(|count| count.to_string()).unwrap_or_default();
            let replicated = family.as_ref().map(|family| family.replicate_to.clone()).unwrap_or_default();
            let checkboxes = REGIONS
                .iter()
                .filter(|region| region.id != chosen.region)
                .map(|region| {
                    let id = format!("policy-region-{}", region.id);
                    view! {
                        <div class="checkbox-row">
                            <input type="checkbox" id=id.clone() name=format!("request[replicate_to][{}]", region.id)
                                value="on" checked=replicated.iter().any(|chosen| chosen == region.id) />
                            <label for=id>{format!("{} ({})", region.name, region.id)}</label>
                        </div>
                    }
                })
                .collect_view();
            view! {
                <div class="dialog-backdrop">
                    <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="policy-title">
                        <h2 id="policy-title">{title}</h2>
                        {move || general_error(action.value().get()).map(|message| view! { <ErrorBanner message /> })}
                        <ActionForm action attr:class="stack-form" attr:novalidate=true>
                            <label for="policy-name">"Family"</label>
                            <input id="policy-name" name="request[name]" maxlength="63" value=name.clone()
                                readonly=family.is_some() autocomplete="off" />
                            {error("name")}
                            <label for="policy-keep">"Keep newest"</label>
                            <input id="policy-keep" name="request[keep_newest]" inputmode="numeric" value=keep
                                placeholder="All" aria-describedby="policy-keep-hint" autocomplete="off" />
                            <p class="hint" id="policy-keep-hint">
                                {format!("1 to {MAX_KEEP_NEWEST} images; empty keeps them all. Protected and shared images are never removed.")}
                            </p>
                            {error("keep_newest")}
                            <fieldset class="radio-group">
                                <legend>"Replicate to"</legend>
                                {checkboxes}
                            </fieldset>
                            {error("replicate_to")}
                            <div class="dialog-actions">
                                <button type="button" class="button" on:click=move |_| target.set(None)>"Cancel"</button>
                                <button type="submit" class="button button-primary" disabled=move || action.pending().get()>"Save"</button>
                            </div>
                        </ActionForm>
                    </div>
                </div>
            }
        })
    }
}
