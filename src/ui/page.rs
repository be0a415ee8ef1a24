//! The frame of every console page: the signed-in scaffold, and the pages shown when there is
//! no session, no such page, or a failure the page does not handle itself.

use super::shell::{SessionResource, Shell};
use super::ErrorBanner;
use crate::caller::SessionInfo;
use crate::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::Arc;

/// A console page for a logged-in user: waits for the session, then shows `children` (given
/// the user) in the console shell, whose breadcrumb ends in `crumb`. Without a session it
/// says the session has ended and links to the login page.
///
/// Make a page's resources in the page component, before this: while data loads, the server
/// may build `children` more than once, and a resource made inside them would then get
/// another number on the server than in the browser, which breaks hydration.
#[component]
pub fn SignedInPage<F, V>(#[prop(into)] crumb: Signal<String>, children: F) -> impl IntoView
where
    F: Fn(SessionInfo) -> V + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let session = expect_context::<SessionResource>().0;
    let children = Arc::new(children);
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || {
                let children = children.clone();
                Suspend::new(async move {
                    match session.await {
                        Ok(Some(info)) => view! { <Shell info=info.clone() crumb>{children(info)}</Shell> }.into_any(),
                        Ok(None) | Err(_) => view! { <SessionEnded /> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}

/// A page's data: `children` shows it once loaded, or its error shows in a banner. While it
/// reloads (a live refresh, say) the previous content stays.
#[component]
pub fn Loaded<T, F, V>(resource: Resource<Result<T, AppError>>, children: F) -> impl IntoView
where
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    F: Fn(T) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || {
                let children = children.clone();
                Suspend::new(async move {
                    match resource.await {
                        Ok(data) => children(data).into_any(),
                        Err(error) => view! { <ErrorBanner message=error.to_string() /> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Page not found — Image Management Service" />
        <main class="standalone-page">
            <h1>"Page not found"</h1>
            <p>"There is no page at this address."</p>
            <a class="button button-primary" href="/images/public">"Go to Image Management Service"</a>
        </main>
    }
}

/// Shown when a page fails in a way it does not handle itself. The errors are `AppError`s,
/// whose text is written for users; causes were logged on the server.
#[component]
pub fn PageFailed(errors: ArcRwSignal<Errors>) -> impl IntoView {
    view! {
        <main class="standalone-page">
            <h1>"This page could not be shown"</h1>
            <p>
                {move || {
                    errors.get().into_iter().map(|(_, error)| error.to_string()).collect::<Vec<_>>().join(" ")
                }}
            </p>
            <a class="button button-primary" href="/images/public">"Go to Image Management Service"</a>
        </main>
    }
}

#[component]
pub fn SessionEnded() -> impl IntoView {
    view! {
        <main class="standalone-page">
            <h1>"Your session has ended"</h1>
            <p>"Log in again to continue."</p>
            <a class="button button-primary" href="/login">"Log In"</a>
        </main>
    }
}
