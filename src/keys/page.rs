//! The Keys page (Data Encryption > Keys): the project's keys in this region, with create,
//! enable, disable, and scheduled deletion.

use super::model::{validate_alias, validate_description, KeyState, KeyView};
use super::schedule_deletion_dialog::ScheduleDeletionDialog;
use super::{list_keys, CancelKeyDeletion, CreateKey, ScheduleKeyDeletion, SetKeyEnabled};
use crate::format::format_time;
use crate::ui::{
    error_toast, field_error, general_error, ErrorBanner, FieldError, Loaded, SignedInPage, StatusBadge, Table,
};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

/// The actions of the page's rows, handed to each row.
#[derive(Clone, Copy)]
struct KeyActions {
    set_enabled: ServerAction<SetKeyEnabled>,
    cancel_deletion: ServerAction<CancelKeyDeletion>,
    /// The key whose Schedule Deletion dialog is open.
    scheduling: RwSignal<Option<KeyView>>,
}

#[component]
pub fn KeysPage() -> impl IntoView {
    let create = ServerAction::<CreateKey>::new();
    let set_enabled = ServerAction::<SetKeyEnabled>::new();
    let schedule = ServerAction::<ScheduleKeyDeletion>::new();
    let cancel_deletion = ServerAction::<CancelKeyDeletion>::new();
    let keys = Resource::new(
        move || {
            (
                create.version().get(),
                set_enabled.version().get(),
                schedule.version().get(),
                cancel_deletion.version().get(),
            )
        },
        |_| list_keys(),
    );
    let actions = KeyActions { set_enabled, cancel_deletion, scheduling: RwSignal::new(None) };
    let row_error =
        move || general_error(set_enabled.value().get()).or_else(|| general_error(cancel_deletion.value().get()));
    view! {
        <Title text="Keys — Image Management Service" />
        <SignedInPage crumb="Keys" let:info>
            <div class="page-header">
                <h1>"Keys"</h1>
            </div>
            <p class="page-intro">
                "Keys of this project in this region. An encrypted image is stored under a data key of its own, \
                 wrapped by one of these keys; while its key is disabled or waiting for deletion, the image cannot be used."
            </p>
            {info.role.can_modify_images().then(|| view! { <CreateKeyForm create /> })}
            <Loaded resource=keys let:keys>
                {key_table(info.role.can_modify_images(), keys, actions)}
            </Loaded>
        </SignedInPage>
        {move || error_toast(row_error())}
        <ScheduleDeletionDialog key=actions.scheduling action=schedule />
    }
}

#[component]
fn CreateKeyForm(create: ServerAction<CreateKey>) -> impl IntoView {
    let alias = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    // Checked as the user types; the server checks again.
    let alias_error = move || {
        let alias = alias.get();
        let typed = (!alias.is_empty()).then(|| validate_alias(alias.trim()).err()).flatten();
        typed.or_else(|| field_error(create.value().get(), "alias"))
    };
    let description_error = move || {
        validate_description(description.get().trim())
            .err()
            .or_else(|| field_error(create.value().get(), "description"))
    };
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(_))) {
            alias.set(String::new());
            description.set(String::new());
        }
    });
    view! {
        <section class="panel" aria-labelledby="create-key-title">
            <h2 id="create-key-title">"Create Key"</h2>
            {move || general_error(create.value().get()).map(|message| view! { <ErrorBanner message /> })}
            <ActionForm action=create attr:class="inline-form" attr:novalidate=true>
                <label for="key-alias">"Alias"</label>
                <input id="key-alias" name="alias" placeholder="e.g. images/prod" autocomplete="off" bind:value=alias
                    aria-describedby="key-alias-hint" />
                <label for="key-description">"Description"</label>
                <input id="key-description" name="description" autocomplete="off" bind:value=description />
                <button type="submit" class="button button-primary" disabled=move || create.pending().get()>"Create Key"</button>
                <p class="hint" id="key-alias-hint">"1–64 letters, digits, '_', '-', '/' or ':', unique in this project."</p>
                {move || view! { <FieldError message=alias_error() /> }}
                {move || view! { <FieldError message=description_error() /> }}
            </ActionForm>
        </section>
    }
}

fn key_table(can_modify: bool, keys: Vec<KeyView>, actions: KeyActions) -> AnyView {
    if keys.is_empty() {
        return view! {
            <p class="empty panel" data-testid="empty-result">
                "No keys in this region yet. Create one above to encrypt images with it."
            </p>
        }
        .into_any();
    }
    let rows = keys.into_iter().map(|key| key_row(can_modify, key, actions)).collect_view();
    view! {
        <Table headers=&["Alias", "Key ID", "Status", "Encrypted Images", "Created", "Deletion Time", "Operation"]>
            {rows}
        </Table>
    }
    .into_any()
}

fn key_row(can_modify: bool, key: KeyView, actions: KeyActions) -> impl IntoView {
    // The image statuses' colours: green, red, amber.
    let status = match key.state {
        KeyState::Enabled => "active",
        KeyState::Disabled => "killed",
        KeyState::PendingDeletion => "saving",
    };
    let label = key.state.label();
    let images = if key.images.is_empty() {
        view! { <span>"None"</span> }.into_any()
    } else {
        let links = key
            .images
            .iter()
            .map(|image| view! { <li><a href=format!("/image/{}", image.image_id)>{image.image_name.clone()}</a></li> })
            .collect_view();
        view! { <ul class="plain-list" aria-label=format!("Images under {}", key.alias)>{links}</ul> }.into_any()
    };
    let operations = can_modify.then(|| key_operations(&key, actions));
    view! {
        <tr data-testid="key-row">
            <td>
                <span class="image-name">{key.alias.clone()}</span>
                {(!key.description.is_empty()).then(|| view! { <div class="hint">{key.description.clone()}</div> })}
            </td>
            <td class="mono">{key.id.clone()}</td>
            <td><StatusBadge status label /></td>
            <td>{images}</td>
            <td class="time">{format_time(key.created_at)}</td>
            <td class="time">{key.deletion_at.map(format_time).unwrap_or_else(|| "—".to_string())}</td>
            <td><div class="operations">{operations}</div></td>
        </tr>
    }
}

fn key_operations(key: &KeyView, actions: KeyActions) -> AnyView {
    let id = key.id.clone();
    match key.state {
        KeyState::PendingDeletion => view! {
            <button type="button" class="link-button" on:click=move |_| {
                actions.cancel_deletion.dispatch(CancelKeyDeletion { id: id.clone() });
            }>"Cancel Deletion"</button>
        }
        .into_any(),
        state => {
            let enabled = state == KeyState::Enabled;
            let scheduled = key.clone();
            view! {
                <button type="button" class="link-button" on:click=move |_| {
                    actions.set_enabled.dispatch(SetKeyEnabled { id: id.clone(), enabled: !enabled });
                }>{if enabled { "Disable" } else { "Enable" }}</button>
                <button type="button" class="link-button danger" on:click=move |_| {
                    actions.scheduling.set(Some(scheduled.clone()));
                }>"Schedule Deletion"</button>
            }
            .into_any()
        }
    }
}
