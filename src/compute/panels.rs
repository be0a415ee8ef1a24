//! The panels of the ECS detail page. They sit outside the live-refreshed overview, so what
//! a user types survives the refresh.

use super::model::{DiskStatus, DiskView, ImageChoice};
use super::rules::CAPTURE_KINDS;
use super::{
    get_server, list_disks, list_image_choices, AttachDisk, ChangeOs, CreateImageFromServer, DetachDisk, ReadDisk,
    ReadDiskFile, WriteDisk, WriteDiskFile,
};
use crate::error::AppError;
use crate::ui::{any_error, field_error, general_error, FieldError};
use leptos::form::ActionForm;
use leptos::prelude::*;

/// The actions and data of the panels, shared with the overview (which reloads when an action
/// finishes).
#[derive(Clone, Copy)]
pub struct ServerForms {
    pub detach: ServerAction<DetachDisk>,
    pub attach: ServerAction<AttachDisk>,
    pub capture: ServerAction<CreateImageFromServer>,
    pub change_os: ServerAction<ChangeOs>,
    pub write: ServerAction<WriteDisk>,
    pub read: ServerAction<ReadDisk>,
    pub write_file: ServerAction<WriteDiskFile>,
    pub read_file: ServerAction<ReadDiskFile>,
    /// The server's disks, for the panels' choosers.
    pub disks: Resource<Vec<DiskView>>,
    /// The region's Available disks, for Attach Disk.
    pub available: Resource<Vec<DiskView>>,
    /// Images an OS can be changed to.
    pub os_images: Resource<Result<Vec<ImageChoice>, AppError>>,
}

impl ServerForms {
    /// The actions and the data of the panels of server `server_id`. Made once, in the page
    /// component: the resources must exist before any Suspense so that the server and the
    /// browser number them alike.
    pub fn new(server_id: Memo<String>) -> Self {
        let detach = ServerAction::new();
        let attach = ServerAction::new();
        let capture = ServerAction::new();
        let change_os = ServerAction::new();
        let write = ServerAction::new();
        let write_file = ServerAction::new();
        let version = move || {
            (
                detach.version().get(),
                attach.version().get(),
                capture.version().get(),
                change_os.version().get(),
                write.version().get(),
                write_file.version().get(),
            )
        };
        // Reloaded when a panel's action finishes.
        let disks = Resource::new(
            move || (server_id.get(), version()),
            |(id, ..)| async move { get_server(id).await.map(|detail| detail.disks).unwrap_or_default() },
        );
        let available = Resource::new(version, |_| async move {
            let disks = list_disks().await.unwrap_or_default();
            disks.into_iter().filter(|disk| disk.status == DiskStatus::Available).collect::<Vec<_>>()
        });
        let os_images = Resource::new(|| (), |_| list_image_choices(false));
        ServerForms {
            detach,
            attach,
            capture,
            change_os,
            write,
            read: ServerAction::new(),
            write_file,
            read_file: ServerAction::new(),
            disks,
            available,
            os_images,
        }
    }

    /// Goes up whenever a panel's action finishes, to reload what shows the server.
    pub fn version(&self) -> (usize, usize, usize, usize, usize, usize) {
        (
            self.detach.version().get(),
            self.attach.version().get(),
            self.capture.version().get(),
            self.change_os.version().get(),
            self.write.version().get(),
            self.write_file.version().get(),
        )
    }
}

/// The options of a disk chooser. The options are rebuilt when the disks reload, so the
/// user's choice lives in `chosen` (empty: the first option) and is selected again each time.
fn disk_options(disks: Vec<DiskView>, only_data: bool, chosen: RwSignal<String>) -> impl IntoView {
    disks
        .into_iter()
        .filter(|disk| !only_data || disk.role == "data")
        .enumerate()
        .map(|(index, disk)| {
            let label = format!(
                "{} ({}, {} GB, {})",
                disk.name,
                disk.device,
                disk.size_gb,
                if disk.role == "system" { "system" } else { "data" }
            );
            let id = disk.id.clone();
            let selected = move || chosen.with(|chosen| if chosen.is_empty() { index == 0 } else { *chosen == id });
            view! { <option value=disk.id selected=selected>{label}</option> }
        })
        .collect_view()
}

