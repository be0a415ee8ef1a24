//! The HTML document, the router and the pages that belong to no domain (404, session ended).

use crate::auth::{load_session_info, LoginPage};
use crate::buckets::{BucketPage, BucketsPage};
use crate::compute::{CreateServerPage, DisksPage, ServerDetailPage, ServerListPage};
use crate::images::{CreateImagePage, ImageDetailPage, ImageListPage};
use crate::jobs::JobsPage;
use crate::ui::SessionResource;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

/// The document around every page, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                // Marks the page as scripted before it paints, so no-JS fallbacks hide at once.
                <script>"document.documentElement.classList.add('js')"</script>
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_context(SessionResource(Resource::new(|| (), |_| load_session_info())));
    view! {
        <Stylesheet id="leptos" href="/pkg/ims_console.css" />
        <Title text="Image Management Service" />
        <Router>
            <ErrorBoundary fallback=|errors| view! { <PageFailed errors /> }>
                <Routes fallback=NotFound>
                    <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async />
                    <Route path=path!("/images/create") view=CreateImagePage ssr=SsrMode::Async />
                    <Route path=path!("/images/:tab") view=ImageListPage ssr=SsrMode::Async />
                    <Route path=path!("/buckets") view=BucketsPage ssr=SsrMode::Async />
                    <Route path=path!("/buckets/:name") view=BucketPage ssr=SsrMode::Async />
                    <Route path=path!("/jobs") view=JobsPage ssr=SsrMode::Async />
                    <Route path=path!("/ecs") view=ServerListPage ssr=SsrMode::Async />
                    <Route path=path!("/ecs/create") view=CreateServerPage ssr=SsrMode::Async />
                    <Route path=path!("/ecs/:id") view=ServerDetailPage ssr=SsrMode::Async />
                    <Route path=path!("/disks") view=DisksPage ssr=SsrMode::Async />
                    <Route path=path!("/image/:id") view=ImageDetailPage ssr=SsrMode::Async />
                </Routes>
            </ErrorBoundary>
        </Router>
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
fn PageFailed(errors: ArcRwSignal<Errors>) -> impl IntoView {
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
