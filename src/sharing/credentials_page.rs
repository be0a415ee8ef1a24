//! My Credentials: the account, the user, and the project id of every region (what a tenant
//! gives an image owner who wants to share with it), and the user's access keys.

use super::model::Credentials;
use super::my_credentials;
use crate::auth::access_keys_panel::{AccessKeyActions, AccessKeysPanel};
use crate::auth::list_access_keys;
use crate::ui::{Loaded, SignedInPage, Table};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn CredentialsPage() -> impl IntoView {
    let credentials = Resource::new(|| (), |_| my_credentials());
    let actions = AccessKeyActions::new();
    let keys = Resource::new(move || actions.version(), |_| list_access_keys());
    view! {
        <Title text="My Credentials — Image Management Service" />
        <SignedInPage crumb="My Credentials" let:_info>
            <div class="page-header">
                <h1>"My Credentials"</h1>
            </div>
            <Loaded resource=credentials let:credentials>
                {credentials_view(credentials)}
            </Loaded>
            <Loaded resource=keys let:keys>
                <AccessKeysPanel keys actions />
            </Loaded>
        </SignedInPage>
    }
}

fn credentials_view(credentials: Credentials) -> impl IntoView {
    view! {
        <section class="panel">
            <h2>"Account"</h2>
            <dl class="attributes">
                <div class="attribute"><dt>"Account Name"</dt><dd data-testid="account-name">{credentials.account_name}</dd></div>
                <div class="attribute"><dt>"Account ID"</dt><dd class="mono">{credentials.account_id}</dd></div>
                <div class="attribute"><dt>"User Name"</dt><dd>{credentials.user_name}</dd></div>
                <div class="attribute"><dt>"Role"</dt><dd>{credentials.role.as_str()}</dd></div>
            </dl>
        </section>
        <section class="panel">
            <h2>"Projects"</h2>
            <p class="page-hint">
                "Each region has one project. To have an image shared with you, give its owner the project ID of the image's region."
            </p>
            <Table headers=&["Region", "Region Name", "Project ID"] class="projects-table">
                {credentials
                    .projects
                    .into_iter()
                    .map(|project| {
                        view! {
                            <tr data-testid="project-row">
                                <td>{project.region}</td>
                                <td>{project.region_name}</td>
                                <td class="mono" data-testid="project-id">{project.project_id}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </Table>
        </section>
    }
}
