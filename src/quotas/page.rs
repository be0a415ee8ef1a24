//! The Quotas page: each quota of the project with its use against the limit.

use super::list_quotas;
use super::model::QuotaInfo;
use crate::format::format_bytes;
use crate::ui::{Loaded, SignedInPage, Table};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn QuotasPage() -> impl IntoView {
    let quotas = Resource::new(|| (), |_| list_quotas());
    view! {
        <Title text="Quotas — Image Management Service" />
        <SignedInPage crumb="Quotas" let:_info>
            <div class="page-header">
                <h1>"Quotas"</h1>
                <p class="page-hint">"What this project may hold in this region. Creating more than a quota allows is refused with the numbers."</p>
            </div>
            <Loaded resource=quotas let:quotas>
                <Table headers=&["Resource", "Used", "Quota", "Usage"] class="quota-table">
                    {quotas.into_iter().map(quota_row).collect_view()}
                </Table>
            </Loaded>
        </SignedInPage>
    }
}

fn quota_row(quota: QuotaInfo) -> impl IntoView {
    let show = |value: i64| if quota.bytes { format_bytes(value) } else { value.to_string() };
    let percent = if quota.quota > 0 { (quota.used as f64 * 100.0 / quota.quota as f64).min(100.0) } else { 100.0 };
    let width = format!("width: {percent:.1}%");
    view! {
        <tr>
            <td>{quota.label.clone()}</td>
            <td>{show(quota.used)}</td>
            <td>{show(quota.quota)}</td>
            <td>
                <div class="progress" role="progressbar" aria-label=format!("{} used", quota.label)
                    aria-valuemin="0" aria-valuemax="100" aria-valuenow=format!("{percent:.0}")>
                    <div class="progress-track">
                        <div class="progress-fill" style=width></div>
                    </div>
                    <span class="progress-text">{format!("{percent:.0}%")}</span>
                </div>
            </td>
        </tr>
    }
}
