//! The HTML document and the routes: which page answers which address.

use crate::auth::load_session_info;
use crate::auth::login_page::LoginPage;
use crate::auth::operation_log_page::OperationLogPage;
use crate::buckets::page::{BucketPage, BucketsPage};
use crate::compute::create_page::CreateServerPage;
use crate::compute::detail_page::ServerDetailPage;
use crate::compute::disks_page::DisksPage;
use crate::compute::list_page::ServerListPage;
use crate::images::create_page::CreateImagePage;
use crate::images::detail_page::ImageDetailPage;
use crate::images::families_page::ImageFamiliesPage;
use crate::images::list_page::ImageListPage;
use crate::images::recycle_bin_page::RecycleBinPage;
use crate::jobs::page::JobsPage;
use crate::keys::page::KeysPage;
use crate::market::subscriptions_page::SubscriptionsPage;
use crate::quotas::page::QuotasPage;
use crate::sharing::credentials_page::CredentialsPage;
use crate::sharing::settings_page::AccountSettingsPage;
use crate::sharing::share_notices;
use crate::ui::{HeaderNotices, NotFound, NoticesResource, PageFailed, SessionResource};
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
                <script nonce=use_nonce()>"document.documentElement.classList.add('js')"</script>
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
    // Asked only with a session, so an anonymous page never carries the call's 401.
    provide_context(NoticesResource(Resource::new(
        || (),
        |_| async move {
            match load_session_info().await {
                Ok(Some(_)) => share_notices()
                    .await
                    .ok()
                    .map(|notices| HeaderNotices { pending: notices.pending, expiring: notices.expiring }),
                _ => None,
            }
        },
    )));
    view! {
        <Stylesheet id="leptos" href="/pkg/ims_console.css" />
        <Title text="Image Management Service" />
        <Router>
            <ErrorBoundary fallback=|errors| view! { <PageFailed errors /> }>
                <Routes fallback=NotFound>
                    <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async />
                    <Route path=path!("/images/create") view=CreateImagePage ssr=SsrMode::Async />
                    <Route path=path!("/images/recycle-bin") view=RecycleBinPage ssr=SsrMode::Async />
                    <Route path=path!("/images/families") view=ImageFamiliesPage ssr=SsrMode::Async />
                    <Route path=path!("/images/:tab") view=ImageListPage ssr=SsrMode::Async />
                    <Route path=path!("/buckets") view=BucketsPage ssr=SsrMode::Async />
                    <Route path=path!("/buckets/:name") view=BucketPage ssr=SsrMode::Async />
                    <Route path=path!("/jobs") view=JobsPage ssr=SsrMode::Async />
                    <Route path=path!("/ecs") view=ServerListPage ssr=SsrMode::Async />
                    <Route path=path!("/ecs/create") view=CreateServerPage ssr=SsrMode::Async />
                    <Route path=path!("/ecs/:id") view=ServerDetailPage ssr=SsrMode::Async />
                    <Route path=path!("/disks") view=DisksPage ssr=SsrMode::Async />
                    <Route path=path!("/image/:id") view=ImageDetailPage ssr=SsrMode::Async />
                    <Route path=path!("/quotas") view=QuotasPage ssr=SsrMode::Async />
                    <Route path=path!("/keys") view=KeysPage ssr=SsrMode::Async />
                    <Route path=path!("/credentials") view=CredentialsPage ssr=SsrMode::Async />
                    <Route path=path!("/account/settings") view=AccountSettingsPage ssr=SsrMode::Async />
                    <Route path=path!("/subscriptions") view=SubscriptionsPage ssr=SsrMode::Async />
                    <Route path=path!("/operation-log") view=OperationLogPage ssr=SsrMode::Async />
                </Routes>
            </ErrorBoundary>
        </Router>
    }
}
