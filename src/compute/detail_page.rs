//! One ECS: its attributes and disks (refreshed live), and the panels that act on it:
//! attach a disk, create an image, change the OS, and write or read its disks' bytes.

use super::list_page::ServerOperations;
use super::model::{DiskView, ServerDetail, ServerStatus};
use super::panels::{AttachPanel, CapturePanel, ChangeOsPanel, DiskContentPanel, FilePanel, ServerForms};
use super::rules::architecture_label;
use super::{get_server, DetachDisk, RunServerAction};
use crate::format::format_time;
use crate::market::model::price_label;
use crate::ui::{
    disabled_reason, error_toast, general_error, use_polling, ConfirmDialog, ErrorBanner, ProgressBar, SignedInPage,
    StatusBadge, Table,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn ServerDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|params| params.get("id").unwrap_or_default()));
    let operations = ServerOperations::default();
    let forms = ServerForms::new(id);
    let tick = use_polling(2);
    let server =
        Resource::new(move || (id.get(), operations.version(), forms.version(), tick.get()), |(id, ..)| get_server(id));
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = operations.delete.value().get() {
            navigate("/ecs", Default::default());
        }
    });
    view! {
        <Title text="ECS — Elastic Cloud Server" />
        <SignedInPage crumb="ECS" let:info>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match server.await {
                        Ok(detail) => overview(detail, info.role.can_modify_images(), operations, forms).into_any(),
                        Err(error) => view! {
                            <div class="page-header"><h1>"ECS not found"</h1></div>
                            <ErrorBanner message=error.to_string() />
                            <p><a href="/ecs">"Back to ECSs"</a></p>
                        }
                        .into_any(),
                    }
                })}
            </Transition>
            {info.role.can_modify_images().then(|| view! {
                <div class="panel-grid">
                    <CapturePanel server_id=id forms />
                    <AttachPanel server_id=id forms />
                    <ChangeOsPanel server_id=id forms />
                    <DiskContentPanel forms />
                    <FilePanel forms />
                </div>
            })}
        </SignedInPage>
        {move || error_toast(operations.error().or_else(|| general_error(forms.detach.value().get())))}
        <ConfirmDialog request=operations.confirm />
    }
}

fn overview(detail: ServerDetail, can_modify: bool, operations: ServerOperations, forms: ServerForms) -> impl IntoView {
    let server = detail.server.clone();
    let reinstall = (can_modify && server.status == ServerStatus::Stopped).then(|| {
        let id = server.id.clone();
        let blocked = (!server.image_exists).then_some("The image this ECS came from has been deleted; use Change OS instead.");
        view! {
            <button type="button" class="button" disabled=blocked.is_some() title=blocked.unwrap_or("Write the system disk again from the ECS's image")
                on:click=move |_| { operations.power.dispatch(RunServerAction { id: id.clone(), action: "reinstall".into() }); }>
                "Reinstall OS"
                {disabled_reason(blocked.map(str::to_string))}
            </button>
        }
    });
    let image = if server.image_exists {
        view! { <a href=format!("/image/{}", server.image_id)>{server.image_name.clone()}</a> }.into_any()
    } else {
        view! { <span>{format!("{} (deleted)", server.image_name)}</span> }.into_any()
    };
    let fields: Vec<(&'static str, String)> = vec![
        ("ID", server.id.clone()),
        ("Flavor", format!("{} ({})", server.flavor, server.flavor_summary)),
        ("Architecture", architecture_label(&server.architecture).to_string()),
        ("Boot Mode", server.boot_mode.to_uppercase()),
        ("OS", if server.os_version.is_empty() { server.os_type.clone() } else { server.os_version.clone() }),
        ("Created", format_time(server.created_at)),
        (
            "Image Charge",
            if server.image_price_cents > 0 {
                format!("{} (KooGallery image)", price_label(server.image_price_cents))
            } else {
                "None".to_string()
            },
        ),
    ];
    let disk_rows = detail.disks.into_iter().map(|disk| disk_row(disk, can_modify, forms)).collect_view();
    view! {
        <div class="page-header">
            <a class="back-link" href="/ecs">"‹ ECSs"</a>
            <h1 data-testid="server-name">{server.name.clone()}</h1>
            <StatusBadge status=server.status.as_str() label=server.status.label() reason=server.status_reason.clone() />
            {server.temporary.then(|| view! { <span class="temporary-badge">"Temporary: created from an ISO image to install an OS"</span> })}
            <div class="header-actions">
                {reinstall}
                {can_modify.then(|| view! { <div class="operations">{operations.buttons(&server)}</div> })}
            </div>
        </div>
        {server.progress.map(|percent| view! { <ProgressBar percent=percent label="Work in progress".to_string() /> })}
        {(!server.status_reason.is_empty()).then(|| view! { <ErrorBanner message=server.status_reason.clone() /> })}
        <section class="panel">
            <h2>"Basic Information"</h2>
            <dl class="attributes">
                <div class="attribute"><dt>"Image"</dt><dd>{image}</dd></div>
                {fields.into_iter().map(|(label, value)| view! { <div class="attribute"><dt>{label}</dt><dd>{value}</dd></div> }).collect_view()}
            </dl>
        </section>
        <section class="panel">
            <h2>"Disks"</h2>
            <Table headers=&["Name/ID", "Function", "Device", "Capacity", "Status", "Operation"]>{disk_rows}</Table>
        </section>
    }
}

fn disk_row(disk: DiskView, can_modify: bool, forms: ServerForms) -> impl IntoView {
    let detach = (can_modify && disk.role == "data").then(|| {
        let id = disk.id.clone();
        view! {
            <button type="button" class="link-button" on:click=move |_| { forms.detach.dispatch(DetachDisk { disk_id: id.clone() }); }>
                "Detach"
            </button>
        }
    });
    view! {
        <tr data-testid="disk-row">
            <td class="name-cell">
                <span class="image-name">{disk.name.clone()}</span>
                <span class="image-id">{disk.id.clone()}</span>
            </td>
            <td>{if disk.role == "system" { "System disk" } else { "Data disk" }}</td>
            <td>{disk.device.clone()}</td>
            <td class="num">{format!("{} GB", disk.size_gb)}</td>
            <td>
                <StatusBadge status=disk.status.as_str() label=disk.status.label() reason=disk.status_reason.clone() />
            </td>
            <td><div class="operations">{detach}</div></td>
        </tr>
    }
}
