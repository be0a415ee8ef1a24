//! Tags in the pages: the detail page's Tags panel (add, edit, delete for the owner), its Add
//! Tag / Edit Tag dialog, and the list's Batch Tag dialog.

use super::model::ImageTag;
use super::validate::MAX_TAGS;
use super::{BatchTagImages, DeleteImageTag, SetImageTag};
use crate::ui::{disabled_reason, field_error, general_error, ErrorBanner, FieldError};
use leptos::form::ActionForm;
use leptos::prelude::*;

/// The tag a Tag dialog edits: `None` key to add a new one.
#[derive(Clone, Debug, PartialEq)]
pub struct TagEdit {
    pub key: Option<String>,
    pub value: String,
}

/// The detail page's tag actions.
#[derive(Clone, Copy)]
pub struct TagActions {
    pub set: ServerAction<SetImageTag>,
    pub delete: ServerAction<DeleteImageTag>,
    pub editing: RwSignal<Option<TagEdit>>,
}

impl TagActions {
    pub fn new() -> TagActions {
        TagActions { set: ServerAction::new(), delete: ServerAction::new(), editing: RwSignal::new(None) }
    }
}

impl Default for TagActions {
    fn default() -> Self {
        TagActions::new()
    }
}

/// The Tags panel: a table of key and value; the owner adds, edits and deletes. `owner` is
/// whether the caller's project owns the image; `role_reason` why its role may not change it.
pub fn tags_panel(
    image_id: String,
    tags: Vec<ImageTag>,
    owner: bool,
    role_reason: Option<String>,
    actions: TagActions,
) -> impl IntoView {
    let editable = owner && role_reason.is_none();
    let full = tags.len() >= MAX_TAGS;
    let blocked = role_reason
        .or_else(|| full.then(|| format!("An image can have at most {MAX_TAGS} tags. Delete one to add another.")));
    let add = owner.then(|| {
        view! {
            <button type="button" class="button button-small" disabled=blocked.is_some()
                title=blocked.clone().unwrap_or_else(|| "Add a tag to this image".into())
                on:click=move |_| actions.editing.set(Some(TagEdit { key: None, value: String::new() }))>
                "Add Tag"
                {disabled_reason(blocked.clone())}
            </button>
        }
    });
    let count = tags.len();
    let body = if tags.is_empty() {
        view! { <p class="empty">"This image has no tags."</p> }.into_any()
    } else {
        let rows = tags
            .into_iter()
            .map(|tag| {
                let (key, value) = (tag.key.clone(), tag.value.clone());
                let delete_key = tag.key.clone();
                let image_id = image_id.clone();
                let operations = editable.then(|| {
                    view! {
                        <td>
                            <div class="operations">
                                <button type="button" class="link-button" aria-label=format!("Edit tag {key}")
                                    on:click=move |_| actions.editing.set(Some(TagEdit { key: Some(key.clone()), value: value.clone() }))>
                                    "Edit"
                                </button>
                                <button type="button" class="link-button danger" aria-label=format!("Delete tag {delete_key}")
                                    on:click=move |_| {
                                        actions.delete.dispatch(DeleteImageTag { image_id: image_id.clone(), key: delete_key.clone() });
                                    }>
                                    "Delete"
                                </button>
                            </div>
                        </td>
                    }
                });
                view! { <tr data-testid="tag-row"><td>{tag.key}</td><td>{tag.value}</td>{operations}</tr> }
            })
            .collect_view();
        view! {
            <table class="tag-table">
                <thead>
                    <tr>
                        <th>"Key"</th>
                        <th>"Value"</th>
                        {editable.then(|| view! { <th>"Operation"</th> })}
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    view! {
        <section class="panel" data-testid="tags">
            <div class="panel-header">
                <h2>{format!("Tags ({count}/{MAX_TAGS})")}</h2>
                {add}
            </div>
            {move || general_error(actions.delete.value().get()).map(|message| view! { <ErrorBanner message /> })}
            {body}
        </section>
    }
}

/// Add Tag / Edit Tag: key and value, each refusal next to its field; closes once saved.
#[component]
pub fn TagDialog(#[prop(into)] image_id: Signal<String>, actions: TagActions) -> impl IntoView {
    let action = actions.set;
    Effect::new(move |_| {
        if matches!(action.value().get(), Some(Ok(()))) {
            actions.editing.set(None);
        }
    });
    let error =
        move |field: &'static str| move || view! { <FieldError message=field_error(action.value().get(), field) /> };
    move || {
        actions.editing.get().map(move |edit| {
            let title = if edit.key.is_some() { "Edit Tag" } else { "Add Tag" };
            view! {
                <div class="dialog-backdrop">
                    <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="tag-title">
                        <h2 id="tag-title">{title}</h2>
                        {move || general_error(action.value().get()).map(|message| view! { <ErrorBanner message /> })}
                        <ActionForm action attr:class="stack-form" attr:novalidate=true>
                            <input type="hidden" name="request[image_id]" value=image_id.get_untracked() />
                            <input type="hidden" name="request[original_key]" value=edit.key.clone().unwrap_or_default() />
                            <label for="tag-key">"Key"</label>
                            <input id="tag-key" name="request[key]" maxlength="36" autocomplete="off"
                                value=edit.key.clone().unwrap_or_default() aria-describedby="tag-key-hint" />
                            <p class="hint" id="tag-key-hint">"1 to 36 letters, digits, '_' or '-'. Unique on this image."</p>
                            {error("key")}
                            <label for="tag-value">"Value"</label>
                            <input id="tag-value" name="request[value]" maxlength="43" autocomplete="off"
                                value=edit.value.clone() aria-describedby="tag-value-hint" />
                            <p class="hint" id="tag-value-hint">"Up to 43 letters, digits, '_' or '-'; may be empty."</p>
                            {error("value")}
                            <div class="dialog-actions">
                                <button type="button" class="button" on:click=move |_| actions.editing.set(None)>"Cancel"</button>
                                <button type="submit" class="button button-primary" disabled=move || action.pending().get()>"Save"</button>
                            </div>
                        </ActionForm>
                    </div>
                </div>
            }
        })
    }
}

/// Batch Tag for the selected images: add a tag (key and value) or remove a key.
#[component]
pub fn BatchTagDialog(
    /// (id, name) of the images, while the dialog is open.
    target: RwSignal<Option<Vec<(String, String)>>>,
    action: ServerAction<BatchTagImages>,
) -> impl IntoView {
    Effect::new(move |_| {
        if matches!(action.value().get(), Some(Ok(()))) {
            target.set(None);
        }
    });
    let adding = RwSignal::new(true);
    let error =
        move |field: &'static str| move || view! { <FieldError message=field_error(action.value().get(), field) /> };
    move || {
        target.get().map(|rows| {
            let ids = rows.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>().join(",");
            let names = rows.iter().map(|(_, name)| name.clone()).collect::<Vec<_>>().join(", ");
            view! {
                <div class="dialog-backdrop">
                    <div class="dialog dialog-wide" role="dialog" aria-modal="true" aria-labelledby="batch-tag-title">
                        <h2 id="batch-tag-title">{format!("Batch Tag {} Image{}", rows.len(), if rows.len() == 1 { "" } else { "s" })}</h2>
                        <p class="hint">{names}</p>
                        {move || general_error(action.value().get()).map(|message| view! { <ErrorBanner message /> })}
                        <ActionForm action attr:class="stack-form" attr:novalidate=true>
                            <input type="hidden" name="images" value=ids />
                            <fieldset class="radio-row">
                                <legend>"Action"</legend>
                                <label><input type="radio" name="action" value="add" checked=true on:change=move |_| adding.set(true) />" Add tag"</label>
                                <label><input type="radio" name="action" value="remove" on:change=move |_| adding.set(false) />" Remove tag"</label>
                            </fieldset>
                            {error("action")}
                            <label for="batch-tag-key">"Key"</label>
                            <input id="batch-tag-key" name="key" maxlength="36" autocomplete="off" />
                            {error("key")}
                            {move || if adding.get() {
                                view! {
                                    <label for="batch-tag-value">"Value"</label>
                                    <input id="batch-tag-value" name="value" maxlength="43" autocomplete="off"
                                        aria-describedby="batch-tag-value-hint" />
                                    <p class="hint" id="batch-tag-value-hint">"Replaces the value on images that already have this key."</p>
                                }
                                .into_any()
                            } else {
                                view! {
                                    <input type="hidden" name="value" value="" />
                                    <p class="hint">"Removing a tag needs only its key."</p>
                                }
                                .into_any()
                            }}
                            {error("value")}
                            <div class="dialog-actions">
                                <button type="button" class="button" on:click=move |_| target.set(None)>"Cancel"</button>
                                <button type="submit" class="button button-primary" disabled=move || action.pending().get()>"Apply"</button>
                            </div>
                        </ActionForm>
                    </div>
                </div>
            }
        })
    }
}
