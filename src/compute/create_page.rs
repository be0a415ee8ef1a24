//! "Create ECS": an image (public, private, shared or KooGallery), a flavor, disks, a name and how many.
//! The server checks the image against the flavor and disk (min RAM, min disk, architecture,
//! boot mode) and puts each refusal next to its field.

use super::flavors::{region_flavors, Flavor};
use super::model::ImageChoice;
use super::rules::architecture_label;
use super::{list_image_choices, CreateServers};
use crate::images::model::kind_label;
use crate::market::model::price_label;
use crate::ui::{field_error, general_error, ErrorBanner, FieldError, FormRow, SignedInPage};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

#[component]
pub fn CreateServerPage() -> impl IntoView {
    let query = use_query_map();
    let create = ServerAction::<CreateServers>::new();
    let image_id = RwSignal::new(query.with_untracked(|query| query.get("image").unwrap_or_default()));
    let images = Resource::new(|| (), |_| list_image_choices(false));
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(_)) = create.value().get() {
            navigate("/ecs", Default::default());
        }
    });
    view! {
        <Title text="Create ECS — Elastic Cloud Server" />
        <SignedInPage crumb="Create ECS" let:info>
            <div class="page-header">
                <a class="back-link" href="/ecs">"‹ ECSs"</a>
                <h1>"Create ECS"</h1>
            </div>
            {move || general_error(create.value().get()).map(|message| view! { <ErrorBanner message /> })}
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || {
                    let flavors = region_flavors(&info.region);
                    Suspend::new(async move { server_form(create, images.await.unwrap_or_default(), flavors, image_id) })
                }}
            </Transition>
        </SignedInPage>
    }
}

/// The form: image (with what it needs), flavor and disks, then name and quantity.
fn server_form(
    create: ServerAction<CreateServers>,
    choices: Vec<ImageChoice>,
    flavors: Vec<Flavor>,
    image_id: RwSignal<String>,
) -> impl IntoView {
    let error = move |field: &'static str| Signal::derive(move || field_error(create.value().get(), field));
    let hidden = choices.iter().filter(|choice| choice.deprecated).count();
    // A deprecated image is offered only when asked for (or when a link chose it).
    let show_deprecated =
        RwSignal::new(choices.iter().any(|choice| choice.deprecated && choice.id == image_id.get_untracked()));
    let options = {
        let choices = choices.clone();
        move || image_options(&choices, &image_id.get_untracked(), show_deprecated.get())
    };
    let chosen = Signal::derive(move || choices.iter().find(|choice| choice.id == image_id.get()).cloned());
    view! {
        <ActionForm action=create attr:class="panel form-grid" attr:novalidate=true>
            <h2>"Image"</h2>
            <FormRow label="Image" id="server-image" error=error("image_id")>
                <select id="server-image" name="request[image_id]" prop:value=move || image_id.get()
                    on:change=move |event| image_id.set(event_target_value(&event))>
                    <option value="">"Choose an image"</option>
                    {options}
                </select>
                {(hidden > 0).then(|| view! {
                    <label class="check-field js-only">
                        <input type="checkbox" prop:checked=move || show_deprecated.get()
                            on:change=move |event| show_deprecated.set(event_target_checked(&event)) />
                        {format!("Show deprecated images ({hidden})")}
                    </label>
                })}
                {move || chosen.get().map(|image| view! { <p class="hint" data-testid="image-needs">{image_needs(&image)}</p> })}
                {move || chosen.get().filter(|image| image.deprecated).map(|_| view! {
                    <p class="banner banner-warning" role="status" data-testid="deprecated-warning">
                        "This image is deprecated: its owner advises against new ECSs from it. You can still create them."
                    </p>
                })}
            </FormRow>
            {move || {
                let paid = chosen.get().filter(|image| image.price_cents > 0);
                let accept_error = error("accept_price");
                paid.map(|image| view! {
                    <label for="server-accept-price">"Image price"</label>
                    <div>
                        <div class="checkbox-row">
                            <input type="checkbox" id="server-accept-price" name="request[accept_price]" value="accepted"
                                aria-describedby="server-accept-price-text" />
                            <span id="server-accept-price-text">
                                {format!(
                                    "I accept {} per ECS for the KooGallery image \"{}\", on top of the ECS itself. \
                                     The acceptance is recorded as a subscription of this project.",
                                    price_label(image.price_cents),
                                    image.name
                                )}
                            </span>
                        </div>
                        {move || view! { <FieldError message=accept_error.get() /> }}
                    </div>
                })
            }}
            <h2>"Specifications"</h2>
            <FormRow label="Flavor" id="server-flavor" error=error("flavor")>
                <select id="server-flavor" name="request[flavor]">
                    <option value="">"Choose a flavor"</option>
                    {flavors
                        .iter()
                        .map(|flavor| view! { <option value=flavor.id>{format!("{} — {}", flavor.id, flavor.summary())}</option> })
                        .collect_view()}
                </select>
            </FormRow>
            <FormRow label="System disk (GB)" id="server-system-disk" error=error("system_disk_gb")
                hint="Up to 1024 GB. Left empty, the smallest size the image allows.">
                <input id="server-system-disk" name="request[system_disk_gb]" inputmode="numeric" placeholder="The image's minimum" autocomplete="off" />
            </FormRow>
            <FormRow label="Data disks (GB)" id="server-data-disks" error=error("data_disks")
                hint="Blank EVS disks, 10 to 32768 GB each, separated by commas. A full-ECS image brings its own data disks too.">
                <input id="server-data-disks" name="request[data_disks]" placeholder="e.g. 100, 200" autocomplete="off" />
            </FormRow>
            <h2>"ECS"</h2>
            <FormRow label="Name" id="server-name" error=error("name")>
                <input id="server-name" name="request[name]" maxlength="64" autocomplete="off" placeholder="e.g. web-01" />
            </FormRow>
            <FormRow label="Quantity" id="server-count" error=error("count") hint="1 to 20. Several ECSs are named name-0001, name-0002, …">
                <input id="server-count" name="request[count]" inputmode="numeric" value="1" autocomplete="off" />
            </FormRow>
            <div></div>
            <div>
                <button type="submit" class="button button-primary">"Create ECS"</button>
            </div>
        </ActionForm>
    }
}

