//! The Recycle Bin: deleted private images with their time left, each to restore or to delete
//! for good.

use super::list_page::image_tabs;
use super::model::{kind_label, period_label, time_left, RecycleBin, RecycledImage};
use super::{list_recycled_images, DeleteImagePermanently, RestoreImage};
use crate::error::AppError;
use crate::format::{format_bytes, format_time, format_time_short};
use crate::ui::{error_toast, general_error, ConfirmDialog, Confirmation, ErrorBanner, SignedInPage};
use leptos::prelude::*;
use leptos_meta::Title;

#[derive(Clone, Copy)]
struct BinActions {
    restore: ServerAction<RestoreImage>,
    purge: ServerAction<DeleteImagePermanently>,
    confirm: RwSignal<Option<Confirmation>>,
}

#[component]
pub fn RecycleBinPage() -> impl IntoView {
    let actions = BinActions { restore: ServerAction::new(), purge: ServerAction::new(), confirm: RwSignal::new(None) };
    let bin = Resource::new(
        move || (actions.restore.version().get(), actions.purge.version().get()),
        |_| list_recycled_images(),
    );
    view! {
        <Title text="Recycle Bin — Image Management Service" />
        <SignedInPage crumb="Recycle Bin" let:info>
            <div class="page-header">
                <h1>"Images"</h1>
            </div>
            {image_tabs(None)}
            {move || matches!(actions.restore.value().get(), Some(Ok(()))).then(|| view! {
                <p class="banner banner-info" role="status">
                    "Image restored. It is back in "
                    <a href="/images/private">"Private Images"</a>
                    "."
                </p>
            })}
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || {
                    let can_modify = info.role.can_modify_images();
                    Suspend::new(async move { bin_view(bin.await, can_modify, actions) })
                }}
            </Transition>
        </SignedInPage>
        {move || error_toast(general_error(actions.restore.value().get()))}
        {move || error_toast(general_error(actions.purge.value().get()))}
        <ConfirmDialog request=actions.confirm />
    }
}

fn bin_view(bin: Result<RecycleBin, AppError>, can_modify: bool, actions: BinActions) -> impl IntoView {
    let bin = match bin {
        Ok(bin) => bin,
        Err(error) => return view! { <ErrorBanner message=error.to_string() /> }.into_any(),
    };
    let now = bin.now;
    let rows = if bin.images.is_empty() {
        view! { <tr><td colspan="6" class="empty" data-testid="empty-result">"The recycle bin is empty."</td></tr> }
            .into_any()
    } else {
        bin.images.into_iter().map(|image| bin_row(image, now, can_modify, actions)).collect_view().into_any()
    };
    view! {
        <p class="hint">
            {format!(
                "Deleted private images stay here for {}: they cannot be used, and their shares have ended. \
                 Restore one to use it again. When its time is up, the image and its file are deleted for good.",
                period_label(bin.retention_ms)
            )}
        </p>
        <div class="table-wrap">
            <table class="image-table" data-testid="recycle-bin">
                <thead>
                    <tr>
                        <th>"Name/ID"</th>
                        <th>"Image Type"</th>
                        <th>"Size"</th>
                        <th>"Deleted"</th>
                        <th>"Time Left"</th>
                        <th>"Operation"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

fn bin_row(image: RecycledImage, now: i64, can_modify: bool, actions: BinActions) -> impl IntoView {
    let (id, name) = (image.id.clone(), image.name.clone());
    let restore_id = id.clone();
    let operations = if can_modify {
        view! {
            <button type="button" class="link-button" on:click=move |_| {
                actions.restore.dispatch(RestoreImage { id: restore_id.clone() });
            }>"Restore"</button>
            <button type="button" class="link-button danger" on:click=move |_| {
                let id = id.clone();
                actions.confirm.set(Some(Confirmation {
                    title: "Delete Permanently".into(),
                    message: format!("Delete image \"{name}\" and its file now? This cannot be undone."),
                    confirm_label: "Delete Permanently",
                    on_confirm: Callback::new(move |_| {
                        actions.purge.dispatch(DeleteImagePermanently { id: id.clone() });
                    }),
                }))
            }>"Delete Permanently"</button>
        }
        .into_any()
    } else {
        view! { <span class="hint" title="Your role can only view">"View only"</span> }.into_any()
    };
    view! {
        <tr data-testid="recycled-row">
            <td class="name-cell">
                <span class="image-name">{image.name.clone()}</span>
                <span class="image-id">{image.id.clone()}</span>
            </td>
            <td class="nowrap">{kind_label(&image.image_kind).to_string()}</td>
            <td class="num">{format_bytes(image.image_size)}</td>
            <td class="time" title=format_time(image.deleted_at)>{format_time_short(image.deleted_at)}</td>
            <td class="nowrap" data-testid="time-left" title=format!("Deleted for good at {}", format_time(image.purge_at))>
                {time_left(image.purge_at, now)}
            </td>
            <td><div class="operations">{operations}</div></td>
        </tr>
    }
}
