//! EVS disks: the region's disks (system and data), creating one blank or from a data disk
//! image, and deleting one that is not attached.

use super::model::{DiskStatus, DiskView, ImageChoice};
use super::{list_disks, list_image_choices, CreateDisk, DeleteDisk};
use crate::error::AppError;
use crate::format::format_time;
use crate::ui::{
    error_toast, field_error, general_error, use_polling, ConfirmDialog, Confirmation, FormRow, Loaded, SignedInPage,
    StatusBadge, Table,
};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn DisksPage() -> impl IntoView {
    let create = ServerAction::<CreateDisk>::new();
    let delete = ServerAction::<DeleteDisk>::new();
    let tick = use_polling(3);
    let disks = Resource::new(move || (create.version().get(), delete.version().get(), tick.get()), |_| list_disks());
    let images = Resource::new(|| (), |_| list_image_choices(true));
    let confirm = RwSignal::new(None::<Confirmation>);
    view! {
        <Title text="EVS Disks — Elastic Cloud Server" />
        <SignedInPage crumb="EVS Disks" let:info>
            <div class="page-header">
                <h1>"EVS Disks"</h1>
            </div>
            {info.role.can_modify_images().then(|| view! { <CreateDiskForm create images /> })}
            <Loaded resource=disks let:disks>
                {disk_table(disks, info.role.can_modify_images(), delete, confirm)}
            </Loaded>
        </SignedInPage>
        {move || error_toast(general_error(delete.value().get()))}
        <ConfirmDialog request=confirm />
    }
}

#[component]
fn CreateDiskForm(
    create: ServerAction<CreateDisk>,
    images: Resource<Result<Vec<ImageChoice>, AppError>>,
) -> impl IntoView {
    let query = use_query_map();
    let preselected = query.with_untracked(|query| query.get("image").unwrap_or_default());
    let error = move |field: &'static str| Signal::derive(move || field_error(create.value().get(), field));
    view! {
        <section class="panel">
            <h2>"Create Disk"</h2>
            {move || general_error(create.value().get()).map(|message| view! { <p class="field-error">{message}</p> })}
            <ActionForm action=create attr:class="form-grid" attr:novalidate=true>
                <FormRow label="Name" id="disk-name" error=error("name")>
                    <input id="disk-name" name="request[name]" maxlength="64" autocomplete="off" placeholder="e.g. data-01" />
                </FormRow>
                <FormRow label="Capacity (GB)" id="disk-size" error=error("size_gb")>
                    <input id="disk-size" name="request[size_gb]" inputmode="numeric" autocomplete="off" placeholder="10 to 32768" />
                </FormRow>
                <FormRow label="Data source" id="disk-image" error=error("image_id")
                    hint="From a data disk image, the capacity may be left empty: the image's size is used.">
                    <select id="disk-image" name="request[image_id]">
                        <option value="">"Blank disk"</option>
                        <Suspense>
                            {move || {
                                let preselected = preselected.clone();
                                Suspend::new(async move {
                                    images.await.unwrap_or_default().into_iter()
                                        .map(|image| {
                                            let selected = image.id == preselected;
                                            view! { <option value=image.id.clone() selected=selected>{format!("Data disk image: {} ({})", image.name, image.category)}</option> }
                                        })
                                        .collect_view()
                                })
                            }}
                        </Suspense>
                    </select>
                </FormRow>
                <div></div>
                <div><button type="submit" class="button button-primary">"Create Disk"</button></div>
            </ActionForm>
        </section>
    }
}

fn disk_table(
    disks: Vec<DiskView>,
    can_modify: bool,
    delete: ServerAction<DeleteDisk>,
    confirm: RwSignal<Option<Confirmation>>,
) -> impl IntoView {
    if disks.is_empty() {
        return view! { <p class="empty panel" data-testid="empty-result">"No EVS disks in this region yet."</p> }
            .into_any();
    }
    let rows = disks
        .into_iter()
        .map(|disk| {
            let deletable = can_modify && matches!(disk.status, DiskStatus::Available | DiskStatus::Error);
            let delete_button = deletable.then(|| {
                let (id, name) = (disk.id.clone(), disk.name.clone());
                view! {
                    <button type="button" class="link-button danger" on:click=move |_| {
                        let id = id.clone();
                        confirm.set(Some(Confirmation {
                            title: "Delete Disk".into(),
                            message: format!("Delete disk \"{name}\" and everything on it? This cannot be undone."),
                            confirm_label: "Delete",
                            on_confirm: Callback::new(move |_| { delete.dispatch(DeleteDisk { id: id.clone() }); }),
                        }))
                    }>"Delete"</button>
                }
            });
            let server = (!disk.server_id.is_empty()).then(|| {
                view! { <a href=format!("/ecs/{}", disk.server_id)>{disk.server_name.clone()}</a> <span class="image-id">{disk.device.clone()}</span> }
            });
            view! {
                <tr data-testid="evs-row">
                    <td class="name-cell">
                        <span class="image-name">{disk.name.clone()}</span>
                        <span class="image-id">{disk.id.clone()}</span>
                    </td>
                    <td>
                        <StatusBadge status=disk.status.as_str() label=disk.status.label() reason=disk.status_reason.clone() />
                    </td>
                    <td>{if disk.role == "system" { "System disk" } else { "Data disk" }}</td>
                    <td class="num">{format!("{} GB", disk.size_gb)}</td>
                    <td>{server}</td>
                    <td class="time">{format_time(disk.created_at)}</td>
                    <td><div class="operations">{delete_button}</div></td>
                </tr>
            }
        })
        .collect_view();
    view! { <Table headers=&["Name/ID", "Status", "Function", "Capacity", "Attached To", "Created", "Operation"]>{rows}</Table> }.into_any()
}
