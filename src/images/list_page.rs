//! The image list: tabs, filters, sortable columns, pagination — all carried in the URL.

use super::delete_dialog::{DeleteDialog, DeleteTarget};
use super::model::{
    delete_refusal, kind_label, ImagePage, ImageStatus, ImageSummary, IMAGE_KINDS, OS_TYPES, PLATFORMS, VIEW_ONLY,
};
use super::query::{ImageQuery, ImageTab, SortKey, ValidQuery, PAGE_SIZES, QUERY_KEYS};
use super::replicate_dialog::{regions_for, replicate_done_banner, ReplicateDialog, ReplicateTarget};
use super::tags_dialog::BatchTagDialog;
use super::{list_images, BatchTagImages, DeleteImages, ReplicateImages, SetFavoriteImage};
use crate::error::AppError;
use crate::format::{format_bytes, format_time, format_time_short};
use crate::market::model::price_label;
use crate::sharing::members_panel::{share_done_banner, ShareDialog, ShareTarget};
use crate::sharing::model::{expiry_label, expiry_short, sentence, share_refusal, MemberStatus};
use crate::sharing::{AnswerShares, ShareImages};
use crate::ui::{
    disabled_reason, error_toast, general_error, refresh_notices_after, submit_own_form, use_polling, ErrorBanner,
    NotFound, NoticesResource, Pager, ProgressBar, SignedInPage, StatusBadge,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

/// The list's actions: delete and share (each with its dialog), the recipient's answers, and
/// the rows selected for a batch.
#[derive(Clone, Copy)]
struct ListActions {
    delete_target: RwSignal<Option<DeleteTarget>>,
    tag_target: RwSignal<Option<Vec<(String, String)>>>,
    star: ServerAction<SetFavoriteImage>,
    share_target: RwSignal<Option<ShareTarget>>,
    answer: ServerAction<AnswerShares>,
    /// (id, name) of the selected rows.
    selected: RwSignal<Vec<(String, String)>>,
    replicate_target: RwSignal<Option<ReplicateTarget>>,
}

#[component]
pub fn ImageListPage() -> impl IntoView {
    let params = use_params_map();
    let query_map = use_query_map();
    let query = Memo::new(move |_| {
        let tab = params.with(|params| params.get("tab").unwrap_or_default());
        query_map.with(|map| ImageQuery::from_params(&tab, |key| map.get(key)))
    });
    let tab = Memo::new(move |_| query.with(|query| ImageTab::parse(&query.tab)));
    let delete = ServerAction::<DeleteImages>::new();
    let share = ServerAction::<ShareImages>::new();
    let answer = ServerAction::<AnswerShares>::new();
    let batch_tag = ServerAction::<BatchTagImages>::new();
    let star = ServerAction::<SetFavoriteImage>::new();
    let replicate = ServerAction::<ReplicateImages>::new();
    let replicate_target = RwSignal::new(None);
    let regions = regions_for(replicate_target);
    // While an image of the page is being created, refresh every few seconds to show progress.
    let tick = use_polling(3);
    let creating = RwSignal::new(false);
    let images = Resource::new(
        move || {
            let versions = (
                delete.version().get(),
                share.version().get(),
                answer.version().get(),
                batch_tag.version().get() + star.version().get() + replicate.version().get(),
            );
            (query.get(), versions, if creating.get() { tick.get() } else { 0 })
        },
        |(query, _, _)| async move {
            let result = list_images(query.clone()).await;
            (query, result)
        },
    );
    let actions = ListActions {
        delete_target: RwSignal::new(None),
        tag_target: RwSignal::new(None),
        star,
        share_target: RwSignal::new(None),
        answer,
        selected: RwSignal::new(Vec::new()),
        replicate_target,
    };
    // A new view, an answer or a deletion starts with nothing selected; an answer changes the
    // header's count.
    Effect::new(move |_| {
        query.track();
        answer.version().track();
        if !matches!(delete.value().get(), Some(Err(_))) {
            actions.selected.set(Vec::new());
        }
    });
    refresh_notices_after(move || answer.version().get());
    // Images the Delete dialog left out are deselected too.
    let leave_out = Callback::new(move |ids: Vec<String>| {
        actions.selected.update(|rows| rows.retain(|(id, _)| !ids.contains(id)));
    });

    view! {
        {move || match tab.get() {
            None => view! { <NotFound /> }.into_any(),
            Some(tab) => view! {
                <Title text=format!("{} — Image Management Service", tab.title()) />
                <SignedInPage crumb=tab.title() let:info>
                    {list_header(tab, info.role.can_modify_images())}
                    {(tab == ImageTab::Shared).then(|| shared_views(query))}
                    {share_done_banner(share)}
                    {replicate_done_banner(replicate)}
                    <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                        {move || Suspend::new(async move {
                            let (query, result) = images.await;
                            if let Ok(page) = &result {
                                // Only a change is written: a write re-runs the list's source, which
                                // on the server may come after the page's render has ended.
                                let any_creating = page.images.iter().any(|image| image.progress.is_some());
                                if creating.get_untracked() != any_creating {
                                    creating.set(any_creating);
                                }
                            }
                            list_body(tab, query, result, info.role.can_modify_images(), actions)
                        })}
                    </Transition>
                </SignedInPage>
            }
            .into_any(),
        }}
        {move || error_toast(general_error(answer.value().get()))}
        {move || error_toast(general_error(star.value().get()))}
        <BatchTagDialog target=actions.tag_target action=batch_tag />
        <DeleteDialog target=actions.delete_target action=delete on_leave_out=leave_out />
        <ShareDialog target=actions.share_target action=share />
        <ReplicateDialog target=actions.replicate_target action=replicate regions />
    }
}

/// Images Shared with Me: the accepted, pending and rejected views, and a banner when images
/// wait for an answer.
fn shared_views(query: Memo<ImageQuery>) -> impl IntoView {
    let notices = use_context::<NoticesResource>();
    let current =
        move || query.with(|query| MemberStatus::parse(&query.member_status).unwrap_or(MemberStatus::Accepted));
    let link = move |status: MemberStatus| {
        let href = if status == MemberStatus::Accepted {
            "/images/shared".to_string()
        } else {
            format!("/images/shared?member_status={}", status.as_str())
        };
        view! {
            <a href=href class:active=move || current() == status aria-current=move || (current() == status).then_some("page")>
                {status.label()}
            </a>
        }
    };
    view! {
        {notices.map(|NoticesResource(notices)| view! {
            <Suspense>
                {move || Suspend::new(async move {
                    let pending = notices.await.map(|notices| notices.pending).unwrap_or(0);
                    (pending > 0 && current() != MemberStatus::Pending).then(|| view! {
                        <p class="banner banner-info" data-testid="pending-banner">
                            {format!("{pending} image{} waiting for you to accept. ", if pending == 1 { " is" } else { "s are" })}
                            <a href="/images/shared?member_status=pending">"Review pending images"</a>
                        </p>
                    })
                })}
            </Suspense>
        })}
        <nav class="subtabs" aria-label="Shared image status">
            {MemberStatus::ALL.into_iter().map(link).collect_view()}
        </nav>
    }
}

/// The page title, Create Image (private tab) and the tabs.
fn list_header(tab: ImageTab, can_modify: bool) -> impl IntoView {
    view! {
        <div class="page-header">
            <h1>"Images"</h1>
            {(tab == ImageTab::Private).then(|| if can_modify {
                view! { <a class="button button-primary header-action" href="/images/create">"Create Image"</a> }.into_any()
            } else {
                view! {
                    <button type="button" class="button button-primary header-action" disabled=true title=VIEW_ONLY>
                        "Create Image"{disabled_reason(Some(VIEW_ONLY.to_string()))}
                    </button>
                }
                .into_any()
            })}
        </div>
        {image_tabs(Some(tab))}
    }
}

/// The image lists' tabs, and the recycle bin's (`None`).
pub fn image_tabs(current: Option<ImageTab>) -> impl IntoView {
    let bin = current.is_none();
    view! {
        <nav class="tabs" aria-label="Image lists">
            {ImageTab::ALL
                .iter()
                .map(|other| {
                    let active = current == Some(*other);
                    view! {
                        <a href=format!("/images/{}", other.slug()) class:active=active aria-current=active.then_some("page")>
                            {other.title()}
                        </a>
                    }
                })
                .collect_view()}
            <a href="/images/recycle-bin" class="tab-aside" class:active=bin aria-current=bin.then_some("page")>"Recycle Bin"</a>
        </nav>
    }
}

/// The filters as the query asked, then the results or why there are none.
fn list_body(
    tab: ImageTab,
    query: ImageQuery,
    result: Result<ImagePage, AppError>,
    can_modify: bool,
    actions: ListActions,
) -> impl IntoView {
    let body = match (result, query.validate()) {
        (Ok(page), Ok(valid)) => {
            let footer = list_footer(&query, &page);
            let batch = can_modify.then(|| batch_bar(tab, valid.member_status, actions));
            view! {
                <div class="list-toolbar">
                    {batch}
                    <a class="button toolbar-end" href=query.export_href() download
                        title="Download this list, with its filters and sort, over all pages, as a CSV file">
                        "Export List"
                    </a>
                </div>
                {results_table(tab, &query, &valid, page, can_modify, actions)}
                {footer}
            }
            .into_any()
        }
        (Err(error), _) | (_, Err(error)) => view! { <ErrorBanner message=error.to_string() /> }.into_any(),
    };
    view! {
        <FilterForm query=query.clone() />
        {body}
    }
}

fn options(current: &str, all_label: &'static str, choices: Vec<(&'static str, &'static str)>) -> impl IntoView {
    let current = current.to_string();
    view! {
        <option value="">{all_label}</option>
        {choices
            .into_iter()
            .map(|(value, label)| view! { <option value=value selected=value == current>{label}</option> })
            .collect_view()}
    }
}

/// Hidden fields that keep the parts of the state a form does not edit.
fn kept_fields(query: &ImageQuery, keys: &[&'static str]) -> impl IntoView {
    keys.iter()
        .filter(|key| !query.get(key).is_empty())
        .map(|key| view! { <input type="hidden" name=*key value=query.get(key).to_string() /> })
        .collect_view()
}

#[component]
fn FilterForm(query: ImageQuery) -> impl IntoView {
    let action = format!("/images/{}", query.tab);
    let reset_href = action.clone();
    let same = |values: &[&'static str]| values.iter().map(|value| (*value, *value)).collect::<Vec<_>>();
    view! {
        <form class="filters" method="get" action=action role="search">
            <input
                type="search"
                name="name"
                placeholder="Name contains…"
                aria-label="Name"
                value=query.name.clone()
            />
            <select name="os_type" aria-label="OS type">
                {options(&query.os_type, "All OS types", same(OS_TYPES))}
            </select>
            <select name="platform" aria-label="OS platform">
                {options(&query.platform, "All platforms", same(PLATFORMS))}
            </select>
            <select name="image_type" aria-label="Image type">
                {options(&query.image_type, "All image types", IMAGE_KINDS.to_vec())}
            </select>
            <select name="status" aria-label="Status">
                {options(&query.status, "All statuses", ImageStatus::FILTERS.iter().map(|status| (status.as_str(), status.label())).collect())}
            </select>
            <input name="tag_key" placeholder="Tag key" aria-label="Tag key" value=query.tag_key.clone() />
            <input name="tag_value" placeholder="Tag value" aria-label="Tag value" value=query.tag_value.clone() />
            <label class="date-field">
                "Created from"
                <input type="date" name="created_from" value=query.created_from.clone() />
            </label>
            <label class="date-field">
                "to"
                <input type="date" name="created_to" value=query.created_to.clone() />
            </label>
            <label class="check-field">
                <input type="checkbox" name="frequently_used" value="1" checked=!query.frequently_used.is_empty() />
                "Frequently Used"
            </label>
            <label class="check-field">
                <input type="checkbox" name="show_deprecated" value="1" checked=!query.show_deprecated.is_empty() />
                "Show deprecated"
            </label>
            {kept_fields(&query, &["sort", "order", "page_size", "member_status"])}
            <button type="submit" class="button button-primary">"Search"</button>
            <a class="button" href=reset_href>"Reset"</a>
        </form>
    }
}

/// A column header that sorts by `key`: ascending or descending, and which way it sorts now.
fn sort_header(query: &ImageQuery, valid: &ValidQuery, key: SortKey, label: &'static str) -> impl IntoView {
    let (arrow, sort) = match (valid.sort == key, valid.descending) {
        (false, _) => ("", "none"),
        (true, true) => (" ↓", "descending"),
        (true, false) => (" ↑", "ascending"),
    };
    view! {
        <th aria-sort=sort>
            <a class="sort-link" href=query.with_sort(key, valid).href()>
                {label}
                {arrow}
            </a>
        </th>
    }
}

/// Why a page of the list has no rows.
fn empty_text(tab: ImageTab, query: &ImageQuery, total: i64) -> &'static str {
    let unfiltered = |status: &str| {
        *query
            == ImageQuery::from_params("shared", |key| {
                (key == "member_status" && !status.is_empty()).then(|| status.to_string())
            })
    };
    if total == 0 && !query.frequently_used.is_empty() {
        "No frequently used images here. Mark an image with its star (☆) to find it under Frequently Used."
    } else if total == 0 && tab == ImageTab::Shared && unfiltered("") {
        "No images have been shared with you in this region."
    } else if total == 0 && tab == ImageTab::Shared && unfiltered("pending") {
        "No shared images are waiting for your answer."
    } else if total == 0 && tab == ImageTab::Shared && unfiltered("rejected") {
        "You have not rejected any shared image."
    } else if total == 0 && tab == ImageTab::Market && *query == ImageQuery::from_params("market", |_| None) {
        "KooGallery has no images in this region yet."
    } else if total == 0 {
        "No images match these filters."
    } else {
        "This page is past the last page of results."
    }
}

/// Public and private lists show every column; the shared and KooGallery lists trade OS type,
/// disk format and encryption (shared images are never encrypted) for their own two columns.
fn full_columns(tab: ImageTab) -> bool {
    matches!(tab, ImageTab::Public | ImageTab::Private)
}

/// Whether the rows of this view have checkboxes (for a batch Share, Accept or Reject).
fn selectable(tab: ImageTab, member_status: MemberStatus) -> bool {
    tab == ImageTab::Private || (tab == ImageTab::Shared && member_status != MemberStatus::Accepted)
}

/// The batch operations for the selected rows.
fn batch_bar(tab: ImageTab, member_status: MemberStatus, actions: ListActions) -> Option<impl IntoView> {
    if !selectable(tab, member_status) {
        return None;
    }
    let selected = actions.selected;
    let none = move || selected.with(Vec::is_empty);
    let ids = move || selected.with(|rows| rows.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>().join(","));
    let count = move || match selected.with(Vec::len) {
        0 => "No images selected".to_string(),
        1 => "1 image selected".to_string(),
        count => format!("{count} images selected"),
    };
    let answer = move |status: MemberStatus| {
        actions.answer.dispatch(AnswerShares { images: ids(), status: status.as_str().to_string() });
    };
    let buttons = match tab {
        ImageTab::Private => view! {
            <button type="button" class="button" disabled=none on:click=move |_| {
                let rows = selected.get();
                actions.share_target.set(Some(ShareTarget {
                    ids: rows.iter().map(|(id, _)| id.clone()).collect(),
                    names: rows.iter().map(|(_, name)| name.clone()).collect(),
                }));
            }>"Share"</button>
            <button type="button" class="button" disabled=none on:click=move |_| {
                actions.replicate_target.set(Some(ReplicateTarget {
                    images: selected.get(),
                    in_region_refusal: None,
                    cross_region_refusal: None,
                }));
            }>"Replicate"</button>
            <button type="button" class="button" disabled=none
                on:click=move |_| actions.tag_target.set(Some(selected.get()))>"Batch Tag"</button>
            <button type="button" class="button button-danger-outline" disabled=none
                on:click=move |_| actions.delete_target.set(Some(selected.get()))>"Batch Delete"</button>
        }
        .into_any(),
        _ => view! {
            <button type="button" class="button button-primary" disabled=none on:click=move |_| answer(MemberStatus::Accepted)>
                "Accept"
            </button>
            {(member_status == MemberStatus::Pending).then(|| view! {
                <button type="button" class="button" disabled=none on:click=move |_| answer(MemberStatus::Rejected)>"Reject"</button>
            })}
        }
        .into_any(),
    };
    Some(view! {
        <div class="batch-bar js-only" data-testid="batch-bar">
            <span class="batch-count" role="status">{count}</span>
            {buttons}
        </div>
    })
}

fn results_table(
    tab: ImageTab,
    query: &ImageQuery,
    valid: &ValidQuery,
    page: ImagePage,
    can_modify: bool,
    actions: ListActions,
) -> impl IntoView {
    let checkboxes = can_modify && selectable(tab, valid.member_status);
    let columns = if full_columns(tab) { 11 } else { 10 } + usize::from(checkboxes);
    let page_rows: Vec<(String, String)> =
        page.images.iter().map(|image| (image.id.clone(), image.name.clone())).collect();
    let rows = if page.images.is_empty() {
        view! {
            <tr>
                <td colspan=columns.to_string() class="empty" data-testid="empty-result">
                    {empty_text(tab, query, page.total)}
                </td>
            </tr>
        }
        .into_any()
    } else {
        let member_status = valid.member_status;
        page.images
            .into_iter()
            .map(|image| image_row(image, tab, member_status, can_modify, checkboxes, actions))
            .collect_view()
            .into_any()
    };
    let selected = actions.selected;
    let all_selected = {
        let page_rows = page_rows.clone();
        move || !page_rows.is_empty() && selected.with(|rows| page_rows.iter().all(|row| rows.contains(row)))
    };
    let select_all = move |event: leptos::ev::Event| {
        let on = event_target_checked(&event);
        selected.update(|rows| {
            rows.retain(|row| !page_rows.contains(row));
            if on {
                rows.extend(page_rows.iter().cloned());
            }
        });
    };
    view! {
        <div class="table-wrap">
            <table class="image-table">
                <thead>
                    <tr>
                        {checkboxes.then(|| view! {
                            <th class="check-cell">
                                <input type="checkbox" class="js-only" aria-label="Select all on this page"
                                    prop:checked=all_selected on:change=select_all />
                            </th>
                        })}
                        {sort_header(query, valid, SortKey::Name, "Name/ID")}
                        <th>"Status"</th>
                        {(tab == ImageTab::Shared).then(|| view! { <th>"Shared By"</th><th>"Expires"</th> })}
                        {(tab == ImageTab::Market).then(|| view! { <th>"Publisher"</th><th>"Price"</th> })}
                        {full_columns(tab).then(|| view! { <th>"OS Type"</th> })}
                        <th>"OS"</th>
                        <th>"Image Type"</th>
                        {full_columns(tab).then(|| view! { <th>"Disk Format"</th> })}
                        {sort_header(query, valid, SortKey::Size, "Size")}
                        <th>"Min. Disk"</th>
                        {sort_header(query, valid, SortKey::Created, "Created")}
                        {full_columns(tab).then(|| view! { <th>"Encrypted"</th> })}
                        <th>"Operation"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

/// The pager and the page size chooser (which keeps every other part of the query).
fn list_footer(query: &ImageQuery, page: &ImagePage) -> impl IntoView {
    let href_query = query.clone();
    let href = Callback::new(move |number: u32| href_query.with_page(number).href());
    let kept: Vec<&'static str> =
        QUERY_KEYS.iter().copied().filter(|key| !matches!(*key, "page" | "page_size")).collect();
    let page_size = page.page_size;
    view! {
        <div class="list-footer">
            <Pager total=page.total page=page.page page_count=page.page_count() href=href />
            <form class="page-size" method="get" action=format!("/images/{}", query.tab)>
                {kept_fields(query, &kept)}
                <label for="page-size">"Items per page"</label>
                <select id="page-size" name="page_size" on:change=submit_own_form>
                    {PAGE_SIZES
                        .iter()
                        .map(|size| {
                            view! {
                                <option value=size.to_string() selected=*size == page_size>
                                    {size.to_string()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
                <button type="submit" class="button button-small js-hide">"Apply"</button>
            </form>
        </div>
    }
}

/// The star that marks an image as frequently used (for this user only): a toggle button
/// named "Star", pressed when starred (the tooltip says what it means).
pub fn star_button(image: &ImageSummary, star: ServerAction<SetFavoriteImage>) -> impl IntoView {
    let (id, on) = (image.id.clone(), image.favorite);
    view! {
        <button type="button" class="star" class:star-on=on aria-pressed=if on { "true" } else { "false" }
            aria-label="Star" title=star_title(on) data-testid="star"
            on:click=move |_| { star.dispatch(SetFavoriteImage { id: id.clone(), favorite: !on }); }>
            {if on { "★" } else { "☆" }}
        </button>
    }
}

/// What a star's tooltip says.
pub fn star_title(on: bool) -> &'static str {
    if on {
        "Frequently used: click to remove it from the Frequently Used filter"
    } else {
        "Mark as frequently used: it then shows under the Frequently Used filter and first in Create ECS"
    }
}

/// "Apply for ECS" for images that boot servers, "Create Disk" for data disk images.
fn use_link(image: &ImageSummary) -> Option<impl IntoView> {
    if image.status != ImageStatus::Active || !image.has_file {
        return None;
    }
    let (href, label) = match image.kind.as_str() {
        "data" => (format!("/disks?image={}", image.id), "Create Disk"),
        _ => (format!("/ecs/create?image={}", image.id), "Apply for ECS"),
    };
    Some(view! { <a href=href>{label}</a> })
}

/// Why an own image cannot be shared, if it cannot (the service's own rules).
fn share_blocked(image: &ImageSummary) -> Option<String> {
    let active = image.status == ImageStatus::Active;
    share_refusal(active, &image.kind, image.encrypted, image.publisher.is_some()).map(sentence)
}

fn image_row(
    image: ImageSummary,
    tab: ImageTab,
    member_status: MemberStatus,
    can_modify: bool,
    checkbox: bool,
    actions: ListActions,
) -> impl IntoView {
    let detail_href = format!("/image/{}", image.id);
    // A viewer sees the owner's operations too, disabled, each saying why.
    let own = image.owned && tab == ImageTab::Private;
    let role_reason = (!can_modify).then(|| VIEW_ONLY.to_string());
    let delete_button = own.then(|| {
        let row = (image.id.clone(), image.name.clone());
        let blocked = role_reason
            .clone()
            .or_else(|| delete_refusal(image.protected, image.status, image.publisher.is_some()).map(str::to_string));
        view! {
            <button
                type="button"
                class="link-button danger"
                disabled=blocked.is_some()
                title=blocked.clone().unwrap_or_else(|| "Move this image to the recycle bin".into())
                on:click=move |_| actions.delete_target.set(Some(vec![row.clone()]))
            >
                "Delete"
                {disabled_reason(blocked.clone())}
            </button>
        }
    });
    let share_button = own.then(|| {
        let target = ShareTarget { ids: vec![image.id.clone()], names: vec![image.name.clone()] };
        let blocked = role_reason.clone().or_else(|| share_blocked(&image));
        view! {
            <button type="button" class="link-button" disabled=blocked.is_some()
                title=blocked.clone().unwrap_or_else(|| "Share this image with other projects".into())
                on:click=move |_| actions.share_target.set(Some(target.clone()))>
                "Share"
                {disabled_reason(blocked.clone())}
            </button>
        }
    });
    let answer_buttons = (can_modify && tab == ImageTab::Shared).then(|| {
        let id = image.id.clone();
        let answer = move |status: MemberStatus| {
            actions.answer.dispatch(AnswerShares { images: id.clone(), status: status.as_str().to_string() });
        };
        let answer_too = answer.clone();
        let (accept, reject) = match member_status {
            MemberStatus::Pending => (Some("Accept"), Some("Reject")),
            MemberStatus::Accepted => (None, Some("Remove")),
            MemberStatus::Rejected => (Some("Accept"), None),
        };
        view! {
            {accept.map(|label| view! {
                <button type="button" class="link-button" on:click=move |_| answer(MemberStatus::Accepted)>{label}</button>
            })}
            {reject.map(|label| view! {
                <button type="button" class="link-button danger"
                    title=if label == "Remove" { "Reject this image: it leaves this list; you can accept it again from Rejected." } else { "Reject this image" }
                    on:click=move |_| answer_too(MemberStatus::Rejected)>{label}</button>
            })}
        }
    });
    let check = checkbox.then(|| {
        let row = (image.id.clone(), image.name.clone());
        let row_for_change = row.clone();
        let selected = actions.selected;
        view! {
            <td class="check-cell">
                <input type="checkbox" class="js-only" aria-label=format!("Select {}", image.name)
                    prop:checked=move || selected.with(|rows| rows.contains(&row))
                    on:change=move |event| {
                        let on = event_target_checked(&event);
                        selected.update(|rows| {
                            rows.retain(|other| *other != row_for_change);
                            if on {
                                rows.push(row_for_change.clone());
                            }
                        });
                    } />
            </td>
        }
    });
    let usable = tab != ImageTab::Shared || member_status == MemberStatus::Accepted;
    view! {
        <tr data-testid="image-row">
            {check}
            <td class="name-cell">
                <div class="name-line">
                    {star_button(&image, actions.star)}
                    <a class="image-name" href=detail_href.clone()>{image.name.clone()}</a>
                </div>
                <span class="image-id">{image.id.clone()}</span>
            </td>
            <td>
                <StatusBadge status=image.status.as_str() label=image.status.label() reason=image.status_reason.clone() />
                {image.deprecated.then(|| view! { <span class="tag-badge" title="Its owner deprecated it: it is listed only with Show deprecated">"Deprecated"</span> })}
                {image.progress.map(|percent| view! { <ProgressBar percent=percent /> })}
            </td>
            {(tab == ImageTab::Shared).then(|| view! {
                <td data-testid="shared-by">{image.owner_account.clone()}</td>
                <td class="time" title=expiry_label(image.share_expires_at)>
                    {expiry_short(image.share_expires_at)}
                </td>
            })}
            {(tab == ImageTab::Market).then(|| view! {
                <td>{image.publisher.clone().unwrap_or_default()}</td>
                <td data-testid="price">{price_label(image.price_cents.unwrap_or(0))}</td>
            })}
            {full_columns(tab).then(|| view! { <td class="nowrap">{image.os_type.clone()}</td> })}
            <td class="os-cell">{image.os_version.clone()}</td>
            <td class="nowrap">{kind_label(&image.kind).to_string()}</td>
            {full_columns(tab).then(|| view! { <td class="nowrap">{image.disk_format.to_uppercase()}</td> })}
            <td class="num" data-bytes=image.image_size.to_string()>{format_bytes(image.image_size)}</td>
            <td class="num">{format!("{} GB", image.min_disk)}</td>
            <td class="time" data-ms=image.created_at.to_string() title=format_time(image.created_at)>
                {format_time_short(image.created_at)}
            </td>
            {full_columns(tab).then(|| view! { <td>{if image.encrypted { "Yes" } else { "No" }}</td> })}
            <td>
                <div class="operations">
                    <a href=detail_href>"Details"</a>
                    {usable.then(|| use_link(&image))}
                    {share_button}
                    {answer_buttons}
                    {delete_button}
                </div>
            </td>
        </tr>
    }
}
