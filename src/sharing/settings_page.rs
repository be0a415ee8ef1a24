//! Account Settings: the account's sharing policy (who its images may be shared with), and the
//! existing shares the policy would not allow, which the admin can stop.

use super::model::{PolicyView, SharingPolicy};
use super::{sharing_policy, SetSharingPolicy, StopForbiddenShares};
use crate::ui::{field_error, general_error, ErrorBanner, FieldError, Loaded, SignedInPage, Table};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AccountSettingsPage() -> impl IntoView {
    let save = ServerAction::<SetSharingPolicy>::new();
    let stop = ServerAction::<StopForbiddenShares>::new();
    let policy = Resource::new(move || (save.version().get(), stop.version().get()), |_| sharing_policy());
    view! {
        <Title text="Account Settings — Image Management Service" />
        <SignedInPage crumb="Account Settings" let:_info>
            <div class="page-header">
                <h1>"Account Settings"</h1>
            </div>
            <Loaded resource=policy let:view>
                {policy_view(view, save, stop)}
            </Loaded>
        </SignedInPage>
    }
}

fn policy_view(
    view: PolicyView,
    save: ServerAction<SetSharingPolicy>,
    stop: ServerAction<StopForbiddenShares>,
) -> impl IntoView {
    let editable = view.can_edit;
    let chosen = RwSignal::new(view.policy);
    let error =
        move |field: &'static str| move || view! { <FieldError message=field_error(save.value().get(), field) /> };
    let forbidden = view.forbidden_shares.clone();
    view! {
        <section class="panel">
            <h2>"Image Sharing Policy"</h2>
            <p class="page-hint">
                "Who this account's private images may be shared with. The policy applies to new shares; existing shares it does not allow are listed below."
            </p>
            {(!editable).then(|| view! { <p class="banner banner-info">"Only an account admin can change the sharing policy."</p> })}
            {move || general_error(save.value().get()).map(|message| view! { <ErrorBanner message /> })}
            {move || matches!(save.value().get(), Some(Ok(_))).then(|| view! { <p class="banner banner-info" role="status">"Sharing policy saved."</p> })}
            <ActionForm action=save attr:class="stack-form">
                <fieldset class="radio-group" disabled=!editable>
                    <legend>"Sharing policy"</legend>
                    {SharingPolicy::ALL
                        .into_iter()
                        .map(|policy| {
                            let id = format!("policy-{}", policy.as_str());
                            view! {
                                <div class="radio-row">
                                    <input
                                        type="radio"
                                        id=id.clone()
                                        name="policy"
                                        value=policy.as_str()
                                        checked=policy == view.policy
                                        on:change=move |_| chosen.set(policy)
                                    />
                                    <label for=id>{policy.label()}</label>
                                </div>
                            }
                        })
                        .collect_view()}
                </fieldset>
                {error("policy")}
                <label for="policy-accounts">"Allowed accounts"</label>
                <textarea
                    id="policy-accounts"
                    name="accounts"
                    rows="3"
                    disabled=!editable
                    aria-describedby="policy-accounts-hint"
                >
                    {view.allowed_accounts.join("\n")}
                </textarea>
                <p class="hint" id="policy-accounts-hint">
                    {move || if chosen.get() == SharingPolicy::Listed {
                        "Account names, one per line or separated by commas. Used by \"Share only with listed accounts\"."
                    } else {
                        "Used only by \"Share only with listed accounts\"."
                    }}
                </p>
                {error("accounts")}
                {editable.then(|| view! {
                    <div class="actions">
                        <button type="submit" class="button button-primary" disabled=move || save.pending().get()>"Save"</button>
                    </div>
                })}
            </ActionForm>
        </section>
        <section class="panel">
            <h2>"Shares This Policy Does Not Allow"</h2>
            {if forbidden.is_empty() {
                view! { <p class="empty" data-testid="no-forbidden-shares">"Every existing share is allowed by the current policy."</p> }.into_any()
            } else {
                view! {
                    <Table headers=&["Image", "Shared With Project", "Account"] class="forbidden-table">
                        {forbidden.into_iter().map(|share| view! {
                            <tr data-testid="forbidden-share">
                                <td><a href=format!("/image/{}?tab=sharing", share.image_id)>{share.image_name}</a></td>
                                <td class="mono">{share.project_id}</td>
                                <td>{share.account_name}</td>
                            </tr>
                        }).collect_view()}
                    </Table>
                    {move || general_error(stop.value().get()).map(|message| view! { <ErrorBanner message /> })}
                    {editable.then(|| view! {
                        <div class="actions">
                            <button type="button" class="button button-danger" disabled=move || stop.pending().get()
                                on:click=move |_| { stop.dispatch(StopForbiddenShares {}); }>
                                "Stop These Shares"
                            </button>
                        </div>
                    })}
                }.into_any()
            }}
            {move || match stop.value().get() {
                Some(Ok(count)) => Some(view! { <p class="banner banner-info" role="status">{format!("{count} shares stopped.")}</p> }),
                _ => None,
            }}
        </section>
    }
}
