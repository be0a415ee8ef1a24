//! My Credentials > Access Keys: the user's AK/SK pairs for the IMS API. Create (the secret
//! shown once, with credentials.csv), enable, disable, delete, and when each was last used.

use super::access_keys::{AccessKeyView, NewAccessKey, MAX_ACCESS_KEYS};
use super::{CreateAccessKey, DeleteAccessKey, SetAccessKeyEnabled};
use crate::format::{format_time, url_encode};
use crate::ui::{any_error, disabled_reason, error_toast, field_error, general_error, ErrorBanner, FieldError, Table};
use leptos::form::ActionForm;
use leptos::prelude::*;

/// The panel's server actions and open dialogs, made by the page before it renders: they
/// outlive the table's reloads (the new secret stays on screen while the list refreshes).
#[derive(Clone, Copy)]
pub struct AccessKeyActions {
    pub create: ServerAction<CreateAccessKey>,
    pub set_enabled: ServerAction<SetAccessKeyEnabled>,
    pub delete: ServerAction<DeleteAccessKey>,
    create_open: RwSignal<bool>,
    deleting: RwSignal<Option<String>>,
}

impl AccessKeyActions {
    pub fn new() -> AccessKeyActions {
        AccessKeyActions {
            create: ServerAction::new(),
            set_enabled: ServerAction::new(),
            delete: ServerAction::new(),
            create_open: RwSignal::new(false),
            deleting: RwSignal::new(None),
        }
    }

    /// Bumps whenever one of them finishes, so the table reloads.
    pub fn version(&self) -> usize {
        self.create.version().get() + self.set_enabled.version().get() + self.delete.version().get()
    }
}

impl Default for AccessKeyActions {
    fn default() -> Self {
        Self::new()
    }
}

#[component]
pub fn AccessKeysPanel(keys: Vec<AccessKeyView>, actions: AccessKeyActions) -> impl IntoView {
    let (dialog_open, deleting) = (actions.create_open, actions.deleting);
    let full = keys.len() >= MAX_ACCESS_KEYS;
    let full_reason =
        full.then(|| format!("You already hold {MAX_ACCESS_KEYS} access keys, the most a user can have."));
    let create_title = full_reason.clone().unwrap_or_default();
    let rows = keys.into_iter().map(|key| key_row(key, actions, deleting)).collect_view();
    view! {
        <section class="panel" aria-labelledby="access-keys-title">
            <div class="panel-header">
                <h2 id="access-keys-title">"Access Keys"</h2>
                <button type="button" class="button button-primary" disabled=full title=create_title
                    on:click=move |_| {
                        actions.create.clear();
                        dialog_open.set(true);
                    }>
                    "Create Access Key"{disabled_reason(full_reason)}
                </button>
            </div>
            <p class="page-hint">
                "Scripts and SDKs sign their IMS API requests (SDK-HMAC-SHA256) with an access key ID (AK) and its secret \
                 access key (SK). You can hold up to two. A key acts with your role, so a viewer's key can only read. \
                 The secret access key is shown once, when the key is created: keep it safe."
            </p>
            <Table headers=&["Access Key ID", "Description", "Status", "Created", "Last Used", "Operation"] class="access-keys-table">
                {rows}
            </Table>
            {move || error_toast(any_error(actions.set_enabled.value().get()).or_else(|| any_error(actions.delete.value().get())))}
        </section>
        <CreateKeyDialog open=dialog_open action=actions.create />
        <DeleteKeyDialog key=deleting action=actions.delete />
    }
}

