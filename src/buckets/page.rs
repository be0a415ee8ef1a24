//! The Buckets pages: the region's buckets, and one bucket's objects with upload, download
//! and delete.

use super::model::{validate_bucket_name, validate_object_key, BucketView, ObjectView, UploadView};
use super::{list_buckets, list_objects, list_uploads, CreateBucket, DeleteBucket, DeleteObject};
use crate::format::{format_bytes, format_time, url_encode};
use crate::ui::{
    any_error, error_toast, general_error, ConfirmDialog, Confirmation, ErrorBanner, FieldError, Loaded, ProgressBar,
    SignedInPage, Table,
};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn BucketsPage() -> impl IntoView {
    let create = ServerAction::<CreateBucket>::new();
    let delete = ServerAction::<DeleteBucket>::new();
    let buckets = Resource::new(move || (create.version().get(), delete.version().get()), |_| list_buckets());
    let confirm = RwSignal::new(None::<Confirmation>);
    view! {
        <Title text="Buckets — Image Management Service" />
        <SignedInPage crumb="Buckets" let:info>
            <div class="page-header">
                <h1>"Buckets"</h1>
            </div>
            <p class="page-intro">"Buckets hold the image files you import from and export to, in this region."</p>
            {info.role.can_modify_images().then(|| view! { <CreateBucketForm create /> })}
            <Loaded resource=buckets let:buckets>
                {bucket_table(info.role.can_modify_images(), buckets, delete, confirm)}
            </Loaded>
        </SignedInPage>
        {move || error_toast(general_error(delete.value().get()))}
        <ConfirmDialog request=confirm />
    }
}

#[component]
fn CreateBucketForm(create: ServerAction<CreateBucket>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    // Checked as the user types; the server checks again.
    let local_error = move || {
        let name = name.get();
        (!name.is_empty()).then(|| validate_bucket_name(&name).err()).flatten()
    };
    let server_error = move || any_error(create.value().get());
    view! {
        <ActionForm action=create attr:class="inline-form panel">
            <label for="bucket-name">"Bucket name"</label>
            <input
                id="bucket-name"
                name="name"
                placeholder="e.g. image-files"
                autocomplete="off"
                bind:value=name
            />
            <button type="submit" class="button button-primary">"Create Bucket"</button>
            {move || view! { <FieldError message=local_error().or_else(server_error) /> }}
        </ActionForm>
    }
}

fn bucket_table(
    can_modify: bool,
    buckets: Vec<BucketView>,
    delete: ServerAction<DeleteBucket>,
    confirm: RwSignal<Option<Confirmation>>,
) -> impl IntoView {
    if buckets.is_empty() {
        return view! { <p class="empty panel" data-testid="empty-result">"No buckets in this region yet."</p> }
            .into_any();
    }
    let rows = buckets
        .into_iter()
        .map(|bucket| {
            let name = bucket.name.clone();
            let delete_button = can_modify.then(|| {
                let name = name.clone();
                view! {
                    <button type="button" class="link-button danger" on:click=move |_| {
                        let name = name.clone();
                        confirm.set(Some(Confirmation {
                            title: "Delete Bucket".into(),
                            message: format!("Delete bucket \"{name}\"? It must be empty."),
                            confirm_label: "Delete",
                            on_confirm: Callback::new(move |_| {
                                delete.dispatch(DeleteBucket { name: name.clone() });
                            }),
                        }))
                    }>"Delete"</button>
                }
            });
            view! {
                <tr data-testid="bucket-row">
                    <td><a class="image-name" href=format!("/buckets/{}", bucket.name)>{bucket.name.clone()}</a></td>
                    <td class="num">{bucket.objects}</td>
                    <td class="num">{format_bytes(bucket.bytes)}</td>
                    <td class="time">{format_time(bucket.created_at)}</td>
                    <td><div class="operations">{delete_button}</div></td>
                </tr>
            }
        })
        .collect_view();
    view! { <Table headers=&["Name", "Objects", "Size", "Created", "Operation"]>{rows}</Table> }.into_any()
}

