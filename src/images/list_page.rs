//! The image list: tabs, filters, sortable columns, pagination — all carried in the URL.

use super::{
    kind_label, list_images, DeleteImage, ImagePage, ImageQuery, ImageSummary, ImageTab, SortKey, ValidQuery,
    IMAGE_KINDS, OS_TYPES, PAGE_SIZES, PLATFORMS, STATUSES,
};
use crate::auth::SessionInfo;
use crate::error::AppError;
use crate::format::{format_bytes, format_time, format_time_short};
use crate::ui::{
    error_toast, general_error, use_polling, ConfirmDialog, Confirmation, ErrorBanner, Pager, ProgressBar, SessionResource, Shell,
    StatusBadge,
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
    let session = expect_context::<SessionResource>().0;
    let deleting = Deleting { action: delete, confirm: RwSignal::new(None) };

    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let info = session.await;
                let (query, result) = images.await;
                if let Ok(page) = &result {
                    creating.set(page.images.iter().any(|image| image.progress.is_some()));
                }
                match info {
                    Ok(Some(info)) => list_view(info, query, result, deleting).into_any(),
                    Ok(None) | Err(_) => crate::app::SessionEnded().into_any(),
                }
            })}
        </Transition>
        {move || error_toast(general_error(delete.value().get()))}
        <ConfirmDialog request=deleting.confirm />
    }
}

fn list_view(
    info: SessionInfo,
    query: ImageQuery,
    result: Result<ImagePage, AppError>,
    deleting: Deleting,
) -> impl IntoView {
    let Some(tab) = ImageTab::parse(&query.tab) else {
        return crate::app::NotFound().into_any();
    };
    let can_modify = info.role.can_modify_images();
    let title = tab.title();
    let body = match (result, query.validate()) {
        (Ok(page), Ok(valid)) => results_view(tab, &query, &valid, page, can_modify, deleting).into_any(),
        (Err(error), _) | (_, Err(error)) => view! { <ErrorBanner message=error.to_string() /> }.into_any(),
    };
    view! {
        <Title text=format!("{title} — Image Management Service") />
        <Shell info=info crumb=title.to_string()>
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
            <FilterForm query=query.clone() />
            {body}
        </Shell>
    }
    .into_any()
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
                {options(&query.status, "All statuses", STATUSES.to_vec())}
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

fn results_view(
    tab: ImageTab,
    query: &ImageQuery,
    valid: &ValidQuery,
    page: ImagePage,
    can_modify: bool,
    deleting: Deleting,
) -> impl IntoView {
    let page_count = page.page_count();
    let href_query = query.clone();
    let href = Callback::new(move |number: u32| href_query.with_page(number).href());
    let sort_header = |key: SortKey, label: &'static str| {
        let arrow = if valid.sort != key {
            ""
        } else if valid.descending {
            " ↓"
        } else {
            " ↑"
        };
        let sort = if valid.sort != key {
            "none"
        } else if valid.descending {
            "descending"
        } else {
            "ascending"
        };
        view! {
            <th aria-sort=sort>
                <a class="sort-link" href=query.with_sort(key, valid).href()>
                    {label}
                    {arrow}
                </a>
            </th>
        }
    };
    let empty_text = if page.total == 0 && tab == ImageTab::Shared && *query == ImageQuery::from_params("shared", |_| None) {
        "No images have been shared with you in this region."
    } else if page.total == 0 {
        "No images match these filters."
    } else {
        "This page is past the last page of results."
    };
    let rows = if page.images.is_empty() {
        view! {
            <tr>
                <td colspan="11" class="empty" data-testid="empty-result">
                    {empty_text}
                </td>
            </tr>
        }
        .into_any()
    } else {
        page.images
            .into_iter()
            .map(|image| image_row(image, tab, can_modify, deleting))
            .collect_view()
            .into_any()
    };
    view! {
        <div class="table-wrap">
            <table class="image-table">
                <thead>
                    <tr>
                        {sort_header(SortKey::Name, "Name/ID")}
                        <th>"Status"</th>
                        <th>"OS Type"</th>
                        <th>"OS"</th>
                        <th>"Image Type"</th>
                        <th>"Disk Format"</th>
                        {sort_header(SortKey::Size, "Size")}
                        <th>"Min. Disk"</th>
                        {sort_header(SortKey::Created, "Created")}
                        <th>"Encrypted"</th>
                        <th>"Operation"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        <div class="list-footer">
            <Pager total=page.total page=page.page page_count=page_count href=href />
            <form class="page-size" method="get" action=format!("/images/{}", query.tab)>
                {kept_fields(query, &["name", "os_type", "platform", "image_type", "status", "tag_key", "tag_value", "created_from", "created_to", "sort", "order"])}
                <label for="page-size">"Items per page"</label>
                <select id="page-size" name="page_size" onchange="this.form.submit()">
                    {PAGE_SIZES
                        .iter()
                        .map(|size| {
                            view! {
                                <option value=size.to_string() selected=*size == page.page_size>
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
    if image.status != "active" || !image.has_file {
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
        } else if matches!(image.status.as_str(), "queued" | "saving") {
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
                <StatusBadge status=image.status.clone() reason=image.status_reason.clone() />
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
