//! Subscriptions: the paid KooGallery images whose price this project accepted.

use super::list_subscriptions;
use super::model::{price_label, Subscription};
use crate::format::format_time;
use crate::ui::{Loaded, SignedInPage, Table};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SubscriptionsPage() -> impl IntoView {
    let subscriptions = Resource::new(|| (), |_| list_subscriptions());
    view! {
        <Title text="Subscriptions — Image Management Service" />
        <SignedInPage crumb="Subscriptions" let:_info>
            <div class="page-header">
                <h1>"Subscriptions"</h1>
                <p class="page-hint">"Paid KooGallery images this project accepted the price of, when it first made an ECS from each."</p>
            </div>
            <Loaded resource=subscriptions let:subscriptions>
                <Table headers=&["Image", "Publisher", "Price", "Accepted By", "Accepted", "ECSs Using It"] class="subscriptions-table">
                    {if subscriptions.is_empty() {
                        view! { <tr><td colspan="6" class="empty" data-testid="no-subscriptions">"This project has no KooGallery subscriptions. Paid images ask for your acceptance when you create an ECS from them."</td></tr> }.into_any()
                    } else {
                        subscriptions.into_iter().map(subscription_row).collect_view().into_any()
                    }}
                </Table>
            </Loaded>
        </SignedInPage>
    }
}

fn subscription_row(subscription: Subscription) -> impl IntoView {
    view! {
        <tr data-testid="subscription-row">
            <td><a href=format!("/image/{}", subscription.image_id)>{subscription.image_name}</a></td>
            <td>{subscription.publisher}</td>
            <td>{price_label(subscription.price_cents)}</td>
            <td>{subscription.accepted_by}</td>
            <td>{format_time(subscription.created_at)}</td>
            <td class="num">{subscription.servers.to_string()}</td>
        </tr>
    }
}