/// The state of the upload panel, shared with the uploader running in the browser.
#[derive(Clone, Copy)]
pub struct UploadUi {
    pub running: RwSignal<bool>,
    pub cancel: RwSignal<bool>,
    pub percent: RwSignal<f64>,
    pub message: RwSignal<String>,
    pub error: RwSignal<Option<String>>,
    /// Goes up when an upload finishes or stops, to refresh the lists.
    pub finished: RwSignal<u64>,
}

#[component]
pub fn BucketPage() -> impl IntoView {
    let params = use_params_map();
    let bucket = move || params.with(|params| params.get("name").unwrap_or_default());
    let delete = ServerAction::<DeleteObject>::new();
    let ui = UploadUi {
        running: RwSignal::new(false),
        cancel: RwSignal::new(false),
        percent: RwSignal::new(0.0),
        message: RwSignal::new(String::new()),
        error: RwSignal::new(None),
        finished: RwSignal::new(0),
    };
    let objects = Resource::new(
        move || (bucket(), delete.version().get(), ui.finished.get()),
        |(bucket, _, _)| async move {
            let objects = list_objects(bucket.clone()).await;
            let uploads = list_uploads(bucket).await.unwrap_or_default();
            (objects, uploads)
        },
    );
    let confirm = RwSignal::new(None::<Confirmation>);
    let crumb = Signal::derive(move || match objects.get() {
        Some((Err(_), _)) => "Buckets".to_string(),
        _ => format!("Buckets > {}", bucket()),
    });
    view! {
        <Title text=move || format!("{} — Buckets", bucket()) />
        <SignedInPage crumb let:info>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let name = bucket();
                    match objects.await {
                        (Ok(objects), uploads) => {
                            let can_modify = info.role.can_modify_images();
                            view! {
                                <div class="page-header">
                                    <a class="back-link" href="/buckets">"‹ Buckets"</a>
                                    <h1>{name.clone()}</h1>
                                </div>
                                {can_modify.then(|| view! { <UploadPanel bucket=name.clone() ui /> })}
                                {unfinished_uploads(uploads)}
                                {object_table(&name, objects, can_modify, delete, confirm)}
                            }
                            .into_any()
                        }
                        (Err(error), _) => view! {
                            <div class="page-header"><h1>"Bucket not found"</h1></div>
                            <ErrorBanner message=error.to_string() />
                            <p><a href="/buckets">"Back to Buckets"</a></p>
                        }
                        .into_any(),
                    }
                })}
            </Transition>
        </SignedInPage>
        {move || error_toast(general_error(delete.value().get()))}
        <ConfirmDialog request=confirm />
    }
}

#[component]
fn UploadPanel(bucket: String, ui: UploadUi) -> impl IntoView {
    let file_input = NodeRef::<leptos::html::Input>::new();
    let key = RwSignal::new(String::new());
    let choose = move |_| {
        if let Some(file) = file_input.get().and_then(|input| input.files()).and_then(|files| files.get(0)) {
            key.set(file.name());
        }
    };
    let start = move |_| {
        let Some(file) = file_input.get().and_then(|input| input.files()).and_then(|files| files.get(0)) else {
            ui.error.set(Some("Choose a file to upload first.".into()));
            return;
        };
        let object_key = key.get_untracked().trim().to_string();
        let object_key = if object_key.is_empty() { file.name() } else { object_key };
        if let Err(message) = validate_object_key(&object_key) {
            ui.error.set(Some(message));
            return;
        }
        ui.error.set(None);
        ui.cancel.set(false);
        ui.running.set(true);
        ui.percent.set(0.0);
        ui.message.set("Starting".into());
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(super::uploader::upload(bucket.clone(), object_key, file, ui));
        #[cfg(not(feature = "hydrate"))]
        let _ = (&bucket, object_key, file);
    };
    view! {
        <section class="panel upload-panel">
            <h2>"Upload Object"</h2>
            <div class="upload-row">
                <input type="file" node_ref=file_input aria-label="File" on:change=choose />
                <input
                    class="upload-key"
                    aria-label="Object name"
                    placeholder="Object name (default: the file name)"
                    bind:value=key
                />
                <button type="button" class="button button-primary" disabled=move || ui.running.get() on:click=start>
                    "Upload"
                </button>
                <button
                    type="button"
                    class="button"
                    disabled=move || !ui.running.get()
                    on:click=move |_| ui.cancel.set(true)
                >
                    "Cancel"
                </button>
            </div>
            {move || {
                (ui.running.get() || !ui.message.get().is_empty())
                    .then(|| view! { <div data-testid="upload-progress"><ProgressBar percent=ui.percent.get() label=ui.message.get() /></div> })
            }}
            {move || ui.error.get().map(|message| view! { <ErrorBanner message /> })}
            <p class="hint">
                "Large files go up in 8 MB pieces. If the connection drops or the page reloads, choose the same file again: the upload continues where it stopped."
            </p>
        </section>
    }
}