fn key_row(key: AccessKeyView, actions: AccessKeyActions, deleting: RwSignal<Option<String>>) -> impl IntoView {
    let enabled = key.enabled();
    let (status, label) = if enabled { ("active", "Enabled") } else { ("killed", "Disabled") };
    let toggle_id = key.id.clone();
    let delete_id = key.id.clone();
    let last_used = key.last_used_at.map(format_time).unwrap_or_else(|| "Never".into());
    view! {
        <tr data-testid="access-key-row">
            <td class="mono" data-testid="access-key-id">{key.id.clone()}</td>
            <td>{if key.description.is_empty() { "—".to_string() } else { key.description.clone() }}</td>
            <td><span class=format!("status status-{status}")><span class="status-dot"></span>{label}</span></td>
            <td>{format_time(key.created_at)}</td>
            <td data-testid="access-key-last-used">{last_used}</td>
            <td>
                <div class="operations">
                <button type="button" class="link-button" on:click=move |_| {
                    actions.set_enabled.dispatch(SetAccessKeyEnabled { id: toggle_id.clone(), enabled: !enabled });
                }>{if enabled { "Disable" } else { "Enable" }}</button>
                <button type="button" class="link-button danger" on:click=move |_| deleting.set(Some(delete_id.clone()))>
                    "Delete"
                </button>
                </div>
            </td>
        </tr>
    }
}

/// The description, then the new key with its secret (shown this once) and credentials.csv.
#[component]
fn CreateKeyDialog(open: RwSignal<bool>, action: ServerAction<CreateAccessKey>) -> impl IntoView {
    move || {
        open.get().then(|| {
            let created = move || match action.value().get() {
                Some(Ok(key)) => Some(key),
                _ => None,
            };
            view! {
                <div class="dialog-backdrop">
                    <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="create-key-title">
                        <h2 id="create-key-title">"Create Access Key"</h2>
                        {move || match created() {
                            Some(key) => created_view(key, open).into_any(),
                            None => create_form(open, action).into_any(),
                        }}
                    </div>
                </div>
            }
        })
    }
}

fn create_form(open: RwSignal<bool>, action: ServerAction<CreateAccessKey>) -> impl IntoView {
    let failed = move || general_error::<NewAccessKey>(action.value().get());
    view! {
        {move || failed().map(|message| view! { <ErrorBanner message /> })}
        <ActionForm action attr:class="stack-form" attr:novalidate=true>
            <label for="access-key-description">"Description (optional)"</label>
            <input id="access-key-description" name="description" maxlength="255"
                placeholder="What the key is for, e.g. nightly image build" />
            {move || view! { <FieldError message=field_error(action.value().get(), "description") /> }}
            <div class="dialog-actions">
                <button type="button" class="button" on:click=move |_| open.set(false)>"Cancel"</button>
                <button type="submit" class="button button-primary" disabled=move || action.pending().get()>"OK"</button>
            </div>
        </ActionForm>
    }
}

fn created_view(key: NewAccessKey, open: RwSignal<bool>) -> impl IntoView {
    let csv_href = format!("data:text/csv;charset=utf-8,{}", url_encode(&key.csv()));
    view! {
        <p class="banner banner-warning">
            "This is the only time the secret access key is shown. Download credentials.csv or copy it now; \
             if it is lost, delete this key and create another."
        </p>
        <dl class="attributes">
            <div class="attribute"><dt>"Access Key ID"</dt><dd class="mono" data-testid="new-access-key">{key.access_key.clone()}</dd></div>
            <div class="attribute"><dt>"Secret Access Key"</dt><dd class="mono" data-testid="new-secret-key">{key.secret_key.clone()}</dd></div>
        </dl>
        <div class="dialog-actions">
            <a class="button" href=csv_href download="credentials.csv">"Download credentials.csv"</a>
            <button type="button" class="button button-primary" on:click=move |_| open.set(false)>"Close"</button>
        </div>
    }
}

#[component]
fn DeleteKeyDialog(key: RwSignal<Option<String>>, action: ServerAction<DeleteAccessKey>) -> impl IntoView {
    move || {
        key.get().map(|id| {
            let shown = id.clone();
            view! {
                <div class="dialog-backdrop">
                    <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="delete-key-title">
                        <h2 id="delete-key-title">"Delete Access Key"</h2>
                        <p>{format!("Delete access key {shown}? Scripts that sign with it stop working at once. This cannot be undone.")}</p>
                        <div class="dialog-actions">
                            <button type="button" class="button" on:click=move |_| key.set(None)>"Cancel"</button>
                            <button type="button" class="button button-danger" on:click=move |_| {
                                action.dispatch(DeleteAccessKey { id: id.clone() });
                                key.set(None);
                            }>"Delete"</button>
                        </div>
                    </div>
                </div>
            }
        })
    }
}
