//! The image list: tabs, filters, sortable columns, pagination — all carried in the URL.

use super::model::{kind_label, ImagePage, ImageStatus, ImageSummary, IMAGE_KINDS, OS_TYPES, PLATFORMS};
use super::query::{ImageQuery, ImageTab, SortKey, ValidQuery, PAGE_SIZES, QUERY_KEYS};
use super::{list_images, DeleteImage};
use crate::error::AppError;
use crate::format::{format_bytes, format_time, format_time_short};
use crate::ui::{
    error_toast, general_error, submit_own_form, use_polling, ConfirmDialog, Confirmation, ErrorBanner, NotFound,
    Pager, ProgressBar, SignedInPage, StatusBadge,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

/// What the list needs to offer deletion: the action and the confirmation dialog's request.
#[derive(Clone, Copy)]
struct Deleting {
    action: ServerAction<DeleteImage>,
    confirm: RwSignal<Option<Confirmation>>,
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
    let delete = ServerAction::<DeleteImage>::new();
    // While an image of the page is being created, refresh every few seconds to show progress.
    let tick = use_polling(3);
    let creating = RwSignal::new(false);
    let images = Resource::new(
        move || (query.get(), delete.version().get(), if creating.get() { tick.get() } else { 0 }),
        |(query, _, _)| async move {
            let result = list_images(query.clone()).await;
            (query, result)
        },
    );
    let deleting = Deleting { action: delete, confirm: RwSignal::new(None) };

    view! {
        {move || match tab.get() {
            None => view! { <NotFound /> }.into_any(),
            Some(tab) => view! {
                <Title text=format!("{} — Image Management Service", tab.title()) />
                <SignedInPage crumb=tab.title() let:info>
                    {list_header(tab, info.role.can_modify_images())}
                    <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                        {move || Suspend::new(async move {
                            let (query, result) = images.await;
                            if let Ok(page) = &result {
                                creating.set(page.images.iter().any(|image| image.progress.is_some()));
                            }
                            list_body(tab, query, result, info.role.can_modify_images(), deleting)
                        })}
                    </Transition>
                </SignedInPage>
            }
            .into_any(),
        }}
        {move || error_toast(general_error(delete.value().get()))}
        <ConfirmDialog request=deleting.confirm />
    }
}

/// The page title, Create Image (private tab) and the tabs.
fn list_header(tab: ImageTab, can_modify: bool) -> impl IntoView {
    view! {
        <div class="page-header">
            <h1>"Images"</h1>
            {(can_modify && tab == ImageTab::Private)
                .then(|| view! { <a class="button button-primary header-action" href="/images/create">"Create Image"</a> })}
        </div>
        <nav class="tabs" aria-label="Image lists">
            {ImageTab::ALL
                .iter()
                .map(|other| {
                    view! {
                        <a
                            href=format!("/images/{}", other.slug())
                            class:active=*other == tab
                            aria-current=(*other == tab).then_some("page")
                        >
                            {other.title()}
                        </a>
                    }
                })
                .collect_view()}
        </nav>
    }
}

/// The filters as the query asked, then the results or why there are none.
fn list_body(
    tab: ImageTab,
    query: ImageQuery,
    result: Result<ImagePage, AppError>,
    can_modify: bool,
    deleting: Deleting,
) -> impl IntoView {
    let body = match (result, query.validate()) {
        (Ok(page), Ok(valid)) => {
            let footer = list_footer(&query, &page);
            view! {
                {results_table(tab, &query, &valid, page, can_modify, deleting)}
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
            {kept_fields(&query, &["sort", "order", "page_size"])}
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
    if total == 0 && tab == ImageTab::Shared && *query == ImageQuery::from_params("shared", |_| None) {
        "No images have been shared with you in this region."
    } else if total == 0 {
        "No images match these filters."
    } else {
        "This page is past the last page of results."
    }
}

fn results_table(
    tab: ImageTab,
    query: &ImageQuery,
    valid: &ValidQuery,
    page: ImagePage,
    can_modify: bool,
    deleting: Deleting,
) -> impl IntoView {
    let rows = if page.images.is_empty() {
        view! {
            <tr>
                <td colspan="11" class="empty" data-testid="empty-result">
                    {empty_text(tab, query, page.total)}
                </td>
            </tr>
        }
        .into_any()
    } else {
        page.images.into_iter().map(|image| image_row(image, tab, can_modify, deleting)).collect_view().into_any()
    };
    view! {
        <div class="table-wrap">
            <table class="image-table">
                <thead>
                    <tr>
                        {sort_header(query, valid, SortKey::Name, "Name/ID")}
                        <th>"Status"</th>
                        <th>"OS Type"</th>
                        <th>"OS"</th>
                        <th>"Image Type"</th>
                        <th>"Disk Format"</th>
                        {sort_header(query, valid, SortKey::Size, "Size")}
                        <th>"Min. Disk"</th>
                        {sort_header(query, valid, SortKey::Created, "Created")}
                        <th>"Encrypted"</th>
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

/// What deleting an image means for the servers made from it.
pub fn delete_message(name: &str, servers_created: i64) -> String {
    match servers_created {
        0 => format!("Delete image \"{name}\"? This cannot be undone."),
        count => format!(
            "{count} ECS{} created from image \"{name}\". They keep running and keep their disks, but they can no longer be \
             reinstalled from this image. Delete it? This cannot be undone.",
            if count == 1 { " was" } else { "s were" }
        ),
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

fn image_row(image: ImageSummary, tab: ImageTab, can_modify: bool, deleting: Deleting) -> impl IntoView {
    let detail_href = format!("/image/{}", image.id);
    let deletable = can_modify && image.owned && tab == ImageTab::Private;
    let delete_button = deletable.then(|| {
        let (id, name, servers_created) = (image.id.clone(), image.name.clone(), image.servers_created);
        let blocked = if image.protected {
            Some("Protected images cannot be deleted.")
        } else if image.status.is_in_progress() {
            Some("The image is still being created.")
        } else {
            None
        };
        view! {
            <button
                type="button"
                class="link-button danger"
                disabled=blocked.is_some()
                title=blocked.unwrap_or("Delete this image")
                on:click=move |_| {
                    let id = id.clone();
                    deleting.confirm.set(Some(Confirmation {
                        title: "Delete Image".into(),
                        message: delete_message(&name, servers_created),
                        confirm_label: "Delete",
                        on_confirm: Callback::new(move |_| {
                            deleting.action.dispatch(DeleteImage { id: id.clone() });
                        }),
                    }))
                }
            >
                "Delete"
            </button>
        }
    });
    view! {
        <tr data-testid="image-row">
            <td class="name-cell">
                <a class="image-name" href=detail_href.clone()>{image.name.clone()}</a>
                <span class="image-id">{image.id.clone()}</span>
            </td>
            <td>
                <StatusBadge status=image.status.as_str() label=image.status.label() reason=image.status_reason.clone() />
                {image.progress.map(|percent| view! { <ProgressBar percent=percent /> })}
            </td>
            <td>{image.os_type.clone()}</td>
            <td>{image.os_version.clone()}</td>
            <td>{kind_label(&image.kind).to_string()}</td>
            <td>{image.disk_format.to_uppercase()}</td>
            <td class="num" data-bytes=image.image_size.to_string()>{format_bytes(image.image_size)}</td>
            <td class="num">{format!("{} GB", image.min_disk)}</td>
            <td class="time" data-ms=image.created_at.to_string() title=format_time(image.created_at)>
                {format_time_short(image.created_at)}
            </td>
            <td>{if image.encrypted { "Yes" } else { "No" }}</td>
            <td>
                <div class="operations">
                    <a href=detail_href>"Details"</a>
                    {use_link(&image)}
                    {delete_button}
                </div>
            </td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::delete_message;

    #[test]
    fn deleting_a_used_image_says_what_happens_to_its_servers() {
        assert_eq!(delete_message("base", 0), "Delete image \"base\"? This cannot be undone.");
        assert!(delete_message("base", 1).starts_with("1 ECS was created from image \"base\"."));
        assert!(delete_message("base", 3).contains("3 ECSs were created"));
        assert!(delete_message("base", 3).contains("can no longer be reinstalled"));
    }
}