fn unfinished_uploads(uploads: Vec<UploadView>) -> Option<impl IntoView> {
    (!uploads.is_empty()).then(|| {
        view! {
            <section class="panel">
                <h2>"Unfinished Uploads"</h2>
                <ul class="plain-list">
                    {uploads
                        .into_iter()
                        .map(|upload| {
                            let percent = if upload.size > 0 { upload.received_bytes as f64 * 100.0 / upload.size as f64 } else { 0.0 };
                            view! {
                                <li data-testid="unfinished-upload">
                                    <strong>{upload.key.clone()}</strong>
                                    {format!(
                                        " — {} of {} stored ({percent:.0}%). Choose the same file to resume.",
                                        format_bytes(upload.received_bytes),
                                        format_bytes(upload.size)
                                    )}
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </section>
        }
    })
}

fn object_table(
    bucket: &str,
    objects: Vec<ObjectView>,
    can_modify: bool,
    delete: ServerAction<DeleteObject>,
    confirm: RwSignal<Option<Confirmation>>,
) -> impl IntoView {
    if objects.is_empty() {
        return view! { <p class="empty panel" data-testid="empty-result">"This bucket is empty."</p> }.into_any();
    }
    let rows = objects
        .into_iter()
        .map(|object| {
            let download = format!("/storage/download?bucket={}&key={}", url_encode(bucket), url_encode(&object.key));
            let create_image = format!("/images/create?bucket={}&key={}", url_encode(bucket), url_encode(&object.key));
            let modify = can_modify.then(|| {
                let (bucket, key) = (bucket.to_string(), object.key.clone());
                view! {
                    <a href=create_image>"Create Image"</a>
                    <button type="button" class="link-button danger" on:click=move |_| {
                        let (bucket, key) = (bucket.clone(), key.clone());
                        confirm.set(Some(Confirmation {
                            title: "Delete Object".into(),
                            message: format!("Delete \"{key}\" from bucket \"{bucket}\"? This cannot be undone."),
                            confirm_label: "Delete",
                            on_confirm: Callback::new(move |_| {
                                delete.dispatch(DeleteObject { bucket: bucket.clone(), key: key.clone() });
                            }),
                        }))
                    }>"Delete"</button>
                }
            });
            view! {
                <tr data-testid="object-row">
                    <td class="name-cell"><span class="image-name">{object.key.clone()}</span></td>
                    <td class="num" data-bytes=object.size.to_string()>{format_bytes(object.size)}</td>
                    <td><code class="checksum" title=object.sha256.clone()>{object.sha256.clone()}</code></td>
                    <td class="time">{format_time(object.created_at)}</td>
                    <td>
                        <div class="operations">
                            <a href=download download="">"Download"</a>
                            {modify}
                        </div>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! { <Table headers=&["Object", "Size", "SHA-256", "Uploaded", "Operation"]>{rows}</Table> }.into_any()
}