/// The image choices by group: the user's frequently used images first, then public, private,
/// shared and KooGallery images; deprecated ones only when `show_deprecated`.
fn image_options(choices: &[ImageChoice], selected: &str, show_deprecated: bool) -> impl IntoView {
    let option = |choice: &ImageChoice| {
        let mut label = match choice.kind.as_str() {
            "system" => choice.name.clone(),
            kind => format!("{} ({})", choice.name, kind_label(kind)),
        };
        if choice.price_cents > 0 {
            label = format!("{label} — {}", price_label(choice.price_cents));
        }
        if choice.deprecated {
            label = format!("{label} — deprecated");
        }
        view! { <option value=choice.id.clone() selected=choice.id == selected>{label}</option> }
    };
    let shown = |choice: &&ImageChoice| show_deprecated || !choice.deprecated || choice.id == selected;
    let group = |label: String, members: Vec<&ImageChoice>| {
        (!members.is_empty())
            .then(|| view! { <optgroup label=label>{members.into_iter().map(option).collect_view()}</optgroup> })
    };
    let favorites: Vec<&ImageChoice> = choices.iter().filter(|choice| choice.favorite).filter(shown).collect();
    let categories = [("Public", "Public images"), ("Private", "Private images"), ("Family", "Image families")]
        .into_iter()
        .chain([("Shared", "Shared images"), ("KooGallery", "KooGallery images")])
        .map(|(category, label)| {
            let members: Vec<&ImageChoice> =
                choices.iter().filter(|choice| choice.category == category && !choice.favorite).filter(shown).collect();
            group(label.to_string(), members)
        })
        .collect_view();
    view! {
        {group("Frequently used images".to_string(), favorites)}
        {categories}
    }
}

fn image_needs(image: &ImageChoice) -> String {
    let memory = if image.min_ram > 0 { format!("at least {} MB of memory, ", image.min_ram) } else { String::new() };
    let iso = if image.kind == "iso" { " An ISO image creates one temporary ECS for installing an OS." } else { "" };
    format!(
        "Needs {memory}a system disk of at least {} GB, an {} flavor; boots in {} mode.{iso}",
        image.min_disk,
        architecture_label(&image.architecture),
        image.boot_mode.to_uppercase()
    )
}
