//! The console frame: header (product, region switcher, user menu), breadcrumb, left navigation.

use crate::caller::SessionInfo;
use crate::error::AppError;
use crate::regions::{region_name, REGIONS};
use leptos::prelude::*;
use leptos_router::hooks::use_location;

/// The logged-in user, loaded once per page load and shared by every page.
#[derive(Clone, Copy)]
pub struct SessionResource(pub Resource<Result<Option<SessionInfo>, AppError>>);

/// What the header's notification indicator counts: images shared with the project waiting
/// for an answer, and shares ending within a week.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HeaderNotices {
    pub pending: i64,
    pub expiring: i64,
}

/// The header's notices, loaded with the page; a page that changes them refetches it.
#[derive(Clone, Copy)]
pub struct NoticesResource(pub Resource<Option<HeaderNotices>>);

/// Reloads the header's notices each time `version` moves on (an action's version, say), not
/// when the page first renders.
pub fn refresh_notices_after(version: impl Fn() -> usize + Send + Sync + 'static) {
    let notices = use_context::<NoticesResource>();
    Effect::new(move |previous: Option<usize>| {
        let current = version();
        if let (Some(previous), Some(NoticesResource(notices))) = (previous, notices) {
            if previous != current {
                notices.refetch();
            }
        }
        current
    });
}

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
            <NoticeIndicator />
            <details class="user-menu">
                <summary>
                    <span class="user-name" data-testid="current-user">
                        {format!("{} / {}", info.account, info.user)}
                    </span>
                    <span class=format!("role-badge role-{}", info.role.as_str())>{info.role.as_str()}</span>
                </summary>
                <div class="user-menu-items">
                    <a href="/credentials">"My Credentials"</a>
                    <a href="/account/settings">"Account Settings"</a>
                    <a href="/operation-log">"Operation Log"</a>
                    <form method="post" action="/auth/logout">
                        <button type="submit" class="link-button">"Log Out"</button>
                    </form>
                </div>
            </details>
        </header>
    }
}

/// A bell with the number of pending shares and shares about to expire, leading to them.
#[component]
fn NoticeIndicator() -> impl IntoView {
    let Some(NoticesResource(notices)) = use_context::<NoticesResource>() else { return ().into_any() };
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                let notices = notices.await.unwrap_or_default();
                let total = notices.pending + notices.expiring;
                let text = format!(
                    "{} shared image{} waiting for you to accept, {} share{} ending within 7 days",
                    notices.pending,
                    if notices.pending == 1 { "" } else { "s" },
                    notices.expiring,
                    if notices.expiring == 1 { "" } else { "s" }
                );
                let class = if total > 0 { "notices notices-active" } else { "notices" };
                let href = if notices.pending > 0 { "/images/shared?member_status=pending" } else { "/images/shared" };
                view! {
                    <a class=class href=href title=text.clone()
                        aria-label=format!("Notifications: {text}") data-testid="notices">
                        <svg viewBox="0 0 24 24" aria-hidden="true">
                            <path d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1z" />
                        </svg>
                        <span class="notices-count">{total.to_string()}</span>
                    </a>
                }
            })}
        </Suspense>
    }
    .into_any()
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
            {nav_link("/images/market", "KooGallery Images")}
            {nav_link("/images/families", "Image Families")}
            {nav_link("/images/recycle-bin", "Recycle Bin")}
            {nav_link("/subscriptions", "Subscriptions")}
            <p class="sidenav-title">"Elastic Cloud Server"</p>
            {nav_link("/ecs", "ECSs")}
            {nav_link("/disks", "EVS Disks")}
            <p class="sidenav-title">"Data Encryption"</p>
            {nav_link("/keys", "Keys")}
            <p class="sidenav-title">"Storage and Tasks"</p>
            {nav_link("/buckets", "Buckets")}
            {nav_link("/jobs", "Jobs")}
            {nav_link("/quotas", "Quotas")}
            {nav_link("/operation-log", "Operation Log")}
        </nav>
    }
}