#[component]
pub fn CapturePanel(server_id: Memo<String>, forms: ServerForms) -> impl IntoView {
    let disks = forms.disks;
    let kind = RwSignal::new("system".to_string());
    let chosen = RwSignal::new(String::new());
    let capture = forms.capture;
    let error =
        move |field: &'static str| move || view! { <FieldError message=field_error(capture.value().get(), field) /> };
    view! {
        <section class="panel">
            <h2>"Create Image"</h2>
            {move || match capture.value().get() {
                Some(Ok(image_id)) => Some(view! {
                    <p class="banner banner-info" role="status">
                        "Image creation started. "
                        <a href=format!("/image/{image_id}")>"Open the image"</a>
                        " or follow it in "<a href="/images/private">"Private Images"</a>"."
                    </p>
                }),
                _ => None,
            }}
            {move || general_error(capture.value().get()).map(|message| view! { <p class="field-error">{message}</p> })}
            {error("server")}
            <ActionForm action=capture attr:class="stack-form" attr:novalidate=true>
                <input type="hidden" name="request[server_id]" prop:value=move || server_id.get() />
                <label for="capture-type">"Image type"</label>
                <select id="capture-type" name="request[image_type]" on:change=move |event| kind.set(event_target_value(&event))>
                    {CAPTURE_KINDS.iter().map(|(value, label)| view! { <option value=*value>{*label}</option> }).collect_view()}
                </select>
                {error("image_type")}
                <p class="hint">
                    {move || match kind.get().as_str() {
                        "full_ecs" => "The system disk and every data disk, in one image that creates whole ECSs.",
                        "data" => "One data disk; the image creates EVS disks.",
                        _ => "The system disk: OS and applications. Disks over 1 TB need a full-ECS image.",
                    }}
                </p>
                <div hidden=move || kind.get() != "data">
                    <label for="capture-disk">"Data disk"</label>
                    <select id="capture-disk" name="request[disk_id]" on:change=move |event| chosen.set(event_target_value(&event))>
                        <Suspense>{move || Suspend::new(async move { disk_options(disks.await, true, chosen) })}</Suspense>
                    </select>
                    {error("disk_id")}
                </div>
                <label for="capture-name">"Name"</label>
                <input id="capture-name" name="request[name]" maxlength="128" autocomplete="off" />
                {error("name")}
                <label for="capture-description">"Description"</label>
                <input id="capture-description" name="request[description]" maxlength="1024" autocomplete="off" />
                {error("description")}
                <div class="actions">
                    <button type="submit" class="button button-primary">"Create Image"</button>
                </div>
            </ActionForm>
        </section>
    }
}

#[component]
pub fn AttachPanel(server_id: Memo<String>, forms: ServerForms) -> impl IntoView {
    let (attach, available) = (forms.attach, forms.available);
    view! {
        <section class="panel">
            <h2>"Attach Disk"</h2>
            <ActionForm action=attach attr:class="stack-form">
                <input type="hidden" name="server_id" prop:value=move || server_id.get() />
                <label for="attach-disk">"Available EVS disk"</label>
                <select id="attach-disk" name="disk_id">
                    <Suspense>
                        {move || Suspend::new(async move {
                            let disks = available.await;
                            if disks.is_empty() {
                                view! { <option value="">"No available disks: create one on the EVS Disks page"</option> }.into_any()
                            } else {
                                disks.into_iter()
                                    .map(|disk| view! { <option value=disk.id.clone()>{format!("{} ({} GB)", disk.name, disk.size_gb)}</option> })
                                    .collect_view()
                                    .into_any()
                            }
                        })}
                    </Suspense>
                </select>
                {move || view! { <FieldError message=any_error(attach.value().get()) /> }}
                <div class="actions">
                    <button type="submit" class="button">"Attach"</button>
                    <a class="button" href="/disks">"Create Disk"</a>
                </div>
            </ActionForm>
        </section>
    }
}

#[component]
pub fn ChangeOsPanel(server_id: Memo<String>, forms: ServerForms) -> impl IntoView {
    let (change, images) = (forms.change_os, forms.os_images);
    view! {
        <section class="panel">
            <h2>"Change OS"</h2>
            <p class="hint">"The system disk is replaced by one made from the image; data disks are kept. Stop the ECS first."</p>
            <ActionForm action=change attr:class="stack-form">
                <input type="hidden" name="id" prop:value=move || server_id.get() />
                <label for="change-os-image">"Image"</label>
                <select id="change-os-image" name="image_id">
                    <option value="">"Choose an image"</option>
                    <Suspense>
                        {move || Suspend::new(async move {
                            images.await.unwrap_or_default().into_iter()
                                .filter(|image| image.kind == "system")
                                .map(|image| view! { <option value=image.id.clone()>{format!("{} ({})", image.name, image.category)}</option> })
                                .collect_view()
                        })}
                    </Suspense>
                </select>
                {move || view! { <FieldError message=any_error(change.value().get()) /> }}
                {move || matches!(change.value().get(), Some(Ok(()))).then(|| view! { <p class="hint" role="status">"Changing the OS…"</p> })}
                <div class="actions">
                    <button type="submit" class="button">"Change OS"</button>
                </div>
            </ActionForm>
        </section>
    }
}

