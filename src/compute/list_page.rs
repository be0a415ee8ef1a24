//! The ECS list: status (live while servers change state), flavor, image, and the start,
//! stop and delete operations.

use super::model::{ServerStatus, ServerView};
use super::{list_servers, DeleteServer, RunServerAction};
use crate::error::AppError;
use crate::format::format_time;
use crate::ui::{
    disabled_reason, error_toast, general_error, use_polling, ConfirmDialog, Confirmation, ErrorBanner, ProgressBar,
    SignedInPage, StatusBadge, Table,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The actions a server row or the detail page can run.
#[derive(Clone, Copy)]
pub struct ServerOperations {
    pub power: ServerAction<RunServerAction>,
    pub delete: ServerAction<DeleteServer>,
    pub confirm: RwSignal<Option<Confirmation>>,
}

impl Default for ServerOperations {
    fn default() -> Self {
        ServerOperations { power: ServerAction::new(), delete: ServerAction::new(), confirm: RwSignal::new(None) }
    }
}

impl ServerOperations {
    /// Goes up whenever an operation finishes, to reload what shows the servers.
    pub fn version(&self) -> (usize, usize) {
        (self.power.version().get(), self.delete.version().get())
    }

    pub fn error(&self) -> Option<String> {
        general_error(self.power.value().get()).or_else(|| general_error(self.delete.value().get()))
    }

    /// Start, Stop and Delete buttons for `server`.
    pub fn buttons(self, server: &ServerView) -> impl IntoView {
        let (id, name) = (server.id.clone(), server.name.clone());
        let busy = server.status.is_transitional();
        let power = match server.status {
            ServerStatus::Running => Some(("stop", "Stop")),
            ServerStatus::Stopped => Some(("start", "Start")),
            _ => None,
        };
        let power_button = power.map(|(action, label)| {
            let id = id.clone();
            view! {
                <button type="button" class="link-button" on:click=move |_| {
                    self.power.dispatch(RunServerAction { id: id.clone(), action: action.to_string() });
                }>{label}</button>
            }
        });
        let delete_button = view! {
            <button
                type="button"
                class="link-button danger"
                disabled=busy
                title=if busy { "Wait until the ECS is Running or Stopped." } else { "Delete this ECS" }
                on:click=move |_| {
                    let id = id.clone();
                    self.confirm.set(Some(Confirmation {
                        title: "Delete ECS".into(),
                        message: format!(
                            "Delete ECS \"{name}\" and its system disk? Its data disks are detached and kept as Available EVS disks."
                        ),
                        confirm_label: "Delete",
                        on_confirm: Callback::new(move |_| {
                            self.delete.dispatch(DeleteServer { id: id.clone(), delete_data_disks: false });
                        }),
                    }))
                }
            >
                "Delete"
                {disabled_reason(busy.then(|| "Wait until the ECS is Running or Stopped.".to_string()))}
            </button>
        };
        view! { {power_button} {delete_button} }
    }
}

#[component]
pub fn ServerListPage() -> impl IntoView {
    let operations = ServerOperations::default();
    let tick = use_polling(2);
    let query = use_query_map();
    let filter =
        move || query.with(|query| (query.get("name").unwrap_or_default(), query.get("status").unwrap_or_default()));
    let servers = Resource::new(
        move || (filter(), operations.version(), tick.get()),
        |((name, status), ..)| list_servers(name, status),
    );
    view! {
        <Title text="ECSs — Elastic Cloud Server" />
        <SignedInPage crumb="ECSs" let:info>
            <div class="page-header">
                <h1>"Elastic Cloud Servers"</h1>
                <div class="header-actions">
                    {info.role.can_modify_images().then(|| view! { <a class="button button-primary" href="/ecs/create">"Create ECS"</a> })}
                </div>
            </div>
            <p class="page-intro">
                "Servers of this region. Their disks are real disk files: an image created from an ECS holds its bytes."
            </p>
            {move || filter_form(filter())}
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    server_table(servers.await, info.role.can_modify_images(), operations, filter())
                })}
            </Transition>
        </SignedInPage>
        {move || error_toast(operations.error())}
        <ConfirmDialog request=operations.confirm />
    }
}

/// Name and status filters, in the URL so they work without JavaScript.
fn filter_form((name, status): (String, String)) -> impl IntoView {
    view! {
        <form class="filters" method="get" action="/ecs" role="search">
            <input type="search" name="name" placeholder="Name contains…" aria-label="Name" value=name />
            <select name="status" aria-label="Status">
                <option value="">"All statuses"</option>
                {ServerStatus::ALL
                    .iter()
                    .map(|choice| view! { <option value=choice.as_str() selected=choice.as_str() == status>{choice.label()}</option> })
                    .collect_view()}
            </select>
            <button type="submit" class="button button-primary">"Search"</button>
            <a class="button" href="/ecs">"Reset"</a>
        </form>
    }
}

fn server_table(
    result: Result<Vec<ServerView>, AppError>,
    can_modify: bool,
    operations: ServerOperations,
    (name, status): (String, String),
) -> impl IntoView {
    let filtered = !name.is_empty() || !status.is_empty();
    match result {
        Err(error) => view! { <ErrorBanner message=error.to_string() /> }.into_any(),
        Ok(servers) if servers.is_empty() && filtered => {
            view! { <p class="empty panel" data-testid="empty-result">"No ECSs match these filters."</p> }.into_any()
        }
        Ok(servers) if servers.is_empty() => view! {
            <p class="empty panel" data-testid="empty-result">
                "No ECSs in this region yet. Create one from a public image, or from one of your private images."
            </p>
        }
        .into_any(),
        Ok(servers) => {
            let rows = servers.into_iter().map(|server| server_row(server, can_modify, operations)).collect_view();
            view! {
                <Table headers=&["Name/ID", "Status", "Specifications", "Image", "Disks", "Created", "Operation"]>
                    {rows}
                </Table>
            }
            .into_any()
        }
    }
}

fn server_row(server: ServerView, can_modify: bool, operations: ServerOperations) -> impl IntoView {
    let href = format!("/ecs/{}", server.id);
    let buttons = can_modify.then(|| operations.buttons(&server));
    view! {
        <tr data-testid="server-row">
            <td class="name-cell">
                <a class="image-name" href=href.clone()>{server.name.clone()}</a>
                {server.temporary.then(|| view! { <span class="temporary-badge" title="Created from an ISO image to install an OS">"Temporary"</span> })}
                <span class="image-id">{server.id.clone()}</span>
            </td>
            <td>
                <StatusBadge status=server.status.as_str() label=server.status.label() reason=server.status_reason.clone() />
                {server.progress.map(|percent| view! { <ProgressBar percent=percent /> })}
            </td>
            <td>
                {server.flavor_summary.clone()}
                <span class="image-id">{server.flavor.clone()}</span>
            </td>
            <td>
                {if server.image_exists {
                    view! { <a href=format!("/image/{}", server.image_id)>{server.image_name.clone()}</a> }.into_any()
                } else {
                    view! { <span title="The image has been deleted">{format!("{} (deleted)", server.image_name)}</span> }.into_any()
                }}
                <span class="image-id">{server.os_version.clone()}</span>
            </td>
            <td>{format!("System {} GB", server.system_disk_gb)} <span class="image-id">{format!("{} data disk(s)", server.data_disks)}</span></td>
            <td class="time">{format_time(server.created_at)}</td>
            <td>
                <div class="operations">
                    <a href=href>"Details"</a>
                    {buttons}
                </div>
            </td>
        </tr>
    }
}
