//! The Operation Log: every state-changing operation of the account, newest first, with filters
//! (time range, user, resource, operation) and paging in the URL. Account admins only; the
//! records cannot be changed here.

use super::audit::{OperationPage, OperationQuery, OperationRecord};
use super::list_operations;
use crate::caller::Role;
use crate::error::AppError;
use crate::format::{format_time, format_time_short};
use crate::regions::region_name;
use crate::ui::{ErrorBanner, Pager, SignedInPage, StatusBadge};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn OperationLogPage() -> impl IntoView {
    let query_map = use_query_map();
    let query = Memo::new(move |_| {
        query_map.with(|map| {
            let get = |key: &str| map.get(key).unwrap_or_default();
            OperationQuery {
                from: get("from"),
                to: get("to"),
                user: get("user"),
                resource: get("resource"),
                operation: get("operation"),
                page: get("page"),
            }
        })
    });
    let page = Resource::new(move || query.get(), |query| async move { (query.clone(), list_operations(query).await) });
    view! {
        <Title text="Operation Log — Image Management Service" />
        <SignedInPage crumb="Operation Log" let:info>
            <div class="page-header">
                <h1>"Operation Log"</h1>
            </div>
            <p class="hint">
                "Every operation that changes something in this account, in the console or through the APIs: who, when, \
                 on what, and how it ended. Records are kept and cannot be changed."
            </p>
            {if info.role == Role::Admin {
                view! {
                    <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                        {move || Suspend::new(async move {
                            let (query, result) = page.await;
                            log_view(query, result)
                        })}
                    </Transition>
                }
                .into_any()
            } else {
                view! {
                    <p class="banner banner-info" data-testid="admin-only">
                        "Only the account administrator can see the operation log."
                    </p>
                }
                .into_any()
            }}
        </SignedInPage>
    }
}

fn log_view(query: OperationQuery, result: Result<OperationPage, AppError>) -> impl IntoView {
    let filters = filter_form(&query, result.as_ref().ok());
    let body = match result {
        Ok(page) => {
            let href_query = query.clone();
            let href = Callback::new(move |number: u32| href_query.href(number));
            let page_count = ((page.total + page.page_size as i64 - 1) / page.page_size.max(1) as i64).max(1) as u32;
            let rows = if page.records.is_empty() {
                view! { <tr><td colspan="7" class="empty" data-testid="empty-result">"No operations match these filters."</td></tr> }
                    .into_any()
            } else {
                page.records.into_iter().map(record_row).collect_view().into_any()
            };
            view! {
                <div class="table-wrap">
                    <table class="image-table" data-testid="operation-log">
                        <thead>
                            <tr>
                                <th>"Time"</th>
                                <th>"User"</th>
                                <th>"Operation"</th>
                                <th>"Resource"</th>
                                <th>"Region"</th>
                                <th>"Result"</th>
                                <th>"Source"</th>
                            </tr>
                        </thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
                <div class="list-footer">
                    <Pager total=page.total page=page.page page_count=page_count href=href />
                </div>
            }
            .into_any()
        }
        Err(error) => view! { <ErrorBanner message=error.to_string() /> }.into_any(),
    };
    view! { {filters} {body} }
}

fn filter_form(query: &OperationQuery, page: Option<&OperationPage>) -> impl IntoView {
    let choices = |all: &'static str, values: Vec<String>, current: &str| {
        let current = current.to_string();
        view! {
            <option value="">{all}</option>
            {values.into_iter().map(|value| view! { <option value=value.clone() selected=value == current>{value.clone()}</option> }).collect_view()}
        }
    };
    let users = page.map(|page| page.users.clone()).unwrap_or_default();
    let operations = page.map(|page| page.operations.clone()).unwrap_or_default();
    view! {
        <form class="filters" method="get" action="/operation-log" role="search">
            <label class="date-field">"From" <input type="date" name="from" value=query.from.clone() /></label>
            <label class="date-field">"to" <input type="date" name="to" value=query.to.clone() /></label>
            <select name="user" aria-label="User">{choices("All users", users, &query.user)}</select>
            <select name="operation" aria-label="Operation">{choices("All operations", operations, &query.operation)}</select>
            <input type="search" name="resource" placeholder="Resource ID contains…" aria-label="Resource" value=query.resource.clone() />
            <button type="submit" class="button button-primary">"Search"</button>
            <a class="button" href="/operation-log">"Reset"</a>
        </form>
    }
}

fn record_row(record: OperationRecord) -> impl IntoView {
    let succeeded = record.result == "success";
    let (status, label) = if succeeded { ("active", "Succeeded") } else { ("killed", "Failed") };
    let resource_href = match record.resource_type.as_str() {
        "image" if !record.resource_id.contains(',') && !record.resource_id.is_empty() => {
            Some(format!("/image/{}", record.resource_id))
        }
        "server" if !record.resource_id.contains(',') && !record.resource_id.is_empty() => {
            Some(format!("/ecs/{}", record.resource_id))
        }
        _ => None,
    };
    let resource = match resource_href {
        Some(href) => view! { <a href=href>{record.resource_id.clone()}</a> }.into_any(),
        None => view! { <span>{record.resource_id.clone()}</span> }.into_any(),
    };
    view! {
        <tr data-testid="operation-row">
            <td class="time" title=format_time(record.created_at)>{format_time_short(record.created_at)}</td>
            <td>{record.user_name.clone()}</td>
            <td>{record.operation.clone()}</td>
            <td class="name-cell">
                <span class="hint">{record.resource_type.clone()}</span>
                <span class="image-id">{resource}</span>
            </td>
            <td class="nowrap">{region_name(&record.region).to_string()}</td>
            <td>
                <StatusBadge status=status label=label />
                {(!succeeded && !record.reason.is_empty()).then(|| view! { <p class="hint" data-testid="operation-reason">{record.reason.clone()}</p> })}
            </td>
            <td>{if record.source == "api" { "API" } else { "Console" }}</td>
        </tr>
    }
}
