//! The console frame: header (product, region switcher, user menu), breadcrumb, left navigation.

use crate::caller::SessionInfo;
use crate::error::AppError;
use crate::regions::{region_name, REGIONS};
use leptos::prelude::*;
use leptos_router::hooks::use_location;

/// The logged-in user, loaded once per page load and shared by every page.
#[derive(Clone, Copy)]
pub struct SessionResource(pub Resource<Result<Option<SessionInfo>, AppError>>);

#[component]
pub fn Shell(info: SessionInfo, #[prop(into)] crumb: Signal<String>, children: Children) -> impl IntoView {
    let region = info.region.clone();
    view! {
        <TopBar info />
        <div class="layout">
            <SideNav />
            <main class="content">
                <nav class="breadcrumb" aria-label="Breadcrumb">
                    <span>"Computing"</span>
                    <span class="sep">">"</span>
                    <a href="/images/public">"Image Management Service"</a>
                    <span class="sep">">"</span>
                    <span>{move || crumb.get()}</span>
                    <span class="region-note">{region_name(&region).to_string()}</span>
                </nav>
                {children()}
            </main>
        </div>
    }
}

/// Product name, region switcher (a plain form, so it works without JavaScript) and user menu.
#[component]
fn TopBar(info: SessionInfo) -> impl IntoView {
    let location = use_location();
    // After a region switch, a detail page of another region's image would be empty: go to
    // the list of the same kind instead.
    let next = move || {
        let path = location.pathname.get();
        if path.starts_with("/image/") {
            "/images/private".to_string()
        } else {
            let search = location.search.get();
            let search = search.trim_start_matches('?');
            if search.is_empty() {
                path
            } else {
                format!("{path}?{search}")
            }
        }
    };
    let current_region = info.region.clone();
    view! {
        <header class="topbar">
            <a class="brand" href="/images/public">
                <span class="brand-mark">"IMS"</span>
                <span class="brand-name">"Image Management Service"</span>
            </a>
            <form class="region-switcher" method="post" action="/auth/region">
                <label for="region-select">"Region"</label>
                <select id="region-select" name="region" on:change=super::submit_own_form>
                    {REGIONS
                        .iter()
                        .map(|region| {
                            view! {
                                <option value=region.id selected=region.id == current_region>
                                    {region.name}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
                <input type="hidden" name="next" value=next />
                <button type="submit" class="button button-small js-hide">"Switch"</button>
            </form>
            <div class="user-menu">
                <span class="user-name" data-testid="current-user">
                    {format!("{} / {}", info.account, info.user)}
                </span>
                <span class=format!("role-badge role-{}", info.role.as_str())>{info.role.as_str()}</span>
                <form method="post" action="/auth/logout">
                    <button type="submit" class="button button-small">"Log Out"</button>
                </form>
            </div>
        </header>
    }
}

/// The console's sections; the current page's link is marked.
#[component]
fn SideNav() -> impl IntoView {
    let location = use_location();
    let nav_link = move |href: &'static str, label: &'static str| {
        let active = move || location.pathname.get() == href;
        view! {
            <a href=href class:active=active aria-current=move || active().then_some("page")>
                {label}
            </a>
        }
    };
    view! {
        <nav class="sidenav" aria-label="Image Management Service">
            <p class="sidenav-title">"Image Management Service"</p>
            {nav_link("/images/public", "Public Images")}
            {nav_link("/images/private", "Private Images")}
            {nav_link("/images/shared", "Images Shared with Me")}
            <p class="sidenav-title">"Elastic Cloud Server"</p>
            {nav_link("/ecs", "ECSs")}
            {nav_link("/disks", "EVS Disks")}
            <p class="sidenav-title">"Storage and Tasks"</p>
            {nav_link("/buckets", "Buckets")}
            {nav_link("/jobs", "Jobs")}
            {nav_link("/quotas", "Quotas")}
        </nav>
    }
}