/// A chooser of the server's disks, named `name` in its form.
fn disk_select(disks: Resource<Vec<DiskView>>, id: &'static str, name: &'static str) -> impl IntoView {
    let chosen = RwSignal::new(String::new());
    view! {
        <select id=id name=name on:change=move |event| chosen.set(event_target_value(&event))>
            <Suspense>{move || Suspend::new(async move { disk_options(disks.await, false, chosen) })}</Suspense>
        </select>
    }
}

#[component]
pub fn DiskContentPanel(forms: ServerForms) -> impl IntoView {
    let disks = forms.disks;
    let (write, read) = (forms.write, forms.read);
    let disk_select =
        move |id: &'static str| disk_select(disks, id, if id == "write-disk" { "request[disk_id]" } else { "disk_id" });
    view! {
        <section class="panel">
            <h2>"Disk Content"</h2>
            <p class="hint">"Write text at a byte offset of a disk, or read bytes back: a way to put known content on a server and find it in images made from it."</p>
            <ActionForm action=write attr:class="stack-form" attr:novalidate=true>
                <label for="write-disk">"Disk"</label>
                {disk_select("write-disk")}
                <label for="write-offset">"Offset (bytes)"</label>
                <input id="write-offset" name="request[offset]" value="1048576" inputmode="numeric" autocomplete="off" />
                {move || view! { <FieldError message=field_error(write.value().get(), "offset") /> }}
                <label for="write-text">"Text"</label>
                <input id="write-text" name="request[text]" autocomplete="off" />
                {move || view! { <FieldError message=field_error(write.value().get(), "text").or_else(|| general_error(write.value().get())) /> }}
                {move || matches!(write.value().get(), Some(Ok(()))).then(|| view! { <p class="hint" role="status">"Written."</p> })}
                <div class="actions"><button type="submit" class="button">"Write"</button></div>
            </ActionForm>
            <ActionForm action=read attr:class="stack-form" attr:novalidate=true>
                <label for="read-disk">"Disk"</label>
                {disk_select("read-disk")}
                <label for="read-offset">"Offset (bytes)"</label>
                <input id="read-offset" name="offset" value="1048576" inputmode="numeric" autocomplete="off" />
                <label for="read-length">"Length (bytes)"</label>
                <input id="read-length" name="length" value="64" inputmode="numeric" autocomplete="off" />
                {move || view! { <FieldError message=any_error(read.value().get()) /> }}
                {move || match read.value().get() {
                    Some(Ok(bytes)) => Some(view! {
                        <p class="disk-bytes" data-testid="disk-text">{bytes.text.replace('\0', "·")}</p>
                        <p class="disk-bytes">{bytes.hex}</p>
                    }),
                    _ => None,
                }}
                <div class="actions"><button type="submit" class="button">"Read"</button></div>
            </ActionForm>
        </section>
    }
}

#[component]
pub fn FilePanel(forms: ServerForms) -> impl IntoView {
    let disks = forms.disks;
    let (write, read) = (forms.write_file, forms.read_file);
    view! {
        <section class="panel">
            <h2>"Files"</h2>
            <p class="hint">"Write or read a file in the ext2/3/4 filesystem of a disk (its first partition, or the whole disk)."</p>
            <ActionForm action=write attr:class="stack-form" attr:novalidate=true>
                <label for="file-write-disk">"Disk"</label>
                {disk_select(disks, "file-write-disk", "request[disk_id]")}
                <label for="file-write-path">"File path"</label>
                <input id="file-write-path" name="request[path]" value="/etc/motd" autocomplete="off" />
                {move || view! { <FieldError message=field_error(write.value().get(), "path").or_else(|| general_error(write.value().get())) /> }}
                <label for="file-write-text">"Contents"</label>
                <textarea id="file-write-text" name="request[text]" rows="3"></textarea>
                {move || view! { <FieldError message=field_error(write.value().get(), "text") /> }}
                {move || matches!(write.value().get(), Some(Ok(()))).then(|| view! { <p class="hint" role="status">"File written."</p> })}
                <div class="actions"><button type="submit" class="button">"Write File"</button></div>
            </ActionForm>
            <ActionForm action=read attr:class="stack-form" attr:novalidate=true>
                <label for="file-read-disk">"Disk"</label>
                {disk_select(disks, "file-read-disk", "disk_id")}
                <label for="file-read-path">"File path"</label>
                <input id="file-read-path" name="path" value="/etc/os-release" autocomplete="off" />
                {move || view! { <FieldError message=any_error(read.value().get()) /> }}
                {move || match read.value().get() {
                    Some(Ok(text)) => Some(view! { <pre class="disk-bytes" data-testid="file-text">{text}</pre> }),
                    _ => None,
                }}
                <div class="actions"><button type="submit" class="button">"Read File"</button></div>
            </ActionForm>
        </section>
    }
}
